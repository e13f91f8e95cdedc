"""`KerasTensor`: a symbolic tensor (shape with None for unknown sizes, dtype) that records the Functional
graph. `Input(shape)` makes one; a layer called on KerasTensors returns KerasTensors and records a `Node`.
"""
from ckeras.layers._utils import get_uid


class KerasTensor:
    """A symbolic placeholder: a shape (None = any size), a dtype, and the layer call that produced it.

    Args:
        shape: Tuple of ints or None.
        dtype: Dtype name (default "float32").
        name: Optional name; `keras_tensor`, `keras_tensor_1`, ... otherwise.
    """

    def __init__(self, shape, dtype="float32", sparse=False, ragged=False, record_history=True, name=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = dtype or "float32"
        self.sparse = bool(sparse)
        self.ragged = bool(ragged)
        self.name = name or get_uid("keras_tensor")
        self._keras_history = None  # (layer, node_index, tensor_index) once produced by a layer

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return (f"<KerasTensor shape={self.shape}, dtype={self.dtype}, sparse={self.sparse}, "
                f"ragged={self.ragged}, name={self.name}>")

    def __len__(self):
        raise TypeError("A KerasTensor is symbolic: it has no length. Use `x.shape` instead.")

    def __bool__(self):
        raise TypeError("A symbolic KerasTensor cannot be used as a Python boolean.")

    def __array__(self, *args, **kwargs):
        raise ValueError(
            "A KerasTensor cannot be used as input to a ckeras op or converted to NumPy: it is a symbolic "
            "placeholder with no value, used to build Functional models. Wrap the computation in a layer "
            "(e.g. `keras.layers.Lambda`) or call the model on real data instead.")

    __hash__ = object.__hash__


def is_keras_tensor(x):
    return isinstance(x, KerasTensor)
