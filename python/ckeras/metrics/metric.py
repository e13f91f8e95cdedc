"""`Metric`: Keras 3's stateful metric base. State lives in non-trainable `ckeras.Variable`s that
`update_state` accumulates into; `result()` reads them."""
import numpy as np

from ckeras.backend.variables import Variable
from ckeras.losses.loss import _auto_name


class Metric:
    """Base class of the ckeras metrics (Keras 3 API).

    Subclasses create their state in `__init__` with `self.add_variable(...)`, accumulate into it in
    `update_state(...)` and compute the value in `result()`.

    Args:
        dtype: The dtype of the result and the state (float32 by default).
        name: Optional name of the metric instance.
    """

    def __init__(self, dtype=None, name=None):
        self.name = name or _auto_name(type(self).__name__)
        self._dtype = dtype or "float32"
        self._metrics = []
        self._variables = []

    @property
    def dtype(self):
        return self._dtype

    def reset_state(self):
        """Sets every state variable back to zero (called between epochs)."""
        for v in self.variables:
            v.assign(np.zeros(v.shape, dtype=v.dtype))

    def update_state(self, *args, **kwargs):
        """Accumulates statistics for the metric."""
        raise NotImplementedError

    def result(self):
        """The current value: a scalar tensor (or a dict of them)."""
        raise NotImplementedError

    def add_variable(self, shape, initializer, dtype=None, aggregation="sum", name=None):
        """Creates and tracks a non-trainable state Variable filled with `initializer` ("zeros", "ones",
        a number, or a callable `f(shape, dtype)`)."""
        self._check_super_called()
        dtype = dtype or self._dtype
        shape = tuple(shape)
        if initializer is None or initializer == "zeros":
            initializer = 0
        elif initializer == "ones":
            initializer = 1
        elif isinstance(initializer, str):
            raise ValueError(f"Unsupported metric variable initializer: {initializer}")
        value = initializer if callable(initializer) else np.full(shape, initializer, dtype=dtype)
        variable = Variable(value, shape=shape, dtype=dtype, trainable=False, aggregation=aggregation, name=name)
        variable.path = f"{self.name.replace('/', '>')}/{variable.name}"
        self._variables.append(variable)
        return variable

    def add_weight(self, shape=(), initializer=None, dtype=None, name=None):
        """Alias of `add_variable` kept for backwards compatibility."""
        return self.add_variable(shape=shape, initializer=initializer, dtype=dtype, name=name)

    @property
    def variables(self):
        """This metric's state variables, then those of the metrics it holds as attributes."""
        variables = self._variables[:]
        for metric in self._metrics:
            variables.extend(metric.variables)
        return variables

    def __call__(self, *args, **kwargs):
        """`update_state(*args, **kwargs)`, then `result()`."""
        self._check_super_called()
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __setattr__(self, name, value):
        if isinstance(value, Metric) and "_metrics" in self.__dict__ and value is not self:
            if not any(m is value for m in self._metrics):
                self._metrics.append(value)
        super().__setattr__(name, value)

    def _check_super_called(self):
        if "_variables" not in self.__dict__:
            raise RuntimeError("You forgot to call `super().__init__()` in the `__init__()` method. Go add it!")

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"

    __str__ = __repr__
