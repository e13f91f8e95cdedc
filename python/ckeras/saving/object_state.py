"""The object-path walk behind Keras 3's weights layout, and saving/loading the variables along it.

Keras visits a model as `saving_lib._save_state` does: the model itself at "" (its own variables under
`vars`), then for Sequential/Functional the `layers` container, then every other attribute holding a
layer, an optimizer or a list/tuple/dict of them, sorted by name with private names last. Inside a
container an item is named after its class in snake_case, made unique ("dense", "dense_1", ...), and
nested containers are "container", "container_1". Each object is visited once.

Loading checks everything (presence, count, shape, dtype of every stored variable) before it reads
any data, and assigns nothing unless all of it fits."""
import warnings

import numpy as np

from ckeras.saving import h5_format
from ckeras.saving.builtin_objects import to_snake_case
from ckeras.saving.errors import LoadError

# Internal attributes of ckeras models and layers that hold layers but are not part of Keras's walk (the last
# four: model(x)'s caches in models/_inference_fast.py).
_INTERNAL = {"_layers", "_operations", "_functional", "_call_layers", "_plan", "_nodes", "_init_args",
             "_inputs_struct", "_outputs_struct", "_flat_inputs", "_flat_outputs", "_inbound_nodes",
             "_fast_memo", "_fast_call_cache", "_fast_split", "_fast_chain"}
_skip = set()


def _skipset():
    if not _skip:
        from ckeras.layers.layer import Layer
        _skip.update(vars(Layer(name="ckeras_saving_reference")), _INTERNAL)
    return _skip


def _is_saveable(obj):
    from ckeras.layers.layer import Layer
    from ckeras.optimizers.base_optimizer import Optimizer
    return isinstance(obj, (Layer, Optimizer))


def _name_key(name):
    return "~" + name if name.startswith("_") else name


def _children(obj):
    from ckeras.layers.layer import Layer
    from ckeras.models.functional import Functional
    from ckeras.models.sequential import Sequential
    if not isinstance(obj, Layer):
        return []
    out = []
    if isinstance(obj, (Functional, Sequential)):
        out.append(("layers", obj.layers))
    skip = _skipset()
    for name in sorted(vars(obj), key=_name_key):
        if name.startswith("__") or name in skip:
            continue
        value = vars(obj)[name]
        if _is_saveable(value) or isinstance(value, (list, tuple, dict)):
            out.append((name, value))
    return out


def walk(model):
    """[(object path, saveable)] in Keras's order, the model first at ""."""
    out, seen = [], set()

    def join(path, name):
        return f"{path}/{name}" if path else name

    def visit(obj, path):
        if id(obj) in seen:
            return
        seen.add(id(obj))
        out.append((path, obj))
        for name, child in _children(obj):
            if _is_saveable(child):
                visit(child, join(path, name))
            else:
                visit_container(child, join(path, name), set())

    def visit_container(container, path, visited):
        if id(container) in visited:
            return
        visited.add(id(container))
        used = {}
        items = container.values() if isinstance(container, dict) else container
        for item in items:
            if _is_saveable(item):
                visit(item, join(path, _unique(to_snake_case(type(item).__name__), used)))
            elif isinstance(item, (list, tuple, dict)):
                visit_container(item, join(path, _unique("container", used)), visited)

    visit(model, "")
    return out


def _unique(name, used):
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


def own_variables(obj):
    """The variables Keras stores under an object's `vars` group, in order."""
    from ckeras.optimizers.base_optimizer import Optimizer
    if isinstance(obj, Optimizer):
        return obj.variables
    return obj._own_weights()


def _base_count(optimizer):
    """How many variables an optimizer has before `build` (iteration, and learning_rate unless scheduled)."""
    from ckeras.backend.variables import Variable
    return 1 + isinstance(optimizer._learning_rate, Variable)


