"""Regression metrics (running means of the regression losses, RootMeanSquaredError, CosineSimilarity),
and the probabilistic and hinge metrics, which are running means of their loss functions."""
from ckeras import ops
from ckeras.losses import functions as F
from ckeras.losses.loss import squeeze_or_expand_to_same_rank
from ckeras.metrics.reduction_metrics import Mean, MeanMetricWrapper


def cosine_similarity(y_true, y_pred, axis=-1):
    """`sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)` (the loss of the same name, negated)."""
    y_true, y_pred = F._pair(y_true, y_pred)
    return ops.sum(F._l2_normalize(y_true, axis) * F._l2_normalize(y_pred, axis), axis=axis)


class _FnMetric(MeanMetricWrapper):
    """A running mean of `_fn` whose config is `name`, `dtype` and the names in `_args`."""

    _fn_ref = None
    _args = ()
    _dir = "down"

    def __init__(self, name, dtype=None, **kwargs):
        super().__init__(type(self)._fn_ref, name=name, dtype=dtype, **kwargs)
        for key, value in kwargs.items():
            setattr(self, key, value)
        self._direction = self._dir

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, **{k: getattr(self, k) for k in self._args}}


def _fn(f):
    return staticmethod(f)


class MeanSquaredError(_FnMetric):
    """Running mean of `mean(square(y_true - y_pred), axis=-1)`."""
    _fn_ref = _fn(F.mean_squared_error)

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(name, dtype)


class MeanAbsoluteError(_FnMetric):
    """Running mean of `mean(abs(y_true - y_pred), axis=-1)`."""
    _fn_ref = _fn(F.mean_absolute_error)

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(name, dtype)


class MeanAbsolutePercentageError(_FnMetric):
    """Running mean of the mean absolute percentage error."""
    _fn_ref = _fn(F.mean_absolute_percentage_error)

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(name, dtype)


class MeanSquaredLogarithmicError(_FnMetric):
    """Running mean of the mean squared logarithmic error."""
    _fn_ref = _fn(F.mean_squared_logarithmic_error)

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(name, dtype)


class LogCoshError(_FnMetric):
    """Running mean of `mean(log(cosh(y_pred - y_true)), axis=-1)`."""
    _fn_ref = _fn(F.log_cosh)

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(name, dtype)


class CosineSimilarity(_FnMetric):
    """Running mean of the cosine similarity along `axis` (1 for aligned vectors)."""
    _fn_ref = _fn(cosine_similarity)
    _args = ("axis",)
    _dir = "up"

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(name, dtype, axis=axis)


class RootMeanSquaredError(Mean):
    """`sqrt(mean(square(y_pred - y_true)))` over every element seen (weighted per sample).

    Args:
        name: The metric name. Defaults to "root_mean_squared_error".
        dtype: The result dtype.
    """

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name, dtype=dtype)
        self._direction = "down"

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.convert_to_tensor(y_true, self.dtype)
        y_pred = ops.convert_to_tensor(y_pred, self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return super().update_state(ops.square(y_pred - y_true), sample_weight=sample_weight)

    def result(self):
        return ops.sqrt(super().result())


# ---- probabilistic metrics ----

class KLDivergence(_FnMetric):
    """Running mean of the Kullback-Leibler divergence."""
    _fn_ref = _fn(F.kl_divergence)

    def __init__(self, name="kl_divergence", dtype=None):
        super().__init__(name, dtype)


class Poisson(_FnMetric):
    """Running mean of the Poisson loss."""
    _fn_ref = _fn(F.poisson)

    def __init__(self, name="poisson", dtype=None):
        super().__init__(name, dtype)


class BinaryCrossentropy(_FnMetric):
    """Running mean of the binary cross-entropy (`from_logits`, `label_smoothing` as in the loss)."""
    _fn_ref = _fn(F.binary_crossentropy)
    _args = ("from_logits", "label_smoothing")

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False, label_smoothing=0):
        super().__init__(name, dtype, from_logits=from_logits, label_smoothing=label_smoothing)


class CategoricalCrossentropy(_FnMetric):
    """Running mean of the categorical cross-entropy (`from_logits`, `label_smoothing`, `axis`)."""
    _fn_ref = _fn(F.categorical_crossentropy)
    _args = ("from_logits", "label_smoothing", "axis")

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False, label_smoothing=0,
                 axis=-1):
        super().__init__(name, dtype, from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(_FnMetric):
    """Running mean of the sparse categorical cross-entropy (`from_logits`, `axis`; `ignore_class` must
    be None)."""
    _fn_ref = _fn(F.sparse_categorical_crossentropy)
    _args = ("from_logits", "axis")

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False, axis=-1,
                 ignore_class=None):
        if ignore_class is not None:
            raise ValueError(f"`ignore_class` is not supported by ckeras yet. Received: ignore_class={ignore_class}")
        super().__init__(name, dtype, from_logits=from_logits, axis=axis)

    def get_config(self):
        return {**super().get_config(), "ignore_class": None}


# ---- hinge metrics ----

class Hinge(_FnMetric):
    """Running mean of the hinge loss."""
    _fn_ref = _fn(F.hinge)

    def __init__(self, name="hinge", dtype=None):
        super().__init__(name, dtype)


class SquaredHinge(_FnMetric):
    """Running mean of the squared hinge loss."""
    _fn_ref = _fn(F.squared_hinge)

    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(name, dtype)


class CategoricalHinge(_FnMetric):
    """Running mean of the categorical hinge loss."""
    _fn_ref = _fn(F.categorical_hinge)

    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(name, dtype)
