"""The loss functions of `keras.losses` (also `keras.metrics`): per-sample values, no reduction.

The cross-entropy family and MSE/MAE run as fused C++ ops; the others compose `ckeras.ops`, so every
one of them is differentiable under a `GradientTape`.
"""
import math
import warnings

from ckeras import ops
from ckeras.losses.loss import _EPSILON, squeeze_or_expand_to_same_rank
from ckeras.ops import nn as _nn

_FLOATS = ("float32", "float64")


def _pair(y_true, y_pred, fix_rank=True):
    """Both as tensors of y_pred's float dtype (integer predictions are computed in float32)."""
    y_pred = ops.convert_to_tensor(y_pred)
    if y_pred.dtype not in _FLOATS:
        y_pred = ops.cast(y_pred, "float32")
    y_true = ops.convert_to_tensor(y_true, dtype=y_pred.dtype)
    if fix_rank:
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return y_true, y_pred


def _l2_normalize(x, axis):
    """`x * min(rsqrt(sum(x ** 2)), 1 / epsilon)` along `axis` (Keras's `ops.normalize`, order 2)."""
    inv_norm = ops.rsqrt(ops.sum(ops.square(x), axis=axis, keepdims=True))
    return x * ops.minimum(inv_norm, 1.0 / _EPSILON)


def mean_squared_error(y_true, y_pred):
    """`mean(square(y_true - y_pred), axis=-1)`: one value per sample (fused C++ op)."""
    y_true, y_pred = _pair(y_true, y_pred, fix_rank=False)
    return _nn._mean_squared_error(y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    """`mean(abs(y_true - y_pred), axis=-1)` (fused C++ op)."""
    y_true, y_pred = _pair(y_true, y_pred, fix_rank=False)
    return _nn._mean_absolute_error(y_true, y_pred)


def mean_absolute_percentage_error(y_true, y_pred):
    """`100 * mean(abs((y_true - y_pred) / max(abs(y_true), epsilon)), axis=-1)`."""
    y_true, y_pred = _pair(y_true, y_pred)
    diff = ops.abs((y_true - y_pred) / ops.maximum(ops.abs(y_true), _EPSILON))
    return 100.0 * ops.mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """`mean(square(log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)), axis=-1)`."""
    y_true, y_pred = _pair(y_true, y_pred)
    first = ops.log(ops.maximum(y_pred, _EPSILON) + 1.0)
    second = ops.log(ops.maximum(y_true, _EPSILON) + 1.0)
    return ops.mean(ops.square(first - second), axis=-1)


def cosine_similarity(y_true, y_pred, axis=-1):
    """`-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)`: -1 for aligned vectors, 0 if either is 0."""
    y_true, y_pred = _pair(y_true, y_pred)
    return -ops.sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), axis=axis)


def huber(y_true, y_pred, delta=1.0):
    """Mean over the last axis of `0.5 * e**2` where `|e| <= delta`, else `delta * |e| - 0.5 * delta**2`,
    with `e = y_pred - y_true`."""
    y_true, y_pred = _pair(y_true, y_pred)
    delta = float(delta)
    error = y_pred - y_true
    abs_error = ops.abs(error)
    quadratic = 0.5 * ops.square(error)
    linear = delta * abs_error - 0.5 * delta * delta
    return ops.mean(ops.where(ops.less_equal(abs_error, delta), quadratic, linear), axis=-1)


def log_cosh(y_true, y_pred):
    """`mean(log(cosh(y_pred - y_true)), axis=-1)`, computed as `x + softplus(-2x) - log(2)`."""
    y_true, y_pred = _pair(y_true, y_pred)
    x = y_pred - y_true
    return ops.mean(x + ops.softplus(x * -2.0) - math.log(2.0), axis=-1)


def kl_divergence(y_true, y_pred):
    """`sum(y_true * log(y_true / y_pred), axis=-1)`, both clipped to `[epsilon, 1]`."""
    y_true, y_pred = _pair(y_true, y_pred, fix_rank=False)
    y_true = ops.clip(y_true, _EPSILON, 1.0)
    y_pred = ops.clip(y_pred, _EPSILON, 1.0)
    return ops.sum(y_true * ops.log(y_true / y_pred), axis=-1)


def poisson(y_true, y_pred):
    """`mean(y_pred - y_true * log(y_pred + epsilon), axis=-1)`."""
    y_true, y_pred = _pair(y_true, y_pred, fix_rank=False)
    return ops.mean(y_pred - y_true * ops.log(y_pred + _EPSILON), axis=-1)


def _convert_binary_labels_to_hinge(y_true):
    """0/1 labels become -1/1; labels that are not all 0 or 1 are left alone (decided on device)."""
    is_binary = ops.min(ops.cast(ops.logical_or(ops.equal(y_true, 0), ops.equal(y_true, 1)), "int32")) > 0
    return ops.where(is_binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true, y_pred):
    """`mean(maximum(1 - y_true * y_pred, 0), axis=-1)`; 0/1 labels are first mapped to -1/1."""
    y_true, y_pred = _pair(y_true, y_pred, fix_rank=False)
    y_true = _convert_binary_labels_to_hinge(y_true)
    return ops.mean(ops.maximum(1.0 - y_true * y_pred, 0.0), axis=-1)


