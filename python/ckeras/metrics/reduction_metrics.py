"""`Sum`, `Mean` and `MeanMetricWrapper`: running (weighted) sums and means, each update a few ops."""
from ckeras import ops
from ckeras.losses.loss import _divide_no_nan, apply_mask, squeeze_or_expand_to_same_rank
from ckeras.metrics.metric import Metric


def _is_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def reduce_to_samplewise_values(values, sample_weight, reduce_fn, dtype):
    """Weights `values` and reduces them to one value per sample (axis 0).

    The sample weights are rank-fixed against `values`; `values` is first reduced (with `reduce_fn`) down to
    the weights' rank. Returns `(values, sample_weight)`, both per sample (the weights may be None).
    """
    dtype = dtype or "float32"
    mask = getattr(values, "_keras_mask", None)
    if values.dtype != dtype:
        values = ops.cast(values, dtype)
    if sample_weight is not None:
        sample_weight = ops.convert_to_tensor(sample_weight, dtype=dtype)
        if mask is not None:
            sample_weight = apply_mask(sample_weight, mask, dtype=dtype, reduction="sum")
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        weight_ndim, values_ndim = len(sample_weight.shape), len(values.shape)
        if values_ndim > weight_ndim:
            values = reduce_fn(values, axis=list(range(weight_ndim, values_ndim)))
        sample_weight = ops.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if weight_ndim > 1:
            sample_weight = reduce_fn(sample_weight, axis=list(range(1, weight_ndim)))
    if len(values.shape) > 1:
        values = reduce_fn(values, axis=list(range(1, len(values.shape))))
    return values, sample_weight


class Sum(Metric):
    """The (weighted) sum of the values passed to `update_state`, in the variable `total`.

    Args:
        name: The metric name. Defaults to "sum".
        dtype: The result dtype.
    """

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), initializer="zeros", dtype=self.dtype, name="total")

    def update_state(self, values, sample_weight=None):
        values, _ = reduce_to_samplewise_values(ops.convert_to_tensor(values), sample_weight, ops.sum,
                                                self.dtype)
        self.total.assign_add(ops.sum(values))

    def reset_state(self):
        self.total.assign(0)

    def result(self):
        return ops.copy(self.total)


class Mean(Metric):
    """The (weighted) mean of the values passed to `update_state`: `total / count`.

    Values of rank > 1 are first averaged per sample; `count` grows by the number of samples, or by the sum
    of the sample weights.

    Args:
        name: The metric name. Defaults to "mean".
        dtype: The result dtype.
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), initializer="zeros", dtype=self.dtype, name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", dtype=self.dtype, name="count")

    def update_state(self, values, sample_weight=None):
        if _is_number(sample_weight) and (_is_number(values) or len(getattr(values, "shape", (1,))) == 0):
            # Fast path (the trainer's loss tracker): a scalar value with a Python number as its weight.
            self.total.assign_add(ops.multiply(ops.cast(values, self.dtype), float(sample_weight)))
            self.count.assign_add(float(sample_weight))
            return
        values, sample_weight = reduce_to_samplewise_values(ops.convert_to_tensor(values), sample_weight,
                                                            ops.mean, self.dtype)
        self.total.assign_add(ops.sum(values))
        if sample_weight is not None:
            self.count.assign_add(ops.sum(sample_weight))
        else:
            self.count.assign_add(float(values.shape[0]) if len(values.shape) >= 1 else 1.0)

    def reset_state(self):
        self.total.assign(0)
        self.count.assign(0)

    def result(self):
        return _divide_no_nan(self.total.value, self.count.value)


class MeanMetricWrapper(Mean):
    """The running mean of a per-sample function `fn(y_true, y_pred, **kwargs)`.

    Args:
        fn: The function to average, e.g. a loss function.
        name: The metric name.
        dtype: The result dtype.
        **kwargs: Passed on to `fn`.
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs
        from ckeras import losses
        if fn in losses.ALL_OBJECTS or type(fn) in losses.ALL_OBJECTS:
            self._direction = "down"

    def update_state(self, y_true, y_pred, sample_weight=None):
        mask = getattr(y_pred, "_keras_mask", None)
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        sample_weight = apply_mask(sample_weight, mask, dtype=self.dtype, reduction="sum")
        return super().update_state(values, sample_weight=sample_weight)

    def get_config(self):
        from ckeras import losses
        config = super().get_config()
        fn = self._fn
        config["fn"] = losses.serialize(fn) if isinstance(fn, losses.Loss) else getattr(fn, "__name__", fn)
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        fn = config.get("fn")
        if isinstance(fn, (str, dict)):
            from ckeras import metrics
            config["fn"] = metrics._function_by_name(fn)
        return cls(**config)
