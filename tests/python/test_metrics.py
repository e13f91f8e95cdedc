"""`ckeras.metrics` against NumPy: every metric over several `update_state` batches with sample weights,
reset_state, configs, `get`, AUC (ROC/PR, all summation methods, multi-label) against a NumPy version of
Keras's algorithm and against the exact ROC AUC, and the shape-based resolution of "accuracy"/"ce"."""
import numpy as np
import pytest
from conftest import assert_close

import ckeras
from ckeras import losses, metrics
from ckeras.metrics.resolve import is_binary_or_sparse_categorical, resolve_loss, resolve_metric

RNG = np.random.default_rng(11)
EPS = 1e-7


def _batches(make, n_batches=3, n=8):
    """[(y_true, y_pred, sample_weight)] with weights in [0, 2) (some exactly 0)."""
    out = []
    for _ in range(n_batches):
        t, p = make(n)
        w = RNG.uniform(0, 2, n).astype(np.float32)
        w[0] = 0.0
        out.append((t, p, w))
    return out


def _run(metric, batches, weighted=True):
    metric.reset_state()
    for t, p, w in batches:
        metric.update_state(t, p, sample_weight=w if weighted else None)
    return metric.result()


def _weighted_mean(per_sample, batches, weighted=True):
    values = np.concatenate(per_sample)
    if not weighted:
        return values.mean()
    w = np.concatenate([b[2] for b in batches])
    return (values * w).sum() / w.sum()


# ---- Mean / Sum ----

def test_mean_and_sum_over_batches():
    mean, total = metrics.Mean(), metrics.Sum()
    vals, weights = [], []
    for _ in range(4):
        v = RNG.normal(size=6).astype(np.float32)
        w = RNG.uniform(0, 1, 6).astype(np.float32)
        mean.update_state(v, sample_weight=w)
        total.update_state(v, sample_weight=w)
        vals.append(v)
        weights.append(w)
    v, w = np.concatenate(vals), np.concatenate(weights)
    assert_close(mean.result(), (v * w).sum() / w.sum(), rtol=1e-5)
    assert_close(total.result(), (v * w).sum(), rtol=1e-5)
    assert [x.path for x in mean.variables] == ["mean/total", "mean/count"]
    assert all(not x.trainable for x in mean.variables + total.variables)
    mean.reset_state()
    total.reset_state()
    assert float(mean.result()) == 0.0 and float(total.result()) == 0.0


def test_mean_of_higher_rank_values_and_scalar_weights():
    m = metrics.Mean()
    v = RNG.normal(size=(4, 3)).astype(np.float32)
    m.update_state(v)  # per-sample means, count += 4
    m.update_state(2.5, sample_weight=4)  # the loss tracker's fast path
    assert_close(m.result(), (v.mean(1).sum() + 2.5 * 4) / 8, rtol=1e-5)
    m.reset_state()
    m.update_state(v, sample_weight=RNG.uniform(0, 1, (4, 3)).astype(np.float32) * 0 + 1)
    assert_close(m.result(), v.mean(), rtol=1e-5)
    assert metrics.Mean(name="loss").get_config() == {"name": "loss", "dtype": "float32"}


def test_result_does_not_alias_state():
    s = metrics.Sum()
    s.update_state([1.0, 2.0])
    r = s.result()
    s.update_state([4.0])
    assert float(r) == 3.0 and float(s.result()) == 7.0


def test_mean_metric_wrapper_and_custom_metric():
    def sq(y_true, y_pred):
        return (y_pred - y_true) ** 2

    batches = _batches(lambda n: (RNG.normal(size=n).astype(np.float32), RNG.normal(size=n).astype(np.float32)))
    m = metrics.MeanMetricWrapper(sq, name="sq")
    assert_close(_run(m, batches), _weighted_mean([(p - t) ** 2 for t, p, _ in batches], batches), rtol=1e-5)

    class Count(metrics.Metric):
        def __init__(self, name="count_positive", **kwargs):
            super().__init__(name=name, **kwargs)
            self.hits = self.add_variable(shape=(), initializer="zeros", name="hits")

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.hits.assign_add(ckeras.ops.sum(ckeras.ops.cast(ckeras.ops.greater(y_pred, 0), "float32")))

        def result(self):
            return self.hits.value

    c = Count()
    assert float(c([0.0], [1.0, -1.0, 3.0])) == 2.0
    assert c.variables[0].path == "count_positive/hits"

    class Broken(metrics.Metric):
        def __init__(self):
            self.v = self.add_variable(shape=(), initializer="zeros")

    with pytest.raises(RuntimeError, match="forgot to call `super\\(\\).__init__\\(\\)`"):
        Broken()


