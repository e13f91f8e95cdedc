"""Confusion-matrix metrics: TruePositives/FalsePositives/TrueNegatives/FalseNegatives, Precision, Recall
and AUC (ROC and PR curves, Keras's interpolation)."""
import numpy as np

from ckeras import ops
from ckeras.losses.loss import _EPSILON, _divide_no_nan
from ckeras.metrics import metrics_utils as mu
from ckeras.metrics.metric import Metric


class _ConfusionMatrixConditionCount(Metric):
    """The weighted count of one confusion-matrix cell, one value per threshold."""

    _cond = None

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = mu.parse_init_thresholds(thresholds, default_threshold=0.5)
        self._thresholds_distributed_evenly = mu.is_evenly_distributed_thresholds(self.thresholds)
        self.accumulator = self.add_variable(shape=(len(self.thresholds),), initializer="zeros",
                                             name="accumulator")

    def update_state(self, y_true, y_pred, sample_weight=None):
        mu.update_confusion_matrix_variables({self._cond: self.accumulator}, y_true, y_pred, self.thresholds,
                                             sample_weight=sample_weight,
                                             thresholds_distributed_evenly=self._thresholds_distributed_evenly)

    def result(self):
        value = self.accumulator.value
        return ops.copy(value[0] if len(self.thresholds) == 1 else value)

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConfusionMatrixConditionCount):
    """Weighted number of true positives (`y_pred > threshold` and `y_true` true), per threshold."""
    _cond = mu.TP


class FalsePositives(_ConfusionMatrixConditionCount):
    """Weighted number of false positives (`y_pred > threshold` and `y_true` false), per threshold."""
    _cond = mu.FP


class TrueNegatives(_ConfusionMatrixConditionCount):
    """Weighted number of true negatives (`y_pred <= threshold` and `y_true` false), per threshold."""
    _cond = mu.TN


class FalseNegatives(_ConfusionMatrixConditionCount):
    """Weighted number of false negatives (`y_pred <= threshold` and `y_true` true), per threshold."""
    _cond = mu.FN


