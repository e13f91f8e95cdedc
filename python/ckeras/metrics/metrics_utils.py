"""Confusion-matrix accumulation shared by Precision, Recall, the TP/FP/TN/FN counts and AUC.

One update is a handful of batched ops: compare every prediction with every threshold, (N, T), then one
weighted sum per count (a matmul) -- no per-threshold loop.
"""
import numpy as np

from ckeras import ops
from ckeras.losses.loss import _EPSILON, squeeze_or_expand_to_same_rank

NEG_INF = -1e10
TP, FP, TN, FN = "tp", "fp", "tn", "fn"


def _to_list(x):
    return list(x) if isinstance(x, (list, tuple, np.ndarray)) else [x]


def parse_init_thresholds(thresholds, default_threshold=0.5):
    """The thresholds as a list, checked to lie in [0, 1]."""
    if thresholds is not None:
        bad = [t for t in _to_list(thresholds) if t is None or t < 0 or t > 1]
        if bad:
            raise ValueError(f"Threshold values must be in [0, 1]. Received: {bad}")
    return _to_list(default_threshold if thresholds is None else thresholds)


def is_evenly_distributed_thresholds(thresholds):
    """True for 3 or more thresholds equal to `i / (n - 1)` (within epsilon)."""
    n = len(thresholds)
    if n < 3:
        return False
    return bool(np.allclose(thresholds, np.arange(n, dtype=np.float32) / (n - 1), atol=_EPSILON))


def _filter_top_k(x, k):
    """Keeps the `k` largest values along the last axis, NEG_INF elsewhere. Ties go to the lower index,
    as with `top_k`: x[i] is kept when fewer than k entries j beat it (x[j] > x[i], or equal with j < i)."""
    num = x.shape[-1]
    xi, xj = ops.expand_dims(x, -1), ops.expand_dims(x, -2)  # (..., C, 1) and (..., 1, C)
    earlier = ops.convert_to_tensor(np.tril(np.ones((num, num), dtype=bool), -1))  # [i, j] = j < i
    beats = ops.logical_or(ops.greater(xj, xi), ops.logical_and(ops.equal(xj, xi), earlier))
    n_beating = ops.sum(ops.cast(beats, "float32"), axis=-1)
    return ops.where(ops.less(n_beating, float(k)), x, NEG_INF)


def update_confusion_matrix_variables(variables_to_update, y_true, y_pred, thresholds, top_k=None,
                                      class_id=None, sample_weight=None, multi_label=False, label_weights=None,
                                      thresholds_distributed_evenly=False):
    """Adds this batch's weighted counts to the Variables in `variables_to_update` (keys TP, FP, TN, FN).

    A prediction counts as positive at threshold t when `y_pred > t`; labels are cast to bool. With evenly
    distributed thresholds (AUC's default), predictions are clipped to [0, 1] and bucketed as Keras does:
    positive at threshold index j when `y_pred * (T - 1) > j`, always at the first (-epsilon) threshold
    and never at the last (1 + epsilon).

    Shapes: y_true, y_pred (N, ...) flattened to (M,) values, or (N, L) when `multi_label`; counts (T,) or
    (T, L).
    """
    y_pred = ops.convert_to_tensor(y_pred, dtype="float32")
    y_true = ops.convert_to_tensor(y_true, dtype="float32")
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    if sample_weight is not None:  # (N,) weights become (N, 1) next to (N, C) labels
        sample_weight = ops.expand_dims(ops.convert_to_tensor(sample_weight, dtype="float32"), -1)
        _, sample_weight = squeeze_or_expand_to_same_rank(y_true, sample_weight, expand_rank_1=False)
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if len(y_pred.shape) == 1:
            raise ValueError("When class_id is provided, y_pred must be a 2D array with shape (num_samples, "
                             f"num_classes), found shape: {tuple(y_pred.shape)}")
        y_true, y_pred = y_true[..., class_id, None], y_pred[..., class_id, None]
    shape = tuple(y_pred.shape)
    weights = None if sample_weight is None else ops.broadcast_to(sample_weight, shape)
    if label_weights is not None and not multi_label:
        lw = ops.broadcast_to(ops.convert_to_tensor(label_weights, dtype="float32"), shape)
        weights = lw if weights is None else weights * lw
    labels = ops.cast(ops.not_equal(y_true, 0.0), "float32")
    num_thresholds = len(thresholds)
    if thresholds_distributed_evenly:
        y_pred = ops.clip(y_pred, 0.0, 1.0) * float(num_thresholds - 1)
        cuts = np.arange(num_thresholds, dtype=np.float32)
        cuts[0] = -1.0
    else:
        cuts = np.asarray(thresholds, dtype=np.float32)
    if not multi_label:
        y_pred, labels = ops.reshape(y_pred, [-1, 1]), ops.reshape(labels, [-1])
        weights = None if weights is None else ops.reshape(weights, [-1])
    else:
        y_pred = ops.expand_dims(y_pred, -1)  # (N, L, 1)
    above = ops.cast(ops.greater(y_pred, ops.convert_to_tensor(cuts)), "float32")  # (M, T) or (N, L, T)
    pos = labels if weights is None else labels * weights
    neg = (1.0 - labels) if weights is None else (1.0 - labels) * weights
    if multi_label:  # (N, L) x (N, L, T) summed over N -> (L, T) -> (T, L)
        tp = ops.transpose(ops.sum(ops.expand_dims(pos, -1) * above, axis=0))
        fp = ops.transpose(ops.sum(ops.expand_dims(neg, -1) * above, axis=0))
        total_pos, total_neg = ops.sum(pos, axis=0), ops.sum(neg, axis=0)
    else:  # (2, M) @ (M, T) -> tp and fp in one matmul
        counts = ops.matmul(ops.stack([pos, neg]), above)
        tp, fp = counts[0], counts[1]
        total_pos, total_neg = ops.sum(pos), ops.sum(neg)
    if TP in variables_to_update:
        variables_to_update[TP].assign_add(tp)
    if FP in variables_to_update:
        variables_to_update[FP].assign_add(fp)
    if TN in variables_to_update:
        variables_to_update[TN].assign_add(total_neg - fp)
    if FN in variables_to_update:
        variables_to_update[FN].assign_add(total_pos - tp)
