"""TensorFlow's dtype objects (`tf.float32`, `tf.dtypes.as_dtype`) for the dtypes the engine has.

A `DType` is a `str` subclass equal to its name, so `x.dtype == tf.float32` holds for a ckeras tensor
and every ckeras function that takes a dtype name takes a `DType` too.
"""
import numpy as np

__all__ = ["DType", "as_dtype", "float32", "float64", "int32", "int64", "bool"]


class DType(str):
    """A dtype such as `tf.float32`: compares equal to its name (`"float32"`)."""

    @property
    def name(self):
        return str(self)

    @property
    def as_numpy_dtype(self):
        return np.dtype(str(self)).type

    @property
    def is_floating(self):
        return np.dtype(str(self)).kind == "f"

    @property
    def is_integer(self):
        return np.dtype(str(self)).kind in "iu"

    @property
    def is_bool(self):
        return str(self) == "bool"

    @property
    def size(self):
        return np.dtype(str(self)).itemsize

    @property
    def min(self):
        return False if self.is_bool else (np.finfo if self.is_floating else np.iinfo)(str(self)).min

    @property
    def max(self):
        return True if self.is_bool else (np.finfo if self.is_floating else np.iinfo)(str(self)).max

    def __repr__(self):
        return f"tf.{self}"


float32, float64, int32, int64, bool = (DType(n) for n in ("float32", "float64", "int32", "int64", "bool"))
_ALL = {d: d for d in (float32, float64, int32, int64, bool)}


def as_dtype(type_value):
    """The `DType` for a name, NumPy dtype/type or `DType`; ValueError for dtypes ckeras lacks."""
    name = getattr(type_value, "name", None) if not isinstance(type_value, str) else str(type_value)
    if not isinstance(name, str):
        try:
            name = np.dtype(type_value).name
        except TypeError:
            name = repr(type_value)
    if name not in _ALL:
        raise ValueError(f"Invalid dtype: unsupported dtype '{name}'; supported dtypes are "
                         f"{', '.join(_ALL)}")
    return _ALL[name]


def _name(dtype):
    return None if dtype is None else str(as_dtype(dtype))
