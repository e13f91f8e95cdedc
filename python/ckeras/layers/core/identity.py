"""`Identity`: returns its input unchanged (a placeholder layer)."""
from ckeras.backend.keras_tensor import KerasTensor
from ckeras.layers._utils import map_structure
from ckeras.layers.layer import Layer


class Identity(Layer):
    """Returns the input unchanged."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_output_spec(self, inputs):
        return map_structure(lambda x: KerasTensor(x.shape, dtype=x.dtype), inputs)
