"""Keras 3's learning-rate schedules. Each is a one-argument callable `schedule(step)` returning the learning
rate at that optimizer step as a 0-d float32 tensor; the arithmetic runs on the host in float32, as Keras
computes it in the dtype of `initial_learning_rate`."""
import math

import numpy as np

from ckeras import ops

_f32 = np.float32


def _step(step):
    """The step as a float32 scalar (accepts ints, floats, tensors and Variables)."""
    return _f32(np.asarray(step, dtype=np.float64))


def _out(value):
    return ops.convert_to_tensor(np.asarray(value, dtype=np.float32))


class LearningRateSchedule:
    """Base class of the learning-rate schedules: subclasses define `__call__(step)` and `get_config()`.

    A schedule can be passed as the `learning_rate` of any optimizer, which calls it with its iteration
    count (the number of updates applied so far).
    """

    def __call__(self, step):
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must override "
                                  "`__call__(self, step)`.")

    def get_config(self):
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must override "
                                  "`get_config()` in order to be serializable.")

    @classmethod
    def from_config(cls, config):
        """Builds a schedule from `get_config()`'s dict."""
        return cls(**config)


def _check_positive(name, value):
    if value <= 0:
        raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={value}")


class _RateDecay(LearningRateSchedule):
    """Shared part of ExponentialDecay and InverseTimeDecay: their arguments, config, and the
    (optionally floored) progress `step / decay_steps`."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase, name):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name
        _check_positive("decay_steps", decay_steps)

    def _progress(self, step):
        p = _step(step) / _f32(self.decay_steps)
        return np.floor(p) if self.staircase else p

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class ExponentialDecay(_RateDecay):
    """`initial_learning_rate * decay_rate ** (step / decay_steps)`; with `staircase` the exponent is
    floored, so the rate drops every `decay_steps` steps.

    Args:
        initial_learning_rate: The learning rate at step 0.
        decay_steps: Positive number of steps per decay period.
        decay_rate: The factor applied per period.
        staircase: Floor `step / decay_steps`.
        name: Defaults to "ExponentialDecay".
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="ExponentialDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step):
        return _out(_f32(self.initial_learning_rate) * np.power(_f32(self.decay_rate), self._progress(step)))


class PiecewiseConstantDecay(LearningRateSchedule):
    """`values[0]` while `step <= boundaries[0]`, `values[i]` while `boundaries[i-1] < step <= boundaries[i]`,
    and `values[-1]` after the last boundary.

    Args:
        boundaries: Strictly increasing step numbers.
        values: One more value than boundaries.
        name: Defaults to "PiecewiseConstant".
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError("The length of boundaries should be 1 less than the length of values. Received: "
                             f"boundaries={boundaries} of length {len(boundaries)}, and values={values} "
                             f"of length {len(values)}.")
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step):
        step = float(np.asarray(step, dtype=np.float64))
        index = sum(1 for b in self.boundaries if step > b)
        return _out(self.values[index])

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """`(initial - end) * (1 - step / decay_steps) ** power + end`, with `step` capped at `decay_steps`;
    with `cycle`, `decay_steps` is instead stretched to the first multiple of it that is >= step.

    Args:
        initial_learning_rate: The learning rate at step 0.
        decay_steps: Positive number of steps to decay over.
        end_learning_rate: The final learning rate. Defaults to 0.0001.
        power: The polynomial's power. Defaults to 1.0.
        cycle: Restart the decay after `decay_steps`.
        name: Defaults to "PolynomialDecay".
    """

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False,
                 name="PolynomialDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name
        _check_positive("decay_steps", decay_steps)

    def __call__(self, step):
        step = _step(step)
        decay_steps = _f32(self.decay_steps)
        if self.cycle:
            multiplier = _f32(1.0) if step == 0 else np.ceil(step / _f32(self.decay_steps))
            decay_steps = decay_steps * multiplier
        else:
            step = np.minimum(step, decay_steps)
        p = step / decay_steps
        initial, end = _f32(self.initial_learning_rate), _f32(self.end_learning_rate)
        return _out((initial - end) * np.power(_f32(1) - p, _f32(self.power)) + end)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "end_learning_rate": self.end_learning_rate, "power": self.power, "cycle": self.cycle,
                "name": self.name}


class InverseTimeDecay(_RateDecay):
    """`initial_learning_rate / (1 + decay_rate * step / decay_steps)`; with `staircase` the ratio
    `step / decay_steps` is floored.

    Args:
        initial_learning_rate: The learning rate at step 0.
        decay_steps: Positive number of steps per decay unit.
        decay_rate: The decay rate.
        staircase: Floor `step / decay_steps`.
        name: Defaults to "InverseTimeDecay".
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="InverseTimeDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step):
        return _out(_f32(self.initial_learning_rate) / (_f32(1) + _f32(self.decay_rate) * self._progress(step)))


