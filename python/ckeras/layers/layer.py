"""`Layer`, the base of every layer and model: naming, lazy `build`, `__call__` (input conversion, input
spec check, `training` propagation, error context), symbolic calls on KerasTensors, losses and config.

State tracking and the weight lists live in `layers/_tracking.py`.
"""
import functools
import inspect
import warnings

import numpy as np

from ckeras import _core
from ckeras import regularizers
from ckeras.backend.keras_tensor import KerasTensor
from ckeras.layers import _utils
from ckeras.layers._tracking import StateMixin, _super_not_called
from ckeras.layers._losses_config import LossConfigMixin
from ckeras.layers.input_spec import assert_input_compatibility
from ckeras.layers.node import Node, infer_by_execution, shapes_to_tensors
from ckeras.layers._call_context import with_call_context as _with_call_context
from ckeras.ops.core import convert_to_tensor

_CTX = _utils.CALL_CONTEXT
_Tensor = _core.Tensor
_EMPTY = inspect.Parameter.empty


def _dtype_name(dtype):
    if dtype is None:
        return "float32"
    if isinstance(dtype, dict):  # a serialized DTypePolicy
        dtype = dtype.get("config", {}).get("name", "float32")
    name = getattr(dtype, "name", dtype)
    if name not in ("float32", "float64", "int32", "int64", "bool"):
        raise ValueError(f"Invalid dtype argument: {dtype}. ckeras supports float32 and float64 layers "
                         "(mixed precision policies are not supported).")
    return name


def _wrap_build(build):
    """Marks the layer built (and locks its state) when the outermost `build` call returns."""
    @functools.wraps(build)
    def wrapper(self, *args, **kwargs):
        if "_initialized" not in self.__dict__:
            raise _super_not_called(self)
        d = self.__dict__
        d["_build_depth"] = d.get("_build_depth", 0) + 1
        try:
            build(self, *args, **kwargs)
        finally:
            d["_build_depth"] -= 1
        if d["_build_depth"] == 0:
            if args:
                d["_build_input_shape"] = args[0]
            elif kwargs:
                d["_build_input_shape"] = next(iter(kwargs.values()))
            d["built"] = True
            self._lock_state()
    wrapper._ckeras_build_wrapper = True
    return wrapper


