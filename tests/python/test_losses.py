"""`ckeras.losses` against NumPy references written from Keras 3's formulas: every loss function, the
reductions, sample weights, masks (ignore_class), label smoothing, from_logits, `get`/config round trips,
and finite-difference gradients through GradientTape."""
import warnings

import numpy as np
import pytest
from conftest import assert_close, check_grad

import ckeras
from ckeras import losses, ops

EPS = 1e-7
RNG = np.random.default_rng(7)


def _f32(*shape, low=-2.0, high=2.0):
    return RNG.uniform(low, high, shape).astype(np.float32)


def _probs(n, c):
    p = RNG.uniform(0.05, 1.0, (n, c))
    return (p / p.sum(-1, keepdims=True)).astype(np.float32)


def _onehot(labels, c):
    return np.eye(c, dtype=np.float32)[labels]


def _d(x):
    return np.asarray(x, np.float64)


# ---- NumPy references (float64 arithmetic) ----

def ref_mse(t, p):
    return np.mean((_d(p) - _d(t)) ** 2, -1)


def ref_mae(t, p):
    return np.mean(np.abs(_d(p) - _d(t)), -1)


def ref_mape(t, p):
    t, p = _d(t), _d(p)
    return 100 * np.mean(np.abs((t - p) / np.maximum(np.abs(t), EPS)), -1)


def ref_msle(t, p):
    t, p = _d(t), _d(p)
    return np.mean((np.log(np.maximum(p, EPS) + 1) - np.log(np.maximum(t, EPS) + 1)) ** 2, -1)


def _l2n(x, axis):
    return x * np.minimum(1 / np.sqrt((x * x).sum(axis, keepdims=True)), 1 / EPS)


def ref_cosine(t, p, axis=-1):
    return -np.sum(_l2n(_d(t), axis) * _l2n(_d(p), axis), axis)


def ref_huber(t, p, delta=1.0):
    e = _d(p) - _d(t)
    return np.mean(np.where(np.abs(e) <= delta, 0.5 * e ** 2, delta * np.abs(e) - 0.5 * delta ** 2), -1)


def ref_logcosh(t, p):
    return np.mean(np.log(np.cosh(_d(p) - _d(t))), -1)


def ref_kld(t, p):
    t, p = np.clip(_d(t), EPS, 1), np.clip(_d(p), EPS, 1)
    return np.sum(t * np.log(t / p), -1)


def ref_poisson(t, p):
    return np.mean(_d(p) - _d(t) * np.log(_d(p) + EPS), -1)


def _hinge_labels(t):
    t = _d(t)
    return 2 * t - 1 if np.all((t == 0) | (t == 1)) else t


def ref_hinge(t, p):
    return np.mean(np.maximum(1 - _hinge_labels(t) * _d(p), 0), -1)


def ref_squared_hinge(t, p):
    return np.mean(np.maximum(1 - _hinge_labels(t) * _d(p), 0) ** 2, -1)


def ref_categorical_hinge(t, p):
    t, p = _d(t), _d(p)
    return np.maximum(np.max((1 - t) * p, -1) - np.sum(t * p, -1) + 1, 0)


def _log_probs(p, from_logits, axis=-1):
    p = _d(p)
    if from_logits:
        m = p.max(axis, keepdims=True)
        return p - m - np.log(np.exp(p - m).sum(axis, keepdims=True))
    q = p / p.sum(axis, keepdims=True)
    return np.log(np.clip(q, np.float32(EPS), np.float32(1) - np.float32(EPS)))


def ref_cce(t, p, from_logits=False, label_smoothing=0.0, axis=-1):
    t = _d(t)
    if label_smoothing:
        t = t * (1 - label_smoothing) + label_smoothing / t.shape[-1]
    return -(t * _log_probs(p, from_logits, axis)).sum(axis)


def ref_scce(labels, p, from_logits=False):
    labels = np.asarray(labels).reshape(np.shape(p)[:-1]).astype(np.int64)
    return ref_cce(_onehot(labels, np.shape(p)[-1]), p, from_logits)