# ---- accuracies ----

def _binary(n):
    return RNG.integers(0, 2, (n, 1)).astype(np.float32), RNG.uniform(0, 1, (n, 1)).astype(np.float32)


def _categorical(n, c=5):
    return np.eye(c, dtype=np.float32)[RNG.integers(0, c, n)], RNG.uniform(0, 1, (n, c)).astype(np.float32)


def _sparse(n, c=5):
    return RNG.integers(0, c, n), RNG.uniform(0, 1, (n, c)).astype(np.float32)


def _rank_of_target(p, labels):
    return (p > p[np.arange(len(labels)), labels][:, None]).sum(1)


ACCURACY_CASES = [
    ("binary", metrics.BinaryAccuracy(), _binary, lambda t, p: ((p > 0.5) == t)[:, 0].astype(float)),
    ("binary_threshold", metrics.BinaryAccuracy(threshold=0.7), _binary,
     lambda t, p: ((p > 0.7) == t)[:, 0].astype(float)),
    ("categorical", metrics.CategoricalAccuracy(), _categorical,
     lambda t, p: (t.argmax(1) == p.argmax(1)).astype(float)),
    ("sparse", metrics.SparseCategoricalAccuracy(), _sparse, lambda t, p: (t == p.argmax(1)).astype(float)),
    ("sparse_column", metrics.SparseCategoricalAccuracy(), lambda n: (_sparse(n)[0][:, None], _sparse(n)[1]),
     lambda t, p: (t[:, 0] == p.argmax(1)).astype(float)),
    ("accuracy", metrics.Accuracy(), lambda n: (RNG.integers(0, 3, (n, 1)), RNG.integers(0, 3, (n, 1))),
     lambda t, p: (t == p)[:, 0].astype(float)),
    ("top_k", metrics.TopKCategoricalAccuracy(k=2), _categorical,
     lambda t, p: (_rank_of_target(p, t.argmax(1)) < 2).astype(float)),
    ("sparse_top_k", metrics.SparseTopKCategoricalAccuracy(k=3), _sparse,
     lambda t, p: (_rank_of_target(p, t) < 3).astype(float)),
]


@pytest.mark.parametrize("weighted", [True, False])
@pytest.mark.parametrize("name,metric,make,ref", ACCURACY_CASES, ids=[c[0] for c in ACCURACY_CASES])
def test_accuracies_over_batches(name, metric, make, ref, weighted):
    batches = _batches(make)
    expected = _weighted_mean([ref(t, p) for t, p, _ in batches], batches, weighted)
    assert_close(_run(metric, batches, weighted), expected, rtol=1e-5)
    assert type(metric).from_config(metric.get_config()).get_config() == metric.get_config()


