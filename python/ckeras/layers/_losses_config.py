"""Losses and config half of `Layer`: `add_loss`, `losses` (last forward pass plus weight penalties),
`get_config`/`from_config` and the build config."""
from ckeras import regularizers
from ckeras.backend.keras_tensor import KerasTensor
from ckeras.layers import _utils

_CTX = _utils.CALL_CONTEXT


class LossConfigMixin:
    # ---- losses ----
    def add_loss(self, loss):
        """Adds a scalar loss term for the current forward pass (reported by `losses`)."""
        d = self.__dict__
        if d["_losses_call"] != _CTX.call_id:
            d["_losses"] = []
            d["_losses_call"] = _CTX.call_id
        d["_losses"].append(loss)

    def _add_activity_loss(self, outputs):
        from ckeras import ops
        for out in _utils.flatten(outputs):
            if hasattr(out, "shape") and not isinstance(out, KerasTensor):
                batch = out.shape[0] if out.ndim else 1
                self.add_loss(ops.divide(self.activity_regularizer(out), float(max(batch, 1))))

    @property
    def losses(self):
        """Loss terms of the last forward pass (`add_loss`, activity regularizers, recursively) followed by
        the regularization penalties of the trainable weights, computed now from their current values."""
        last = self.__dict__.get("_last_call", -1)
        out = []
        for layer in self._flatten_layers():
            ld = layer.__dict__
            if ld.get("_losses_call", -2) == last and ld.get("_losses"):
                out.extend(ld["_losses"])
        for v in self.trainable_weights:
            reg = getattr(v, "regularizer", None)
            if reg is not None:
                out.append(reg(v))
        return out

    # ---- config ----
    def get_config(self):
        """`name`, `trainable`, `dtype`; subclasses add their constructor arguments."""
        config = {"name": self.name, "trainable": self.trainable,
                  "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": self._dtype},
                            "registered_name": None}}
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        if type(self).get_config is LossConfigMixin.get_config:
            config.update(self._auto_config(config))
        return config

    def _auto_config(self, base):
        """For a custom layer that does not override `get_config`: its constructor arguments, when they are
        plain Python values (Keras captures them the same way)."""
        import inspect
        captured = self.__dict__.get("_init_args")
        if captured is None or type(self).__init__ is _layer_init():
            return {}
        try:
            bound = inspect.signature(type(self).__init__).bind(self, *captured[0], **captured[1])
        except TypeError:
            return {}
        out = {}
        for name, value in bound.arguments.items():
            if name == "self" or name in base:
                continue
            if name == "kwargs" and isinstance(value, dict):
                out.update({k: v for k, v in value.items() if k not in base and _plain(v)})
            elif _plain(value):
                out[name] = value
        return out

    @classmethod
    def from_config(cls, config):
        try:
            return cls(**config)
        except Exception as e:
            raise TypeError(f"Error when deserializing class '{cls.__name__}' using config={config}.\n\n"
                            f"Exception encountered: {e}") from e

    def get_build_config(self):
        shape = self.__dict__.get("_build_input_shape")
        return None if shape is None else {"input_shape": shape}

    def build_from_config(self, config):
        if config and config.get("input_shape") is not None:
            self.build(config["input_shape"])


def _plain(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


def _layer_init():
    from ckeras.layers.layer import Layer
    return Layer.__init__
