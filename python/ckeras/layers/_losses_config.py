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
        return config

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
