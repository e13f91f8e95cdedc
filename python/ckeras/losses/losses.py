"""The loss classes of `keras.losses`: `LossFunctionWrapper` and one class per loss function."""
from ckeras.losses import functions as F
from ckeras.losses.loss import Loss, squeeze_or_expand_to_same_rank


class LossFunctionWrapper(Loss):
    """A `Loss` around a function `fn(y_true, y_pred, **kwargs)` returning per-sample values.

    Ranks of `y_true`/`y_pred` that differ by a trailing size-1 dim are fixed before `fn` is called.
    """

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        from ckeras.losses import serialize
        config = super().get_config()
        config.update({"fn": serialize(self.fn)})
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "fn" in config:
            from ckeras.losses import deserialize
            config["fn"] = deserialize(config["fn"])
        return cls(**config)

    def __repr__(self):
        return f"<LossFunctionWrapper({self.fn}, kwargs={self._fn_kwargs})>"


def _plain(cls_name, fn, default_name, doc):
    """A wrapper class whose only arguments are `reduction`, `name` and `dtype`."""
    def __init__(self, reduction="sum_over_batch_size", name=default_name, dtype=None):
        LossFunctionWrapper.__init__(self, fn, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)

    cls = type(cls_name, (LossFunctionWrapper,), {"__init__": __init__, "get_config": get_config,
                                                  "__doc__": doc, "__module__": __name__})
    return cls


_ARGS = ("\n\n    Args:\n        reduction: `\"sum_over_batch_size\"` (default), `\"sum\"`, `\"mean\"`, "
         "`\"mean_with_sample_weight\"`, `\"none\"` or `None`.\n        name: The loss name.\n"
         "        dtype: The computation dtype (float32 by default).\n    ")

MeanSquaredError = _plain("MeanSquaredError", F.mean_squared_error, "mean_squared_error",
                          "Mean of `square(y_true - y_pred)` over the last axis." + _ARGS)
MeanAbsoluteError = _plain("MeanAbsoluteError", F.mean_absolute_error, "mean_absolute_error",
                           "Mean of `abs(y_true - y_pred)` over the last axis." + _ARGS)
MeanAbsolutePercentageError = _plain(
    "MeanAbsolutePercentageError", F.mean_absolute_percentage_error, "mean_absolute_percentage_error",
    "`100 * mean(abs((y_true - y_pred) / y_true))` over the last axis." + _ARGS)
MeanSquaredLogarithmicError = _plain(
    "MeanSquaredLogarithmicError", F.mean_squared_logarithmic_error, "mean_squared_logarithmic_error",
    "Mean of `square(log(y_true + 1) - log(y_pred + 1))` over the last axis." + _ARGS)
LogCosh = _plain("LogCosh", F.log_cosh, "log_cosh",
                 "Mean of `log(cosh(y_pred - y_true))` over the last axis." + _ARGS)
Hinge = _plain("Hinge", F.hinge, "hinge", "Mean of `maximum(1 - y_true * y_pred, 0)`; 0/1 labels map to -1/1."
               + _ARGS)
SquaredHinge = _plain("SquaredHinge", F.squared_hinge, "squared_hinge",
                      "Mean of `square(maximum(1 - y_true * y_pred, 0))`; 0/1 labels map to -1/1." + _ARGS)
CategoricalHinge = _plain("CategoricalHinge", F.categorical_hinge, "categorical_hinge",
                          "`maximum(neg - pos + 1, 0)` over one-hot labels." + _ARGS)
KLDivergence = _plain("KLDivergence", F.kl_divergence, "kl_divergence",
                      "`sum(y_true * log(y_true / y_pred))`, inputs clipped to [epsilon, 1]." + _ARGS)
Poisson = _plain("Poisson", F.poisson, "poisson", "Mean of `y_pred - y_true * log(y_pred + epsilon)`." + _ARGS)


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity along `axis` (-1 for aligned vectors).

    Args:
        axis: The feature axis. Defaults to -1.
        reduction, name, dtype: As for every `Loss`.
    """

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity", dtype=None):
        super().__init__(F.cosine_similarity, name=name, reduction=reduction, dtype=dtype, axis=axis)

    def get_config(self):
        return Loss.get_config(self)


class Huber(LossFunctionWrapper):
    """Huber loss: quadratic for `|error| <= delta`, linear beyond, averaged over the last axis.

    Args:
        delta: Where the loss turns from quadratic to linear. Defaults to 1.0.
        reduction, name, dtype: As for every `Loss`.
    """

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(F.huber, name=name, reduction=reduction, dtype=dtype, delta=delta)

    def get_config(self):
        return Loss.get_config(self)


class BinaryCrossentropy(LossFunctionWrapper):
    """Binary cross-entropy between 0/1 labels and probabilities (or logits).

    Args:
        from_logits: Whether `y_pred` holds logits. Defaults to False.
        label_smoothing: In [0, 1]; squeezes the labels towards 0.5. Defaults to 0.
        axis: The axis the mean is taken over. Defaults to -1.
        reduction, name, dtype: As for every `Loss`.
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_crossentropy", dtype=None):
        super().__init__(F.binary_crossentropy, name=name, reduction=reduction, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def get_config(self):
        config = Loss.get_config(self)
        config.update({"from_logits": self.from_logits, "label_smoothing": self.label_smoothing,
                       "axis": self.axis})
        return config


class CategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy between one-hot labels and probabilities (or logits).

    Args:
        from_logits: Whether `y_pred` holds logits. Defaults to False.
        label_smoothing: In [0, 1]; labels become `y * (1 - ls) + ls / num_classes`. Defaults to 0.
        axis: The class axis. Defaults to -1.
        reduction, name, dtype: As for every `Loss`.
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="categorical_crossentropy", dtype=None):
        super().__init__(F.categorical_crossentropy, name=name, reduction=reduction, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def get_config(self):
        config = Loss.get_config(self)
        config.update({"from_logits": self.from_logits, "label_smoothing": self.label_smoothing,
                       "axis": self.axis})
        return config


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy between integer labels and probabilities (or logits).

    Args:
        from_logits: Whether `y_pred` holds logits. Defaults to False.
        ignore_class: Optional label whose entries are left out of the loss (e.g. -1 or 255).
        reduction, name, dtype: As for every `Loss`.
    """

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(F.sparse_categorical_crossentropy, name=name, reduction=reduction, dtype=dtype,
                         from_logits=from_logits, ignore_class=ignore_class)
        self.from_logits = from_logits
        self.ignore_class = ignore_class

    def get_config(self):
        config = Loss.get_config(self)
        config.update({"from_logits": self.from_logits, "ignore_class": self.ignore_class})
        return config
