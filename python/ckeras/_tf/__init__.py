"""TensorFlow's top-level functions (`tf.constant`, `tf.matmul`, `tf.reduce_sum`, ...) over ckeras ops,
with TF's argument names and defaults. `name` arguments are accepted and ignored.

`ckeras._compat.install` puts these on the `ckeras` module. Left out: ragged/sparse tensors, `tf.data`,
graph-mode behaviour (`tf.function` only returns the function it is given).
"""
import builtins
import functools

import numpy as np

from ckeras import _core, ops
from ckeras._tf import dtypes
from ckeras._devices import device  # noqa: F401  (tf.device / keras.device)
from ckeras._tf.dtypes import _name
from ckeras.ops.core import _tensor

__all__ = [
    "constant", "convert_to_tensor", "cast", "identity", "reshape", "transpose", "concat", "stack",
    "split", "expand_dims", "squeeze", "gather", "one_hot", "zeros", "ones", "zeros_like", "ones_like",
    "fill", "range", "shape", "size", "rank", "matmul", "where", "clip_by_value", "broadcast_to",
    "device", "function", "executing_eagerly", "print", "newaxis",
]

newaxis = None


def _axis(axis):
    return tuple(int(a) for a in axis) if isinstance(axis, (list, tuple)) else axis


def constant(value, dtype=None, shape=None, name=None):
    """A tensor from a Python value or NumPy array (TF's `tf.constant`).

    Python floats become float32 and ints int32; NumPy arrays keep their dtype. With `shape`, a
    single value is filled in and a value of the right size is reshaped.
    """
    t = convert_to_tensor(value, dtype)
    if shape is None:
        return t
    shape = tuple(int(d) for d in shape)
    n = int(np.prod(shape, dtype=np.int64))
    if t.size == 1:
        return ops.broadcast_to(ops.reshape(t, ()), shape)
    if t.size != n:
        raise TypeError(f"Eager execution of tf.constant with unsupported shape. Tried to convert a value "
                        f"of shape {tuple(t.shape)} ({t.size} elements) to a tensor of shape {shape} "
                        f"({n} elements)")
    return ops.reshape(t, shape)


def convert_to_tensor(value, dtype=None, dtype_hint=None, name=None):
    """Converts a value to a tensor; `dtype_hint` applies only to values without a dtype of their own."""
    if dtype is None and dtype_hint is not None and not isinstance(value, (np.ndarray, np.generic, _core.Tensor)):
        dtype = dtype_hint
    return ops.convert_to_tensor(value, _name(dtype))


def cast(x, dtype, name=None):
    """Casts to `dtype`; float to int truncates toward zero."""
    return ops.cast(x, _name(dtype))


def identity(input, name=None):  # noqa: A002 (TF's argument name)
    return _tensor(input)


def reshape(tensor, shape, name=None):
    return ops.reshape(tensor, tuple(int(d) for d in np.asarray(shape).reshape(-1)))


def transpose(a, perm=None, conjugate=False, name=None):
    return ops.transpose(a, None if perm is None else _axis(perm))


def concat(values, axis, name=None):
    return ops.concatenate(list(values), axis=int(axis))


def stack(values, axis=0, name=None):
    return ops.stack(list(values), axis=int(axis))


def split(value, num_or_size_splits, axis=0, num=None, name=None):
    """Splits into equal parts (an int) or parts of the given sizes (a list; one size may be -1)."""
    if isinstance(num_or_size_splits, (int, np.integer)):
        return ops.split(value, int(num_or_size_splits), axis=axis)
    sizes = [int(s) for s in np.asarray(num_or_size_splits).reshape(-1)]
    total = _tensor(value).shape[axis]
    if sizes.count(-1) == 1:
        sizes[sizes.index(-1)] = total - (builtins.sum(sizes) + 1)
    if builtins.sum(sizes) != total or builtins.min(sizes, default=0) < 0:
        raise ValueError(f"Sizes {list(num_or_size_splits)} do not add up to the size {total} of axis {axis}")
    return ops.split(value, list(np.cumsum(sizes)[:-1]), axis=axis)


def expand_dims(input, axis, name=None):  # noqa: A002
    return ops.expand_dims(input, int(axis))


def squeeze(input, axis=None, name=None):  # noqa: A002
    return ops.squeeze(input, _axis(axis))


