"""Random initializers drawn through `ckeras.random` (Philox): same seed, same numbers on every machine.

An int `seed` gives the same values on every call, as in Keras; `seed=None` draws fresh values each call
from the global generator, which `ckeras.utils.set_random_seed` makes reproducible.
"""
import math

import numpy as np

from ckeras import ops, random
from ckeras.initializers.initializer import Initializer


def _check_seed(seed):
    if seed is not None and not isinstance(seed, (int, random.SeedGenerator)) or isinstance(seed, bool):
        raise ValueError("`seed` argument should be an instance of `keras.random.SeedGenerator()` or an "
                         f"integer. Received: seed={seed}")
    return seed


def compute_fans(shape):
    """(fan_in, fan_out) of a weight shape; for convolution kernels the receptive field multiplies both."""
    shape = tuple(shape)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class RandomInitializer(Initializer):
    def __init__(self, seed=None):
        self.seed = _check_seed(seed)

    def get_config(self):
        seed = self.seed if not isinstance(self.seed, random.SeedGenerator) else self.seed.get_config()["seed"]
        return {"seed": seed}


class RandomNormal(RandomInitializer):
    """N(mean, stddev^2). Args: mean (0.0), stddev (0.05), seed."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev = mean, stddev
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        return random.normal(shape, self.mean, self.stddev, dtype=dtype, seed=self.seed)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class TruncatedNormal(RandomInitializer):
    """N(mean, stddev^2) redrawn beyond two standard deviations. Args: mean (0.0), stddev (0.05), seed."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev = mean, stddev
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        return random.truncated_normal(shape, self.mean, self.stddev, dtype=dtype, seed=self.seed)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class RandomUniform(RandomInitializer):
    """U(minval, maxval). Args: minval (-0.05), maxval (0.05), seed."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval = minval, maxval
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        return random.uniform(shape, self.minval, self.maxval, dtype=dtype, seed=self.seed)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}


class VarianceScaling(RandomInitializer):
    """Scale-aware initializer: variance `scale / n` with n = fan_in, fan_out or their mean.

    Args:
        scale: Positive float (1.0).
        mode: "fan_in" (default), "fan_out" or "fan_avg".
        distribution: "truncated_normal" (default), "untruncated_normal" or "uniform".
        seed: int, SeedGenerator or None.
        input_axes, output_axes: Keras's fan axes for einsum kernels; only None (the last two axes) is
            supported.
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None, input_axes=None,
                 output_axes=None):
        if input_axes is not None or output_axes is not None:
            raise ValueError("ckeras initializers support only `input_axes=None` and `output_axes=None`. "
                             f"Received: input_axes={input_axes}, output_axes={output_axes}")
        if scale <= 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        if mode not in {"fan_in", "fan_out", "fan_avg"}:
            raise ValueError(f"Invalid `mode` argument: expected one of {{'fan_in', 'fan_out', 'fan_avg'}}. "
                             f"Received: mode={mode}")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in {"uniform", "truncated_normal", "untruncated_normal"}:
            raise ValueError("Invalid `distribution` argument: expected one of {'uniform', 'truncated_normal', "
                             f"'untruncated_normal'}}. Received: distribution={distribution}")
        self.scale, self.mode, self.distribution = scale, mode, distribution
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, n)
        if self.distribution == "truncated_normal":
            stddev = math.sqrt(scale) / 0.87962566103423978  # std of N(0,1) truncated to [-2, 2]
            return random.truncated_normal(shape, 0.0, stddev, dtype=dtype, seed=self.seed)
        if self.distribution == "untruncated_normal":
            return random.normal(shape, 0.0, math.sqrt(scale), dtype=dtype, seed=self.seed)
        limit = math.sqrt(3.0 * scale)
        return random.uniform(shape, -limit, limit, dtype=dtype, seed=self.seed)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "mode": self.mode,
                "distribution": self.distribution, "input_axes": None, "output_axes": None}


def _preset(name, scale, mode, distribution, doc):
    def __init__(self, seed=None, input_axes=None, output_axes=None):
        VarianceScaling.__init__(self, scale=scale, mode=mode, distribution=distribution, seed=seed,
                                 input_axes=input_axes, output_axes=output_axes)

    def get_config(self):
        return {**RandomInitializer.get_config(self), "input_axes": None, "output_axes": None}
    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config, "__doc__": doc})


GlorotUniform = _preset("GlorotUniform", 1.0, "fan_avg", "uniform",
                        "U(-L, L) with L = sqrt(6 / (fan_in + fan_out)). Args: seed.")
GlorotNormal = _preset("GlorotNormal", 1.0, "fan_avg", "truncated_normal",
                       "Truncated normal, stddev sqrt(2 / (fan_in + fan_out)). Args: seed.")
HeUniform = _preset("HeUniform", 2.0, "fan_in", "uniform", "U(-L, L) with L = sqrt(6 / fan_in). Args: seed.")
HeNormal = _preset("HeNormal", 2.0, "fan_in", "truncated_normal",
                   "Truncated normal, stddev sqrt(2 / fan_in). Args: seed.")
LecunUniform = _preset("LecunUniform", 1.0, "fan_in", "uniform",
                       "U(-L, L) with L = sqrt(3 / fan_in). Args: seed.")
LecunNormal = _preset("LecunNormal", 1.0, "fan_in", "truncated_normal",
                      "Truncated normal, stddev sqrt(1 / fan_in). Args: seed.")
for _cls in (GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal):
    _cls.__module__ = __name__


class Orthogonal(RandomInitializer):
    """A (semi-)orthogonal matrix times `gain`, from the QR decomposition of a normal draw.

    The draw comes from `ckeras.random`; the QR step runs in NumPy (ckeras.ops has no QR yet).

    Args:
        gain: Multiplicative factor (1.0).
        seed: int, SeedGenerator or None.
    """

    def __init__(self, gain=1.0, seed=None):
        self.gain = gain
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        shape = tuple(int(d) for d in shape)
        if len(shape) < 2:
            raise ValueError("The tensor to initialize must be at least two-dimensional. "
                             f"Received: shape={shape} of rank {len(shape)}.")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        flat = (max(rows, cols), min(rows, cols))
        a = np.asarray(random.normal(flat, dtype="float32", seed=self.seed), dtype=np.float64)
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return ops.convert_to_tensor((self.gain * q).reshape(shape), dtype=dtype or "float32")

    def get_config(self):
        return {"gain": self.gain, **super().get_config()}
