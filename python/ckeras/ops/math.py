"""Math ops of `keras.ops` (keras.ops.math): logsumexp, rsqrt."""
from ckeras import _core
from ckeras.ops.core import _UNARY, _tensor

__all__ = ["logsumexp", "rsqrt"]


def logsumexp(x, axis=None, keepdims=False):
    """`log(sum(exp(x)))` over `axis`, computed stably (shifted by the max)."""
    if axis is not None and not isinstance(axis, int):
        axis = [int(a) for a in axis]
    return _core.logsumexp(_tensor(x), axis, keepdims)


def rsqrt(x):
    """Elementwise `1 / sqrt(x)`."""
    return _UNARY["rsqrt"](_tensor(x))
