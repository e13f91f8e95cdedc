"""`Functional`: a model defined by a graph of layer calls on KerasTensors, from `Input`s to outputs.

At construction the graph is walked back from the outputs, checked (disconnected inputs, unique layer
names) and flattened into an execution plan: one step per layer call, in topological order. A forward pass
is then a loop over the plan with a dict from KerasTensor id to value.
"""
from ckeras import ops
from ckeras.backend.keras_tensor import KerasTensor
from ckeras.layers._utils import flatten, map_structure, pack_sequence_as
from ckeras.layers.core.input_layer import InputLayer
from ckeras.layers.node import infer_by_execution
from ckeras.models.model import Model


def _check_keras_tensors(structure, what):
    for x in flatten(structure):
        if not isinstance(x, KerasTensor):
            raise ValueError(f"All `{what}` values must be KerasTensors. Received: {what}={structure} including "
                             f"invalid value {x} of type {type(x)}")


def build_graph(inputs, outputs):
    """Nodes reachable from `outputs`, in execution order, and the layers they call; raises ValueError for
    a disconnected graph or duplicate layer names (Keras's messages)."""
    input_ids = {id(x) for x in inputs}
    order, seen = [], set()

    def visit(node):
        if id(node) in seen:
            return
        seen.add(id(node))
        for x in node.input_tensors:
            if id(x) not in input_ids:
                layer, index, _ = x._keras_history
                visit(layer._inbound_nodes[index])
        order.append(node)

    for x in outputs:
        if id(x) not in input_ids:
            if x._keras_history is None:
                raise ValueError(f"Output tensor {x} was not produced by a layer call.")
            layer, index, _ = x._keras_history
            visit(layer._inbound_nodes[index])
    computable = set(input_ids)
    visited = [x._keras_history[0].name for x in inputs if x._keras_history is not None]
    for node in order:
        for x in node.input_tensors:
            if id(x) not in computable:
                raise ValueError(f"Graph disconnected: cannot find parent for tensor {x} at operation "
                                 f"'{node.operation}'. The following previous operations were accessed "
                                 f"without issue: {visited}")
        if node.is_input and not any(id(t) in input_ids for t in node.output_tensors):
            continue  # an Input that is not a model input: its consumers fail the check above
        visited.append(node.operation.name)
        computable.update(id(t) for t in node.output_tensors)
    for x in outputs:
        if id(x) not in computable:
            raise ValueError(f"Graph disconnected: cannot find parent for tensor {x}. The following previous "
                             f"operations were accessed without issue: {visited}")
    layers = []
    for x in inputs:
        layer = x._keras_history[0] if x._keras_history else None
        if layer is not None and not any(layer is l for l in layers):
            layers.append(layer)
    for node in order:
        if not node.is_input and not any(node.operation is l for l in layers):
            layers.append(node.operation)
    names = [l.name for l in layers]
    for name in names:
        if names.count(name) != 1:
            raise ValueError(f'The name "{name}" is used {names.count(name)} times in the model. All operation '
                             "names should be unique.")
    return [n for n in order if not n.is_input], layers


