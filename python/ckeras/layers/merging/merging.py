"""The merge layers (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate) and their
functional forms (`add([a, b])`, ...)."""
from ckeras import ops
from ckeras.backend.keras_tensor import KerasTensor
from ckeras.layers.merging.base_merge import Merge


def _fold(fn, inputs):
    out = inputs[0]
    for x in inputs[1:]:
        out = fn(out, x)
    return out


class Add(Merge):
    """Elementwise sum of a list of tensors."""

    def _merge_function(self, inputs):
        return _fold(ops.add, inputs)


class Subtract(Merge):
    """`inputs[0] - inputs[1]` (exactly two inputs)."""
    _exact_inputs = 2

    def _merge_function(self, inputs):
        if len(inputs) != 2:
            raise ValueError(f"A `Subtract` layer should be called on exactly 2 inputs. Received: inputs={inputs}")
        return ops.subtract(inputs[0], inputs[1])


class Multiply(Merge):
    """Elementwise product of a list of tensors."""

    def _merge_function(self, inputs):
        return _fold(ops.multiply, inputs)


class Average(Merge):
    """Elementwise mean of a list of tensors."""

    def _merge_function(self, inputs):
        return ops.divide(_fold(ops.add, inputs), float(len(inputs)))


class Maximum(Merge):
    """Elementwise maximum of a list of tensors."""

    def _merge_function(self, inputs):
        return _fold(ops.maximum, inputs)


class Minimum(Merge):
    """Elementwise minimum of a list of tensors."""

    def _merge_function(self, inputs):
        return _fold(ops.minimum, inputs)


class Concatenate(Merge):
    """Joins a list of tensors along `axis` (-1 by default); other dims must match.

    Args:
        axis: Concatenation axis.
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def build(self, input_shape):
        self._check_inputs(input_shape)
        self.compute_output_shape(input_shape)

    def _merge_function(self, inputs):
        return ops.concatenate(inputs, axis=self.axis)

    def compute_output_shape(self, input_shape):
        shapes = [tuple(s) for s in input_shape]
        rank = len(shapes[0])
        axis = self.axis % rank if rank else 0
        if any(len(s) != rank for s in shapes):
            raise ValueError("A `Concatenate` layer requires inputs with matching shapes except for the "
                             f"concatenation axis. Received: input_shape={input_shape}")
        out = list(shapes[0])
        for s in shapes[1:]:
            for i, (a, b) in enumerate(zip(out, s)):
                if i == axis:
                    out[i] = None if a is None or b is None else a + b
                elif a is not None and b is not None and a != b:
                    raise ValueError("A `Concatenate` layer requires inputs with matching shapes except for "
                                     f"the concatenation axis. Received: input_shape={input_shape}")
                elif a is None:
                    out[i] = b
        return tuple(out)

    def compute_output_spec(self, inputs):
        return KerasTensor(self.compute_output_shape([x.shape for x in inputs]), dtype=inputs[0].dtype)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


def add(inputs, **kwargs):
    """Functional form of `Add`."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """Functional form of `Subtract`."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """Functional form of `Multiply`."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """Functional form of `Average`."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """Functional form of `Maximum`."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """Functional form of `Minimum`."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """Functional form of `Concatenate`."""
    return Concatenate(axis=axis, **kwargs)(inputs)
