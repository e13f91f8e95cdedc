"""`ckeras.random`: seeded random tensors from the engine's counter-based (Philox) generator.

A draw is a pure function of a 64-bit key and a counter range, so the same seed gives the same numbers on
every machine and thread count. An int `seed` always gives the same numbers; a `SeedGenerator` hands out a
fresh counter range per draw; `seed=None` uses a global generator that `_set_global_seed` resets.
Only float32/float64 draws exist (no randint, shuffle, categorical, gamma, ... yet).
"""
import random as _pyrandom

import numpy as np

from ckeras import _core
from ckeras.backend.variables import Variable
from ckeras.ops.core import _dtype_name, _tensor

__all__ = ["SeedGenerator", "uniform", "normal", "truncated_normal", "dropout"]

_MASK64 = (1 << 64) - 1


def _to_int64(u):
    return u - (1 << 64) if u >= (1 << 63) else u


def _mix64(key, counter):
    """SplitMix64 finaliser of (key, counter): the seed of a SeedGenerator spawned from another."""
    z = (key + (counter + 1) * 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def _check_int_seed(seed):
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"Argument `seed` must be an integer. Received: seed={seed}")
    return int(seed)


class SeedGenerator:
    """A stateful source of seeds for random ops and layers such as Dropout.

    Each draw consumes a fresh range of the Philox counter, so consecutive draws differ, and the
    sequence of draws is the same on every machine for the same `seed`.

    Args:
        seed: Initial seed (an int). `None` derives one from the global generator, which
            `ckeras.utils.set_random_seed` makes reproducible.
        name: Optional name of the state variable.
    """

    def __init__(self, seed=None, name=None, **kwargs):
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
        if seed is None:
            key, offset = _global_generator()._next(1)
            seed = _mix64(key, offset)
        self._initial_seed = _check_int_seed(seed)
        key = self._initial_seed & _MASK64
        self.name = name or "seed_generator"
        # state = [key as int64, counter]: what saving a layer's seed generator will store.
        self.state = Variable(np.array([_to_int64(key), 0], dtype=np.int64), dtype="int64",
                              trainable=False, name=self.name + "_state")

    def _next(self, n):
        """Reserves `n` counter values; returns the (key, offset) of the reserved range."""
        key, offset = (int(v) for v in np.asarray(self.state))
        self.state.assign(np.array([key, _to_int64((offset + int(n)) & _MASK64)], dtype=np.int64))
        return key & _MASK64, offset & _MASK64

    def get_config(self):
        return {"seed": self._initial_seed}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<SeedGenerator seed={self._initial_seed}>"


_GLOBAL = None


def _global_generator():
    global _GLOBAL
    if _GLOBAL is None:
        _GLOBAL = SeedGenerator(_pyrandom.SystemRandom().getrandbits(63), name="global_seed_generator")
    return _GLOBAL


def _set_global_seed(seed):
    """Resets the generator behind `seed=None` (called by `ckeras.utils.set_random_seed`)."""
    global _GLOBAL
    _GLOBAL = SeedGenerator(_check_int_seed(seed), name="global_seed_generator")


def _draw(seed, n):
    """(key, offset) for a draw of `n` values."""
    if seed is None:
        return _global_generator()._next(n)
    if isinstance(seed, SeedGenerator):
        return seed._next(n)
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)):
        return int(seed) & _MASK64, 0
    raise ValueError("Argument `seed` must be either an integer or an instance of `SeedGenerator`. "
                     f"Received: seed={seed} (of type {type(seed)})")


def _shape(shape):
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        shape = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise ValueError(f"Argument `shape` must be a tuple of integers. Received: shape={shape}") from None
    if any(d < 0 for d in shape):
        raise ValueError(f"Argument `shape` must not have negative dimensions. Received: shape={shape}")
    return shape


def _float_dtype(dtype, fn):
    name = _dtype_name(dtype) or "float32"
    if name not in ("float32", "float64"):
        raise ValueError(f"`keras.random.{fn}` requires a floating point `dtype`. Received: dtype={name}")
    return name


def _numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Draws from the uniform distribution on `[minval, maxval)`.

    Args:
        shape: Output shape.
        minval, maxval: The bounds (floats).
        dtype: `"float32"` (default) or `"float64"`.
        seed: An int (the same numbers every call), a `SeedGenerator`, or None (global generator).
    Returns:
        A tensor of `shape`.
    """
    shape, dtype = _shape(shape), _float_dtype(dtype, "uniform")
    key, offset = _draw(seed, _numel(shape))
    return _core.random_uniform(shape, float(minval), float(maxval), dtype, key, offset)


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Draws from the normal distribution N(mean, stddev^2). Arguments as in `uniform`."""
    shape, dtype = _shape(shape), _float_dtype(dtype, "normal")
    key, offset = _draw(seed, _numel(shape))
    return _core.random_normal(shape, float(mean), float(stddev), dtype, key, offset)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Draws from N(mean, stddev^2) restricted to `[mean - 2 stddev, mean + 2 stddev]` (values beyond
    two standard deviations are redrawn). Arguments as in `uniform`."""
    shape, dtype = _shape(shape), _float_dtype(dtype, "truncated_normal")
    key, offset = _draw(seed, _numel(shape))
    return _core.truncated_normal(shape, float(mean), float(stddev), dtype, key, offset)


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Inverted dropout: zeroes each element with probability `rate` and scales the rest by `1 / (1 - rate)`.

    Args:
        inputs: A floating-point tensor.
        rate: Drop probability in `[0, 1]`; 1 gives zeros.
        noise_shape: Shape of the mask, broadcast to `inputs.shape` (None entries take the input's size),
            e.g. `(batch, 1, features)` drops whole feature channels across time steps.
        seed: An int, a `SeedGenerator` or None, as in `uniform`.
    Returns:
        A tensor like `inputs`; gradients flow through the kept elements, scaled the same way.
    """
    x = _tensor(inputs)
    rate = float(rate)
    if not 0.0 <= rate <= 1.0:
        raise ValueError("Invalid value received for argument `rate`. Expected a float value between 0 "
                         f"and 1. Received: rate={rate}")
    if noise_shape is None:
        mask_shape = tuple(x.shape)
    else:
        noise_shape = tuple(noise_shape)
        if len(noise_shape) != x.ndim:
            raise ValueError(f"`noise_shape` must have the same rank as the inputs ({x.ndim}). "
                             f"Received: noise_shape={noise_shape}, inputs.shape={x.shape}")
        mask_shape = tuple(x.shape[i] if d is None else int(d) for i, d in enumerate(noise_shape))
        if any(d not in (1, s) for d, s in zip(mask_shape, x.shape)):
            raise ValueError(f"`noise_shape` {noise_shape} cannot be broadcast to the input shape {x.shape}")
    key, offset = _draw(seed, _numel(mask_shape))
    if mask_shape == tuple(x.shape):
        return _core.dropout(x, rate, key, offset)
    mask = _core.dropout(_core.ones(list(mask_shape), x.dtype), rate, key, offset)
    return _core.multiply(x, mask)
