"""The loss ops of `ckeras.ops` (and the per-sample helpers for `ckeras.losses`) against NumPy references
written from Keras 3's formulas (KERAS.md 3.6): values, shapes, axes and dtypes, gradients against central
finite differences in float64, the extremes of ERRORS.md row 2 and the errors of rows 24 and 25."""
import numpy as np
import pytest

import ckeras
from ckeras import ops
from ckeras.ops import nn as nn_ops

EPS = 1e-7  # keras.backend.epsilon()


# ---- references (NumPy, float64 arithmetic; the clip bounds held in the compute dtype) ----

def _bounds(dtype):
    lo = np.asarray(EPS, dtype)
    return float(lo), float(np.asarray(1, dtype) - lo)


def _log_probs(output, from_logits, axis, dtype):
    o = np.asarray(output, np.float64)
    if from_logits:
        m = o.max(axis=axis, keepdims=True)
        return o - m - np.log(np.exp(o - m).sum(axis=axis, keepdims=True))
    q = o / o.sum(axis=axis, keepdims=True)  # Keras renormalises, then clips
    return np.log(np.clip(q, *_bounds(dtype)))


def ref_cce(target, output, from_logits=False, axis=-1, dtype=np.float64):
    return -(np.asarray(target, np.float64) * _log_probs(output, from_logits, axis, dtype)).sum(axis=axis)


def ref_sparse(labels, output, from_logits=False, axis=-1, dtype=np.float64):
    labels = np.asarray(labels)
    output = np.asarray(output)
    if labels.ndim == output.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    axis = axis % output.ndim
    onehot = np.moveaxis(np.eye(output.shape[axis])[labels.astype(np.int64)], -1, axis)
    return ref_cce(onehot, output, from_logits, axis, dtype)


def ref_bce(target, output, from_logits=False, dtype=np.float64):
    t, o = np.asarray(target, np.float64), np.asarray(output, np.float64)
    if from_logits:
        return np.maximum(o, 0) - o * t + np.log1p(np.exp(-np.abs(o)))
    c = np.clip(o, *_bounds(dtype))
    return -(t * np.log(c) + (1 - t) * np.log(1 - c))


def ref_mse(target, output):
    return np.mean((np.asarray(output, np.float64) - np.asarray(target, np.float64)) ** 2, axis=-1)


def ref_mae(target, output):
    return np.mean(np.abs(np.asarray(output, np.float64) - np.asarray(target, np.float64)), axis=-1)


def _np(x):
    return np.asarray(x)


def _probs(rng, shape, dtype=np.float64):
    return rng.uniform(0.05, 1.0, shape).astype(dtype)  # rows do not sum to 1 on purpose


def _tol(dtype):
    return dict(rtol=2e-6, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)


# ---- forward values ----

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 5), (1, 1), (7, 2), (0, 5)])
def test_categorical_matches_reference(shape, from_logits, dtype):
    rng = np.random.default_rng(0)
    target = rng.uniform(0, 1, shape).astype(dtype)
    output = (rng.normal(0, 3, shape) if from_logits else _probs(rng, shape)).astype(dtype)
    got = ops.categorical_crossentropy(target, output, from_logits=from_logits)
    assert got.shape == shape[:-1] and got.dtype == np.dtype(dtype).name
    np.testing.assert_allclose(_np(got), ref_cce(target, output, from_logits, dtype=dtype), **_tol(dtype))


def test_categorical_keras_docstring_values():
    target = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    output = [[0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.2, 0.3, 0.5]]
    np.testing.assert_allclose(_np(ops.categorical_crossentropy(target, output)),
                               [0.10536054, 0.22314355, 0.6931472], rtol=1e-6)


