"""Functional-graph records and shape inference for symbolic calls.

A `Node` is one call of a layer on KerasTensors: the call's arguments (KerasTensors kept in place) and the
output KerasTensors, each stamped with `_keras_history = (layer, node_index, tensor_index)`.

Shape inference: a layer that overrides `compute_output_shape` is asked for the shape (no computation).
Otherwise its `call` runs on zero-filled tensors under a no-gradient scope: each None dim becomes 2, and if
there are None dims a second run uses 3; output dims that differ between the runs are None. This supports any
custom layer written with ckeras.ops, costs two small forward passes once per graph edge at model
construction, and never touches the per-step path.
"""
from ckeras import _core
from ckeras.backend.keras_tensor import KerasTensor
from ckeras.layers._utils import flatten, map_structure, pack_sequence_as


class Node:
    """One call of `layer` on symbolic inputs. `arguments` = (args, kwargs); `outputs` a structure."""

    def __init__(self, layer, args, kwargs, outputs):
        self.operation = layer
        self.arguments = (args, kwargs)
        self.input_tensors = [x for x in flatten([list(args), kwargs]) if isinstance(x, KerasTensor)]
        self.outputs = outputs
        self.output_tensors = flatten(outputs)
        index = len(layer._inbound_nodes)
        layer._inbound_nodes.append(self)
        for i, t in enumerate(self.output_tensors):
            t._keras_history = (layer, index, i)

    @property
    def is_input(self):
        return not self.input_tensors

    @property
    def parent_nodes(self):
        out = []
        for x in self.input_tensors:
            layer, index, _ = x._keras_history
            out.append(layer._inbound_nodes[index])
        return out


def _materialize(structure, fill):
    def conv(x):
        if isinstance(x, KerasTensor):
            return _core.zeros([fill if d is None else d for d in x.shape], x.dtype)
        return x
    return map_structure(conv, structure)


def infer_by_execution(fn, args, kwargs):
    """Output KerasTensors of `fn(*args, **kwargs)` found by running it on zeros (see module docstring)."""
    flat_in = [x for x in flatten([list(args), kwargs]) if isinstance(x, KerasTensor)]
    dynamic = any(d is None for x in flat_in for d in x.shape)
    prev = _core.grad_enabled()
    _core.set_grad_enabled(False)
    try:
        out2 = fn(*_materialize(list(args), 2), **_materialize(kwargs, 2))
        out3 = fn(*_materialize(list(args), 3), **_materialize(kwargs, 3)) if dynamic else out2
    finally:
        _core.set_grad_enabled(prev)
    flat2, flat3 = flatten(out2), flatten(out3)

    def spec(a, b):
        if not hasattr(a, "shape") or not hasattr(a, "dtype"):
            return a
        shape = tuple(None if da != db else da for da, db in zip(a.shape, b.shape))
        return KerasTensor(shape, dtype=str(a.dtype))
    return pack_sequence_as(out2, [spec(a, b) for a, b in zip(flat2, flat3)])


def shapes_to_tensors(shapes, dtype):
    """KerasTensors for the shape(s) returned by `compute_output_shape` (one shape or a structure)."""
    from ckeras.layers._utils import is_shape
    if is_shape(shapes):
        return KerasTensor(tuple(shapes), dtype=dtype)
    if isinstance(shapes, dict):
        return {k: shapes_to_tensors(v, dtype) for k, v in shapes.items()}
    return type(shapes)(shapes_to_tensors(s, dtype) for s in shapes) if isinstance(shapes, tuple) \
        else [shapes_to_tensors(s, dtype) for s in shapes]
