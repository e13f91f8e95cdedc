"""`Activation`: applies an activation function by name or callable."""
from ckeras import activations
from ckeras.backend.keras_tensor import KerasTensor
from ckeras.layers.layer import Layer


class Activation(Layer):
    """Applies `activation` elementwise.

    Args:
        activation: Name (e.g. "relu") or callable.
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_output_spec(self, inputs):
        return KerasTensor(inputs.shape, dtype=inputs.dtype)

    def get_config(self):
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config
