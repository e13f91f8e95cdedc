"""NumPy-style ops of `keras.ops`: elementwise math with broadcasting, reductions, shapes, creation."""
import builtins

import numpy as np

from ckeras import _core
from ckeras.ops.core import _UNARY, _Tensor, _dtype_name, _scalar_pair, _tensor

__all__ = [
    "add", "subtract", "multiply", "divide", "true_divide", "power", "negative", "abs", "absolute",
    "square", "sqrt", "exp", "log", "log1p", "maximum", "minimum", "where", "clip", "sign",
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "logical_and",
    "logical_or", "logical_not", "tanh", "reciprocal",
    "sum", "mean", "max", "min", "amax", "amin", "prod", "var", "std", "argmax", "argmin",
    "matmul", "dot", "transpose", "reshape", "concatenate", "stack", "split", "take", "expand_dims",
    "squeeze", "broadcast_to", "swapaxes", "zeros", "ones", "full", "zeros_like", "ones_like",
    "full_like", "arange", "ravel", "copy",
]


def _unary(name):
    fn = _UNARY[name]

    def op(x):
        return fn(_tensor(x))
    return op


def _binary(name):
    fn = getattr(_core, name)

    def op(x1, x2):
        if type(x1) is _Tensor and type(x2) is _Tensor:
            return fn(x1, x2)
        a, b = _scalar_pair(x1, x2)
        return fn(a, b)
    return op


def _doc(fn, name, text):
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = text
    return fn


for _name, _text in [("add", "x1 + x2"), ("subtract", "x1 - x2"), ("multiply", "x1 * x2"),
                     ("divide", "x1 / x2 (true division; integers give float32)"),
                     ("power", "x1 ** x2"), ("maximum", "Elementwise max (NaN propagates)"),
                     ("minimum", "Elementwise min (NaN propagates)"), ("equal", "x1 == x2"),
                     ("not_equal", "x1 != x2"), ("less", "x1 < x2"), ("less_equal", "x1 <= x2"),
                     ("greater", "x1 > x2"), ("greater_equal", "x1 >= x2"),
                     ("logical_and", "x1 and x2, elementwise"), ("logical_or", "x1 or x2, elementwise")]:
    globals()[_name] = _doc(_binary(_name), _name,
                            f"{_text}, with NumPy broadcasting.\n\nArgs:\n    x1: Tensor or scalar.\n"
                            f"    x2: Tensor or scalar.\nReturns:\n    A tensor of the broadcast shape.")
true_divide = divide

for _name, _key in [("negative", "negative"), ("abs", "abs"), ("square", "square"), ("sqrt", "sqrt"),
                    ("exp", "exp"), ("log", "log"), ("log1p", "log1p"), ("sign", "sign"),
                    ("tanh", "tanh"), ("reciprocal", "reciprocal")]:
    globals()[_name] = _doc(_unary(_key), _name,
                            f"Elementwise `{_name}`.\n\nArgs:\n    x: Input tensor.\nReturns:\n"
                            f"    A tensor of the same shape (integers give float32 where the result "
                            f"is not an integer).")
absolute = abs  # noqa: F821


def logical_not(x):
    """Elementwise `not x` (True where x is zero)."""
    return _core.equal(_tensor(x), _core.full((), 0, _tensor(x).dtype))


def where(condition, x1=None, x2=None):
    """Elementwise `x1 if condition else x2`, broadcasting all three."""
    if x1 is None or x2 is None:
        raise ValueError("where() needs both `x1` and `x2` (the one-argument form is not supported)")
    a, b = _scalar_pair(x1, x2)
    return _core.where(_tensor(condition), a, b)


def clip(x, x_min, x_max):
    """Clamps `x` to `[x_min, x_max]`, elementwise."""
    t = _tensor(x)
    if not isinstance(x_min, (int, float)) or not isinstance(x_max, (int, float)):
        return minimum(maximum(t, x_min), x_max)  # noqa: F821
    return _UNARY["clip"](t, float(x_min), float(x_max))


def _axis(axis):
    if axis is None or isinstance(axis, int):
        return axis
    return [int(a) for a in axis]


def sum(x, axis=None, keepdims=False):
    """Sum over `axis` (an int, a tuple of ints, or None for all)."""
    return _core.sum(_tensor(x), _axis(axis), keepdims)


def mean(x, axis=None, keepdims=False):
    """Mean over `axis`; integers are averaged in float32; an empty reduction gives NaN."""
    return _core.mean(_tensor(x), _axis(axis), keepdims)


