"""`Merge`: base of the layers that combine a list of tensors elementwise (with broadcasting)."""
from ckeras.backend.keras_tensor import KerasTensor
from ckeras.layers.layer import Layer


def _broadcast(shape1, shape2):
    """Broadcast of two shapes without their batch dims (None = unknown)."""
    if shape1 is None or shape2 is None:
        return None
    if len(shape1) < len(shape2):
        return _broadcast(shape2, shape1)
    out = list(shape1[:len(shape1) - len(shape2)])
    for a, b in zip(shape1[len(shape1) - len(shape2):], shape2):
        if a is None or b is None:
            out.append(None)
        elif a == 1:
            out.append(b)
        elif b == 1 or a == b:
            out.append(a)
        else:
            raise ValueError(f"Inputs have incompatible shapes. Received shapes {shape1} and {shape2}")
    return tuple(out)


class Merge(Layer):
    """Base class: `_merge_function(inputs)` reduces a list of tensors to one."""

    _min_inputs = 1
    _exact_inputs = None

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def _check_inputs(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or not input_shape or \
                not isinstance(input_shape[0], (list, tuple)):
            raise ValueError("A merge layer should be called on a list of inputs. Received: "
                             f"input_shape={input_shape} (not a list of shapes)")
        n = len(input_shape)
        if self._exact_inputs is not None and n != self._exact_inputs:
            raise ValueError(f"A `{type(self).__name__}` layer should be called on exactly "
                             f"{self._exact_inputs} inputs. Received: input_shape={input_shape}")
        if n < self._min_inputs:
            raise ValueError(f"A merge layer should be called on a list of at least {self._min_inputs} "
                             f"inputs. Got {n} inputs. Full input_shape received: {input_shape}")

    def build(self, input_shape):
        self._check_inputs(input_shape)
        batch = {s[0] for s in input_shape if s and s[0] is not None}
        if len(batch) > 1:
            raise ValueError(f"Cannot merge tensors with different batch sizes. Received tensors with "
                             f"shapes {list(input_shape)}")
        self.compute_output_shape(input_shape)

    def call(self, inputs):
        return self._merge_function(list(inputs))

    def compute_output_shape(self, input_shape):
        out = tuple(input_shape[0][1:])
        for s in input_shape[1:]:
            out = _broadcast(out, tuple(s[1:]))
        batch = [s[0] for s in input_shape if s[0] is not None]
        return (batch[0] if batch else None,) + out

    def compute_output_spec(self, inputs):
        shape = self.compute_output_shape([x.shape for x in inputs])
        return KerasTensor(shape, dtype=inputs[0].dtype)
