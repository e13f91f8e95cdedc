"""`ckeras.constraints`: projections applied to a weight after each optimizer update."""
from ckeras import ops
from ckeras.layers._serialization import get_object, serialize as _serialize

_EPSILON = 1e-7  # keras.config.epsilon()


class Constraint:
    """Base class: `__call__(w)` returns the projected weight."""

    def __call__(self, w):
        return w

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _norms(w, axis):
    return ops.sqrt(ops.sum(ops.square(w), axis=axis, keepdims=True))


class MaxNorm(Constraint):
    """Rescales each slice along `axis` whose L2 norm exceeds `max_value`. Args: max_value (2), axis (0)."""

    def __init__(self, max_value=2, axis=0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = ops.clip(norms, 0, self.max_value)
        return ops.multiply(w, ops.divide(desired, ops.add(norms, _EPSILON)))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Zeroes negative weights."""

    def __call__(self, w):
        return ops.multiply(w, ops.cast(ops.greater_equal(w, 0.0), w.dtype))


class UnitNorm(Constraint):
    """Scales each slice along `axis` to unit L2 norm. Args: axis (0)."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        return ops.divide(w, ops.add(_norms(w, self.axis), _EPSILON))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Keeps slice norms in `[min_value, max_value]`, moving a `rate` fraction of the way.

    Args: min_value (0.0), max_value (1.0), rate (1.0), axis (0).
    """

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = ops.add(ops.multiply(ops.clip(norms, self.min_value, self.max_value), self.rate),
                          ops.multiply(norms, 1 - self.rate))
        return ops.multiply(w, ops.divide(desired, ops.add(norms, _EPSILON)))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm
_ALL = {"Constraint": Constraint, "MaxNorm": MaxNorm, "NonNeg": NonNeg, "UnitNorm": UnitNorm,
        "MinMaxNorm": MinMaxNorm, "max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm,
        "min_max_norm": MinMaxNorm}


def serialize(constraint):
    return _serialize(constraint, "keras.constraints")


def deserialize(config, custom_objects=None):
    return get_object(config, "constraint", {**_ALL, **(custom_objects or {})}, "keras.constraints")


def get(identifier):
    """A constraint from None, an instance, a callable, a name ("max_norm") or a config dict."""
    if identifier is None:
        return None
    return get_object(identifier, "constraint", _ALL, "keras.constraints")


__all__ = ["Constraint", "MaxNorm", "NonNeg", "UnitNorm", "MinMaxNorm", "max_norm", "non_neg", "unit_norm",
           "min_max_norm", "get", "serialize", "deserialize"]