def squared_hinge(y_true, y_pred):
    """`mean(square(maximum(1 - y_true * y_pred, 0)), axis=-1)`; 0/1 labels are first mapped to -1/1."""
    y_true, y_pred = _pair(y_true, y_pred, fix_rank=False)
    y_true = _convert_binary_labels_to_hinge(y_true)
    return ops.mean(ops.square(ops.maximum(1.0 - y_true * y_pred, 0.0)), axis=-1)


def categorical_hinge(y_true, y_pred):
    """`maximum(neg - pos + 1, 0)` with `pos = sum(y_true * y_pred)`, `neg = max((1 - y_true) * y_pred)`."""
    y_true, y_pred = _pair(y_true, y_pred, fix_rank=False)
    pos = ops.sum(y_true * y_pred, axis=-1)
    neg = ops.max((1.0 - y_true) * y_pred, axis=-1)
    return ops.maximum(neg - pos + 1.0, 0.0)


def _check_axis(axis):
    if isinstance(axis, bool):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis} of type {type(axis)}")


def _keras_logits(y_pred, from_logits, activation, fn_name):
    """KERAS.md 3.6: a softmax/sigmoid output that carries its pre-activation tensor as `_keras_logits` is
    scored from those logits, as Keras's TensorFlow backend does (warning if `from_logits=True` was passed).
    Returns `(y_pred, from_logits)` to use."""
    logits = getattr(y_pred, "_keras_logits", None)
    if logits is None:
        return y_pred, from_logits
    if from_logits:
        warnings.warn(f'"`{fn_name}` received `from_logits=True`, but the `output` argument was produced by a '
                      f"{activation} activation and thus does not represent logits. Was this intended?\"",
                      stacklevel=3)
    return logits, True


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Categorical cross-entropy per sample (fused C++ op).

    Args:
        y_true: One-hot (or soft) targets, the same shape as `y_pred`.
        y_pred: Probabilities (renormalised along `axis`, clipped to [1e-7, 1 - 1e-7]), or logits.
        from_logits: Whether `y_pred` holds logits.
        label_smoothing: In [0, 1]: targets become `y * (1 - ls) + ls / num_classes`.
        axis: The class axis.
    Returns:
        The loss with `axis` removed from `y_pred`'s shape.
    """
    _check_axis(axis)
    y_pred, from_logits = _keras_logits(y_pred, from_logits, "Softmax", "categorical_crossentropy")
    y_true, y_pred = _pair(y_true, y_pred, fix_rank=False)
    if len(y_pred.shape) and y_pred.shape[-1] == 1:
        warnings.warn("In loss categorical_crossentropy, expected y_pred.shape to be (batch_size, num_classes) "
                      f"with num_classes > 1. Received: y_pred.shape={tuple(y_pred.shape)}. Consider using "
                      "'binary_crossentropy' if you only have 2 classes.", SyntaxWarning, stacklevel=2)
    if label_smoothing:
        num_classes = y_true.shape[-1]
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / num_classes
    return _nn.categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """Cross-entropy with integer class indices as targets (fused C++ op).

    Args:
        y_true: Class indices; a trailing dim of 1 is squeezed. Out-of-range labels raise ValueError.
        y_pred: Probabilities or logits, one more dim (`axis`) than `y_true`.
        from_logits: Whether `y_pred` holds logits.
        ignore_class: Optional label (e.g. -1 or 255) whose entries get loss 0 and are masked out of
            the reduction.
        axis: The class axis.
    Returns:
        The loss per sample, shaped like `y_true`.
    """
    y_pred, from_logits = _keras_logits(y_pred, from_logits, "Softmax", "sparse_categorical_crossentropy")
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.convert_to_tensor(y_true)
    if len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, -1)
    if ignore_class is None:
        return _nn.sparse_categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis)
    valid = ops.not_equal(y_true, ignore_class)
    # The ignored entries get label 0 so that the op sees a valid index; their loss is then zeroed.
    # (Keras also zeroes their predictions, which only matters for gradients, where it gives NaN.)
    labels = ops.where(valid, y_true, 0)
    res = _nn.sparse_categorical_crossentropy(labels, y_pred, from_logits=from_logits, axis=axis)
    valid = ops.reshape(valid, res.shape)
    res = ops.where(valid, res, 0.0)
    res._keras_mask = valid
    return res


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary cross-entropy averaged over `axis` (fused C++ op over the last axis).

    Args:
        y_true: 0/1 (or soft) targets, the same shape as `y_pred`.
        y_pred: Probabilities (clipped to [1e-7, 1 - 1e-7]) or logits.
        from_logits: Whether `y_pred` holds logits.
        label_smoothing: In [0, 1]: targets become `y * (1 - ls) + 0.5 * ls`.
        axis: The axis the mean is taken over.
    """
    y_pred, from_logits = _keras_logits(y_pred, from_logits, "Sigmoid", "binary_crossentropy")
    y_true, y_pred = _pair(y_true, y_pred, fix_rank=False)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if len(y_pred.shape) and axis in (-1, len(y_pred.shape) - 1):
        return _nn._binary_crossentropy_mean(y_true, y_pred, from_logits=from_logits)
    return ops.mean(_nn.binary_crossentropy(y_true, y_pred, from_logits=from_logits), axis=axis)
