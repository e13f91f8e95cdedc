"""Keras 3's config of a Functional model (layers with their inbound nodes, input/output layers) and the
reverse: rebuilding the graph by calling fresh layers on fresh Inputs."""
from ckeras.backend.keras_tensor import KerasTensor
from ckeras.layers._utils import flatten, map_structure


def _history(x):
    layer, ni, ti = x._keras_history
    return [layer.name, ni, ti]


def functional_config(model):
    from ckeras.layers import serialize
    node_ids = {id(n) for n in model._nodes}
    layer_configs = []
    for layer in model._operations:
        entry = serialize(layer)
        entry["name"] = layer.name
        inbound = []
        for node in layer._inbound_nodes:
            if id(node) not in node_ids:
                continue
            args, kwargs = node.arguments
            enc = lambda v: ({"class_name": "__keras_tensor__",  # noqa: E731
                              "config": {"shape": list(v.shape), "dtype": v.dtype,
                                         "keras_history": _history(v)}}
                             if isinstance(v, KerasTensor) else v)
            inbound.append({"args": map_structure(enc, list(args)), "kwargs": map_structure(enc, kwargs)})
        entry["inbound_nodes"] = inbound
        layer_configs.append(entry)
    return {"name": model.name, "trainable": model.trainable, "layers": layer_configs,
            "input_layers": _tensor_configs(model._inputs_struct),
            "output_layers": _tensor_configs(model._outputs_struct)}


def _tensor_configs(struct):
    if isinstance(struct, KerasTensor):  # a single tensor is written as a list of one, as Keras does
        return [_history(struct)]
    return map_structure(_history, struct)


def functional_from_config(cls, config, custom_objects=None):
    from ckeras.layers import InputLayer, deserialize
    layers, produced = {}, {}
    for entry in config["layers"]:
        layer = deserialize({k: v for k, v in entry.items() if k not in ("inbound_nodes", "name")},
                            custom_objects)
        layers[entry["name"]] = layer
        if isinstance(layer, InputLayer):
            produced[(entry["name"], 0, 0)] = layer.output
    pending = [(e["name"], i, n) for e in config["layers"] for i, n in enumerate(e.get("inbound_nodes", []))]
    while pending:
        progress, rest = False, []
        for name, index, node in pending:
            refs = [v for v in flatten([node["args"], node["kwargs"]])
                    if isinstance(v, dict) and v.get("class_name") == "__keras_tensor__"]
            if not all(tuple(r["config"]["keras_history"]) in produced for r in refs):
                rest.append((name, index, node))
                continue
            dec = lambda v: (produced[tuple(v["config"]["keras_history"])]  # noqa: E731
                             if isinstance(v, dict) and v.get("class_name") == "__keras_tensor__" else v)
            args = _decode(node["args"], dec)
            kwargs = _decode(node["kwargs"], dec)
            out = layers[name](*args, **kwargs)
            for ti, t in enumerate(flatten(out)):
                produced[(name, len(layers[name]._inbound_nodes) - 1, ti)] = t
            progress = True
        if not progress:
            raise ValueError("Cannot rebuild the Functional model from its config: some layer inputs are never "
                             f"produced ({[p[0] for p in rest]}).")
        pending = rest
    fix = lambda h: produced[(h[0], h[1], h[2])]  # noqa: E731
    inputs = _map_history(config["input_layers"], fix)
    outputs = _map_history(config["output_layers"], fix)
    if isinstance(inputs, list) and len(inputs) == 1:
        inputs = inputs[0]
    if isinstance(outputs, list) and len(outputs) == 1:
        outputs = outputs[0]
    return cls(inputs, outputs, name=config.get("name"), trainable=config.get("trainable", True))


def _is_history(v):
    return isinstance(v, (list, tuple)) and len(v) == 3 and isinstance(v[0], str)


def _map_history(struct, fn):
    if _is_history(struct):
        return fn(struct)
    if isinstance(struct, dict):
        return {k: _map_history(v, fn) for k, v in struct.items()}
    return [_map_history(v, fn) for v in struct]


def _decode(struct, dec):
    if isinstance(struct, dict) and struct.get("class_name") == "__keras_tensor__":
        return dec(struct)
    if isinstance(struct, dict):
        return {k: _decode(v, dec) for k, v in struct.items()}
    if isinstance(struct, list):
        return [_decode(v, dec) for v in struct]
    return struct