class _PrecisionRecall(Metric):
    _counts = ()  # (attribute, cell) pairs; the result is tp / (tp + other)

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        default = 0.5 if top_k is None else mu.NEG_INF
        self.thresholds = mu.parse_init_thresholds(thresholds, default_threshold=default)
        self._thresholds_distributed_evenly = mu.is_evenly_distributed_thresholds(self.thresholds)
        for attr, _ in self._counts:
            setattr(self, attr, self.add_variable(shape=(len(self.thresholds),), initializer="zeros", name=attr))

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Accumulates the counts. `y_true` is cast to bool; `y_pred` should lie in [0, 1]."""
        mu.update_confusion_matrix_variables({cell: getattr(self, attr) for attr, cell in self._counts},
                                             y_true, y_pred, self.thresholds, top_k=self.top_k,
                                             class_id=self.class_id, sample_weight=sample_weight,
                                             thresholds_distributed_evenly=self._thresholds_distributed_evenly)

    def result(self):
        tp, other = (getattr(self, attr).value for attr, _ in self._counts)
        result = _divide_no_nan(tp, tp + other)
        return result[0] if len(self.thresholds) == 1 else result

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(_PrecisionRecall):
    """`true_positives / (true_positives + false_positives)`.

    Args:
        thresholds: A float or list of floats in [0, 1]; a prediction above a threshold counts as positive.
            Defaults to 0.5 (or to "in the top k" when `top_k` is set). One result per threshold.
        top_k: Only the `top_k` highest predictions of each sample count as positive.
        class_id: Only this class (column of the last axis) is scored.
        name: The metric name.
        dtype: The result dtype.
    """
    _counts = (("true_positives", mu.TP), ("false_positives", mu.FP))


class Recall(_PrecisionRecall):
    """`true_positives / (true_positives + false_negatives)`.

    Args:
        thresholds: A float or list of floats in [0, 1]; a prediction above a threshold counts as positive.
            Defaults to 0.5 (or to "in the top k" when `top_k` is set). One result per threshold.
        top_k: Only the `top_k` highest predictions of each sample count as positive.
        class_id: Only this class (column of the last axis) is scored.
        name: The metric name.
        dtype: The result dtype.
    """
    _counts = (("true_positives", mu.TP), ("false_negatives", mu.FN))


class AUC(Metric):
    """Area under the ROC or PR curve, from TP/FP/TN/FN counts at `num_thresholds` thresholds.

    The thresholds are `[-eps, 1/(T-1), ..., (T-2)/(T-1), 1 + eps]`. The "interpolation" summation uses the
    trapezoid rule for ROC, and for PR interpolates TP and FP linearly between thresholds (Davis & Goadrich);
    "minoring" / "majoring" use the lower / upper rectangle.

    Args:
        num_thresholds: Number of thresholds (> 1). Defaults to 200.
        curve: "ROC" (default) or "PR".
        summation_method: "interpolation" (default), "minoring" or "majoring".
        name: The metric name.
        dtype: The result dtype.
        thresholds: Optional explicit thresholds in [0, 1] (then `num_thresholds = len + 2`).
        multi_label: Score each column of a (N, L) input separately and average the L AUCs.
        num_labels: The number of labels when `multi_label` (else taken from the first batch).
        label_weights: Per-label weights (of the average when `multi_label`, of the counts otherwise).
        from_logits: Apply a sigmoid to `y_pred` first.
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None, dtype=None,
                 thresholds=None, multi_label=False, num_labels=None, label_weights=None, from_logits=False):
        self._direction = "up"
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            self.num_thresholds = len(thresholds) + 2
            thresholds = sorted(thresholds)
            self._thresholds_distributed_evenly = mu.is_evenly_distributed_thresholds(
                np.array([0.0] + thresholds + [1.0]))
        else:
            if num_thresholds <= 1:
                raise ValueError("Argument `num_thresholds` must be an integer > 1. "
                                 f"Received: num_thresholds={num_thresholds}")
            self.num_thresholds = num_thresholds
            thresholds = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._thresholds_distributed_evenly = True
        self._thresholds = np.array([0.0 - _EPSILON] + thresholds + [1.0 + _EPSILON])
        curve = str(curve).upper()
        if curve not in ("ROC", "PR"):
            raise ValueError(f'Invalid AUC curve value: "{curve}". Expected values are ["PR", "ROC"]')
        self.curve = curve
        summation_method = str(summation_method).lower()
        if summation_method not in ("interpolation", "majoring", "minoring"):
            raise ValueError(f'Invalid AUC summation method value: "{summation_method}". '
                             'Expected values are ["interpolation", "majoring", "minoring"]')
        self.summation_method = summation_method
        super().__init__(name=name, dtype=dtype)
        self.multi_label = multi_label
        self.num_labels = num_labels
        self.label_weights = None if label_weights is None else ops.convert_to_tensor(
            np.asarray(label_weights, dtype=self.dtype))
        self._from_logits = from_logits
        self._built = False
        if multi_label:
            if num_labels:
                self._build([None, num_labels])
        else:
            if num_labels:
                raise ValueError("`num_labels` is needed only when `multi_label` is True.")
            self._build(None)

    @property
    def thresholds(self):
        """The thresholds used for evaluating AUC."""
        return list(self._thresholds)

    def _build(self, shape):
        if self.multi_label:
            if len(shape) != 2:
                raise ValueError(f"`y_pred` must have rank 2 when `multi_label=True`. Found rank {len(shape)}. "
                                 f"Full shape received for `y_pred`: {tuple(shape)}")
            self._num_labels = shape[1]
            variable_shape = (self.num_thresholds, self._num_labels)
        else:
            variable_shape = (self.num_thresholds,)
        self._build_input_shape = shape
        for name in ("true_positives", "false_positives", "true_negatives", "false_negatives"):
            setattr(self, name, self.add_variable(shape=variable_shape, initializer="zeros", name=name))
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Accumulates the confusion counts at every threshold."""
        y_pred = ops.convert_to_tensor(y_pred)
        if not self._built:
            self._build(tuple(y_pred.shape))
        if self._from_logits:
            y_pred = ops.sigmoid(y_pred)
        mu.update_confusion_matrix_variables(
            {mu.TP: self.true_positives, mu.TN: self.true_negatives, mu.FP: self.false_positives,
             mu.FN: self.false_negatives}, y_true, y_pred, self._thresholds,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly, sample_weight=sample_weight,
            multi_label=self.multi_label, label_weights=None if self.multi_label else self.label_weights)

    def _average(self, by_label):
        if not self.multi_label:
            return ops.sum(by_label)
        by_label = ops.sum(by_label, axis=0)
        if self.label_weights is None:
            return ops.mean(by_label)
        return _divide_no_nan(ops.sum(by_label * self.label_weights), ops.sum(self.label_weights))

    def interpolate_pr_auc(self):
        """PR-AUC with TP and P = TP + FP linear between thresholds: each interval adds
        `slope * (dTP + intercept * log(P_A / P_B)) / (TP_B + FN_B)`, precision slope `dTP / dP`."""
        tp, fp, fn = self.true_positives.value, self.false_positives.value, self.false_negatives.value
        t = self.num_thresholds
        dtp = tp[:t - 1] - tp[1:]
        p = tp + fp
        dp = p[:t - 1] - p[1:]
        prec_slope = _divide_no_nan(dtp, ops.maximum(dp, 0.0))
        intercept = tp[1:] - prec_slope * p[1:]
        safe_p_ratio = ops.where(ops.logical_and(ops.greater(p[:t - 1], 0.0), ops.greater(p[1:], 0.0)),
                                 _divide_no_nan(p[:t - 1], ops.maximum(p[1:], 0.0)), 1.0)
        increment = _divide_no_nan(prec_slope * (dtp + intercept * ops.log(safe_p_ratio)),
                                   ops.maximum(tp[1:] + fn[1:], 0.0))
        return self._average(increment)

    def result(self):
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self.interpolate_pr_auc()
        tp, fp = self.true_positives.value, self.false_positives.value
        tn, fn = self.true_negatives.value, self.false_negatives.value
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, _divide_no_nan(tp, tp + fp)
        t = self.num_thresholds
        if self.summation_method == "interpolation":
            heights = (y[:t - 1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = ops.minimum(y[:t - 1], y[1:])
        else:
            heights = ops.maximum(y[:t - 1], y[1:])
        return self._average((x[:t - 1] - x[1:]) * heights)

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        label_weights = None if self.label_weights is None else np.asarray(self.label_weights).tolist()
        config = {"num_thresholds": self.num_thresholds, "curve": self.curve,
                  "summation_method": self.summation_method, "multi_label": self.multi_label,
                  "num_labels": self.num_labels, "label_weights": label_weights, "from_logits": self._from_logits}
        if self._init_from_thresholds:
            config["thresholds"] = [float(t) for t in self.thresholds[1:-1]]
        return {**super().get_config(), **config}