@pytest.mark.parametrize("from_logits", [False, True])
def test_categorical_axis_1_of_3d(from_logits):
    rng = np.random.default_rng(1)
    output = rng.normal(0, 2, (2, 5, 3)) if from_logits else _probs(rng, (2, 5, 3))
    target = rng.uniform(0, 1, (2, 5, 3))
    got = ops.categorical_crossentropy(target, output, from_logits=from_logits, axis=1)
    assert got.shape == (2, 3)
    np.testing.assert_allclose(_np(got), ref_cce(target, output, from_logits, axis=1), rtol=1e-12)
    np.testing.assert_allclose(_np(ops.categorical_crossentropy(target, output, from_logits, axis=-2)), _np(got))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("shape,label_shape", [((6, 4), (6,)), ((6, 4), (6, 1)), ((2, 3, 4), (2, 3)),
                                               ((2, 3, 4), (2, 3, 1)), ((0, 4), (0,))])
def test_sparse_matches_reference(shape, label_shape, from_logits, dtype):
    rng = np.random.default_rng(2)
    labels = rng.integers(0, shape[-1], label_shape)
    output = (rng.normal(0, 3, shape) if from_logits else _probs(rng, shape)).astype(dtype)
    got = ops.sparse_categorical_crossentropy(labels, output, from_logits=from_logits)
    assert got.shape == shape[:-1] and got.dtype == np.dtype(dtype).name
    np.testing.assert_allclose(_np(got), ref_sparse(labels, output, from_logits, dtype=dtype), **_tol(dtype))