def test_accuracy_keras_docstring_values():
    m = metrics.BinaryAccuracy()
    m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])
    assert float(m.result()) == 0.75
    m = metrics.CategoricalAccuracy()
    m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], sample_weight=[0.7, 0.3])
    assert abs(float(m.result()) - 0.3) < 1e-6
    m = metrics.SparseTopKCategoricalAccuracy(k=1)
    m.update_state([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    assert float(m.result()) == 0.5
    assert metrics.TopKCategoricalAccuracy().k == 5
    with pytest.raises(ValueError, match="threshold"):
        metrics.BinaryAccuracy(threshold=1.0)


# ---- regression, probabilistic, hinge metrics (running weighted means of per-sample functions) ----

def _reg(n):
    return RNG.uniform(0.1, 2, (n, 3)).astype(np.float32), RNG.uniform(0.1, 2, (n, 3)).astype(np.float32)


def _prob(n):
    t, p = RNG.uniform(0.05, 1, (n, 4)), RNG.uniform(0.05, 1, (n, 4))
    return (t / t.sum(1, keepdims=True)).astype(np.float32), (p / p.sum(1, keepdims=True)).astype(np.float32)


def _l2n(x):
    return x / np.sqrt((x * x).sum(-1, keepdims=True))


REG_CASES = [
    ("mse", metrics.MeanSquaredError(), _reg, lambda t, p: ((t - p) ** 2).mean(-1)),
    ("mae", metrics.MeanAbsoluteError(), _reg, lambda t, p: np.abs(t - p).mean(-1)),
    ("mape", metrics.MeanAbsolutePercentageError(), _reg, lambda t, p: 100 * np.abs((t - p) / t).mean(-1)),
    ("msle", metrics.MeanSquaredLogarithmicError(), _reg,
     lambda t, p: ((np.log1p(t.astype(float)) - np.log1p(p.astype(float))) ** 2).mean(-1)),
    ("logcosh", metrics.LogCoshError(), _reg, lambda t, p: np.log(np.cosh(p.astype(float) - t)).mean(-1)),
    ("cosine", metrics.CosineSimilarity(), _reg, lambda t, p: (_l2n(t) * _l2n(p)).sum(-1)),
    ("kld", metrics.KLDivergence(), _prob, lambda t, p: (t * np.log(t.astype(float) / p)).sum(-1)),
    ("poisson", metrics.Poisson(), _reg, lambda t, p: (p - t * np.log(p.astype(float) + EPS)).mean(-1)),
    ("cce", metrics.CategoricalCrossentropy(), _prob, lambda t, p: -(t * np.log(p.astype(float))).sum(-1)),
    ("scce", metrics.SparseCategoricalCrossentropy(from_logits=True), _sparse,
     lambda t, p: np.log(np.exp(p.astype(float)).sum(-1)) - p[np.arange(len(t)), t]),
    ("bce", metrics.BinaryCrossentropy(), _binary,
     lambda t, p: -(t * np.log(p.astype(float)) + (1 - t) * np.log(1 - p.astype(float)))[:, 0]),
    ("hinge", metrics.Hinge(), lambda n: (RNG.integers(0, 2, (n, 3)) * 2.0 - 1, RNG.normal(size=(n, 3))),
     lambda t, p: np.maximum(1 - t * p, 0).mean(-1)),
    ("squared_hinge", metrics.SquaredHinge(), lambda n: (RNG.integers(0, 2, (n, 3)) * 2.0 - 1,
                                                         RNG.normal(size=(n, 3))),
     lambda t, p: (np.maximum(1 - t * p, 0) ** 2).mean(-1)),
    ("categorical_hinge", metrics.CategoricalHinge(), _categorical,
     lambda t, p: np.maximum(((1 - t) * p).max(-1) - (t * p).sum(-1) + 1, 0)),
]


@pytest.mark.parametrize("name,metric,make,ref", REG_CASES, ids=[c[0] for c in REG_CASES])
def test_function_metrics_over_batches(name, metric, make, ref):
    batches = _batches(make)
    expected = _weighted_mean([ref(t, p) for t, p, _ in batches], batches)
    assert_close(_run(metric, batches), expected, rtol=2e-5, atol=1e-6)
    assert type(metric).from_config(metric.get_config()).get_config() == metric.get_config()


def test_root_mean_squared_error():
    batches = _batches(_reg)
    m = metrics.RootMeanSquaredError()
    expected = np.sqrt(_weighted_mean([((t - p) ** 2).mean(-1) for t, p, _ in batches], batches))
    assert_close(_run(m, batches), expected, rtol=1e-5)
    m = metrics.RootMeanSquaredError()
    m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]], sample_weight=[1, 0])
    assert abs(float(m.result()) - 0.70710677) < 1e-6


# ---- confusion-matrix metrics ----

def _counts(t, p, w, thresholds):
    pos = np.asarray(t, bool).ravel()
    p = np.asarray(p, np.float32).ravel()
    w = np.ones_like(p) if w is None else np.broadcast_to(w, np.shape(t)).ravel()
    above = p[:, None] > np.asarray(thresholds, np.float32)[None, :]
    tp = (w[:, None] * (pos[:, None] & above)).sum(0)
    fp = (w[:, None] * (~pos[:, None] & above)).sum(0)
    fn = (w[:, None] * (pos[:, None] & ~above)).sum(0)
    tn = (w[:, None] * (~pos[:, None] & ~above)).sum(0)
    return tp, fp, tn, fn