def max(x, axis=None, keepdims=False, initial=None):
    """Maximum over `axis`; a zero-size reduction raises ValueError unless `initial` is given."""
    return _with_initial(_core.max, _core.maximum, x, axis, keepdims, initial)


def min(x, axis=None, keepdims=False, initial=None):
    """Minimum over `axis`; a zero-size reduction raises ValueError unless `initial` is given."""
    return _with_initial(_core.min, _core.minimum, x, axis, keepdims, initial)


def _with_initial(reduce, pick, x, axis, keepdims, initial):
    """`reduce` over `axis` with `initial` as one more element of every reduction (NumPy's `initial`)."""
    t = _tensor(x)
    if initial is None:
        return reduce(t, _axis(axis), keepdims)
    init = _core.full((), float(initial), t.dtype)
    if t.size == 0:  # every reduction holds `initial` alone; the shape is that of any reduction of t
        return _core.broadcast_to(init, list(_core.sum(t, _axis(axis), keepdims).shape))
    return pick(reduce(t, _axis(axis), keepdims), init)


amax, amin = max, min


def prod(x, axis=None, keepdims=False, dtype=None):
    """Product over `axis`."""
    t = _tensor(x) if dtype is None else _core.cast(_tensor(x), _dtype_name(dtype))
    return _core.prod(t, _axis(axis), keepdims)


def var(x, axis=None, keepdims=False):
    """Population variance over `axis`."""
    return _core.var(_tensor(x), _axis(axis), keepdims)


def std(x, axis=None, keepdims=False):
    """Population standard deviation over `axis`."""
    return _core.std(_tensor(x), _axis(axis), keepdims)


def argmax(x, axis=None, keepdims=False):
    """Index (int32) of the first maximum along `axis` (of the flattened tensor when None)."""
    return _core.cast(_core.argmax(_tensor(x), axis, keepdims), "int32")


def argmin(x, axis=None, keepdims=False):
    """Index (int32) of the first minimum along `axis` (of the flattened tensor when None)."""
    return _core.cast(_core.argmin(_tensor(x), axis, keepdims), "int32")


def matmul(x1, x2):
    """Matrix product with NumPy semantics: 1-D operands promoted, batch dims broadcast."""
    return _core.matmul(_tensor(x1), _tensor(x2))


def dot(x1, x2):
    """Dot product as `np.dot`: matmul for 1-D/2-D operands, elementwise product when either is a
    scalar, and for N-D a sum over the last axis of `x1` and the second-to-last axis of `x2`."""
    a, b = _tensor(x1), _tensor(x2)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)  # noqa: F821
    if b.ndim == 1 or (a.ndim <= 2 and b.ndim <= 2):
        return _core.matmul(a, b)
    k = b.shape[-2]
    if a.shape[-1] != k:
        raise ValueError(f"dot: shapes {a.shape} and {b.shape} not aligned: {a.shape[-1]} (dim {a.ndim - 1}) "
                         f"!= {k} (dim {b.ndim - 2})")
    # (i..., K) @ (j..., K, n) -> (i..., j..., n) as one (I, K) @ (K, J * n) matmul.
    rest = b.shape[:-2] + b.shape[-1:]
    perm = [b.ndim - 2] + list(range(b.ndim - 2)) + [b.ndim - 1]
    b2 = _core.reshape(_core.transpose(b, perm), [k, int(np.prod(rest))])
    a2 = _core.reshape(a, [int(np.prod(a.shape[:-1])), k])
    return _core.reshape(_core.matmul(a2, b2), list(a.shape[:-1] + rest))


def transpose(x, axes=None):
    """Permutes dims (reverses them when `axes` is None). A view: no data is copied."""
    return _core.transpose(_tensor(x), None if axes is None else [int(a) for a in axes])


def reshape(x, newshape):
    """Gives `x` a new shape with the same number of elements; one dim may be -1."""
    return _core.reshape(_tensor(x), _shape_arg(newshape))


def ravel(x):
    """Flattens `x` to 1-D."""
    return _core.reshape(_tensor(x), [-1])


def concatenate(xs, axis=0):
    """Joins tensors along an existing axis."""
    return _core.concatenate([_tensor(x) for x in xs], axis)


def stack(x, axis=0):
    """Joins tensors of equal shape along a new axis."""
    return _core.stack([_tensor(t) for t in x], axis)


