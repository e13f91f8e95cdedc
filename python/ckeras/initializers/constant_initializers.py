"""Deterministic initializers: Zeros, Ones, Constant, Identity."""
from ckeras import ops
from ckeras.initializers.initializer import Initializer


def _shape(shape):
    return tuple(int(d) for d in shape)


class Zeros(Initializer):
    """Fills with 0."""

    def __call__(self, shape, dtype=None):
        return ops.zeros(_shape(shape), dtype=dtype or "float32")


class Ones(Initializer):
    """Fills with 1."""

    def __call__(self, shape, dtype=None):
        return ops.ones(_shape(shape), dtype=dtype or "float32")


class Constant(Initializer):
    """Fills with `value` (a scalar, broadcast to the shape).

    Args:
        value: The scalar to fill with. Defaults to 0.
    """

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        return ops.full(_shape(shape), self.value, dtype=dtype or "float32")

    def get_config(self):
        return {"value": self.value}


class Identity(Initializer):
    """`gain` times the identity matrix (2-D shapes only).

    Args:
        gain: Multiplicative factor. Defaults to 1.
    """

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        if len(shape) != 2:
            raise ValueError("Identity matrix initializer can only be used for 2D matrices. "
                             f"Received: shape={shape} of rank {len(shape)}.")
        rows, cols = shape
        eye = ops.equal(ops.expand_dims(ops.arange(rows), 1), ops.expand_dims(ops.arange(cols), 0))
        return ops.multiply(ops.cast(eye, dtype or "float32"), self.gain)

    def get_config(self):
        return {"gain": self.gain}
