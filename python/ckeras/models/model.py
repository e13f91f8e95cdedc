"""`Model`: a Layer with training methods (from the trainer mixin when present), `summary()`, `layers`,
`get_layer`. `Model(inputs, outputs)` returns a Functional model; subclasses define `call`."""
from ckeras.layers.layer import Layer
from ckeras.models import _inference_fast

try:  # compile/fit/evaluate/predict come from the trainer mixin when it is installed
    from ckeras.trainers.trainer import Trainer
except ImportError:
    Trainer = None

_BASES = (Layer,) if Trainer is None else (Trainer, Layer)


def _functional_args(args, kwargs):
    return (len(args) == 2 or (len(args) == 1 and "outputs" in kwargs)
            or ("inputs" in kwargs and "outputs" in kwargs))


_FUNCTIONAL_SUBCLASSES = {}


def _functional_subclass(cls, functional):
    sub = _FUNCTIONAL_SUBCLASSES.get(cls)
    if sub is None:
        sub = type(cls.__name__, (cls, functional), {"__module__": cls.__module__, "__qualname__": cls.__qualname__})
        _FUNCTIONAL_SUBCLASSES[cls] = sub
    return sub


class Model(*_BASES):
    """A Layer with training and inference features.

    Two ways to make one:
    - Functional: `Model(inputs=keras.Input(shape=(784,)), outputs=y)` with `y` built from the inputs;
    - subclassing: define layers in `__init__` and the forward pass in `call(inputs, training=None)`.

    Args:
        name: Model name (`functional`, `sequential`, or the snake_case class name by default).
        trainable: Whether the weights are trained.
        dtype: "float32" (default) or "float64".
    """

    def __new__(cls, *args, **kwargs):
        if _functional_args(args, kwargs):
            from ckeras.models.functional import Functional
            if cls is Model:
                return Functional.__new__(Functional)
            if not issubclass(cls, Functional):
                # `class CustomModel(keras.Model)` built as `CustomModel(inputs, outputs)` (Keras's
                # "customize train_step" recipe): the instance gets a class that is both the user's
                # class and Functional, so the user's methods win and the graph machinery comes along.
                return Model.__new__(_functional_subclass(cls, Functional), *args, **kwargs)
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        if args or "inputs" in kwargs or "outputs" in kwargs:
            raise ValueError("Subclassed models that pass `inputs` and `outputs` to `super().__init__()` are "
                             "not supported by ckeras yet; use `keras.Model(inputs, outputs)` directly, or "
                             "define `call()`.")
        trainable = kwargs.pop("trainable", True)
        name = kwargs.pop("name", None)
        dtype = kwargs.pop("dtype", None)
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}")
        if Trainer is not None:
            Trainer.__init__(self)
        Layer.__init__(self, trainable=trainable, name=name, dtype=dtype)

    def __call__(self, *args, **kwargs):
        # Dense chains at inference: one C++ call with the eager bits (_inference_fast); else the layers.
        out = _inference_fast.call(self, args, kwargs)
        d = self.__dict__
        if out is not None:  # it set d["_call_path"]
            return out
        d["_call_path"] = "layers"
        return Layer.__call__(self, *args, **kwargs)

    def _lock_state(self):
        """Models stay unlocked: the trainer attaches its own state (optimizer, metrics) after build."""

    @property
    def layers(self):
        return [l for l in self._layers]

    def get_layer(self, name=None, index=None):
        """A layer by `name` or by `index` (in `layers` order)."""
        if index is not None and name is not None:
            raise ValueError(f"Provide only a layer name or a layer index. Received: index={index}, "
                             f"name={name}.")
        if index is not None:
            if len(self.layers) <= index:
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only has "
                                 f"{len(self.layers)} layers.")
            return self.layers[index]
        if name is not None:
            for layer in self.layers:
                if layer.name == name:
                    return layer
            raise ValueError(f"No such layer: {name}. Existing layers are: {[l.name for l in self.layers]}.")
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    def build(self, input_shape=None):
        """Builds the sublayers by running `call` once on zeros of `input_shape` (None dims -> 1)."""
        if input_shape is None or self.__dict__.get("_building_from_call"):
            return
        from ckeras import _core, ops
        from ckeras.layers._utils import is_shape
        fill = lambda s: ops.zeros(tuple(1 if d is None else d for d in s))  # noqa: E731
        if is_shape(input_shape):
            x = fill(input_shape)
        elif isinstance(input_shape, dict):
            x = {k: fill(s) for k, s in input_shape.items()}
        else:
            x = [fill(s) for s in input_shape]
        prev = _core.grad_enabled()
        _core.set_grad_enabled(False)
        self.__dict__["_building_from_call"] = True
        try:
            self.__dict__["built"] = True  # the call below must not build again
            self(x, training=False)
        except Exception:
            self.__dict__["built"] = False
            raise
        finally:
            self.__dict__["_building_from_call"] = False
            _core.set_grad_enabled(prev)

    def _maybe_build(self, inputs):
        self.__dict__["_building_from_call"] = True
        try:
            super()._maybe_build(inputs)
        finally:
            self.__dict__["_building_from_call"] = False

    def _symbolic_build(self, data_batch=None, x=None, **kwargs):
        """Builds the model from one batch of data (what the trainer calls before `fit`); a no-op when
        already built. `data_batch` may be `(x, y, ...)` or `x`."""
        if self.built:
            return
        if x is None:
            x = data_batch[0] if isinstance(data_batch, tuple) else data_batch
        from ckeras.layers._utils import map_structure
        shapes = map_structure(lambda t: tuple(t.shape) if hasattr(t, "shape") else t, x)
        self.build(shapes)

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        """Prints Keras 3's table of layers, output shapes and parameter counts.

        Args:
            line_length: Total width (default min(88, terminal width - 4); 108 with "Connected to").
            positions: Relative column boundaries.
            print_fn: Called once with the whole summary text; `print` by default.
            expand_nested: Also list the layers of nested models.
            show_trainable: Add a "Trainable" column.
            layer_range: Pair of layer-name patterns bounding the rows shown.
        """
        from ckeras.models._summary import print_summary
        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                      expand_nested=expand_nested, show_trainable=show_trainable, layer_range=layer_range)

    # ---- saving (see ckeras/saving/) ----
    def save(self, filepath, overwrite=True, zipped=None, **kwargs):
        """Saves the model (config, weights, optimizer state) to a `.keras` file, as Keras 3 does."""
        from ckeras.saving.saving_api import save_model
        save_model(self, filepath, overwrite=overwrite, zipped=zipped, **kwargs)

    def save_weights(self, filepath, overwrite=True, **kwargs):
        """Saves the weights (and optimizer state) to a `.weights.h5` file in Keras 3's layout."""
        from ckeras.saving.saving_api import save_weights
        save_weights(self, filepath, overwrite=overwrite, **kwargs)

    def load_weights(self, filepath, skip_mismatch=False, **kwargs):
        """Loads weights saved by `save_weights` or `save` (ckeras or Keras 3) into this model."""
        from ckeras.saving.saving_api import load_weights
        load_weights(self, filepath, skip_mismatch=skip_mismatch, **kwargs)

    def to_json(self, **kwargs):
        """The model's config (Keras's serialized form) as a JSON string; `kwargs` go to `json.dumps`."""
        import json
        from ckeras.saving.serialization_lib import serialize_keras_object
        return json.dumps(serialize_keras_object(self), **kwargs)

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        if cls is Model and "layers" in config and "input_layers" in config:
            from ckeras.models.functional import Functional
            return Functional.from_config(config, custom_objects=custom_objects)
        return cls(**config)
