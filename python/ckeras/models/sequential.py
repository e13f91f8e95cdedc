"""`Sequential`: a linear stack of layers, built from an `Input`/`input_shape` or lazily from the first batch.

Once the input shape is known the layers are called once on a KerasTensor (this builds them and records the
output shapes for `summary`); a forward pass then simply calls each layer in turn.
"""
from ckeras.backend.keras_tensor import KerasTensor
from ckeras.layers.core.input_layer import InputLayer
from ckeras.layers.layer import Layer
from ckeras.models.model import Model


class Sequential(Model):
    """A model that applies its layers one after the other.

    Args:
        layers: Optional list of layers (an `Input(...)` tensor or `InputLayer` may come first).
        trainable: Whether the weights are trained.
        name: Model name ("sequential", "sequential_1", ... by default).
    """

    def __init__(self, layers=None, trainable=True, name=None, **kwargs):
        super().__init__(trainable=trainable, name=name, **kwargs)
        d = self.__dict__
        d["_functional"] = None
        d["_call_layers"] = []
        if layers:
            for layer in layers:
                self.add(layer, rebuild=False)
            self._maybe_rebuild()

    def add(self, layer, rebuild=True):
        """Appends a layer (or an `Input` tensor) to the stack."""
        if isinstance(layer, KerasTensor) and layer._keras_history is not None and \
                isinstance(layer._keras_history[0], InputLayer):
            layer = layer._keras_history[0]
        if not isinstance(layer, Layer):
            raise ValueError("Only instances of `keras.Layer` can be added to a Sequential model. Received: "
                             f"{layer} (of type {type(layer)})")
        if any(l.name == layer.name for l in self._layers if l is not layer):
            raise ValueError("All layers added to a Sequential model should have unique names. Name "
                             f"'{layer.name}' is already the name of a layer in this model. Update the `name` "
                             "argument to pass a unique name.")
        if isinstance(layer, InputLayer) and self._layers and isinstance(self._layers[0], InputLayer):
            raise ValueError(f"Sequential model '{self.name}' has already been configured to use input shape "
                             f"{self._layers[0].batch_shape}. You cannot add a different Input layer to it.")
        if not self._layers and not isinstance(layer, InputLayer):
            shape = layer.__dict__.get("_input_shape_arg")
            if shape is not None:
                self._layers.append(InputLayer(shape=shape))
        self._layers.append(layer)
        self._reset()
        if rebuild:
            self._maybe_rebuild()

    def pop(self, rebuild=True):
        """Removes and returns the last layer."""
        if not self.layers:
            raise TypeError("There are no layers in the model.")
        layer = self._layers.pop()
        self._reset()
        if rebuild:
            self._maybe_rebuild()
        return layer

    def _reset(self):
        d = self.__dict__
        d["built"] = False
        d["_functional"] = None
        d["_locked"] = False
        d["_call_layers"] = [l for l in self._layers if not isinstance(l, InputLayer)]

    def _maybe_rebuild(self):
        if self._layers and isinstance(self._layers[0], InputLayer) and len(self._layers) > 1:
            self.build(self._layers[0].batch_shape)

    @property
    def layers(self):
        return list(self._call_layers)

    def build(self, input_shape=None):
        """Builds every layer by calling the stack on a KerasTensor of `input_shape` (batch dim included)."""
        if not self._layers:
            raise ValueError(f"Sequential model {self.name} cannot be built because it has no layers. "
                             "Call `model.add(layer)`.")
        if isinstance(input_shape, dict) or input_shape is None:
            raise ValueError(f"Sequential model '{self.name}' cannot be built from input_shape={input_shape}: "
                             "pass the shape of one input, including the batch dim, e.g. (None, 784).")
        input_shape = tuple(input_shape)
        if isinstance(self._layers[0], InputLayer):
            if tuple(self._layers[0].batch_shape[1:]) != tuple(input_shape[1:]):
                raise ValueError(f"Sequential model '{self.name}' has already been configured to use input "
                                 f"shape {self._layers[0].batch_shape}. You cannot build it with "
                                 f"input_shape {input_shape}")
        else:
            # The batch dim stays unknown, whatever batch first built the model.
            self._layers.insert(0, InputLayer(batch_shape=(None,) + input_shape[1:],
                                              dtype=self._call_layers[0].dtype))
        inputs = self._layers[0].output
        x = inputs
        for layer in self._call_layers:
            x = layer(x)
        from ckeras.models.functional import Functional
        self.__dict__["_functional"] = Functional(inputs, x, name=self.name + "_functional")

    def call(self, inputs, training=None, mask=None):
        x = inputs
        for layer in self._call_layers:
            x = layer(x)
        return x

    def compute_output_spec(self, inputs, training=None, mask=None):
        return KerasTensor(self._functional.outputs[0].shape, dtype=self._functional.outputs[0].dtype)

    def _no_input_shape(self):
        return ValueError(f"Sequential model '{self.name}' has no defined input shape yet. Build it first: call "
                          "`model.build(input_shape)`, call it on a batch of data, or start it with an input, "
                          "e.g. `keras.Input(shape=(784,))`.")

    @property
    def inputs(self):
        if self._functional is None:
            raise self._no_input_shape()
        return self._functional.inputs

    @property
    def outputs(self):
        if self._functional is None:
            raise self._no_input_shape()
        return self._functional.outputs

    @property
    def input_shape(self):
        if self._functional is None:
            raise self._no_input_shape()
        return self._functional.inputs[0].shape

    @property
    def output_shape(self):
        if self._functional is None:
            raise self._no_input_shape()
        return self._functional.outputs[0].shape

    @property
    def input(self):
        return self.inputs[0]

    @property
    def output(self):
        return self.outputs[0]

    def summary(self, *args, **kwargs):
        if not self.built:
            raise self._no_input_shape()
        super().summary(*args, **kwargs)

    def get_config(self):
        from ckeras.layers import serialize
        config = {"name": self.name, "trainable": self.trainable,
                  "dtype": Layer.get_config(self)["dtype"],
                  "layers": [serialize(l) for l in self._layers]}
        if self._functional is not None:
            config["build_input_shape"] = self._layers[0].batch_shape
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from ckeras.layers import deserialize
        config = dict(config)
        layers = [deserialize(c, custom_objects) for c in config.pop("layers")]
        shape = config.pop("build_input_shape", None)
        config.pop("dtype", None)
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for layer in layers:
            model.add(layer, rebuild=False)
        if shape is not None and not model.built:
            model.build(shape)
        elif isinstance(model._layers[0], InputLayer) and len(model._layers) > 1:
            model._maybe_rebuild()
        return model