def test_sparse_label_dtypes_and_axis():
    rng = np.random.default_rng(3)
    output = _probs(rng, (2, 4, 3))  # classes on axis 1
    labels = rng.integers(0, 4, (2, 3))
    want = ref_sparse(labels, output, axis=1)
    for lab in (labels, labels.astype(np.int32), labels.astype(np.float32), labels.astype(np.float64)):
        got = ops.sparse_categorical_crossentropy(lab, output, axis=1)
        assert got.shape == (2, 3)
        np.testing.assert_allclose(_np(got), want, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("shape", [(4,), (3, 5), (2, 3, 4), (0, 3), ()])
def test_binary_is_elementwise(shape, from_logits, dtype):
    rng = np.random.default_rng(4)
    target = rng.uniform(0, 1, shape).astype(dtype)
    output = (rng.normal(0, 3, shape) if from_logits else rng.uniform(0.01, 0.99, shape)).astype(dtype)
    got = ops.binary_crossentropy(target, output, from_logits=from_logits)
    assert got.shape == shape and got.dtype == np.dtype(dtype).name
    want = ref_bce(target, output, from_logits, dtype)
    np.testing.assert_allclose(_np(got), want, **_tol(dtype))
    if len(shape) >= 1:
        per_sample = nn_ops._binary_crossentropy_mean(target, output, from_logits)
        assert per_sample.shape == shape[:-1]
        np.testing.assert_allclose(_np(per_sample), want.mean(axis=-1), **_tol(dtype))


def test_binary_keras_docstring_values_and_logits_agree_with_sigmoid():
    np.testing.assert_allclose(_np(ops.binary_crossentropy([0, 1, 1, 0], [0.1, 0.9, 0.8, 0.2])),
                               [0.10536054, 0.10536054, 0.22314355, 0.22314355], rtol=1e-6)
    z = np.linspace(-8, 8, 17)
    t = np.linspace(0, 1, 17)
    np.testing.assert_allclose(_np(ops.binary_crossentropy(t, z, from_logits=True)),
                               _np(ops.binary_crossentropy(t, 1 / (1 + np.exp(-z)))), rtol=1e-9)


@pytest.mark.parametrize("name,ref", [("_mean_squared_error", ref_mse), ("_mean_absolute_error", ref_mae)])
def test_regression_helpers(name, ref):
    fn = getattr(nn_ops, name)
    rng = np.random.default_rng(5)
    for tshape, oshape in [((4, 3), (4, 3)), ((2, 3, 4), (2, 3, 4)), ((0, 3), (0, 3)), ((4, 3), (4, 1))]:
        t, o = rng.normal(size=tshape), rng.normal(size=oshape)
        got = fn(t, o)
        want = ref(t, o)  # NumPy broadcasting, as Keras does after its rank fix
        assert got.shape == want.shape
        np.testing.assert_allclose(_np(got), want, rtol=1e-12)
    # Keras's rank fix: (N,) against (N, 1) is one loss per sample; (N, 3, 1) against (N, 3) squeezes.
    t, o = rng.normal(size=5), rng.normal(size=(5, 1))
    np.testing.assert_allclose(_np(fn(t, o)), ref(t[:, None], o), rtol=1e-12)
    t, o = rng.normal(size=(2, 3, 1)), rng.normal(size=(2, 3))
    np.testing.assert_allclose(_np(fn(t, o)), ref(t[..., 0], o), rtol=1e-12)
    assert fn([[1, 2]], np.array([[0, 0]], np.int32)).dtype == "float32"  # integer output: float32


def test_noncontiguous_and_integer_inputs():
    rng = np.random.default_rng(6)
    out = _probs(rng, (5, 4)).T  # a transposed view, classes strided
    tgt = rng.uniform(0, 1, (5, 4)).T
    np.testing.assert_allclose(_np(ops.categorical_crossentropy(tgt, out)),
                               _np(ops.categorical_crossentropy(np.ascontiguousarray(tgt), np.ascontiguousarray(out))),
                               rtol=0, atol=0)
    counts = np.array([[1, 3, 0], [2, 2, 4]])  # integer output: cast to float32, then renormalised
    got = ops.categorical_crossentropy(np.array([[0, 1, 0], [0, 0, 1]]), counts)
    assert got.dtype == "float32"
    np.testing.assert_allclose(_np(got), [-np.log(0.75), -np.log(0.5)], rtol=1e-6)


# ---- extremes (ERRORS.md row 2) ----

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_logits_are_finite(dtype):
    z = np.array([[1e30, 0.0]], dtype)
    assert _np(ops.categorical_crossentropy(np.array([[1, 0]], dtype), z, from_logits=True))[0] == 0.0
    np.testing.assert_allclose(_np(ops.categorical_crossentropy(np.array([[0, 1]], dtype), z, from_logits=True)),
                               [1e30], rtol=1e-6)
    np.testing.assert_allclose(_np(ops.sparse_categorical_crossentropy([1], z, from_logits=True)), [1e30], rtol=1e-6)
    b = _np(ops.binary_crossentropy(np.array([0.0, 1.0, 1.0], dtype), np.array([1e30, 1e30, -1e30], dtype), True))
    np.testing.assert_allclose(b, [1e30, 0.0, 1e30], rtol=1e-6)
    # A row holding +inf gives NaN, as softmax does; no crash.
    assert np.isnan(_np(ops.categorical_crossentropy(np.array([[1, 0]], dtype), np.array([[np.inf, 0]], dtype),
                                                     from_logits=True))[0])


@pytest.mark.parametrize("dtype,high", [(np.float64, 16.118095), (np.float32, 15.942385)])
def test_probabilities_zero_and_one_are_clipped(dtype, high):
    # -log(eps) = 16.118 either way; -log(1 - (1 - eps)) is 15.942 in float32, where 1 - eps rounds to
    # 0.99999988, and 16.118 in float64 (the values Keras gives).
    low = 16.118095
    cce = ops.categorical_crossentropy(np.array([[1, 0]], dtype), np.array([[0, 1]], dtype))
    np.testing.assert_allclose(_np(cce), [low], rtol=1e-6)
    sp = ops.sparse_categorical_crossentropy([0], np.array([[0, 1]], dtype))
    np.testing.assert_allclose(_np(sp), [low], rtol=1e-6)
    bce = _np(ops.binary_crossentropy(np.array([1, 0, 1, 0], dtype), np.array([0, 1, 1, 0], dtype)))
    assert np.all(np.isfinite(bce))
    np.testing.assert_allclose(bce[:2], [low, high], rtol=1e-6)
    assert 0 < bce[2] < 2e-7 and 0 < bce[3] < 2e-7  # -log(1 - eps) rather than 0


# ---- gradients: central finite differences in float64, away from the clip boundaries ----

def _grads(fn, target, output, weights, wrt_target=True):
    t, o = ops.convert_to_tensor(target), ops.convert_to_tensor(output)
    with ckeras.GradientTape() as tape:
        tape.watch([t, o])
        loss = fn(t, o)
    g_o, g_t = tape.gradient(loss, [o, t], output_gradients=ops.convert_to_tensor(weights))
    return _np(g_o), (None if g_t is None else _np(g_t))


def _fd(ref, target, output, weights, wrt, h=1e-6):
    x = np.array(output if wrt == "output" else target, np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        args_p = (target, xp) if wrt == "output" else (xp, output)
        args_m = (target, xm) if wrt == "output" else (xm, output)
        g[i] = np.sum(weights * (ref(*args_p) - ref(*args_m))) / (2 * h)
    return g


GRAD_CASES = [
    ("cce_probs", lambda t, o: ops.categorical_crossentropy(t, o), lambda t, o: ref_cce(t, o), "probs", (3, 4)),
    ("cce_logits", lambda t, o: ops.categorical_crossentropy(t, o, True), lambda t, o: ref_cce(t, o, True),
     "logits", (3, 4)),
    ("cce_axis1", lambda t, o: ops.categorical_crossentropy(t, o, True, axis=1),
     lambda t, o: ref_cce(t, o, True, axis=1), "logits", (2, 4, 3)),
    ("bce_probs", lambda t, o: ops.binary_crossentropy(t, o), lambda t, o: ref_bce(t, o), "unit", (3, 4)),
    ("bce_logits", lambda t, o: ops.binary_crossentropy(t, o, True), lambda t, o: ref_bce(t, o, True),
     "logits", (3, 4)),
    ("bce_mean", lambda t, o: nn_ops._binary_crossentropy_mean(t, o), lambda t, o: ref_bce(t, o).mean(-1),
     "unit", (3, 4)),
    ("mse", nn_ops._mean_squared_error, ref_mse, "logits", (3, 4)),
    ("mae", nn_ops._mean_absolute_error, ref_mae, "logits", (3, 4)),
]


@pytest.mark.parametrize("name,fn,ref,kind,shape", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradients_match_finite_differences(name, fn, ref, kind, shape):
    rng = np.random.default_rng(7)
    output = {"probs": lambda: _probs(rng, shape) + 0.2, "logits": lambda: rng.normal(0, 2, shape),
              "unit": lambda: rng.uniform(0.05, 0.95, shape)}[kind]()
    target = rng.uniform(0, 1, shape)
    weights = rng.uniform(0.5, 1.5, ref(target, output).shape)
    g_o, g_t = _grads(fn, target, output, weights)
    np.testing.assert_allclose(g_o, _fd(ref, target, output, weights, "output"), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(g_t, _fd(ref, target, output, weights, "target"), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_gradient_and_no_label_gradient(from_logits):
    rng = np.random.default_rng(8)
    output = rng.normal(0, 2, (5, 4)) if from_logits else _probs(rng, (5, 4)) + 0.2
    labels = rng.integers(0, 4, (5, 1)).astype(np.float64)  # float labels: accepted, never differentiated
    weights = rng.uniform(0.5, 1.5, 5)
    g_o, g_t = _grads(lambda t, o: ops.sparse_categorical_crossentropy(t, o, from_logits), labels, output, weights)
    ref = lambda t, o: ref_sparse(t, o, from_logits)  # noqa: E731
    np.testing.assert_allclose(g_o, _fd(ref, labels, output, weights, "output"), rtol=1e-6, atol=1e-7)
    assert g_t is None


def test_sparse_backward_uses_the_labels_of_the_forward():
    labels = np.array([0, 2, 1])  # int64: shared with the engine, not copied on conversion
    o = ops.convert_to_tensor(np.full((3, 3), 0.5))
    with ckeras.GradientTape() as tape:
        tape.watch(o)
        loss = ops.sparse_categorical_crossentropy(labels, o, from_logits=True)
    labels[1] = 99  # changed after the forward: neither an error nor a different gradient
    g = _np(tape.gradient(loss, o))
    np.testing.assert_allclose(g, np.full((3, 3), 1 / 3) - np.eye(3)[[0, 2, 1]], rtol=1e-12)


def test_clipped_probability_has_zero_gradient_and_empty_batch_grad():
    g_o, _ = _grads(lambda t, o: ops.categorical_crossentropy(t, o), np.array([[1.0, 0.0]]),
                    np.array([[1.0, 0.0]]), np.ones(1))
    np.testing.assert_array_equal(g_o, [[0.0, 0.0]])  # q = 1 is above 1 - eps: the clip is active
    g_o, g_t = _grads(lambda t, o: ops.categorical_crossentropy(t, o, True), np.zeros((0, 3)), np.zeros((0, 3)),
                      np.zeros(0))
    assert g_o.shape == (0, 3) and g_t.shape == (0, 3)


# ---- errors (ERRORS.md rows 24, 25) and recovery ----

def test_integer_labels_with_categorical_crossentropy():  # row 24
    labels = np.arange(32) % 10
    with pytest.raises(ValueError, match=r"must have the same shape.*\(32,\).*\(32, 10\).*use "
                                         r"sparse_categorical_crossentropy for integer labels"):
        ops.categorical_crossentropy(labels, np.full((32, 10), 0.1, np.float32))
    with pytest.raises(ValueError, match="must have the same shape") as e:
        ops.categorical_crossentropy(np.zeros((4, 3)), np.zeros((4, 5)))
    assert "sparse" not in str(e.value)
    with pytest.raises(ValueError, match=r"must have the same shape.*\(4,\).*\(4, 5\)"):
        ops.binary_crossentropy(np.zeros(4), np.zeros((4, 5)))


@pytest.mark.parametrize("bad", [10, -1, 11])
@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_label_out_of_range(bad, from_logits):  # row 25
    labels = np.array([0, 3, bad, 9])
    output = np.full((4, 10), 0.1, np.float32)
    with pytest.raises(ValueError, match=rf"Received a label value of {bad} which is outside the valid range "
                                         r"of \[0, 10\)"):
        ops.sparse_categorical_crossentropy(labels, output, from_logits=from_logits)
    with pytest.raises(ValueError, match=rf"label value of {bad}\b.*valid range of \[0, 10\)"):
        ops.sparse_categorical_crossentropy(labels.astype(np.float32), output, from_logits=from_logits)


def test_sparse_rejects_fractional_labels_and_bad_shapes():
    with pytest.raises(ValueError, match="non-integer value 1.5"):
        ops.sparse_categorical_crossentropy([0.0, 1.5], np.full((2, 3), 0.3))
    with pytest.raises(ValueError, match="non-integer value nan"):
        ops.sparse_categorical_crossentropy([0.0, np.nan], np.full((2, 3), 0.3))
    with pytest.raises(ValueError, match=r"expected target.shape=\(2,\)"):
        ops.sparse_categorical_crossentropy([[0, 1], [1, 0]], np.full((2, 3), 0.3))
    with pytest.raises(IndexError, match="axis 2 is out of bounds for tensor of rank 2"):
        ops.sparse_categorical_crossentropy([0, 1], np.full((2, 3), 0.3), axis=2)


def test_training_keeps_working_after_errors():
    # A softmax-regression model trained with the fused loss, before and after each error above.
    rng = np.random.default_rng(9)
    x = rng.normal(size=(32, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + 2 * (x[:, 1] > 0)
    w = ckeras.Variable(np.zeros((4, 4), np.float32))

    def step():
        with ckeras.GradientTape() as tape:
            loss = ops.mean(ops.sparse_categorical_crossentropy(y, ops.matmul(x, w), from_logits=True))
        g = tape.gradient(loss, w)
        w.assign(w - 0.5 * g)
        return float(loss)

    first = step()
    for bad in (lambda: ops.sparse_categorical_crossentropy(y + 4, ops.matmul(x, w), from_logits=True),
                lambda: ops.categorical_crossentropy(y, ops.matmul(x, w), from_logits=True)):
        with ckeras.GradientTape():
            with pytest.raises(ValueError):
                bad()
        step()
    for _ in range(20):
        last = step()
    assert np.isclose(first, np.log(4), rtol=1e-6) and last < 0.5 * first
