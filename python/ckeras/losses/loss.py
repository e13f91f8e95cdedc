"""`Loss`: Keras 3's loss base class, and the reduction helpers shared with `ckeras.metrics`.

A loss's `call()` returns per-sample values; `__call__` weights them (sample_weight, and a mask a loss may
attach to its values as `_keras_mask`) and reduces them as `reduction` says.
"""
import re

from ckeras import ops

_EPSILON = 1e-7  # keras.backend.epsilon()
_REDUCTIONS = ("sum_over_batch_size", "sum", None, "none", "mean", "mean_with_sample_weight")
_name_counts = {}


def to_snake_case(name):
    """`"KLDivergence"` -> `"kl_divergence"`, `"TopKCategoricalAccuracy"` -> `"top_k_categorical_accuracy"`."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _auto_name(class_name):
    """A unique snake_case name for an unnamed object: `my_loss`, then `my_loss_1`, ..."""
    base = to_snake_case(class_name)
    n = _name_counts.get(base, 0)
    _name_counts[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def _divide_no_nan(x, y):
    """`x / y`, and 0 where `y == 0` (elementwise, broadcasting)."""
    x, y = ops.convert_to_tensor(x), ops.convert_to_tensor(y)
    if not y.shape and y.device == "cpu" and not (x.requires_grad or y.requires_grad) and float(y) != 0:
        return ops.divide(x, y)  # what the selects below give for a non-zero scalar `y`, in 1 op, not 5
    zero = ops.equal(y, 0)
    return ops.where(zero, 0.0, ops.divide(x, ops.where(zero, 1.0, y)))


class Loss:
    """Base class of the ckeras losses (Keras 3 API).

    Subclasses implement `call(y_true, y_pred)`, returning one loss value per sample (or per element).

    Args:
        name: Optional name of the loss instance.
        reduction: `"sum_over_batch_size"` (default) and `"mean"` sum the weighted values and divide by their
            number; `"sum"` sums them; `"mean_with_sample_weight"` divides the sum by the sum of the sample
            weights; `"none"` and `None` return the values unreduced.
        dtype: The dtype of the computation (float32 by default); both inputs are cast to it.
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or _auto_name(type(self).__name__)
        self.reduction = standardize_reduction(reduction)
        self._dtype = dtype or "float32"

    @property
    def dtype(self):
        return self._dtype

    def __call__(self, y_true, y_pred, sample_weight=None):
        """The reduced loss between `y_true` and `y_pred`, weighted by `sample_weight` if given."""
        in_mask = getattr(y_pred, "_keras_mask", None)
        y_pred = ops.convert_to_tensor(y_pred, dtype=self.dtype)
        y_true = ops.convert_to_tensor(y_true, dtype=self.dtype)
        losses = self.call(y_true, y_pred)
        out_mask = getattr(losses, "_keras_mask", None)
        if in_mask is not None and out_mask is not None:
            mask = ops.logical_and(in_mask, out_mask)
        else:
            mask = in_mask if in_mask is not None else out_mask
        return reduce_weighted_values(losses, sample_weight=sample_weight, mask=mask,
                                      reduction=self.reduction, dtype=self.dtype)

    def call(self, y_true, y_pred):
        raise NotImplementedError(f"Loss '{type(self).__name__}' must implement `call(y_true, y_pred)`.")

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, reduction={self.reduction}>"


def standardize_reduction(reduction):
    """Returns `reduction` if it is one Keras knows, else raises ValueError."""
    if reduction not in _REDUCTIONS:
        raise ValueError(f"Invalid value for argument `reduction`. Expected one of {set(_REDUCTIONS)}. "
                         f"Received: reduction={reduction}")
    return reduction


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Fixes ranks that differ by one through a trailing size-1 dim: that dim is squeezed, except that a
    rank-1 partner is expanded instead (when `expand_rank_1`)."""
    r1, r2 = len(x1.shape), len(x2.shape)
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = ops.expand_dims(x2, -1)
        else:
            x1 = ops.squeeze(x1, -1)
    elif r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = ops.expand_dims(x1, -1)
        else:
            x2 = ops.squeeze(x2, -1)
    return x1, x2


def _num_elements(x):
    n = 1
    for d in x.shape:
        n *= d
    return n


def reduce_values(values, sample_weight=None, reduction="sum_over_batch_size"):
    """Reduces already-weighted `values` (see `Loss` for the reductions). Scalars and shape-(0,) values
    are returned as they are."""
    if reduction is None or reduction == "none" or tuple(values.shape) in ((), (0,)):
        return values
    loss = ops.sum(values)
    if reduction in ("sum_over_batch_size", "mean", "mean_with_sample_weight"):
        if reduction == "mean_with_sample_weight" and sample_weight is not None:
            loss = _divide_no_nan(loss, ops.cast(ops.sum(sample_weight), loss.dtype))
        else:
            n = _num_elements(values)
            loss = loss / n if n > 0 else ops.zeros_like(loss)
    return loss


def reduce_weighted_values(values, sample_weight=None, mask=None, reduction="sum_over_batch_size",
                           dtype=None):
    """Multiplies `values` by `sample_weight` (merged with `mask`; ranks fixed as Keras does), then reduces."""
    reduction = standardize_reduction(reduction)
    values = ops.convert_to_tensor(values, dtype=dtype)
    if sample_weight is not None:
        sample_weight = ops.convert_to_tensor(sample_weight, dtype=dtype)
    sample_weight = apply_mask(sample_weight, mask, dtype=values.dtype, reduction=reduction)
    if sample_weight is not None:
        sample_weight = ops.cast(sample_weight, values.dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = values * sample_weight
    return reduce_values(values, sample_weight, reduction)


def apply_mask(sample_weight, mask, dtype, reduction):
    """Merges a boolean `mask` into `sample_weight`. For the mean reductions the kept entries are scaled by
    total/valid, so that the mean runs over the valid entries only."""
    if mask is None:
        return sample_weight
    mask = ops.cast(mask, dtype)
    if reduction in ("mean", "sum_over_batch_size"):
        mask = mask * _divide_no_nan(float(_num_elements(mask)), ops.sum(mask))
    if sample_weight is None:
        return mask
    sample_weight = ops.cast(sample_weight, dtype)
    mask, sample_weight = squeeze_or_expand_to_same_rank(mask, sample_weight)
    return sample_weight * mask
