"""`tf.math`: elementwise math and reductions with TensorFlow's names and arguments (`name` ignored).

The reductions and binary ops are also TF top-level names (`tf.reduce_sum`, `tf.add`, ...).
"""
from ckeras import _core, ops
from ckeras._tf.dtypes import _name
from ckeras.ops.core import _tensor

_BINARY = {"add": ops.add, "subtract": ops.subtract, "multiply": ops.multiply, "divide": ops.divide,
           "truediv": ops.divide, "pow": ops.power, "maximum": ops.maximum, "minimum": ops.minimum,
           "equal": ops.equal, "not_equal": ops.not_equal, "greater": ops.greater,
           "greater_equal": ops.greater_equal, "less": ops.less, "less_equal": ops.less_equal,
           "logical_and": ops.logical_and, "logical_or": ops.logical_or}
_UNARY = {"abs": ops.abs, "negative": ops.negative, "sign": ops.sign, "square": ops.square,
          "sqrt": ops.sqrt, "rsqrt": ops.rsqrt, "exp": ops.exp, "log": ops.log, "log1p": ops.log1p,
          "reciprocal": ops.reciprocal, "sigmoid": ops.sigmoid, "tanh": ops.tanh, "softplus": ops.softplus,
          "logical_not": ops.logical_not}


def _make_binary(name, fn):
    def op(x, y, name=None):
        return fn(x, y)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"`tf.math.{name}(x, y)`: elementwise, with broadcasting."
    return op


def _make_unary(name, fn):
    def op(x, name=None):
        return fn(x)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"`tf.math.{name}(x)`: elementwise."
    return op


for _n, _f in _BINARY.items():
    globals()[_n] = _make_binary(_n, _f)
for _n, _f in _UNARY.items():
    globals()[_n] = _make_unary(_n, _f)


def _axis(axis):
    return tuple(int(a) for a in axis) if isinstance(axis, (list, tuple)) else axis


def reduce_sum(input_tensor, axis=None, keepdims=False, name=None):
    return ops.sum(input_tensor, axis=_axis(axis), keepdims=keepdims)


def reduce_mean(input_tensor, axis=None, keepdims=False, name=None):
    """Mean over `axis`. As in TF, integer inputs give an integer mean (truncated toward zero)."""
    x = _tensor(input_tensor)
    if x.dtype in ("int32", "int64"):
        total = ops.sum(ops.cast(x, "float64"), axis=_axis(axis), keepdims=keepdims)
        count = x.size // max(total.size, 1) if x.size else 0
        return ops.cast(ops.divide(total, float(count)), x.dtype)
    return ops.mean(x, axis=_axis(axis), keepdims=keepdims)


def reduce_max(input_tensor, axis=None, keepdims=False, name=None):
    return ops.max(input_tensor, axis=_axis(axis), keepdims=keepdims)


def reduce_min(input_tensor, axis=None, keepdims=False, name=None):
    return ops.min(input_tensor, axis=_axis(axis), keepdims=keepdims)


def reduce_prod(input_tensor, axis=None, keepdims=False, name=None):
    return ops.prod(input_tensor, axis=_axis(axis), keepdims=keepdims)


def reduce_std(input_tensor, axis=None, keepdims=False, name=None):
    return ops.std(input_tensor, axis=_axis(axis), keepdims=keepdims)


def reduce_variance(input_tensor, axis=None, keepdims=False, name=None):
    return ops.var(input_tensor, axis=_axis(axis), keepdims=keepdims)


def reduce_logsumexp(input_tensor, axis=None, keepdims=False, name=None):
    return ops.logsumexp(input_tensor, axis=_axis(axis), keepdims=keepdims)


def reduce_all(input_tensor, axis=None, keepdims=False, name=None):
    x = ops.cast(ops.cast(input_tensor, "bool"), "int32")
    return ops.cast(ops.min(x, axis=_axis(axis), keepdims=keepdims), "bool")


def reduce_any(input_tensor, axis=None, keepdims=False, name=None):
    x = ops.cast(ops.cast(input_tensor, "bool"), "int32")
    return ops.cast(ops.max(x, axis=_axis(axis), keepdims=keepdims), "bool")


def argmax(input, axis=None, output_type="int64", name=None):  # noqa: A002 (TF's argument name)
    """Index of the largest value along `axis` (axis 0 when None, as in TF); int64 by default."""
    return ops.cast(ops.argmax(input, axis=0 if axis is None else int(axis)), _name(output_type))


def argmin(input, axis=None, output_type="int64", name=None):  # noqa: A002
    return ops.cast(ops.argmin(input, axis=0 if axis is None else int(axis)), _name(output_type))


def is_nan(x, name=None):
    return ops.not_equal(x, x)


def softmax(logits, axis=None, name=None):
    return ops.softmax(logits, axis=-1 if axis is None else int(axis))


def log_softmax(logits, axis=None, name=None):
    return ops.log_softmax(logits, axis=-1 if axis is None else int(axis))


def l2_normalize(x, axis=None, epsilon=1e-12, name=None):
    """`x / sqrt(max(sum(x**2, axis), epsilon))`."""
    square_sum = ops.sum(ops.square(x), axis=_axis(axis), keepdims=True)
    return ops.multiply(x, ops.rsqrt(ops.maximum(square_sum, epsilon)))


def add_n(inputs, name=None):
    inputs = list(inputs)
    out = _tensor(inputs[0])
    for t in inputs[1:]:
        out = ops.add(out, t)
    return out


def count_nonzero(input, axis=None, keepdims=False, dtype="int64", name=None):  # noqa: A002
    nz = ops.cast(ops.not_equal(input, 0), "int64")
    return ops.cast(ops.sum(nz, axis=_axis(axis), keepdims=keepdims), _name(dtype))


del _n, _f, _core
