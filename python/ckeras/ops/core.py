"""Core ops: conversion to tensors, casting, shapes, and gradient-stopping (keras.ops core)."""
import numpy as np

from ckeras import _core

__all__ = ["convert_to_tensor", "convert_to_numpy", "cast", "shape", "stop_gradient", "is_tensor",
           "_scalar_pair", "_tensor"]

_SUPPORTED = ("float32", "float64", "int32", "int64", "bool")
_Tensor = _core.Tensor
_PY_SCALAR_DTYPES = {float: "float32", bool: "bool", int: "int32"}
# The engine's unary kernels by name (`_core._unary_<code>`), looked up once rather than at each call.
_UNARY = {name: getattr(_core, f"_unary_{code}") for name, code in _core.UNARY_OPS.items()}


def _dtype_name(dtype):
    if dtype is None:
        return None
    name = dtype if isinstance(dtype, str) else np.dtype(dtype).name
    if name not in _SUPPORTED:
        raise ValueError(f"Invalid dtype: unsupported dtype '{name}'; supported dtypes are "
                         f"{', '.join(_SUPPORTED)}")
    return name


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """Converts a NumPy array, Python scalar or list, Variable or Tensor to a `Tensor`.

    NumPy arrays with a supported dtype and layout are shared, not copied. float64 stays float64
    unless `dtype` is given; strings, objects and complex numbers raise ValueError.

    Args:
        x: The value to convert.
        dtype: Optional target dtype name (`"float32"`, ...).
    Returns:
        A `Tensor`.
    """
    if type(x) is np.ndarray and dtype is None and x.dtype.kind in "fiub" and not (sparse or ragged):
        return _core.convert_to_tensor(x)  # the common call, in half the time of the general route below
    if sparse or ragged:
        raise ValueError("sparse and ragged tensors are not supported")
    if type(x) is _Tensor and (dtype is None or (type(dtype) is str and dtype == x.dtype)):
        return x
    if isinstance(x, _Tensor) and dtype is None:
        return x
    t = _tensor(x)
    name = _dtype_name(dtype)
    return t if name is None or name == t.dtype else _core.cast(t, name)


def _tensor(x):
    if type(x) is _Tensor:  # (isinstance on the engine's type costs ~0.3 us when it fails)
        return x
    v = getattr(x, "_ckeras_tensor", None)  # a Variable
    if v is not None:
        return v
    kind = type(x)
    if kind is float or kind is bool or (kind is int and -2 ** 31 <= x < 2 ** 31):
        # The dtype convert_to_tensor gives (float32, bool, int32), filled in ~2 us instead of ~5-14 us.
        return _core.full((), x, _PY_SCALAR_DTYPES[kind])
    if isinstance(x, _Tensor):
        return x
    if isinstance(x, np.ndarray) and x.dtype.kind in "USOcVMm":
        raise ValueError(f"Invalid dtype: unsupported dtype '{x.dtype}'; supported dtypes are "
                         f"{', '.join(_SUPPORTED)}")
    return _core.convert_to_tensor(x)


def _is_py_scalar(x):
    return isinstance(x, (int, float, bool)) and not isinstance(x, np.generic)


def _scalar_pair(x1, x2):
    """Converts two operands, giving Python scalars the other operand's dtype (Keras weak typing)."""
    if type(x1) is _Tensor:  # the common case first: a Tensor with a Tensor or a Variable
        if type(x2) is _Tensor:
            return x1, x2
        v = getattr(x2, "_ckeras_tensor", None)
        if v is not None:
            return x1, v
    s1, s2 = _is_py_scalar(x1), _is_py_scalar(x2)
    if s1 and not s2:
        t2 = _tensor(x2)
        return _weak_scalar(x1, t2.dtype), t2
    if s2 and not s1:
        t1 = _tensor(x1)
        return t1, _weak_scalar(x2, t1.dtype)
    return _tensor(x1), _tensor(x2)


def _weak_scalar(scalar, other):
    """A 0-d tensor holding `scalar` exactly, in the dtype it takes next to a tensor of dtype `other`."""
    dtype = _weak_dtype(scalar, other)
    if isinstance(scalar, bool) or not isinstance(scalar, int) or dtype not in ("int32", "int64"):
        return _core.full((), float(scalar), dtype)
    if dtype == "int32" and not -2 ** 31 <= scalar < 2 ** 31:
        raise OverflowError(f"Python integer {scalar} out of bounds for int32")  # NumPy 2's rule
    return _core.convert_to_tensor(scalar, dtype)  # exact, also beyond 2**53


def _weak_dtype(scalar, other):
    if isinstance(scalar, bool):
        return other
    if isinstance(scalar, float) and other in ("int32", "int64", "bool"):
        return "float32"
    if isinstance(scalar, int) and other == "bool":
        return "int32"
    return other


def cast(x, dtype):
    """Casts `x` to `dtype`; float to int truncates toward zero."""
    return _core.cast(_tensor(x), _dtype_name(dtype))


def shape(x):
    """The shape of `x` as a tuple of ints."""
    return tuple(_tensor(x).shape)


def is_tensor(x):
    """True for a ckeras `Tensor`."""
    return isinstance(x, _core.Tensor)


def stop_gradient(variable):
    """Returns `variable` with no gradient flowing back through it."""
    return _tensor(variable).detach()


def convert_to_numpy(x):
    """Converts a tensor to a NumPy array (a copy you can write to)."""
    return np.array(_tensor(x))