@pytest.mark.parametrize("thresholds", [None, 0.3, [0.2, 0.5, 0.9]])
def test_precision_recall_and_counts(thresholds):
    batches = _batches(lambda n: (RNG.integers(0, 2, (n, 1)), RNG.uniform(0, 1, (n, 1)).astype(np.float32)))
    thr = [0.5] if thresholds is None else np.atleast_1d(thresholds)
    tp, fp, tn, fn = (sum(c) for c in zip(*[_counts(t, p, w[:, None], thr) for t, p, w in batches]))
    single = thresholds is None or np.ndim(thresholds) == 0
    for metric, expected in [(metrics.Precision(thresholds=thresholds), tp / (tp + fp)),
                             (metrics.Recall(thresholds=thresholds), tp / (tp + fn)),
                             (metrics.TruePositives(thresholds=thresholds), tp),
                             (metrics.FalsePositives(thresholds=thresholds), fp),
                             (metrics.TrueNegatives(thresholds=thresholds), tn),
                             (metrics.FalseNegatives(thresholds=thresholds), fn)]:
        assert_close(_run(metric, batches), expected[0] if single else expected, rtol=1e-5)
    assert metrics.Precision(thresholds=thresholds).get_config()["thresholds"] == thresholds


def test_precision_recall_class_id_and_top_k():
    t = np.array([[0, 1, 0], [1, 0, 1], [0, 0, 1], [1, 1, 0]], np.float32)
    p = np.array([[0.2, 0.7, 0.1], [0.6, 0.3, 0.55], [0.4, 0.45, 0.5], [0.9, 0.1, 0.8]], np.float32)
    w = np.array([1.0, 2.0, 0.5, 1.5], np.float32)
    m = metrics.Recall(class_id=2)
    m.update_state(t, p, sample_weight=w)
    tp, _, _, fn = _counts(t[:, 2], p[:, 2], w, [0.5])
    assert_close(m.result(), (tp / (tp + fn))[0], rtol=1e-6)
    m = metrics.Precision(top_k=1)  # only each row's largest prediction counts as positive
    m.update_state(t, p)
    top = p.argmax(1)
    assert_close(m.result(), t[np.arange(4), top].mean(), rtol=1e-6)
    m = metrics.Precision(top_k=2)
    m.update_state([0, 0, 1, 1], [1, 1, 1, 1])  # ties go to the lowest indices, as top_k does
    assert float(m.result()) == 0.0


def _keras_auc_reference(t, p, w, num_thresholds=200, curve="ROC", summation="interpolation"):
    """NumPy AUC: Keras's thresholds and counts, then its Riemann sums / PR interpolation."""
    thr = [0.0 - EPS] + [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)] + [1.0 + EPS]
    tp, fp, tn, fn = (c.astype(np.float64) for c in _counts(t, np.clip(p, 0, 1), w, thr))
    div = lambda a, b: np.where(b == 0, 0.0, a / np.where(b == 0, 1, b))  # noqa: E731
    if curve == "PR" and summation == "interpolation":
        dtp, pp = tp[:-1] - tp[1:], tp + fp
        slope = div(dtp, np.maximum(pp[:-1] - pp[1:], 0))
        intercept = tp[1:] - slope * pp[1:]
        ratio = np.where((pp[:-1] > 0) & (pp[1:] > 0), div(pp[:-1], np.maximum(pp[1:], 0)), 1.0)
        return div(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0)).sum()
    recall = div(tp, tp + fn)
    x, y = (div(fp, fp + tn), recall) if curve == "ROC" else (recall, div(tp, tp + fp))
    heights = {"interpolation": (y[:-1] + y[1:]) / 2, "minoring": np.minimum(y[:-1], y[1:]),
               "majoring": np.maximum(y[:-1], y[1:])}[summation]
    return ((x[:-1] - x[1:]) * heights).sum()