class Functional(Model):
    """A model from `Input` tensors to output tensors (`keras.Model(inputs, outputs)`).

    Args:
        inputs: A KerasTensor from `Input`, or a list/dict of them.
        outputs: A KerasTensor, or a list/dict of them, computed from `inputs`.
        name: Model name ("functional" by default).
    """

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        _check_keras_tensors(inputs, "inputs")
        _check_keras_tensors(outputs, "outputs")
        Model.__init__(self, name=name, trainable=trainable, **kwargs)
        if isinstance(inputs, tuple):
            inputs = list(inputs)
        if isinstance(outputs, tuple):
            outputs = list(outputs)
        d = self.__dict__
        d["_inputs_struct"] = inputs
        d["_outputs_struct"] = outputs
        flat_in, flat_out = flatten(inputs), flatten(outputs)
        nodes, layers = build_graph(flat_in, flat_out)
        d["_flat_inputs"], d["_flat_outputs"] = flat_in, flat_out
        for layer in layers:
            self._track(layer)
        d["_operations"] = layers
        d["_plan"] = [self._step(n) for n in nodes]
        d["_nodes"] = nodes
        d["_input_ndims"] = [len(x.shape) for x in flat_in]
        shapes = map_structure(lambda x: x.shape, inputs)
        d["_build_input_shape"] = shapes
        self.built = True
        self._lock_state()

    @staticmethod
    def _step(node):
        args, kwargs = node.arguments
        layer = node.operation
        out_ids = [id(t) for t in node.output_tensors]
        single_out = not isinstance(node.outputs, (list, tuple, dict))
        if len(args) == 1 and isinstance(args[0], KerasTensor) and not any(
                isinstance(v, KerasTensor) for v in flatten(kwargs)):
            return (layer, id(args[0]), None, dict(kwargs), out_ids, single_out)
        return (layer, None, (args, kwargs), None, out_ids, single_out)

    @property
    def inputs(self):
        return self._flat_inputs if not isinstance(self._inputs_struct, dict) else self._inputs_struct

    @property
    def outputs(self):
        return self._flat_outputs if not isinstance(self._outputs_struct, dict) else self._outputs_struct

    @property
    def input(self):
        return self._inputs_struct

    @property
    def output(self):
        return self._outputs_struct

    @property
    def input_shape(self):
        return map_structure(lambda x: x.shape, self._inputs_struct)

    @property
    def output_shape(self):
        return map_structure(lambda x: x.shape, self._outputs_struct)

    @property
    def layers(self):
        return list(self._operations)

    def _flatten_inputs(self, inputs):
        struct = self._inputs_struct
        if isinstance(struct, dict):
            if not isinstance(inputs, dict):
                raise ValueError(f'Layer "{self.name}" expects a dict of inputs with keys {sorted(struct)}. '
                                 f"Received: {type(inputs).__name__}")
            missing = [k for k in struct if k not in inputs]
            if missing:
                raise ValueError(f'Missing data for input "{missing[0]}". You passed a data dictionary with '
                                 f"keys {list(inputs)}. Expected the following keys: {sorted(struct)}")
            return [inputs[k] for k in sorted(struct)]
        if isinstance(inputs, dict):
            by_name = {x.name: x for x in self._flat_inputs}
            if all(k in by_name for k in inputs):
                return [inputs[x.name] for x in self._flat_inputs]
        flat = [inputs] if not isinstance(inputs, (list, tuple)) else list(inputs)
        if len(flat) != len(self._flat_inputs):
            raise ValueError(f'Layer "{self.name}" expects {len(self._flat_inputs)} input(s), but it received '
                             f"{len(flat)} input tensors. Inputs received: {inputs}")
        return flat

    def call(self, inputs, training=None, mask=None):
        flat = self._flatten_inputs(inputs)
        values = {}
        for kt, ndim, x in zip(self._flat_inputs, self._input_ndims, flat):
            if x.ndim != ndim:  # Keras adjusts a missing or extra trailing axis of size 1
                if x.ndim == ndim - 1 and kt.shape[-1] == 1:
                    x = ops.expand_dims(x, -1)
                elif x.ndim == ndim + 1 and x.shape[-1] == 1:
                    x = ops.squeeze(x, -1)
            values[id(kt)] = x
        for layer, in_id, structured, kwargs, out_ids, single_out in self._plan:
            if in_id is not None:
                out = layer(values[in_id], **kwargs) if kwargs else layer(values[in_id])
            else:
                args, kw = structured
                sub = lambda v: values[id(v)] if isinstance(v, KerasTensor) else v  # noqa: E731
                out = layer(*map_structure(sub, list(args)), **map_structure(sub, kw))
            if single_out:
                values[out_ids[0]] = out
            else:
                for i, t in zip(out_ids, flatten(out)):
                    values[i] = t
        outs = [values[id(x)] for x in self._flat_outputs]
        return pack_sequence_as(self._outputs_struct, outs)

    def compute_output_spec(self, inputs, training=None, mask=None):
        return infer_by_execution(lambda x, **k: self.call(x, training=False), (inputs,), {})

    def build(self, input_shape=None):
        pass

    def get_build_config(self):
        return {"input_shape": None}  # a Functional model is built by its graph (Keras writes the same)

    def get_config(self):
        from ckeras.models._functional_config import functional_config
        return functional_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from ckeras.models._functional_config import functional_from_config
        return functional_from_config(cls, config, custom_objects)
