"""Accuracy metrics: `Accuracy`, `BinaryAccuracy`, `CategoricalAccuracy`, `SparseCategoricalAccuracy`,
the top-k variants, and their per-sample functions."""
from ckeras import ops
from ckeras.losses.loss import squeeze_or_expand_to_same_rank
from ckeras.metrics.reduction_metrics import MeanMetricWrapper


def accuracy(y_true, y_pred):
    """1.0 where `y_true == y_pred`, averaged over the last axis."""
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.convert_to_tensor(y_true, dtype=y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return ops.mean(ops.cast(ops.equal(y_true, y_pred), "float32"), axis=-1)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where `(y_pred > threshold) == y_true`, averaged over the last axis."""
    y_true = ops.convert_to_tensor(y_true)
    y_pred = ops.convert_to_tensor(y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    y_pred = ops.cast(ops.greater(y_pred, threshold), y_true.dtype)
    return ops.mean(ops.cast(ops.equal(y_true, y_pred), "float32"), axis=-1)


def _argmax_matches(y_true, y_pred):
    """1.0 where the integer labels `y_true` equal `argmax(y_pred, -1)`; a trailing label dim of 1 is
    squeezed for the comparison and restored in the result."""
    y_true_shape = tuple(y_true.shape)
    reshape = len(y_true.shape) == len(y_pred.shape) and len(y_true.shape) > 0 and y_true.shape[-1] == 1
    if reshape:
        y_true = ops.squeeze(y_true, -1)
    y_pred = ops.argmax(y_pred, axis=-1)
    if y_pred.dtype != y_true.dtype:
        y_pred = ops.cast(y_pred, y_true.dtype)
    matches = ops.cast(ops.equal(y_true, y_pred), "float32")
    return ops.reshape(matches, y_true_shape) if reshape else matches


def categorical_accuracy(y_true, y_pred):
    """1.0 where `argmax(y_true, -1) == argmax(y_pred, -1)`."""
    return _argmax_matches(ops.argmax(y_true, axis=-1), ops.convert_to_tensor(y_pred))


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where the integer labels equal `argmax(y_pred, -1)`; labels of shape (N, 1) give (N,)."""
    matches = _argmax_matches(ops.convert_to_tensor(y_true), ops.convert_to_tensor(y_pred))
    if len(matches.shape) > 1 and matches.shape[-1] == 1:
        matches = ops.squeeze(matches, -1)
    return matches


def _in_top_k(targets, predictions, k):
    """True where the score of class `targets[i]` is among the `k` largest of `predictions[i]` (ties at the
    boundary count as in, as TensorFlow's in_top_k does). targets: (N,), predictions: (N, C)."""
    num_classes = predictions.shape[-1]
    is_target = ops.equal(ops.one_hot(targets, num_classes), 1.0)
    target_score = ops.sum(ops.where(is_target, predictions, 0.0), axis=-1, keepdims=True)
    n_above = ops.sum(ops.cast(ops.greater(predictions, target_score), "float32"), axis=-1)
    return ops.less(n_above, float(k))


def _top_k_matches(labels, y_pred, k):
    y_pred = ops.convert_to_tensor(y_pred)
    labels_shape = tuple(labels.shape)
    if len(y_pred.shape) > 2:
        y_pred = ops.reshape(y_pred, [-1, y_pred.shape[-1]])
    if len(labels.shape) > 1:
        labels = ops.reshape(labels, [-1])
    matches = ops.cast(_in_top_k(ops.cast(labels, "int32"), y_pred, k), "float32")
    return ops.reshape(matches, labels_shape) if len(labels_shape) > 1 else matches


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the one-hot target's class is among the `k` highest predictions."""
    return _top_k_matches(ops.argmax(y_true, axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the integer target is among the `k` highest predictions."""
    return _top_k_matches(ops.convert_to_tensor(y_true), y_pred, k)


class Accuracy(MeanMetricWrapper):
    """How often `y_pred` equals `y_true` exactly.

    Args:
        name: The metric name. Defaults to "accuracy".
        dtype: The result dtype.
    """

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(fn=accuracy, name=name, dtype=dtype)
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class BinaryAccuracy(MeanMetricWrapper):
    """How often `y_pred > threshold` matches the binary labels.

    Args:
        name: The metric name. Defaults to "binary_accuracy".
        dtype: The result dtype.
        threshold: In (0, 1). Defaults to 0.5.
    """

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        if threshold is not None and (threshold <= 0 or threshold >= 1):
            raise ValueError("Invalid value for argument `threshold`. Expected a value in interval (0, 1). "
                             f"Received: threshold={threshold}")
        super().__init__(fn=binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "threshold": self.threshold}


class CategoricalAccuracy(MeanMetricWrapper):
    """How often `argmax(y_pred)` matches one-hot labels.

    Args:
        name: The metric name. Defaults to "categorical_accuracy".
        dtype: The result dtype.
    """

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(fn=categorical_accuracy, name=name, dtype=dtype)
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often `argmax(y_pred)` matches integer labels.

    Args:
        name: The metric name. Defaults to "sparse_categorical_accuracy".
        dtype: The result dtype.
    """

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(fn=sparse_categorical_accuracy, name=name, dtype=dtype)
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot target is among the top `k` predictions.

    Args:
        k: Number of top predictions to look at. Defaults to 5.
        name: The metric name. Defaults to "top_k_categorical_accuracy".
        dtype: The result dtype.
    """

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(fn=top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "k": self.k}


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer target is among the top `k` predictions.

    Args:
        k: Number of top predictions to look at. Defaults to 5.
        name: The metric name. Defaults to "sparse_top_k_categorical_accuracy".
        dtype: The result dtype.
    """

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(fn=sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "k": self.k}
