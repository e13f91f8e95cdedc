"""Custom layers as plan stages: a layer whose `call` computes `activation(x @ kernel [+ bias])` with its own
variables (the article's `relu(tf.matmul(inputs, self.kernel))`) runs as a Dense stage of the captured step.

The layer is called on a random probe under autograd recording, once with training=True and once with False;
the recorded graph must be exactly matmul(probe, kernel), optionally plus a bias vector, optionally followed
by relu, sigmoid, tanh or softmax (the last two only with `_keras_logits` attached, as keras.activations does),
with every variable of the layer used. During the trace a tensor or variable read as a Python value (bool,
float, int, NumPy) makes the layer ineligible: its call may branch on data, which a captured step would freeze.
Like a traced `tf.function`, the plan does not rerun Python side effects of `call`; `run_eagerly=True` keeps
the eager step. The stage runs the kernels the eager ops run, in their order: the same bits.
"""
import numpy as np

from ckeras import _core
from ckeras.backend.variables import Variable
from ckeras.layers.layer import Layer

_ACT = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "SoftmaxBackward": "Softmax"}
_GUARDED = ("__bool__", "__float__", "__int__", "__index__", "item", "numpy", "tolist", "__array__")


class NotTraceable(Exception):
    """The layer's call is not one the plan reproduces; the message says why."""


class _ValueRead(Exception):
    pass


class _NoValueReads:
    """Makes reading a Tensor's or Variable's value into Python raise during the trace."""

    def __enter__(self):
        self.saved = []
        for cls in (_core.Tensor, Variable):
            for name in _GUARDED:
                if name in cls.__dict__:
                    self.saved.append((cls, name, cls.__dict__[name]))
                    setattr(cls, name, _refuse)
        return self

    def __exit__(self, *exc):
        for cls, name, fn in self.saved:
            setattr(cls, name, fn)
        return False


def _refuse(*args, **kwargs):
    raise _ValueRead()


def _leaf(node):
    return node[1] if isinstance(node, tuple) and node[0] == "leaf" else None


def _parse(graph, probe_id):
    """(activation name, kernel storage id, bias storage id or None) of act(probe @ kernel [+ bias])."""
    if graph is None:
        raise NotTraceable("its output does not depend on its input and weights through recorded ops")
    act, node = "Linear", graph
    if node[0] in _ACT:
        act, node = _ACT[node[0]], (node[1][0] if len(node[1]) == 1 else None)
    bias = None
    if isinstance(node, tuple) and node[0] == "add" and len(node[1]) == 2:
        a, b = node[1]
        if _leaf(b) is not None and isinstance(a, tuple) and a[0] == "MatmulBackward":
            node, bias = a, _leaf(b)
        elif _leaf(a) is not None and isinstance(b, tuple) and b[0] == "MatmulBackward":
            node, bias = b, _leaf(a)
    if not (isinstance(node, tuple) and node[0] == "MatmulBackward" and len(node[1]) == 2):
        raise NotTraceable("its call is not activation(inputs @ kernel [+ bias])")
    if _leaf(node[1][0]) != probe_id or _leaf(node[1][1]) is None:
        raise NotTraceable("its matmul is not inputs @ one of its variables")
    return act, _leaf(node[1][1]), bias


_PROBES = {}  # width -> the probe's values (making a NumPy generator costs more than a small trace)


def _trace(layer, width, training):
    values = _PROBES.get(width)
    if values is None:
        values = _PROBES[width] = np.random.default_rng(0).standard_normal((3, width)).astype(np.float32)
    probe = _core.convert_to_tensor(values.copy())  # (a call writing into its input must not change it)
    probe.requires_grad = True
    kwargs = {"training": training} if layer._call_has_training_arg else {}
    prev = _core.grad_enabled()
    _core.set_grad_enabled(True)
    try:
        with _NoValueReads():
            out = layer(probe, **kwargs)
    except _ValueRead:
        raise NotTraceable("its call reads a tensor's value into Python") from None
    except Exception as e:  # the eager step will raise it, with its context
        raise NotTraceable(f"its call raised {type(e).__name__} on a probe") from None
    finally:
        _core.set_grad_enabled(prev)
    if type(out) is not _core.Tensor or out.dtype != "float32" or out.ndim != 2 or out.shape[0] != 3:
        raise NotTraceable("its output is not one float32 (batch, units) tensor")
    act, kernel_id, bias_id = _parse(_core._autograd_graph(out), _core._storage_id(probe))
    if act in ("Softmax", "Sigmoid") and getattr(out, "_keras_logits", None) is None:
        raise NotTraceable(f"its {act.lower()} output carries no logits (use keras.activations)")
    return act, kernel_id, bias_id, out.shape[1]


def traced_stage(layer, width, trainable_ids):
    """`(PlanStage, [kernel, bias?])` for a custom layer on (batch, width) float32 inputs, or NotTraceable."""
    if not isinstance(layer, Layer) or type(layer).__call__ is not Layer.__call__:
        raise NotTraceable("not a plain Layer")
    if not layer.built or layer.activity_regularizer is not None or len(list(layer._flatten_layers())) != 1:
        raise NotTraceable("unbuilt, with an activity regularizer, or with sublayers")
    weights = list(layer.weights)
    if not 1 <= len(weights) <= 2 or any(not isinstance(v, Variable) or v.dtype != "float32" for v in weights):
        raise NotTraceable("not one kernel and at most one bias, float32")
    by_id = {_core._storage_id(v._ckeras_tensor): v for v in weights}
    found = {_trace(layer, width, training) for training in (True, False)}
    if len(found) != 1:
        raise NotTraceable("its call computes differently in training and inference")
    act, kernel_id, bias_id, units = found.pop()
    kernel, bias = by_id.get(kernel_id), by_id.get(bias_id) if bias_id is not None else None
    if kernel is None or (bias_id is not None and bias is None) or len(weights) != 1 + (bias is not None):
        raise NotTraceable("its call does not use exactly its own variables")
    if kernel.shape != (width, units) or (bias is not None and bias.shape != (units,)):
        raise NotTraceable(f"its kernel {kernel.shape} or bias does not map {width} features to {units}")
    if layer.losses:
        raise NotTraceable("it adds losses")
    stage = _core.PlanStage.dense(kernel._ckeras_tensor, None if bias is None else bias._ckeras_tensor,
                                  getattr(_core.PlanActivation, act), id(kernel) in trainable_ids,
                                  bias is not None and id(bias) in trainable_ids)
    return stage, [kernel] + ([bias] if bias is not None else []), getattr(_core.PlanActivation, act), units
