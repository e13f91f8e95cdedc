"""`model.save_weights("w.safetensors")` / `load_weights`: the model's variables (not the optimizer's) in
the safetensors layout, for the tools that read it. Tensor names are the paths of Keras's weights layout
(`layers/dense/vars/0` for the first Dense kernel), so they do not depend on layer names and match the
`.weights.h5` file of the same model. Loading checks every name, shape and dtype before reading data,
and assigns nothing unless all of it fits."""
import numpy as np

from ckeras.saving import safetensors_io
from ckeras.saving.object_state import _var_path, own_variables, walk


def _named_variables(model):
    from ckeras.optimizers.base_optimizer import Optimizer
    named = []
    for path, obj in walk(model):
        if isinstance(obj, Optimizer):
            continue
        for i, v in enumerate(own_variables(obj)):
            named.append((_var_path(path, i), v))
    return named


def save_weights(model, path):
    tensors = {name: np.ascontiguousarray(v.numpy()) for name, v in _named_variables(model)}
    safetensors_io.save_file(tensors, path, metadata={"format": "ckeras", "layout": "keras3-object-paths"})


def load_weights(model, path):
    named = _named_variables(model)
    expected = {name: (tuple(v.shape), np.dtype(v.dtype)) for name, v in named}
    arrays = safetensors_io.load_file(path, expected=expected)
    for name, v in named:
        v.assign(arrays[name])
