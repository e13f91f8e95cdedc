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
from ckeras.layers.core.op_layer import OpLayer, install_operators as _install_operators
from ckeras.backend.keras_tensor import KerasTensor as _KerasTensor
from ckeras.layers.merging.merging import (Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract,
                                           add, average, concatenate, maximum, minimum, multiply, subtract)

_install_operators(_KerasTensor)


def serialize(layer):
    """Keras's config dict of a layer: module, class_name, config, registered_name, build_config."""
    from ckeras.saving.serialization_lib import serialize_keras_object
    return serialize_keras_object(layer)


def deserialize(config, custom_objects=None):
    """The layer (or model) described by a config dict from `serialize`; classes resolve only from ckeras's
    layers and the user's registered or `custom_objects` classes (see `ckeras.saving`)."""
    from ckeras.saving.serialization_lib import deserialize_keras_object
    return deserialize_keras_object(config, custom_objects=custom_objects)


__all__ = ["InputSpec", "Layer", "Input", "InputLayer", "Dense", "Identity", "Lambda", "Dropout", "Activation",
           "Flatten", "Reshape", "Merge", "Add", "Average", "Concatenate", "Maximum", "Minimum", "Multiply",
           "Subtract", "add", "average", "concatenate", "maximum", "minimum", "multiply", "subtract",
           "serialize", "deserialize"]
