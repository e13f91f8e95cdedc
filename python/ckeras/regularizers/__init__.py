"""`ckeras.regularizers`: weight penalties (L1, L2, L1L2) added to a layer's `losses`."""
from ckeras import ops
from ckeras.layers._serialization import get_object, serialize as _serialize


def _check_penalty(value, name):
    if value is None or not isinstance(value, (int, float)) or isinstance(value, bool) or value != value \
            or value in (float("inf"), float("-inf")):
        raise ValueError(f"Value for argument `{name}` must be a finite number. Received: {name}={value}")
    return float(value)


class Regularizer:
    """Base class: `__call__(x)` returns a scalar penalty."""

    def __call__(self, x):
        return 0.0

    def get_config(self):
        raise NotImplementedError(f"{self.__class__.__name__} does not implement get_config()")

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class L1L2(Regularizer):
    """`l1 * sum(|x|) + l2 * sum(x**2)`. Args: l1 (0.0), l2 (0.0)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _check_penalty(l1, "l1")
        self.l2 = _check_penalty(l2, "l2")

    def __call__(self, x):
        total = None
        if self.l1:
            total = ops.multiply(ops.sum(ops.abs(x)), self.l1)
        if self.l2:
            term = ops.multiply(ops.sum(ops.square(x)), self.l2)
            total = term if total is None else ops.add(total, term)
        return total if total is not None else ops.zeros(())

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """`l1 * sum(|x|)`. Args: l1 (0.01)."""

    def __init__(self, l1=0.01):
        self.l1 = _check_penalty(l1, "l1")

    def __call__(self, x):
        return ops.multiply(ops.sum(ops.abs(x)), self.l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """`l2 * sum(x**2)`. Args: l2 (0.01)."""

    def __init__(self, l2=0.01):
        self.l2 = _check_penalty(l2, "l2")

    def __call__(self, x):
        return ops.multiply(ops.sum(ops.square(x)), self.l2)

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """`factor * mean(|off-diagonal of normalized W W^T|)`. Args: factor (0.01), mode ("rows"|"columns")."""

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _check_penalty(factor, "factor")
        if mode not in {"rows", "columns"}:
            raise ValueError(f"Invalid value for argument `mode`. Expected one of {{'rows', 'columns'}}. "
                             f"Received: mode={mode}")
        self.mode = mode

    def __call__(self, x):
        if len(x.shape) != 2:
            raise ValueError("Inputs to OrthogonalRegularizer must have rank 2. Received: "
                             f"inputs.shape={x.shape}")
        x = ops.transpose(x) if self.mode == "columns" else x
        norm = ops.sqrt(ops.maximum(ops.sum(ops.square(x), axis=1, keepdims=True), 1e-12))
        x = ops.divide(x, norm)
        prod = ops.abs(ops.matmul(x, ops.transpose(x)))
        n = x.shape[0]
        off = ops.subtract(ops.sum(prod), ops.sum(ops.multiply(prod, ops.cast(
            ops.equal(ops.expand_dims(ops.arange(n), 1), ops.expand_dims(ops.arange(n), 0)), prod.dtype))))
        return ops.multiply(off, self.factor / max(n * n - n, 1))

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer
_ALL = {"Regularizer": Regularizer, "L1": L1, "L2": L2, "L1L2": L1L2,
        "OrthogonalRegularizer": OrthogonalRegularizer, "l1": L1, "l2": L2, "l1_l2": L1L2,
        "orthogonal_regularizer": OrthogonalRegularizer}


def serialize(regularizer):
    return _serialize(regularizer, "keras.regularizers")


def deserialize(config, custom_objects=None):
    return get_object(config, "regularizer", {**_ALL, **(custom_objects or {})}, "keras.regularizers")


def get(identifier):
    """A regularizer from None, an instance, a callable, a name ("l2") or a config dict."""
    if identifier is None:
        return None
    return get_object(identifier, "regularizer", _ALL, "keras.regularizers")


__all__ = ["Regularizer", "L1", "L2", "L1L2", "OrthogonalRegularizer", "l1", "l2", "l1_l2",
           "orthogonal_regularizer", "get", "serialize", "deserialize"]