# ---- save ----
def weights_bytes(model):
    """`model.weights.h5` for `model`, as bytes."""
    groups = [(path, getattr(obj, "name", None), [v.numpy() for v in own_variables(obj)])
              for path, obj in walk(model)]
    return h5_format.write(groups)


# ---- load ----
def _var_path(path, key):
    return f"{path}/vars/{key}" if path else f"vars/{key}"


def _compatible(stored, expected):
    if stored == expected:
        return True
    kinds = {np.dtype(stored).kind, np.dtype(expected).kind}
    return kinds <= {"i", "u"}  # integer counters (iteration) may differ in width across backends


def _prepare_optimizer(model, reader):
    """Builds a compiled model's unbuilt optimizer when the file holds its slots (training resumes)."""
    from ckeras.optimizers.base_optimizer import Optimizer
    optimizer = getattr(model, "optimizer", None)
    if not isinstance(optimizer, Optimizer) or optimizer.built or not model.built:
        return
    stored = reader.vars("optimizer")
    if stored is not None and len(stored) > _base_count(optimizer):
        optimizer.build(model.trainable_variables)


def load_weights_from_bytes(model, data, source, skip_mismatch=False):
    """Checks `data` (HDF5 bytes) against `model` and assigns every variable, or raises having assigned
    nothing: ValueError for a shape or dtype mismatch, LoadError for missing or extra variables."""
    with h5_format.Reader(data, source) as reader:
        _prepare_optimizer(model, reader)
        plan, expected, missing, skipped = [], set(), [], []
        for path, obj in walk(model):
            variables = own_variables(obj)
            stored = reader.vars(path)
            if path == "optimizer" and stored is None:
                warnings.warn("The weights file holds no optimizer state; the optimizer keeps its own.",
                              stacklevel=3)  # e.g. saved before `compile()`, as Keras does
                continue
            stored = stored or {}
            if path == "optimizer" and len(stored) == _base_count(obj) < len(variables):
                variables = variables[:len(stored)]  # saved before its first step: slots stay at zero
            keys = [str(i) for i in range(len(variables))]
            expected.update(_var_path(path, k) for k in keys)
            missing.extend(_var_path(path, k) for k in keys if k not in stored)
            problem = _check(reader, path, variables, stored, skip_mismatch)
            if problem:
                skipped.append(problem)
                expected.update(_var_path(path, k) for k in stored)
                continue
            plan.extend((v, stored[k]) for k, v in zip(keys, variables) if k in stored)
        ignore_optimizer = getattr(model, "optimizer", None) is None  # e.g. load_model(compile=False)
        extra = [p for p in reader.dataset_paths()
                 if p not in expected and not (ignore_optimizer and p.startswith("optimizer/"))]
        if missing or extra:
            raise LoadError(f"{source}: the weights do not match the model. Missing from the file: "
                            f"{missing or 'none'}. In the file but not in the model: {sorted(extra) or 'none'}.")
        for message in skipped:
            warnings.warn(f"Skipping loading weights: {message}", stacklevel=3)
        values = [(v, reader.read(ds)) for v, ds in plan]
    for variable, value in values:
        if value.dtype != np.dtype(variable.dtype):
            value = value.astype(variable.dtype)
        variable.assign(value)


def _check(reader, path, variables, stored, skip_mismatch):
    """Compares stored shapes and dtypes with the variables' (no data read); with `skip_mismatch` a
    mismatch is returned as a message instead of raised."""
    for i, v in enumerate(variables):
        ds = stored.get(str(i))
        if ds is None:
            continue
        shape, dtype = reader.describe(ds)
        expected = tuple(v.shape)
        if shape != expected or not _compatible(dtype, v.dtype):
            message = (f"variable '{_var_path(path, i)}' ({getattr(v, 'path', v.name)}) has shape {expected} "
                       f"and dtype {v.dtype} in the model, but the file stores shape {shape} and dtype {dtype}.")
            if skip_mismatch:
                return message
            raise ValueError(f"Cannot load weights: {message}")
    return None