def ref_bce(t, p, from_logits=False, label_smoothing=0.0, axis=-1):
    t, p = _d(t), _d(p)
    if label_smoothing:
        t = t * (1 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        e = np.maximum(p, 0) - p * t + np.log1p(np.exp(-np.abs(p)))
    else:
        c = np.clip(p, np.float32(EPS), np.float32(1) - np.float32(EPS))
        e = -(t * np.log(c) + (1 - t) * np.log(1 - c))
    return e.mean(axis)


def _regression_inputs():
    return _f32(6, 4, low=0.1, high=2.0), _f32(6, 4, low=0.1, high=2.0)


def _hinge_inputs():
    return RNG.integers(0, 2, (6, 4)).astype(np.float32), _f32(6, 4)


def _prob_inputs():
    return _probs(6, 4), _probs(6, 4)


CASES = [
    ("mean_squared_error", losses.MeanSquaredError, ref_mse, _regression_inputs),
    ("mean_absolute_error", losses.MeanAbsoluteError, ref_mae, _regression_inputs),
    ("mean_absolute_percentage_error", losses.MeanAbsolutePercentageError, ref_mape, _regression_inputs),
    ("mean_squared_logarithmic_error", losses.MeanSquaredLogarithmicError, ref_msle, _regression_inputs),
    ("cosine_similarity", losses.CosineSimilarity, ref_cosine, _regression_inputs),
    ("huber", losses.Huber, ref_huber, lambda: (_f32(6, 4), _f32(6, 4))),
    ("log_cosh", losses.LogCosh, ref_logcosh, lambda: (_f32(6, 4), _f32(6, 4))),
    ("kl_divergence", losses.KLDivergence, ref_kld, _prob_inputs),
    ("poisson", losses.Poisson, ref_poisson, _regression_inputs),
    ("hinge", losses.Hinge, ref_hinge, _hinge_inputs),
    ("squared_hinge", losses.SquaredHinge, ref_squared_hinge, _hinge_inputs),
    ("categorical_hinge", losses.CategoricalHinge, ref_categorical_hinge,
     lambda: (_onehot(RNG.integers(0, 4, 6), 4), _f32(6, 4))),
    ("categorical_crossentropy", losses.CategoricalCrossentropy, ref_cce,
     lambda: (_onehot(RNG.integers(0, 4, 6), 4), _probs(6, 4))),
    ("binary_crossentropy", losses.BinaryCrossentropy, ref_bce,
     lambda: (RNG.integers(0, 2, (6, 4)).astype(np.float32), _f32(6, 4, low=0.01, high=0.99))),
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("name,cls,ref,inputs", CASES, ids=IDS)
def test_function_matches_reference(name, cls, ref, inputs):
    t, p = inputs()
    out = getattr(losses, name)(t, p)
    assert_close(out, ref(t, p), rtol=1e-5, atol=1e-6)
    assert np.asarray(out).dtype == np.float32


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none",
                                       None])
