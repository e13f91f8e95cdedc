"""`Flatten`: collapses every axis but the batch axis."""
import math

from ckeras import ops
from ckeras.backend.keras_tensor import KerasTensor
from ckeras.layers.input_spec import InputSpec
from ckeras.layers.layer import Layer


class Flatten(Layer):
    """Reshapes `(batch, d1, d2, ...)` to `(batch, d1 * d2 * ...)`.

    Args:
        data_format: "channels_last" (default) or "channels_first" (channels moved last before
            flattening, so the order matches channels_last).
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        data_format = data_format or "channels_last"
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError("The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
                             f"Received: data_format={data_format}")
        self.data_format = data_format
        self.input_spec = InputSpec(min_ndim=1)
        self.built = True

    def call(self, inputs):
        x = inputs
        if self.data_format == "channels_first" and x.ndim > 2:
            x = ops.transpose(x, [0] + list(range(2, x.ndim)) + [1])
        return ops.reshape(x, (x.shape[0], -1))

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else math.prod(rest)
        return (input_shape[0], size)

    def compute_output_spec(self, inputs):
        return KerasTensor(self.compute_output_shape(inputs.shape), dtype=inputs.dtype)

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config