class Layer(LossConfigMixin, StateMixin):
    """Base class of layers: a callable with state (weights) created in `__init__` or in `build`.

    Args:
        trainable: Whether the layer's weights are updated in training.
        name: Layer name; unique automatic names (`dense`, `dense_1`, ...) otherwise.
        dtype: Dtype of weights and computations ("float32" default, or "float64").
        activity_regularizer: Optional penalty on the layer's output, added to `losses`.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        build = cls.__dict__.get("build")
        if build is not None and not getattr(build, "_ckeras_build_wrapper", False):
            cls.build = _wrap_build(build)

    def __new__(cls, *args, **kwargs):
        obj = super().__new__(cls)
        obj.__dict__["_init_args"] = (args, kwargs)  # for the automatic config of custom layers
        return obj

    def __init__(self, *, activity_regularizer=None, trainable=True, dtype=None, autocast=True, name=None,
                 **kwargs):
        self._ensure_tracker()
        d = self.__dict__
        input_dim = kwargs.pop("input_dim", None)
        input_shape = (input_dim,) if input_dim is not None else kwargs.pop("input_shape", None)
        if input_dim is not None:
            kwargs.pop("input_shape", None)
        if input_shape is not None:
            warnings.warn("Do not pass an `input_shape`/`input_dim` argument to a layer. When using Sequential "
                          "models, prefer using an `Input(shape)` object as the first layer in the model "
                          "instead.", UserWarning, stacklevel=3)
            d["_input_shape_arg"] = tuple(input_shape)
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}")
        if not isinstance(trainable, bool):
            raise ValueError(f"Expected `trainable` to be a boolean. Received: trainable={trainable} "
                             f"(of type {type(trainable)})")
        if name is None:
            name = _utils.get_uid(_utils.to_snake_case(type(self).__name__))
        elif not isinstance(name, str) or "/" in name:
            raise ValueError("Argument `name` must be a string and cannot contain character `/`. "
                             f"Received: name={name} (of type {type(name)})")
        d["_initialized"] = True
        d["name"] = name
        d["_dtype"] = _dtype_name(dtype)
        d["built"] = False
        d["autocast"] = autocast
        d["_trainable"] = trainable
        d["_input_spec"] = None
        d["_spec_ok_shape"] = None
        d["_inbound_nodes"] = []
        d["_losses"] = []
        d["_losses_call"] = -1
        d["_last_call"] = -1
        d["activity_regularizer"] = regularizers.get(activity_regularizer)
        sig = type(self)._call_signature()
        d["_call_has_training_arg"] = "training" in sig
        d["_training_default"] = sig["training"] if "training" in sig else None
        d["_call_has_mask_arg"] = "mask" in sig

    @classmethod
    def _call_signature(cls):
        cached = cls.__dict__.get("_ckeras_call_sig")
        if cached is None:
            params = inspect.signature(cls.call).parameters
            cached = {n: (None if p.default is _EMPTY else p.default) for n, p in params.items()}
            cls._ckeras_call_sig = cached
        return cached

    # ---- properties ----
    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        value = bool(value)
        for layer in self._flatten_layers():  # as Keras 3: the variables' own flags follow
            layer.__dict__["_trainable"] = value
            for v in layer.__dict__.get("_trainable_vars", ()):
                v.trainable = value

    @property
    def dtype(self):
        return self._dtype

    variable_dtype = compute_dtype = dtype

    @property
    def dtype_policy(self):
        return self._dtype

    @property
    def input_spec(self):
        return self._input_spec

    @input_spec.setter
    def input_spec(self, value):
        self.__dict__["_input_spec"] = value
        self.__dict__["_spec_ok_shape"] = None

    @property
    def layers(self):
        return list(self._layers)

    @property
    def path(self):
        return self.name

    def __getattr__(self, name):
        # Only reached when normal lookup fails.
        d = self.__dict__
        msg = f"'{type(self).__name__}' object has no attribute '{name}'"
        if "_initialized" in d and not d.get("built", True) and not name.startswith("_"):
            msg += (f". Layer '{d['name']}' is not built yet: its weights are created on the first call, "
                    "or call build(input_shape) to create them now")
        raise AttributeError(msg)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"

    # ---- build / call ----
    def build(self, input_shape=None):
        """Creates the weights from the input shape. The default has no weights."""

    def call(self, *args, **kwargs):
        raise NotImplementedError(f"Layer {type(self).__name__} does not have a `call()` method implemented.")

    def _maybe_build(self, inputs):
        shapes = _utils.map_structure(lambda x: tuple(x.shape) if hasattr(x, "shape") else x, inputs)
        self.build(shapes)

    def _convert(self, x):
        if type(x) is np.ndarray and x.dtype.kind == "f" and x.dtype.itemsize == 4:  # float32: nothing to cast
            return _core.convert_to_tensor(x)
        if type(x) is _Tensor:
            if x.dtype == "float64" and self.autocast and self._dtype == "float32":
                return _core.cast(x, "float32")
            return x
        if isinstance(x, (list, tuple)) and x and all(hasattr(v, "shape") or isinstance(v, (list, tuple))
                                                      for v in x):
            return type(x)(self._convert(v) for v in x)
        if isinstance(x, dict):
            return {k: self._convert(v) for k, v in x.items()}
        if x is None or isinstance(x, KerasTensor):
            return x
        t = convert_to_tensor(x)
        if t.dtype == "float64" and self.autocast and self._dtype == "float32":
            t = _core.cast(t, "float32")
        return t

    def __call__(self, *args, **kwargs):
        d = self.__dict__
        if "_initialized" not in d:
            raise _super_not_called(self)
        if not args:
            if "inputs" not in kwargs:
                raise ValueError(f"Layer {self.name} was called without any positional argument.")
            args = (kwargs.pop("inputs"),)
        x = args[0]
        if type(x) is not _Tensor:
            x = self._convert(x)
            # (A lone converted Tensor cannot be symbolic: the walk below costs 4 us.)
            if (type(x) is not _Tensor or len(args) > 1 or kwargs) and any(
                    isinstance(v, KerasTensor) for v in _utils.flatten([x, list(args[1:]), kwargs])):
                return self._symbolic_call((x,) + args[1:], kwargs)
            args = (x,) + args[1:]
        elif x.dtype == "float64" and d["autocast"] and d["_dtype"] == "float32":
            x = _core.cast(x, "float32")  # Keras autocasts float inputs to the compute dtype
            args = (x,) + args[1:]
        ctx = _CTX
        top = ctx.depth == 0
        if top:
            ctx.call_id += 1
        training = kwargs.pop("training", None)
        if training is None:
            training = ctx.training if not top else None
            if training is None:
                training = d["_training_default"]
        spec = d["_input_spec"]
        if spec is not None:
            shape = x.shape if type(x) is _Tensor else None
            if shape is None or shape != d["_spec_ok_shape"]:
                assert_input_compatibility(spec, x, self.name)
                d["_spec_ok_shape"] = shape
        if not d["built"]:
            self._maybe_build(x)
            if top:  # the build pass may have run the layers (a Sequential's does): their losses are not this call's
                ctx.call_id += 1
        if d["_call_has_training_arg"] and training is not None:
            kwargs["training"] = training
        prev_training = ctx.training
        ctx.training = training
        ctx.depth += 1
        d["_last_call"] = ctx.call_id
        try:
            outputs = self.call(*args, **kwargs)
        except Exception as e:
            raise _with_call_context(e, self, args, kwargs) from None
        finally:
            ctx.depth -= 1
            ctx.training = prev_training
            if top:
                ctx.training = None
        if d["activity_regularizer"] is not None:
            self._add_activity_loss(outputs)
        return outputs

    def _symbolic_call(self, args, kwargs):
        """A call on KerasTensors: build from the shapes, infer the outputs, record a Node."""
        x = args[0]
        if self._input_spec is not None:
            assert_input_compatibility(self._input_spec, x, self.name)
        if not self.built:
            self._maybe_build(x)
        kwargs = dict(kwargs)
        training = kwargs.pop("training", None)
        call_kwargs = dict(kwargs)
        if self._call_has_training_arg and training is not None:
            call_kwargs["training"] = training
        try:
            outputs = self.compute_output_spec(*args, **call_kwargs)
        except Exception as e:
            raise _with_call_context(e, self, args, call_kwargs) from None
        if training is not None:
            kwargs["training"] = training
        Node(self, args, kwargs, outputs)
        return outputs

    def compute_output_spec(self, *args, **kwargs):
        """KerasTensor(s) describing the output for KerasTensor inputs (see `layers/node.py`)."""
        if type(self).compute_output_shape is not Layer.compute_output_shape:
            shapes = _utils.map_structure(lambda t: t.shape if isinstance(t, KerasTensor) else t, args[0])
            return shapes_to_tensors(self.compute_output_shape(shapes), self.compute_dtype)

        def run(*a, **k):
            ctx = _CTX
            prev, ctx.training = ctx.training, k.get("training", False)
            ctx.depth += 1
            try:
                return self.call(*a, **k)
            finally:
                ctx.depth -= 1
                ctx.training = prev
        return infer_by_execution(run, args, kwargs)

    def compute_output_shape(self, *args, **kwargs):
        raise NotImplementedError(f"Layer {type(self).__name__} should implement "
                                  "`def compute_output_shape(self, input_shape)`.")


Layer.build = _wrap_build(Layer.build)  # the default build also marks the layer built and locks it