def split(x, indices_or_sections, axis=0):
    """Splits into equal sections (an int) or at the given indices (a list), as NumPy does."""
    t = _tensor(x)
    if not -t.ndim <= axis < t.ndim:
        raise IndexError(f"axis {axis} is out of bounds for tensor of rank {t.ndim}")
    n = t.shape[axis]
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        if k <= 0 or n % k:
            raise ValueError(f"array split does not result in an equal division: {n} into {k} sections")
        sizes = [n // k] * k
    else:
        bounds = [0] + [int(i) if i >= 0 else int(i) + n for i in indices_or_sections] + [n]
        bounds = [builtins.min(builtins.max(b, 0), n) for b in bounds]
        sizes = [builtins.max(b - a, 0) for a, b in zip(bounds[:-1], bounds[1:])]
        sizes[-1] = n - builtins.sum(sizes[:-1])
    return _core.split(t, sizes, axis)


def take(x, indices, axis=None):
    """Gathers elements (axis None: of the flattened tensor) at integer `indices`."""
    return _core.take(_tensor(x), _tensor(indices), axis)


def expand_dims(x, axis):
    """Inserts a size-1 dim at `axis` (an int, or a tuple of positions in the result)."""
    t = _tensor(x)
    if isinstance(axis, (int, np.integer)):
        return _core.expand_dims(t, int(axis))
    ndim = t.ndim + len(axis)
    for a in axis:
        if not -ndim <= a < ndim:
            raise IndexError(f"axis {a} is out of bounds for tensor of rank {ndim}")
    positions = sorted(int(a) % ndim for a in axis)
    if len(set(positions)) != len(positions):
        raise ValueError(f"repeated axis in `axis`: {tuple(axis)}")
    for a in positions:
        t = _core.expand_dims(t, a)
    return t


def squeeze(x, axis=None):
    """Removes size-1 dims (only `axis` when given)."""
    return _core.squeeze(_tensor(x), axis)


def broadcast_to(x, shape):
    """Broadcasts `x` to `shape` (a view with zero strides)."""
    return _core.broadcast_to(_tensor(x), _shape_arg(shape))


def swapaxes(x, axis1, axis2):
    """Exchanges two dims (a view)."""
    return _core.swapaxes(_tensor(x), axis1, axis2)


_INT64_MAX = 2 ** 63 - 1


def _shape_arg(shape):
    """A shape argument as a list of ints; a dim beyond int64 is reported as the engine reports an
    overflowing size (ValueError), not as a binding TypeError."""
    dims = [int(shape)] if isinstance(shape, (int, np.integer)) else [int(d) for d in shape]
    if builtins.any(d > _INT64_MAX for d in dims):
        raise ValueError(f"shape {tuple(dims)} is too large: its size would overflow int64")
    if builtins.any(d < -_INT64_MAX for d in dims):
        raise ValueError(f"negative dimension in shape {tuple(dims)}")
    return dims


def zeros(shape, dtype=None):
    """A tensor of zeros (float32 by default)."""
    return _core.zeros(_shape_arg(shape), _dtype_name(dtype) or "float32")


def ones(shape, dtype=None):
    """A tensor of ones (float32 by default)."""
    return _core.ones(_shape_arg(shape), _dtype_name(dtype) or "float32")


def full(shape, fill_value, dtype=None):
    """A tensor filled with `fill_value` (float32 by default)."""
    return _core.full(_shape_arg(shape), float(fill_value), _dtype_name(dtype) or "float32")


def zeros_like(x, dtype=None):
    """Zeros with the shape (and by default the dtype) of `x`."""
    t = _tensor(x)
    return _core.zeros(list(t.shape), _dtype_name(dtype) or t.dtype)


def ones_like(x, dtype=None):
    """Ones with the shape (and by default the dtype) of `x`."""
    t = _tensor(x)
    return _core.ones(list(t.shape), _dtype_name(dtype) or t.dtype)


def full_like(x, fill_value, dtype=None):
    """`fill_value` with the shape (and by default the dtype) of `x`."""
    t = _tensor(x)
    return _core.full(list(t.shape), float(fill_value), _dtype_name(dtype) or t.dtype)


def arange(start, stop=None, step=1, dtype=None):
    """Evenly spaced values in `[start, stop)`; int32 for integer arguments, else float32."""
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        dtype = "int32" if all(isinstance(v, (int, np.integer)) for v in (start, stop, step)) else "float32"
    return _core.arange(float(start), float(stop), float(step), _dtype_name(dtype))


def copy(x):
    """A new tensor with a copy of the data."""
    return _core.copy(_tensor(x))
