"""`tf.random` on top of `ckeras.random`: TF's extra arguments (`name`, `maxval=None`, integer
`uniform`) and `set_seed`. `_compat.install` puts these functions on the `ckeras.random` module; their
signatures extend Keras's, so `keras.random.*` calls behave exactly as before."""
import functools

from ckeras import ops
from ckeras import random as _random
from ckeras._tf.dtypes import _name

_ORIG = {n: getattr(_random, n) for n in ("uniform", "normal", "truncated_normal")}


def uniform(shape, minval=0.0, maxval=None, dtype=None, seed=None, name=None):
    """Uniform on `[minval, maxval)`; `maxval` None means 1 (floats only). Integer dtypes need both
    bounds, as in TF."""
    dtype = _name(dtype)
    if dtype in ("int32", "int64"):
        if maxval is None:
            raise ValueError(f"`keras.random.uniform` requires a floating point `dtype`; "
                             f"`tf.random.uniform` takes dtype={dtype} only with an explicit `maxval`. "
                             f"Received: dtype={dtype}")
        lo, hi = int(minval), int(maxval)
        if hi <= lo:
            raise ValueError(f"Need minval < maxval for integer dtypes. Received: minval={minval}, maxval={maxval}")
        u = _ORIG["uniform"](shape, 0.0, float(hi - lo), "float64", seed)
        k = ops.minimum(ops.cast(u, "int64"), hi - lo - 1)  # truncation is a floor for draws >= 0
        return ops.cast(ops.add(k, lo), dtype)
    return _ORIG["uniform"](shape, minval, 1.0 if maxval is None else maxval, dtype, seed)


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None, name=None):
    return _ORIG["normal"](shape, mean, stddev, _name(dtype), seed)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None, name=None):
    return _ORIG["truncated_normal"](shape, mean, stddev, _name(dtype), seed)


def set_seed(seed):
    """TF's `tf.random.set_seed`: resets ckeras's global generator (draws with `seed=None`)."""
    _random._set_global_seed(seed)


for _fn in (uniform, normal, truncated_normal):
    functools.update_wrapper(_fn, _ORIG[_fn.__name__], assigned=("__module__",), updated=())
del _fn
