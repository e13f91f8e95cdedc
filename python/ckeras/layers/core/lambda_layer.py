"""`Lambda`: wraps a Python function of tensors as a layer. In a saved file a Python lambda is stored as
bytecode (Keras's `__lambda__` form) and loads only when the caller passes `safe_mode=False`."""
import inspect

from ckeras.layers.layer import Layer


class Lambda(Layer):
    """Applies `function(inputs, **arguments)`.

    Args:
        function: The function; it may take `training` and `mask` keywords.
        output_shape: Optional output shape (without batch) or a function `input_shape -> output_shape`;
            inferred by running the function when omitted.
        mask: Unused (kept for Keras compatibility).
        arguments: Optional dict of extra keyword arguments for `function`.
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise ValueError(f"Argument `function` must be callable. Received: function={function}")
        self.function = function
        self.arguments = arguments or {}
        self._output_shape = output_shape
        self.mask = mask
        try:
            params = inspect.signature(function).parameters
        except (TypeError, ValueError):
            params = {}
        self._fn_takes_training = "training" in params
        self.built = True

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_takes_training:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_output_spec(self, *args, **kwargs):
        from ckeras.backend.keras_tensor import KerasTensor
        if self._output_shape is None:
            return self._infer(*args, **kwargs)
        x = args[0]
        if callable(self._output_shape):
            shape = self._output_shape(x.shape)
        else:
            shape = (x.shape[0],) + tuple(self._output_shape)
        return KerasTensor(tuple(shape), dtype=x.dtype)

    def _infer(self, *args, **kwargs):
        from ckeras.layers.node import infer_by_execution
        return infer_by_execution(lambda *a, **k: self.call(*a, **k), args, kwargs)

    def get_config(self):
        """The config with `function` as the callable itself; `serialize_keras_object` turns it into
        Keras's form (a registered name, or a `__lambda__` bytecode blob) when the config is saved."""
        config = super().get_config()
        config.update({"function": self.function, "arguments": self.arguments,
                       "output_shape": self._output_shape})
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from ckeras.saving.serialization_lib import deserialize_keras_object
        config = dict(config)
        for key in ("function", "output_shape"):
            value = config.get(key)
            if isinstance(value, dict) and "class_name" in value:
                config[key] = deserialize_keras_object(value, custom_objects=custom_objects)
            elif isinstance(value, list) and all(d is None or isinstance(d, int) for d in value):
                config[key] = tuple(value)
        if isinstance(config.get("arguments"), dict):
            config["arguments"] = deserialize_keras_object(config["arguments"], custom_objects=custom_objects)
        return cls(**config)
