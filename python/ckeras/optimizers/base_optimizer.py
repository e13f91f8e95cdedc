"""`Optimizer`: Keras 3's optimizer base over one multi-tensor C++ step.

Python keeps the state Keras keeps (iteration counter, learning-rate variable or schedule, slot variables in
Keras's order) and makes ONE `_core.optimizer_apply` call per `apply()`, which clips the gradients
(clipnorm / global_clipnorm / clipvalue), applies decoupled weight decay and updates every variable.
Not supported yet: `use_ema`, `gradient_accumulation_steps`, custom subclasses defining `update_step`.
"""
import math
import re
import warnings

import numpy as np

from ckeras import _core
from ckeras._devices import on_cpu
from ckeras.backend.variables import Variable
from ckeras.ops.core import _tensor
from ckeras.optimizers._util import (_auto_name, _check_learning_rate, _is_number, _positive,
                                     _takes_argument)


class Optimizer:
    """Base class of the ckeras optimizers (Keras 3 API).

    Args:
        learning_rate: A float, or a callable (e.g. a LearningRateSchedule) called with the current
            iteration (an int) that returns the learning rate; zero-argument callables are called bare.
        weight_decay: If set, decoupled decay `w -= w * weight_decay * lr` before each update.
        clipnorm: Clip each gradient to this L2 norm.
        clipvalue: Clip each gradient element to `[-clipvalue, clipvalue]`.
        global_clipnorm: Clip all gradients together to this global L2 norm. At most one clip option.
        use_ema, ema_momentum, ema_overwrite_frequency: EMA of the weights (not supported yet).
        loss_scale_factor: Gradients are divided by it before the update (see `scale_loss`).
        gradient_accumulation_steps: Not supported yet.
        name: The optimizer's name (prefix of its variables' paths).
    """

    _kind = None  # the _core.OptimizerKind a subclass runs
    _slot_tensor_cache = None  # per trainable variable, its slots' tensors in the kernel's order

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        if kwargs.pop("decay", None) is not None:
            warnings.warn("Argument `decay` is no longer supported and will be ignored.")
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        _check_learning_rate(learning_rate)
        if weight_decay is not None and (not _is_number(weight_decay) or not weight_decay >= 0):
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        clips = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
        if sum(v is not None for v in clips.values()) > 1:
            raise ValueError("Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
                             + ", ".join(f"{k}={v}" for k, v in clips.items()))
        for k, v in clips.items():
            if v is not None and (not _is_number(v) or math.isnan(v)):
                raise ValueError(f"Argument `{k}` must be a float. Received: {k}={v}")
        if gradient_accumulation_steps:
            if not gradient_accumulation_steps >= 2:
                raise ValueError("`gradient_accumulation_steps` must be an integer >= 2. Received: "
                                 f"gradient_accumulation_steps={gradient_accumulation_steps}")
            raise NotImplementedError("ckeras optimizers do not support `gradient_accumulation_steps` yet")
        if use_ema:
            raise NotImplementedError("ckeras optimizers do not support `use_ema=True` yet")
        self.name = name if name is not None else _auto_name(type(self).__name__)
        self.weight_decay = weight_decay
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.use_ema, self.ema_momentum, self.ema_overwrite_frequency = use_ema, ema_momentum, ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.built = False
        self._variables = []
        self._trainable_variables = []
        self._index = {}       # id(variable) -> position in _trainable_variables
        self._slots = {}       # slot name -> one Variable per trainable variable
        self._slot_names = []  # the kernel's slot order (see ParamGroup in kernels.h)
        self._exclude_ids, self._exclude_pattern = set(), None
        with on_cpu():  # read on the host every step (the update kernel takes them as numbers): no GPU sync
            self._iterations = self.add_variable((), initializer=0, dtype="int64", name="iteration")
            if callable(learning_rate):
                self._learning_rate = learning_rate
            else:
                self._learning_rate = self.add_variable((), initializer=float(learning_rate), name="learning_rate")

    # ---- hooks for the subclasses ----
    def _slot_layout(self):
        """Groups of (slot name, initial value); within a group slots are interleaved per variable."""
        return []

    def _fill_step(self, step):
        """Sets the subclass's hyper-parameters on a `_core.OptimizerStep`."""

    def _after_step(self, step):
        """Runs after the kernel call, before the iteration counter moves."""

    # ---- variables ----
    @property
    def variables(self):
        return self._variables[:]

    @property
    def iterations(self):
        return self._iterations

    def add_variable(self, shape, initializer="zeros", dtype=None, aggregation="none", name=None):
        """Creates and tracks a non-trainable optimizer Variable filled with `initializer` (a number,
        "zeros", "ones", or a callable `f(shape, dtype)`)."""
        dtype = dtype or "float32"
        if isinstance(initializer, str):
            if initializer not in ("zeros", "ones"):
                raise ValueError(f"Unsupported optimizer variable initializer: {initializer}")
            initializer = 0.0 if initializer == "zeros" else 1.0
        value = initializer if callable(initializer) else np.full(tuple(shape), initializer, dtype=dtype)
        variable = Variable(value, shape=tuple(shape), dtype=dtype, trainable=False, aggregation=aggregation,
                            name=name)
        variable.path = f"{self.name}/{variable.name}"
        self._variables.append(variable)
        return variable

    def add_variable_from_reference(self, reference_variable, name=None, initializer="zeros"):
        """A Variable shaped and typed like `reference_variable`, named `<its path>_<name>`."""
        ref = getattr(reference_variable, "path", None) or str(reference_variable.name)
        return self.add_variable(reference_variable.shape, initializer=initializer,
                                 dtype=reference_variable.dtype, name=ref.replace("/", "_") + "_" + (name or "var"))

    def build(self, var_list):
        """Creates the slot variables for `var_list`, in Keras's order."""
        if self.built:
            return
        var_list = list(var_list)
        self._trainable_variables = var_list[:]
        self._index = {id(v): i for i, v in enumerate(var_list)}
        for group in self._slot_layout():
            for slot_name, _ in group:
                self._slots[slot_name] = []
                self._slot_names.append(slot_name)
            for v in var_list:
                for slot_name, init in group:
                    self._slots[slot_name].append(self.add_variable_from_reference(v, slot_name, init))
        self.built = True

    # ---- learning rate ----
    @property
    def learning_rate(self):
        """The learning-rate Variable, or a schedule's value at the current iteration."""
        if isinstance(self._learning_rate, Variable):
            return self._learning_rate
        return self._current_learning_rate()

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        _check_learning_rate(learning_rate)
        if callable(learning_rate):
            if isinstance(self._learning_rate, Variable):
                self._variables.remove(self._learning_rate)
            self._learning_rate = learning_rate
        elif isinstance(self._learning_rate, Variable):
            self._learning_rate.assign(float(learning_rate))
        else:
            raise TypeError("This optimizer was created with a learning rate schedule, so its learning rate "
                            "is not settable. Create the optimizer with a float `learning_rate` instead.")

    def _current_learning_rate(self):
        lr = self._learning_rate
        if isinstance(lr, Variable):
            return float(lr.value)
        return float(lr(int(self._iterations)) if _takes_argument(lr) else lr())

    # ---- weight decay ----
    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Excludes variables (`var_list`) or variables whose name matches any regex in `var_names` from
        weight decay. Call before the optimizer is built."""
        if self.built:
            raise ValueError("`exclude_from_weight_decay()` can only be configured before the optimizer is built.")
        self._exclude_ids = {id(v) for v in var_list or []}
        self._exclude_pattern = re.compile("|".join(sorted(set(var_names)))) if var_names else None

    def _use_weight_decay(self, variable):
        if id(variable) in self._exclude_ids:
            return False
        return not (self._exclude_pattern is not None and self._exclude_pattern.search(variable.name))

    # ---- applying gradients ----
    def apply_gradients(self, grads_and_vars):
        """Applies `[(gradient, variable), ...]`; returns the `iterations` variable."""
        grads_and_vars = list(grads_and_vars)
        if grads_and_vars:
            grads, variables = zip(*grads_and_vars)
            self.apply(list(grads), list(variables))
        return self._iterations

    def apply(self, grads, trainable_variables=None):
        """Updates `trainable_variables` (default: the variables the optimizer was built with) from `grads`
        in one engine call: clipping, weight decay, the update, then `iterations += 1`."""
        grads = list(grads)
        if not grads:
            return
        if self._kind is None:
            raise NotImplementedError(f"{type(self).__name__} does not name an engine update (`_kind`); custom "
                                      "optimizers written as a Python `update_step` are not supported yet")
        if trainable_variables is None:
            if not self.built:
                raise ValueError("When passing `grads` without `variables`, the optimizer must already be "
                                 "built on a list of variables. Call `optimizer.build(trainable_variables)` first.")
            variables = self._trainable_variables
        else:
            variables = list(trainable_variables)
            if not self.built:
                self.build(variables)
        if len(grads) != len(variables):
            raise ValueError(f"Expected one gradient per variable: received {len(grads)} gradients for "
                             f"{len(variables)} variables.")
        for v in variables:
            if id(v) not in self._index:
                raise ValueError(f"Unknown variable: {getattr(v, 'path', v)}. This optimizer can only be called "
                                 "for the variables it was built with; create a new optimizer for new variables.")
        missing = [v.name for g, v in zip(grads, variables) if g is None]
        pairs = [(g, v) for g, v in zip(grads, variables) if g is not None]
        if not pairs:
            raise ValueError("No gradients provided for any variable.")
        if missing:
            warnings.warn(f"Gradients do not exist for variables {missing} when minimizing the loss. If using "
                          "`model.compile()`, did you forget to provide a `loss` argument?")
        iteration = int(self._iterations)
        step, clip = self._step_config()
        step.learning_rate = self._current_learning_rate()
        step.step = iteration + 1
        params, tensors, slots, decay = [], [], [], []
        if self._slot_tensor_cache is None:  # a Variable keeps its tensor for life (`assign` writes into it)
            self._slot_tensor_cache = [[_tensor(self._slots[name][i]) for name in self._slot_names]
                                       for i in range(len(self._trainable_variables))]
        slot_tensors = self._slot_tensor_cache
        for g, v in pairs:
            p = _tensor(v)
            g = _tensor(g)
            if g.dtype != p.dtype:
                g = _core.cast(g, p.dtype)
            if self.loss_scale_factor is not None:
                g = _core.divide(g, _core.full((), float(self.loss_scale_factor), g.dtype))
            params.append(p)
            tensors.append(g)
            slots.append(slot_tensors[self._index[id(v)]])
            decay.append(self._use_weight_decay(v))
        _core.optimizer_apply(step, clip, params, tensors, slots, decay)
        self._after_step(step)
        for _, v in pairs:  # Keras applies variable constraints after the update
            if getattr(v, "constraint", None) is not None:
                v.assign(v.constraint(v))
        self._iterations.assign(iteration + 1)

    def _step_config(self):
        """The engine's `(OptimizerStep, ClipOptions)` for this optimizer, learning rate and step left unset
        (also read by the trainer's captured step, `trainers/train_plan.py`)."""
        step = _core.OptimizerStep()
        step.kind = self._kind
        step.weight_decay = float(self.weight_decay or 0.0)
        self._fill_step(step)
        clip = _core.ClipOptions(clipnorm=_positive(self.clipnorm), global_clipnorm=_positive(self.global_clipnorm),
                                 clipvalue=_positive(self.clipvalue))
        return step, clip

    def scale_loss(self, loss):
        """`loss * loss_scale_factor` when a factor is set, else `loss`."""
        return loss if self.loss_scale_factor is None else loss * self.loss_scale_factor

    def finalize_variable_values(self, var_list):
        """Keras hook run after training (EMA overwrite); nothing to do without EMA."""

    # ---- state and config ----
    def set_weights(self, weights):
        if not self.built:
            raise ValueError("You are calling `set_weights()` on an optimizer that has not been built yet. "
                             "Call `optimizer.build(trainable_variables)` first.")
        for variable, weight in zip(self._variables, weights):
            if tuple(variable.shape) != tuple(np.shape(weight)):
                raise ValueError(f"Optimizer variable {variable.path} has shape {variable.shape}, not compatible "
                                 f"with the provided weight shape {np.shape(weight)}.")
            variable.assign(weight)

    def save_own_variables(self, store):
        for i, variable in enumerate(self._variables):
            store[str(i)] = variable.numpy()

    def load_own_variables(self, store):
        if len(store.keys()) != len(self._variables):
            warnings.warn(f"Skipping variable loading for optimizer '{self.name}': it has "
                          f"{len(self._variables)} variables whereas the saved optimizer has {len(store.keys())}.")
            return
        for i, variable in enumerate(self._variables):
            variable.assign(store[str(i)])

    def get_config(self):
        from ckeras.optimizers import schedules
        lr = self._learning_rate
        if isinstance(lr, Variable):
            lr = float(np.asarray(lr))
        elif isinstance(lr, schedules.LearningRateSchedule):
            from ckeras.saving.serialization_lib import serialize_keras_object
            lr = serialize_keras_object(lr)  # a custom schedule keeps its registered name
        return {"name": self.name, "learning_rate": lr,
                "weight_decay": self.weight_decay, "clipnorm": self.clipnorm,
                "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue, "use_ema": self.use_ema,
                "ema_momentum": self.ema_momentum, "ema_overwrite_frequency": self.ema_overwrite_frequency,
                "loss_scale_factor": self.loss_scale_factor,
                "gradient_accumulation_steps": self.gradient_accumulation_steps}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from ckeras.optimizers import schedules
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"], custom_objects)
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"
