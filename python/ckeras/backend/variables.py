"""`ckeras.Variable`: Keras 3's mutable state holder over an engine tensor."""
import numpy as np

from ckeras import _core
from ckeras.ops.core import _dtype_name, _tensor

_name_counts = {}


def _auto_name(base="variable"):
    n = _name_counts.get(base, 0)
    _name_counts[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


class Variable:
    """A named, mutable tensor (a model weight or optimizer slot).

    Args:
        initializer: The initial value (array, tensor, scalar) or a callable `f(shape, dtype)`.
        shape: Required when `initializer` is a callable.
        dtype: Defaults to the value's dtype, or float32.
        trainable: Whether gradients are taken with respect to this variable.
        name: Optional name; unique names are made up otherwise.
    """

    def __init__(self, initializer, shape=None, dtype=None, trainable=True, autocast=True,
                 aggregation="none", synchronization="auto", name=None, **kwargs):
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        if name is not None and (not isinstance(name, str) or "/" in name):
            raise ValueError(f"Argument `name` must be a string and cannot contain character `/`. "
                             f"Received: name={name}")
        dtype = _dtype_name(dtype)
        if callable(initializer) and not isinstance(initializer, (_core.Tensor, np.ndarray)):
            if shape is None:
                raise ValueError("When creating a Variable from a callable initializer, the `shape` "
                                 f"argument must be specified. Received: initializer={initializer}")
            value = initializer(tuple(shape), dtype or "float32")
        else:
            value = initializer
        t = _tensor(value)
        if dtype is None:
            dtype = t.dtype if not isinstance(value, (float, int)) or isinstance(value, bool) else "float32"
        if shape is not None and tuple(shape) != t.shape:
            raise ValueError(f"Initial value has shape {t.shape}, which is incompatible with "
                             f"shape={tuple(shape)}")
        # A private, contiguous copy: assign() writes into it in place.
        self._value = _core.copy(_core.cast(t, dtype)).detach()
        self._trainable = bool(trainable)
        self._value.requires_grad = self._trainable and dtype in ("float32", "float64")
        self.name = name or _auto_name()
        self.path = self.name
        self.autocast = autocast
        self.aggregation = aggregation
        self.synchronization = synchronization

    # -- the tensor protocol used by ckeras.ops --
    @property
    def _ckeras_tensor(self):
        return self._value

    @property
    def value(self):
        """The current value as a Tensor."""
        return self._value

    @property
    def shape(self):
        return self._value.shape

    @property
    def dtype(self):
        return self._value.dtype

    @property
    def ndim(self):
        return self._value.ndim

    @property
    def device(self):
        """Where the value lives: `"cpu"` or `"cuda:N"`."""
        return self._value.device

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        self._value.requires_grad = self._trainable and self.dtype in ("float32", "float64")

    def numpy(self):
        """A copy of the value as a NumPy array."""
        return np.array(self._value)

    def __array__(self, dtype=None, copy=None):
        a = np.array(self._value) if copy is not False else np.asarray(self._value)
        return a if dtype is None else a.astype(dtype)

    def assign(self, value):
        """Writes `value` (broadcast and cast to this variable's dtype) into the variable."""
        _core.assign(self._value, _tensor(value))
        return self

    def assign_add(self, value):
        """`self += value`."""
        return self.assign(_core.add(self._value.detach(), _tensor(value)))

    def assign_sub(self, value):
        """`self -= value`."""
        return self.assign(_core.subtract(self._value.detach(), _tensor(value)))

    def __repr__(self):
        return (f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}, "
                f"value={np.array2string(np.asarray(self._value), threshold=20)}>")

    def __len__(self):
        return len(self._value)

    def __getitem__(self, key):
        return self._value[key]

    def __bool__(self):
        return bool(self._value)

    def __float__(self):
        return float(self._value)

    def __int__(self):
        return int(self._value)

    def __hash__(self):
        return id(self)

    __array_ufunc__ = None


def _forward(name):
    def method(self, *args):
        return getattr(self._value, name)(*args)
    method.__name__ = name
    return method


for _op in ["__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
            "__rtruediv__", "__pow__", "__rpow__", "__matmul__", "__rmatmul__", "__neg__", "__abs__",
            "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"]:
    setattr(Variable, _op, _forward(_op))
Variable.__hash__ = lambda self: id(self)
