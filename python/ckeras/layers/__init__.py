"""`ckeras.layers`: Keras 3's layers (`keras.layers`)."""
from ckeras.layers.input_spec import InputSpec
from ckeras.layers.layer import Layer
from ckeras.layers.core.input_layer import Input, InputLayer
from ckeras.layers.core.dense import Dense
from ckeras.layers.core.identity import Identity
from ckeras.layers.core.lambda_layer import Lambda
from ckeras.layers.regularization.dropout import Dropout
from ckeras.layers.activations.activation import Activation
from ckeras.layers.reshaping.flatten import Flatten
from ckeras.layers.reshaping.reshape import Reshape
from ckeras.layers.merging.base_merge import Merge
from ckeras.layers.merging.merging import (Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract,
                                           add, average, concatenate, maximum, minimum, multiply, subtract)


def serialize(layer):
    """Keras's config dict of a layer: module, class_name, config, registered_name, build_config."""
    out = {"module": "keras.layers", "class_name": type(layer).__name__, "config": layer.get_config(),
           "registered_name": None}
    build = layer.get_build_config()
    if build is not None:
        out["build_config"] = build
    return out


def deserialize(config, custom_objects=None):
    """The layer (or model) described by a config dict from `serialize`."""
    import ckeras.models as _models
    table = {n: c for n, c in globals().items() if isinstance(c, type) and issubclass(c, Layer)}
    table.update({"Sequential": _models.Sequential, "Functional": _models.Functional, "Model": _models.Model})
    table.update(custom_objects or {})
    name = config["class_name"]
    cls = table.get(name)
    if cls is None:
        from ckeras.layers._serialization import did_you_mean
        raise ValueError(f"Could not locate class '{name}'. Make sure custom classes are passed in "
                         f"`custom_objects`.{did_you_mean(name, table)}")
    layer = cls.from_config(config["config"])
    if config.get("build_config") and not layer.built:
        layer.build_from_config(config["build_config"])
    return layer


__all__ = ["InputSpec", "Layer", "Input", "InputLayer", "Dense", "Identity", "Lambda", "Dropout", "Activation",
           "Flatten", "Reshape", "Merge", "Add", "Average", "Concatenate", "Maximum", "Minimum", "Multiply",
           "Subtract", "add", "average", "concatenate", "maximum", "minimum", "multiply", "subtract",
           "serialize", "deserialize"]
