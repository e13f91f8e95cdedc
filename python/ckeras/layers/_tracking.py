"""State half of `Layer`: attribute tracking of sublayers, Variables and SeedGenerators, `add_weight`, the
weight lists, `get_weights`/`set_weights`, `count_params` and the state lock taken when `build` finishes."""
import math

import numpy as np

from ckeras import initializers, regularizers, constraints
from ckeras.backend import allocation_budget
from ckeras.backend.variables import Variable
from ckeras.random import SeedGenerator

_LOCK_MSG = ("You cannot add new elements of state (variables or sub-layers) to a layer that is already "
             "built. All state must be created in the `__init__()` method or in the `build()` method.")


def _super_not_called(layer):
    return RuntimeError(f"In layer '{type(layer).__name__}', you forgot to call `super().__init__()` as the "
                        "first statement in the `__init__()` method. Go add it!")


class StateMixin:
    """Tracking lists live in `__dict__` under `_trainable_vars`, `_non_trainable_vars`, `_layers`,
    `_seed_generators`; `_ensure_tracker` creates them, also when attributes are set before `super().__init__`."""

    def _ensure_tracker(self):
        d = self.__dict__
        if "_layers" not in d:
            d["_trainable_vars"] = []
            d["_non_trainable_vars"] = []
            d["_layers"] = []
            d["_seed_generators"] = []
            d["_locked"] = False

    def _track(self, value):
        """Adds a Layer / Variable / SeedGenerator (or a list/tuple/dict of them) to the tracked state."""
        from ckeras.layers.layer import Layer
        d = self.__dict__
        if isinstance(value, Layer):
            if value is self or any(value is l for l in d["_layers"]):
                return
            if d["_locked"]:
                raise ValueError(_LOCK_MSG)
            d["_layers"].append(value)
        elif isinstance(value, Variable):
            lst = d["_trainable_vars"] if value.trainable else d["_non_trainable_vars"]
            if any(value is v for v in d["_trainable_vars"] + d["_non_trainable_vars"]):
                return
            if d["_locked"]:
                raise ValueError(_LOCK_MSG)
            lst.append(value)
        elif isinstance(value, SeedGenerator):
            if not any(value is s for s in d["_seed_generators"]):
                if d["_locked"]:
                    raise ValueError(_LOCK_MSG)
                d["_seed_generators"].append(value)
        elif isinstance(value, (list, tuple)):
            for v in value:
                if isinstance(v, (Layer, Variable, SeedGenerator, list, tuple, dict)):
                    self._track(v)
        elif isinstance(value, dict):
            for v in value.values():
                if isinstance(v, (Layer, Variable, SeedGenerator, list, tuple, dict)):
                    self._track(v)

    def __setattr__(self, name, value):
        if isinstance(value, (StateMixin, Variable, SeedGenerator, list, tuple, dict)) and \
                not name.startswith("__"):
            self._ensure_tracker()
            self._track(value)
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        value = self.__dict__.get(name)
        d = self.__dict__
        if isinstance(value, StateMixin) and "_layers" in d:
            d["_layers"][:] = [l for l in d["_layers"] if l is not value]
        elif isinstance(value, Variable) and "_layers" in d:
            for key in ("_trainable_vars", "_non_trainable_vars"):
                d[key][:] = [v for v in d[key] if v is not value]
        object.__delattr__(self, name)

    def _lock_state(self):
        self.__dict__["_locked"] = True

    # ---- weights ----
    def add_weight(self, shape=None, initializer=None, dtype=None, trainable=True, autocast=True,
                   regularizer=None, constraint=None, aggregation="none", overwrite_with_gradient=False,
                   name=None):
        """Creates a Variable owned by this layer (call it in `__init__` or `build`).

        Args:
            shape: Tuple of ints (default `()`).
            initializer: Initializer instance, name or callable; default "glorot_uniform" for floats,
                "zeros" otherwise.
            dtype: Defaults to the layer's variable dtype.
            trainable: Whether the optimizer updates it.
            regularizer: Optional penalty, reported in `losses`.
            constraint: Optional projection, applied by the optimizer after each update.
            name: Variable name (its path is "<layer name>/<name>").
        Returns:
            The new Variable.
        """
        if "_initialized" not in self.__dict__:
            raise _super_not_called(self)
        self._ensure_tracker()
        if self.__dict__["_locked"]:
            raise ValueError(_LOCK_MSG)
        shape = () if shape is None else tuple(int(d) for d in shape)
        dtype = dtype or self.variable_dtype
        allocation_budget.charge(shape, dtype, self.name)
        if initializer is None:
            initializer = "glorot_uniform" if "float" in dtype else "zeros"
        init = initializers.get(initializer)
        var = Variable(init, shape=shape, dtype=dtype, trainable=trainable, autocast=autocast,
                       aggregation=aggregation, name=name or "variable")
        var.path = f"{self.name}/{var.name}"
        var.regularizer = regularizers.get(regularizer)
        var.constraint = constraints.get(constraint)
        var.overwrite_with_gradient = overwrite_with_gradient
        (self._trainable_vars if trainable else self._non_trainable_vars).append(var)
        return var

    def _flatten_layers(self, include_self=True):
        """This layer and all nested layers, depth first, each once."""
        seen, out = set(), []

        def visit(layer):
            if id(layer) in seen:
                return
            seen.add(id(layer))
            out.append(layer)
            for sub in layer.__dict__.get("_layers", ()):
                visit(sub)
        visit(self)
        return out if include_self else out[1:]

    @property
    def weights(self):
        """All weights: this layer's (trainable first), then each sublayer's."""
        out, seen = [], set()
        for v in self._own_weights():
            if id(v) not in seen:
                seen.add(id(v))
                out.append(v)
        for layer in self.__dict__.get("_layers", ()):
            for v in layer.weights:
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
        return out

    def _own_weights(self):
        d = self.__dict__
        return d.get("_trainable_vars", []) + d.get("_non_trainable_vars", [])

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return [v for v in self.weights if v.trainable]

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        return [v for v in self.weights if not v.trainable]

    @property
    def variables(self):
        """Weights plus the state of seed generators (e.g. Dropout's)."""
        out = self.weights
        for layer in self._flatten_layers():
            out.extend(sg.state for sg in layer.__dict__.get("_seed_generators", ()))
        return out

    @property
    def trainable_variables(self):
        return self.trainable_weights

    @property
    def non_trainable_variables(self):
        if not self.trainable:
            return self.variables
        return [v for v in self.variables if not v.trainable]

    def get_weights(self):
        """The weights as a list of NumPy arrays."""
        return [np.array(v) for v in self.weights]

    def set_weights(self, weights):
        """Assigns NumPy arrays (in `weights` order) to the weights, checking count and shapes."""
        own = self.weights
        if len(weights) != len(own):
            raise ValueError(f"You called `set_weights(weights)` on layer '{self.name}' with a weight list of "
                             f"length {len(weights)}, but the layer was expecting {len(own)} weights.")
        for v, w in zip(own, weights):
            w = np.asarray(w)
            if tuple(v.shape) != tuple(w.shape):
                raise ValueError(f"Layer {self.name} weight shape {tuple(v.shape)} is not compatible with "
                                 f"provided weight shape {tuple(w.shape)}.")
        for v, w in zip(own, weights):
            v.assign(np.asarray(w))

    def count_params(self):
        """Total number of scalars in the weights; ValueError before the layer is built."""
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer '{self.name}', but the layer isn't "
                             "built. You can build it manually via: `layer.build(input_shape)`.")
        return int(sum(math.prod(v.shape) for v in self.weights))