def gather(params, indices, validate_indices=None, axis=None, batch_dims=0, name=None):
    if batch_dims:
        raise NotImplementedError("tf.gather with batch_dims != 0 is not supported")
    return ops.take(params, indices, axis=0 if axis is None else int(axis))


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    out = ops.one_hot(indices, int(depth), axis=-1 if axis is None else int(axis), dtype=_name(dtype))
    if on_value is not None or off_value is not None:
        on = 1 if on_value is None else on_value
        off = 0 if off_value is None else off_value
        out = ops.where(ops.cast(out, "bool"), ops.full_like(out, on), ops.full_like(out, off))
    return out


def zeros(shape, dtype=dtypes.float32, name=None, layout=None):
    return ops.zeros(shape, _name(dtype))


def ones(shape, dtype=dtypes.float32, name=None, layout=None):
    return ops.ones(shape, _name(dtype))


def zeros_like(input, dtype=None, name=None, layout=None):  # noqa: A002
    return ops.zeros_like(input, _name(dtype))


def ones_like(input, dtype=None, name=None, layout=None):  # noqa: A002
    return ops.ones_like(input, _name(dtype))


def fill(dims, value, name=None, layout=None):
    v = convert_to_tensor(value)
    return ops.full(tuple(int(d) for d in np.asarray(dims).reshape(-1)), value, v.dtype)


def range(start, limit=None, delta=1, dtype=None, name=None):  # noqa: A001 (TF's name)
    """`[start, limit)` in steps of `delta`; ints give int32, floats float32 (as in TF)."""
    if limit is None:
        start, limit = 0, start
    if dtype is None:
        is_float = builtins.any(isinstance(v, (float, np.floating)) for v in (start, limit, delta))
        dtype = "float32" if is_float else "int32"
    return ops.arange(start, limit, delta, dtype=_name(dtype))


def shape(input, out_type=None, name=None):  # noqa: A002
    """The shape as a 1-D int32 tensor (int64 with `out_type=tf.int64`)."""
    return ops.convert_to_tensor(np.array(_tensor(input).shape, dtype=_name(out_type) or "int32"))


def size(input, out_type=None, name=None):  # noqa: A002
    return ops.convert_to_tensor(np.array(_tensor(input).size, dtype=_name(out_type) or "int32"))


def rank(input, name=None):  # noqa: A002
    return ops.convert_to_tensor(np.array(_tensor(input).ndim, dtype="int32"))


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, output_type=None, name=None, **kwargs):
    """Matrix product of the last two axes (batched over the others); `transpose_*`/`adjoint_*` swap
    the last two axes of an operand first (the same thing for real tensors)."""
    if transpose_a or adjoint_a:
        a = ops.swapaxes(a, -1, -2)
    if transpose_b or adjoint_b:
        b = ops.swapaxes(b, -1, -2)
    out = ops.matmul(a, b)
    return out if output_type is None else ops.cast(out, _name(output_type))


def where(condition, x=None, y=None, name=None):
    if x is None and y is None:
        idx = np.argwhere(np.asarray(_tensor(condition)))
        return ops.convert_to_tensor(idx.astype(np.int64))
    if x is None or y is None:
        raise ValueError("tf.where needs both `x` and `y`, or neither")
    return ops.where(condition, x, y)


def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    return ops.clip(t, clip_value_min, clip_value_max)


def broadcast_to(input, shape, name=None):  # noqa: A002
    return ops.broadcast_to(input, tuple(int(d) for d in np.asarray(shape).reshape(-1)))


def function(func=None, input_signature=None, autograph=True, jit_compile=None, reduce_retracing=False,
             experimental_compile=None, **kwargs):
    """`tf.function`: ckeras runs eagerly, so this returns `func` unchanged (also as `@tf.function(...)`)."""
    if func is None:
        return functools.partial(function, input_signature=input_signature, jit_compile=jit_compile)
    return func


def executing_eagerly():
    return True


def print(*inputs, output_stream=None, summarize=None, sep=" ", end="\n", name=None):  # noqa: A001
    """Prints tensors as NumPy arrays (TF's `tf.print`)."""
    builtins.print(*[np.asarray(i) if isinstance(i, _core.Tensor) else i for i in inputs], sep=sep, end=end)