def _cosine(fraction, alpha):
    """`(1 - alpha) * 0.5 * (1 + cos(pi * fraction)) + alpha` in float32."""
    cosine = _f32(0.5) * (_f32(1) + np.cos(_f32(math.pi) * fraction))
    return (_f32(1) - _f32(alpha)) * cosine + _f32(alpha)


class CosineDecay(LearningRateSchedule):
    """Optional linear warmup, then cosine decay.

    Without `warmup_target`: `initial * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) /
    decay_steps)) + alpha)`. With it: for `step < warmup_steps` the rate rises linearly from
    `initial_learning_rate` to `warmup_target`, then decays from `warmup_target` over `decay_steps` steps.

    Args:
        initial_learning_rate: The learning rate at step 0.
        decay_steps: Positive number of steps to decay over.
        alpha: The final rate as a fraction of the rate the decay starts from. Defaults to 0.
        name: Defaults to "CosineDecay".
        warmup_target: The rate reached at the end of the warmup; None for no warmup.
        warmup_steps: Number of warmup steps. Defaults to 0.
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay", warmup_target=None,
                 warmup_steps=0):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_steps = warmup_steps
        self.warmup_target = warmup_target
        _check_positive("decay_steps", decay_steps)

    def __call__(self, step):
        step = _step(step)
        initial, decay_steps = _f32(self.initial_learning_rate), _f32(self.decay_steps)
        if self.warmup_target is None:
            step = np.minimum(step, decay_steps)
            return _out(initial * _cosine(step / decay_steps, self.alpha))
        target, warmup_steps = _f32(self.warmup_target), _f32(self.warmup_steps)
        step = np.minimum(step, decay_steps + warmup_steps)
        if step < warmup_steps:
            return _out((target - initial) * (step / warmup_steps) + initial)
        return _out(target * _cosine((step - warmup_steps) / decay_steps, self.alpha))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "name": self.name, "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR): the multiplier decays from 1 to `alpha` over
    `first_decay_steps`, then restarts; period i lasts `t_mul ** i` times longer and starts from
    `m_mul ** i` times the initial rate.

    Args:
        initial_learning_rate: The learning rate at step 0.
        first_decay_steps: Positive length of the first period.
        t_mul: Growth factor of the period length. Defaults to 2.0.
        m_mul: Factor on the starting rate of each period. Defaults to 1.0.
        alpha: The minimum rate as a fraction of `initial_learning_rate`. Defaults to 0.
        name: Defaults to "SGDRDecay".
    """

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0,
                 name="SGDRDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name
        _check_positive("first_decay_steps", first_decay_steps)

    def __call__(self, step):
        fraction = _step(step) / _f32(self.first_decay_steps)
        t_mul, m_mul = _f32(self._t_mul), _f32(self._m_mul)
        if t_mul == 1.0:
            i_restart = np.floor(fraction)
            fraction = fraction - i_restart
        else:  # period i starts at the fraction sum_{r < i} t_mul ** r = (1 - t_mul ** i) / (1 - t_mul)
            i_restart = np.floor(np.log(_f32(1) - fraction * (_f32(1) - t_mul)) / np.log(t_mul))
            sum_r = (_f32(1) - np.power(t_mul, i_restart)) / (_f32(1) - t_mul)
            fraction = (fraction - sum_r) / np.power(t_mul, i_restart)
        m_fac = np.power(m_mul, i_restart)
        cosine = _f32(0.5) * m_fac * (_f32(1) + np.cos(_f32(math.pi) * fraction))
        decayed = (_f32(1) - _f32(self.alpha)) * cosine + _f32(self.alpha)
        return _out(_f32(self.initial_learning_rate) * decayed)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "first_decay_steps": self.first_decay_steps,
                "t_mul": self._t_mul, "m_mul": self._m_mul, "alpha": self.alpha, "name": self.name}