@pytest.mark.parametrize("curve", ["ROC", "PR"])
@pytest.mark.parametrize("summation", ["interpolation", "minoring", "majoring"])
@pytest.mark.parametrize("num_thresholds", [3, 50, 200])
def test_auc_matches_reference_over_batches(curve, summation, num_thresholds):
    def make(n):
        t = RNG.integers(0, 2, n)
        return t, np.clip(0.35 * t + RNG.uniform(0, 0.7, n), 0, 1).astype(np.float32)

    batches = _batches(make, n_batches=4, n=16)
    m = metrics.AUC(num_thresholds=num_thresholds, curve=curve, summation_method=summation)
    t = np.concatenate([b[0] for b in batches])
    p = np.concatenate([b[1] for b in batches])
    w = np.concatenate([b[2] for b in batches])
    expected = _keras_auc_reference(t, p, w, num_thresholds, curve, summation)
    assert_close(_run(m, batches), expected, rtol=1e-5, atol=1e-6)
    assert_close(_run(m, batches), expected, rtol=1e-5, atol=1e-6)  # reset_state really resets


def test_auc_keras_docstring_and_exact_roc():
    m = metrics.AUC(num_thresholds=3)
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])  # tp=[2,1,0], fp=[2,0,0] -> 0.75
    assert abs(float(m.result()) - 0.75) < 1e-7
    m.reset_state()
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9], sample_weight=[1, 0, 0, 1])
    assert float(m.result()) == 1.0
    # With many thresholds, ROC AUC approaches the exact Mann-Whitney statistic.
    t = RNG.integers(0, 2, 400)
    p = np.clip(0.2 * t + RNG.uniform(0, 0.8, 400), 0, 1)
    m = metrics.AUC(num_thresholds=2000)
    m.update_state(t, p)
    pos, neg = p[t == 1], p[t == 0]
    exact = ((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()) / (len(pos) * len(neg))
    assert abs(float(m.result()) - exact) < 2e-3
    assert len(metrics.AUC().thresholds) == 200 and metrics.AUC().thresholds[0] < 0


def test_auc_from_logits_thresholds_and_multi_label():
    t = RNG.integers(0, 2, (20, 3))
    logits = RNG.normal(size=(20, 3)).astype(np.float32)
    probs = 1 / (1 + np.exp(-logits.astype(np.float64)))
    a, b = metrics.AUC(from_logits=True), metrics.AUC()
    a.update_state(t, logits)
    b.update_state(t, probs.astype(np.float32))
    assert_close(a.result(), b.result(), rtol=1e-5)
    assert_close(b.result(), _keras_auc_reference(t, probs, None), rtol=1e-5)
    # multi_label: one AUC per column, averaged (optionally weighted).
    for label_weights in (None, [1.0, 2.0, 0.5]):
        m = metrics.AUC(multi_label=True, label_weights=label_weights)
        m.update_state(t, probs.astype(np.float32))
        per = np.array([_keras_auc_reference(t[:, j], probs[:, j], None) for j in range(3)])
        lw = np.ones(3) if label_weights is None else np.asarray(label_weights)
        assert_close(m.result(), (per * lw).sum() / lw.sum(), rtol=1e-5)
        assert m.true_positives.shape == (200, 3)
    # Explicit (unevenly spaced) thresholds compare predictions with them directly.
    m = metrics.AUC(thresholds=[0.1, 0.4, 0.45, 0.8])
    m.update_state(t[:, 0], probs[:, 0].astype(np.float32))
    assert m.num_thresholds == 6 and m.get_config()["thresholds"] == [0.1, 0.4, 0.45, 0.8]
    thr = [-EPS, 0.1, 0.4, 0.45, 0.8, 1 + EPS]
    tp, fp, tn, fn = _counts(t[:, 0], probs[:, 0], None, thr)
    fpr, tpr = fp / (fp + tn), tp / (tp + fn)
    assert_close(m.result(), ((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2).sum(), rtol=1e-5)
    with pytest.raises(ValueError, match="num_thresholds"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="Invalid AUC curve"):
        metrics.AUC(curve="XY")


# ---- get / serialize ----

def test_get_and_serialize():
    assert isinstance(metrics.get("mse"), metrics.MeanSquaredError)
    assert isinstance(metrics.get("AUC"), metrics.AUC) and isinstance(metrics.get("auc"), metrics.AUC)
    assert isinstance(metrics.get("top_k_categorical_accuracy"), metrics.TopKCategoricalAccuracy)
    assert isinstance(metrics.get("kl_divergence"), metrics.KLDivergence)
    assert isinstance(metrics.get("accuracy"), metrics.Accuracy)
    assert metrics.get(metrics.binary_accuracy) is metrics.binary_accuracy
    with pytest.raises(ValueError, match="Could not interpret metric identifier: preciison. Did you mean "
                                         "'precision'"):
        metrics.get("preciison")
    m = metrics.AUC(num_thresholds=50, curve="PR", name="pr")
    clone = metrics.deserialize(metrics.serialize(m))
    assert isinstance(clone, metrics.AUC) and clone.get_config() == m.get_config()
    w = metrics.MeanMetricWrapper(losses.mean_squared_error, name="w")
    assert metrics.MeanMetricWrapper.from_config(w.get_config())._fn is losses.mean_squared_error


# ---- "accuracy" / "crossentropy" resolution from shapes (KERAS.md 3.5) ----

@pytest.mark.parametrize("t_shape,p_shape,kind", [
    ((64,), (64, 2), "sparse"),       # integer labels with a 2-unit softmax (observed in Keras)
    ((64, 1), (64, 10), "sparse"),
    ((64, 10), (64, 10), "categorical"),
    ((64, 1), (64, 1), "binary"),
    ((64,), (64, 1), "binary"),
    ((8, 5), (8, 5, 3), "sparse"),    # sequence labels
    ((8, 5, 3), (8, 5, 3), "categorical"),
])
def test_accuracy_and_crossentropy_resolution(t_shape, p_shape, kind):
    y_true, y_pred = np.zeros(t_shape), np.zeros(p_shape, np.float32)
    classes = {"binary": metrics.BinaryAccuracy, "sparse": metrics.SparseCategoricalAccuracy,
               "categorical": metrics.CategoricalAccuracy}
    fns = {"binary": losses.binary_crossentropy, "sparse": losses.sparse_categorical_crossentropy,
           "categorical": losses.categorical_crossentropy}
    for ident in ("accuracy", "acc", "Accuracy"):
        m = resolve_metric(ident, y_true, y_pred)
        assert type(m) is classes[kind] and m.name == ident
    for ident in ("crossentropy", "ce"):
        loss = resolve_loss(ident, y_true, y_pred)
        assert isinstance(loss, losses.LossFunctionWrapper) and loss.fn is fns[kind] and loss.name == ident
    is_binary, is_sparse = is_binary_or_sparse_categorical(y_true, y_pred)
    assert is_binary == (kind == "binary")  # binary wins; (64,) vs (64, 1) is also "sparse" by rank
    assert kind == "binary" or is_sparse == (kind == "sparse")


def test_resolution_keeps_names_and_wraps_functions():
    t, p = np.zeros((4, 3)), np.zeros((4, 3), np.float32)
    m = resolve_metric("mse", t, p)
    assert isinstance(m, metrics.MeanSquaredError) and m.name == "mse"
    m = resolve_metric(losses.mean_absolute_error, t, p)
    assert isinstance(m, metrics.MeanMetricWrapper) and m.name == "mean_absolute_error"
    auc = metrics.AUC(name="my_auc")
    assert resolve_metric(auc, t, p) is auc and auc.name == "my_auc"
    assert resolve_metric(None, t, p) is None and resolve_loss(None, t, p) is None
    loss = resolve_loss("mse", t, p)
    assert isinstance(loss, losses.LossFunctionWrapper) and loss.name == "mse"
    assert isinstance(resolve_loss("CategoricalCrossentropy", t, p), losses.CategoricalCrossentropy)
    # The resolved sparse accuracy works on integer labels with a 2-unit softmax.
    labels = RNG.integers(0, 2, 64)
    probs = RNG.uniform(0, 1, (64, 2)).astype(np.float32)
    m = resolve_metric("accuracy", labels, probs)
    m.update_state(labels, probs)
    assert_close(m.result(), (labels == probs.argmax(1)).mean(), rtol=1e-6)
