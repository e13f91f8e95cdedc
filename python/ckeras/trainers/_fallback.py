"""Stand-in losses and metrics for the trainer while `ckeras.losses` / `ckeras.metrics` are absent.

Only used when `ckeras.metrics.resolve` cannot be imported. It offers the common strings (mse, mae, the
cross-entropies, "accuracy" by KERAS.md 3.5's shape rule) with Keras's `sum_over_batch_size` reduction, so
the trainer works and can be tested on its own. The real implementations win as soon as they exist.
"""
import numpy as np

from ckeras import ops
from ckeras.ops import nn as _nn


def _mse(y_true, y_pred):
    return _nn._mean_squared_error(y_true, y_pred)


def _mae(y_true, y_pred):
    return _nn._mean_absolute_error(y_true, y_pred)


def _bce(y_true, y_pred):
    return _nn._binary_crossentropy_mean(y_true, y_pred)


def _cce(y_true, y_pred):
    return ops.categorical_crossentropy(y_true, y_pred)


def _scce(y_true, y_pred):
    return ops.sparse_categorical_crossentropy(y_true, y_pred)


_LOSSES = {"mse": _mse, "mean_squared_error": _mse, "mae": _mae, "mean_absolute_error": _mae,
           "binary_crossentropy": _bce, "categorical_crossentropy": _cce,
           "sparse_categorical_crossentropy": _scce}


class LossFunctionWrapper:
    """`fn(y_true, y_pred)` per sample, weighted by `sample_weight`, summed and divided by the number of
    per-sample values (Keras's "sum_over_batch_size")."""

    def __init__(self, fn, name):
        self.fn = fn
        self.name = name

    def __call__(self, y_true, y_pred, sample_weight=None):
        values = ops.convert_to_tensor(self.fn(y_true, y_pred))
        if values.dtype != "float32":
            values = ops.cast(values, "float32")
        n = max(values.size, 1)
        if sample_weight is not None:
            sw = ops.convert_to_tensor(sample_weight)
            while sw.ndim > values.ndim and sw.shape[-1] == 1:
                sw = ops.squeeze(sw, -1)
            while sw.ndim < values.ndim:
                sw = ops.expand_dims(sw, -1)
            values = ops.multiply(values, ops.cast(sw, values.dtype))
        return ops.divide(ops.sum(values), float(n))


def _shape_kind(y_true, y_pred):
    """(binary, sparse) by KERAS.md 3.5."""
    t, p = tuple(y_true.shape), tuple(y_pred.shape)
    binary = p[-1] == 1
    sparse = len(t) < len(p) or (t[-1] == 1 and p[-1] > 1)
    return binary, sparse


def resolve_loss(identifier, y_true, y_pred):
    if identifier is None:
        return None
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in ("crossentropy", "ce"):
            binary, sparse = _shape_kind(y_true, y_pred)
            fn = _bce if binary else _scce if sparse else _cce
        elif key in _LOSSES:
            fn = _LOSSES[key]
        else:
            raise ValueError(f"Could not interpret loss identifier: {identifier}")
        return LossFunctionWrapper(fn, identifier)
    if hasattr(identifier, "name") and hasattr(identifier, "reduction"):
        return identifier  # a Loss instance
    return LossFunctionWrapper(identifier, getattr(identifier, "__name__", "loss"))


class _MeanMetric:
    """A weighted running mean of per-sample values `fn(y_true, y_pred)`, as Keras's MeanMetricWrapper."""

    def __init__(self, fn, name, direction="down"):
        self.fn = fn
        self.name = name
        self._direction = direction
        self.reset_state()

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = np.asarray(self.fn(y_true, y_pred), dtype=np.float64)
        w = np.ones_like(values) if sample_weight is None else np.broadcast_to(
            np.asarray(sample_weight, dtype=np.float64).reshape(values.shape[:1] + (1,) * (values.ndim - 1)),
            values.shape)
        self.total += float(np.sum(values * w))
        self.count += float(np.sum(w))

    def result(self):
        return self.total / self.count if self.count else 0.0

    @property
    def variables(self):
        return []


def _binary_accuracy(y_true, y_pred):
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if t.ndim == p.ndim - 1:
        t = t[..., None]
    return np.mean((p > 0.5).astype(np.float32) == t.astype(np.float32), axis=-1)


def _categorical_accuracy(y_true, y_pred):
    return (np.argmax(np.asarray(y_true), -1) == np.argmax(np.asarray(y_pred), -1)).astype(np.float32)


def _sparse_categorical_accuracy(y_true, y_pred):
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if t.ndim == p.ndim:
        t = t[..., 0]
    return (t.astype(np.int64) == np.argmax(p, -1)).astype(np.float32)


def resolve_metric(identifier, y_true, y_pred):
    if identifier is None:
        return None
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in ("accuracy", "acc"):
            binary, sparse = _shape_kind(y_true, y_pred)
            fn = _binary_accuracy if binary else _sparse_categorical_accuracy if sparse else _categorical_accuracy
            return _MeanMetric(fn, identifier, "up")
        fns = {"binary_accuracy": _binary_accuracy, "categorical_accuracy": _categorical_accuracy,
               "sparse_categorical_accuracy": _sparse_categorical_accuracy}
        if key in fns:
            return _MeanMetric(fns[key], identifier, "up")
        if key in _LOSSES:
            return _MeanMetric(_LOSSES[key], identifier)
        raise ValueError(f"Could not interpret metric identifier: {identifier}")
    if hasattr(identifier, "update_state"):
        return identifier
    return _MeanMetric(identifier, getattr(identifier, "__name__", "metric"))
