"""`Reshape`: gives each sample a new shape (one dim may be -1)."""
import math

from ckeras import ops
from ckeras.backend.keras_tensor import KerasTensor
from ckeras.layers.layer import Layer


class Reshape(Layer):
    """Reshapes `(batch, ...)` inputs to `(batch,) + target_shape`.

    Args:
        target_shape: Tuple of ints (without the batch dim); one entry may be -1.
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        target_shape = tuple(target_shape)
        if sum(1 for d in target_shape if d == -1) > 1:
            raise ValueError("There must be at most one unknown dimension (-1) in `target_shape`. "
                             f"Received: target_shape={target_shape}")
        self.target_shape = target_shape
        self.built = True

    def _resolve(self, input_shape):
        rest = input_shape[1:]
        shape = list(self.target_shape)
        if -1 in shape:
            if any(d is None for d in rest):
                shape[shape.index(-1)] = None
            else:
                known = math.prod(d for d in shape if d != -1)
                total = math.prod(rest)
                if known == 0 or total % known:
                    raise ValueError(f"The total size of the input ({total}) is not divisible by the known "
                                     f"dimensions of target_shape={self.target_shape}.")
                shape[shape.index(-1)] = total // known
        elif not any(d is None for d in rest) and math.prod(rest) != math.prod(shape):
            raise ValueError(f"total size of new array must be unchanged, input_shape = {tuple(rest)}, "
                             f"output_shape = {self.target_shape}")
        return (input_shape[0],) + tuple(shape)

    def call(self, inputs):
        return ops.reshape(inputs, (inputs.shape[0],) + self.target_shape)

    def compute_output_shape(self, input_shape):
        return self._resolve(tuple(input_shape))

    def compute_output_spec(self, inputs):
        return KerasTensor(self.compute_output_shape(inputs.shape), dtype=inputs.dtype)

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = self.target_shape
        return config