@pytest.mark.parametrize("name,cls,ref,inputs", CASES, ids=IDS)
def test_class_reductions_and_sample_weight(name, cls, ref, inputs, reduction):
    t, p = inputs()
    w = RNG.uniform(0, 2, 6).astype(np.float32)
    values = ref(t, p)
    loss = cls(reduction=reduction)
    for sw in (None, w):
        weighted = values if sw is None else values * sw
        if reduction in (None, "none"):
            expected = weighted
        elif reduction == "sum":
            expected = weighted.sum()
        elif reduction == "mean_with_sample_weight" and sw is not None:
            expected = weighted.sum() / sw.sum()
        else:
            expected = weighted.sum() / weighted.size
        assert_close(loss(t, p, sample_weight=sw), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,cls,ref,inputs", CASES, ids=IDS)
def test_config_round_trip_and_get(name, cls, ref, inputs):
    loss = cls(reduction="sum", name="my_loss")
    config = loss.get_config()
    assert config["name"] == "my_loss" and config["reduction"] == "sum"
    clone = cls.from_config(config)
    t, p = inputs()
    assert_close(clone(t, p), loss(t, p))
    assert losses.get(name) is getattr(losses, name)
    assert isinstance(losses.get(cls.__name__), cls)
    assert isinstance(losses.deserialize(losses.serialize(loss)), cls)
    assert losses.deserialize(losses.serialize(getattr(losses, name))) is getattr(losses, name)


def test_default_names_and_reduction():
    assert losses.MeanSquaredError().name == "mean_squared_error"
    assert losses.Huber().name == "huber_loss"
    assert losses.LogCosh().name == "log_cosh"
    assert losses.CategoricalCrossentropy().reduction == "sum_over_batch_size"
    assert losses.BinaryCrossentropy().get_config() == {"name": "binary_crossentropy",
                                                        "reduction": "sum_over_batch_size", "from_logits": False,
                                                        "label_smoothing": 0.0, "axis": -1}
    assert losses.SparseCategoricalCrossentropy(ignore_class=255).get_config()["ignore_class"] == 255
    with pytest.raises(ValueError, match="Invalid value for argument `reduction`"):
        losses.MeanSquaredError(reduction="avg")


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_categorical_crossentropy_options(from_logits, label_smoothing):
    t = _onehot(RNG.integers(0, 5, 8), 5)
    p = _f32(8, 5, low=-3, high=3) if from_logits else _probs(8, 5)
    loss = losses.CategoricalCrossentropy(from_logits=from_logits, label_smoothing=label_smoothing)
    assert_close(loss(t, p), ref_cce(t, p, from_logits, label_smoothing).mean(), rtol=1e-5)
    out = losses.categorical_crossentropy(t.T, p.T, from_logits=from_logits, label_smoothing=0.0, axis=0)
    assert_close(out, ref_cce(t.T, p.T, from_logits, axis=0), rtol=1e-5)


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
def test_binary_crossentropy_options(from_logits, label_smoothing):
    t = RNG.integers(0, 2, (8, 3)).astype(np.float32)
    p = _f32(8, 3, low=-4, high=4) if from_logits else _f32(8, 3, low=0.01, high=0.99)
    loss = losses.BinaryCrossentropy(from_logits=from_logits, label_smoothing=label_smoothing)
    assert_close(loss(t, p), ref_bce(t, p, from_logits, label_smoothing).mean(), rtol=1e-5)
    assert_close(losses.binary_crossentropy(t, p, from_logits, label_smoothing, axis=0),
                 ref_bce(t, p, from_logits, label_smoothing, axis=0), rtol=1e-5)


def test_keras_docstring_values():
    y_true, y_pred = np.array([[0, 1], [0, 0]]), np.array([[-18.6, 0.51], [2.94, -12.8]])
    bce = losses.BinaryCrossentropy(from_logits=True)
    assert abs(float(bce(y_true, y_pred)) - 0.8654) < 1e-3
    assert abs(float(bce(y_true, y_pred, sample_weight=[0.8, 0.2])) - 0.243) < 1e-3
    assert abs(float(losses.BinaryCrossentropy(from_logits=True, reduction="sum")(y_true, y_pred)) - 1.730) < 1e-3
    scce = losses.SparseCategoricalCrossentropy()
    y_true, y_pred = [1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]
    assert abs(float(scce(y_true, y_pred)) - 1.177) < 1e-3
    assert abs(float(scce(y_true, y_pred, sample_weight=np.array([0.3, 0.7]))) - 0.814) < 1e-3
    assert abs(float(losses.huber([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]).numpy().mean()) - 0.155) < 1e-3
    assert_close(losses.cosine_similarity([[0., 1.], [1., 1.], [1., 1.]], [[1., 0.], [1., 1.], [-1., -1.]]),
                 [0.0, -1.0, 1.0], atol=1e-6)


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("label_shape", [(10,), (10, 1)])
def test_sparse_categorical_crossentropy(from_logits, label_shape):
    labels = RNG.integers(0, 4, 10)
    p = _f32(10, 4, low=-3, high=3) if from_logits else _probs(10, 4)
    w = RNG.uniform(0, 1, 10).astype(np.float32)
    loss = losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    expected = ref_scce(labels, p, from_logits)
    assert_close(loss(labels.reshape(label_shape), p), expected.mean(), rtol=1e-5)
    assert_close(loss(labels.reshape(label_shape), p, sample_weight=w), (expected * w).mean(), rtol=1e-5)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
def test_sparse_ignore_class_masks_entries(reduction):
    labels = np.array([0, 255, 2, 1, 255, 3])
    p = _probs(6, 4)
    per = ref_scce(np.where(labels == 255, 0, labels), p)
    valid = labels != 255
    out = losses.SparseCategoricalCrossentropy(ignore_class=255, reduction=reduction)(labels, p)
    expected = {"sum_over_batch_size": per[valid].mean(), "sum": per[valid].sum(),
                "none": np.where(valid, per, 0.0)}[reduction]
    assert_close(out, expected, rtol=1e-5)
    # The ignored entries take no part in the gradient, which stays finite.
    pt = ops.convert_to_tensor(p)
    with ckeras.GradientTape() as tape:
        tape.watch(pt)
        value = losses.SparseCategoricalCrossentropy(ignore_class=255)(labels, pt)
    g = np.asarray(tape.gradient(value, pt))
    assert np.all(np.isfinite(g)) and np.all(g[~valid] == 0)


def test_rank_fix_between_labels_and_predictions():
    t, p = _f32(5), _f32(5, 1)
    assert_close(losses.MeanSquaredError()(t, p), np.mean((t - p[:, 0]) ** 2), rtol=1e-5)
    assert_close(losses.BinaryCrossentropy(from_logits=True)(t.round().clip(0, 1), p),
                 ref_bce(t.round().clip(0, 1)[:, None], p, True).mean(), rtol=1e-5)
    assert_close(losses.Huber(delta=0.5)(t, p), ref_huber(t[:, None], p, 0.5).mean(), rtol=1e-5)


def test_sample_weight_column_on_sequence_losses():
    t, p = _f32(4, 3, 2), _f32(4, 3, 2)
    w = RNG.uniform(0, 1, (4, 3)).astype(np.float32)
    assert_close(losses.MeanSquaredError()(t, p, sample_weight=w), (ref_mse(t, p) * w).mean(), rtol=1e-5)


def test_empty_batch():
    # Keras returns shape-(0,) values unreduced; other empty values reduce to 0, not NaN.
    out = losses.MeanSquaredError()(np.zeros((0, 3), np.float32), np.zeros((0, 3), np.float32))
    assert np.asarray(out).shape == (0,)
    out = losses.MeanSquaredError()(np.zeros((0, 3, 2), np.float32), np.zeros((0, 3, 2), np.float32))
    assert np.asarray(out).shape == () and float(out) == 0.0


def test_integer_labels_with_categorical_crossentropy():  # ERRORS.md row 24
    with pytest.raises(ValueError, match="(?s)must have the same shape.*use sparse_categorical_crossentropy"):
        losses.CategoricalCrossentropy()(np.arange(8) % 10, _probs(8, 10))


@pytest.mark.parametrize("bad", [10, -1])
def test_sparse_label_out_of_range(bad):  # ERRORS.md row 25
    labels = np.array([1, bad, 3])
    with pytest.raises(ValueError, match=rf"(?s)label value of {bad}.*valid range of \[0, 10\)"):
        losses.SparseCategoricalCrossentropy()(labels, _probs(3, 10))


def test_categorical_crossentropy_warns_on_single_unit():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        losses.categorical_crossentropy(np.ones((4, 1)), np.full((4, 1), 0.5))
    assert any("binary_crossentropy" in str(w.message) for w in caught)


def test_get_errors_and_aliases():  # ERRORS.md row 31
    with pytest.raises(ValueError, match="Could not interpret loss identifier: categoricalcrossentropy. "
                                         "Did you mean 'categorical_crossentropy'"):
        losses.get("categoricalcrossentropy")
    with pytest.raises(ValueError, match="Could not interpret loss identifier"):
        losses.get(42)
    assert losses.get("mse") is losses.mean_squared_error is losses.MSE
    assert losses.get("mae") is losses.mean_absolute_error
    assert losses.get("kld") is losses.kl_divergence
    assert losses.get("bce") is losses.binary_crossentropy
    assert losses.get(None) is None
    custom = losses.Huber(delta=2.0)
    assert losses.get(custom) is custom
    got = losses.get({"class_name": "CategoricalCrossentropy", "config": {"from_logits": True}})
    assert isinstance(got, losses.CategoricalCrossentropy) and got.from_logits


def test_custom_subclass_and_wrapper():
    class MyLoss(losses.Loss):
        def call(self, y_true, y_pred):
            return ops.mean(ops.abs(y_pred - y_true), axis=-1)

    t, p = _f32(4, 3), _f32(4, 3)
    loss = MyLoss()
    assert loss.name.startswith("my_loss") and loss.dtype == "float32"
    assert_close(loss(t, p), ref_mae(t, p).mean(), rtol=1e-5)
    wrapped = losses.LossFunctionWrapper(losses.log_cosh, name="lc", reduction="sum")
    assert_close(wrapped(t, p), ref_logcosh(t, p).sum(), rtol=1e-5)
    clone = losses.LossFunctionWrapper.from_config(wrapped.get_config())
    assert clone.fn is losses.log_cosh and clone.name == "lc"


GRAD_CASES = [
    ("huber", lambda t, p: losses.huber(t, p, delta=0.7), lambda: (_f32(3, 4), _f32(3, 4))),
    ("log_cosh", losses.log_cosh, lambda: (_f32(3, 4), _f32(3, 4))),
    ("mape", losses.mean_absolute_percentage_error, _regression_inputs),
    ("msle", losses.mean_squared_logarithmic_error, _regression_inputs),
    ("cosine", losses.cosine_similarity, _regression_inputs),
    ("kld", losses.kl_divergence, _prob_inputs),
    ("poisson", losses.poisson, _regression_inputs),
    ("squared_hinge", losses.squared_hinge,
     lambda: (RNG.integers(0, 2, (3, 4)).astype(np.float32), _f32(3, 4, low=-0.9, high=0.9))),
    ("cce_smoothing", lambda t, p: losses.categorical_crossentropy(t, p, label_smoothing=0.1),
     lambda: (_onehot(RNG.integers(0, 4, 3), 4), _probs(3, 4))),
    ("bce_logits", lambda t, p: losses.binary_crossentropy(t, p, from_logits=True, label_smoothing=0.1),
     lambda: (RNG.integers(0, 2, (3, 4)).astype(np.float32), _f32(3, 4))),
    ("mse_class_weighted", lambda t, p: losses.MeanSquaredError(dtype="float64")(t, p, sample_weight=[1., 2., 3.]),
     lambda: (_f32(3, 4), _f32(3, 4))),
    ("cce_class_logits", lambda t, p: losses.CategoricalCrossentropy(from_logits=True, dtype="float64")(t, p),
     lambda: (_onehot(RNG.integers(0, 4, 3), 4), _f32(3, 4))),
]


@pytest.mark.parametrize("name,fn,inputs", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradients_match_finite_differences(name, fn, inputs):
    t, p = inputs()
    check_grad(fn, t, p, wrt=[1], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("kind", ["categorical", "sparse", "binary"])
def test_outputs_carrying_keras_logits_are_scored_from_logits(kind):  # KERAS.md 3.6
    logits = _f32(6, 4, low=-30, high=30)  # extreme: the clipped-probability path would differ
    if kind == "binary":
        t = RNG.integers(0, 2, (6, 4)).astype(np.float32)
        out = ops.sigmoid(logits)
        loss, expected = losses.BinaryCrossentropy(), ref_bce(t, logits, from_logits=True).mean()
    else:
        labels = RNG.integers(0, 4, 6)
        t = labels if kind == "sparse" else _onehot(labels, 4)
        out = ops.softmax(logits)
        cls = losses.SparseCategoricalCrossentropy if kind == "sparse" else losses.CategoricalCrossentropy
        loss, expected = cls(), ref_cce(_onehot(labels, 4), logits, from_logits=True).mean()
    clipped = float(loss(t, out))
    out._keras_logits = ops.convert_to_tensor(logits)
    assert_close(loss(t, out), expected, rtol=1e-5)
    assert abs(clipped - expected) > 1e-3
    with pytest.warns(UserWarning, match="does not represent logits"):
        type(loss)(from_logits=True)(t, out)


def test_softmax_output_is_scored_from_its_logits_like_tf_keras():
    # KERAS.md 3.6: softmax attaches its input as `_keras_logits`; cross-entropy then uses the logits.
    import ckeras as keras
    z = np.array([[30.0, 0.0, -30.0], [1.0, 2.0, 3.0]], np.float32)
    y = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]], np.float32)
    probs = keras.activations.softmax(keras.ops.convert_to_tensor(z))
    via_softmax = np.asarray(keras.losses.categorical_crossentropy(y, probs))
    via_logits = np.asarray(keras.losses.categorical_crossentropy(y, z, from_logits=True))
    np.testing.assert_allclose(via_softmax, via_logits, rtol=1e-6)
    assert via_softmax[0] > 59.0  # the clipped-probability path would give ~16.1
    # The same inside a model with Dense(activation="softmax"), and with sparse labels.
    inp = keras.Input((3,))
    dense = keras.layers.Dense(3, activation="softmax", kernel_initializer="identity")
    model = keras.Model(inp, dense(inp))
    model.compile(loss="sparse_categorical_crossentropy")
    loss = model.evaluate(z, np.array([2, 1]), verbose=0)
    ref = np.asarray(keras.losses.sparse_categorical_crossentropy(np.array([2, 1]), z, from_logits=True)).mean()
    np.testing.assert_allclose(loss, ref, rtol=1e-5)
