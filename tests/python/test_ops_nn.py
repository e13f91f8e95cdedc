"""Neural-network ops against NumPy: activations, softmax/log_softmax (ERRORS.md row 2: large and
infinite logits), one_hot, and the `ckeras.activations` wrappers, with gradients."""
import math

import numpy as np
import pytest

import ckeras
from ckeras import ops
from conftest import assert_close, helper_test_op, np_of, rand

SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
_erf = np.vectorize(math.erf, otypes=[np.float64])


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# name -> (ckeras fn, NumPy reference)
ACTIVATIONS = {
    "relu": (ops.relu, lambda x: np.maximum(x, 0)),
    "relu6": (ops.relu6, lambda x: np.clip(x, 0, 6)),
    "leaky_relu": (ops.leaky_relu, lambda x: np.where(x >= 0, x, 0.2 * x)),
    "leaky_relu_0.05": (lambda x: ops.leaky_relu(x, negative_slope=0.05), lambda x: np.where(x >= 0, x, 0.05 * x)),
    "elu": (ops.elu, lambda x: np.where(x > 0, x, np.expm1(x))),
    "elu_0.5": (lambda x: ops.elu(x, alpha=0.5), lambda x: np.where(x > 0, x, 0.5 * np.expm1(x))),
    "selu": (ops.selu, lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x))),
    "gelu_tanh": (ops.gelu, lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))),
    "gelu_exact": (lambda x: ops.gelu(x, approximate=False), lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2)))),
    "silu": (ops.silu, lambda x: x * _sigmoid(x)),
    "swish": (ops.swish, lambda x: x * _sigmoid(x)),
    "sigmoid": (ops.sigmoid, _sigmoid),
    "hard_sigmoid": (ops.hard_sigmoid, lambda x: np.clip(x / 6 + 0.5, 0, 1)),
    "softplus": (ops.softplus, lambda x: np.logaddexp(0, x)),
    "softsign": (ops.softsign, lambda x: x / (1 + np.abs(x))),
}


@pytest.mark.parametrize("shape", [(), (1,), (33,), (4, 0), (2, 3, 5)], ids=str)
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_matches_numpy(name, shape):
    fn, ref = ACTIVATIONS[name]
    helper_test_op([shape], fn, ref, low=-8, high=8)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_extremes_and_nan(name):
    fn, ref = ACTIVATIONS[name]
    x = np.array([np.nan, np.inf, -np.inf, 1e30, -1e30, 100.0, -100.0, 0.0], np.float32)
    with np.errstate(all="ignore"):
        want = ref(x.astype(np.float64))
    got = np_of(fn(x))
    assert np.isnan(got).tolist() == np.isnan(want).tolist()  # NaN in, NaN out, nowhere else
    assert_close(got, want, rtol=1e-6, atol=1e-30)


def test_activations_on_integers_give_float32():
    x = np.array([-2, 0, 3], np.int32)
    assert_close(ops.sigmoid(x), _sigmoid(x.astype(np.float64)), dtype=np.float32)
    assert_close(ops.relu(x), [0, 0, 3], dtype=np.int32)


def _softmax(x, axis):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True, initial=-np.inf))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax(x, axis):
    m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    with np.errstate(divide="ignore"):  # an empty axis sums to 0
        return x - m - np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))


@pytest.mark.parametrize("shape,axis", [((7,), -1), ((1,), 0), ((3, 5), -1), ((3, 5), 0), ((2, 3, 4), 1),
                                        ((2, 3, 4), -3), ((2, 33), -1), ((4, 0), -1), ((0, 4), 1)], ids=str)
@pytest.mark.parametrize("log", [False, True])
def test_softmax_matches_numpy(shape, axis, log):
    fn, ref = (ops.log_softmax, _log_softmax) if log else (ops.softmax, _softmax)
    helper_test_op([shape], lambda x: fn(x, axis=axis), lambda x: ref(x, axis), low=-5, high=5)


def test_softmax_default_axis_float64_and_int():
    x = rand((2, 3)).astype(np.float64)
    assert_close(ops.softmax(x), _softmax(x, -1), dtype=np.float64, rtol=1e-12)
    assert_close(ops.log_softmax(np.array([1, 2, 3], np.int32)), _log_softmax(np.array([1.0, 2, 3]), -1),
                 dtype=np.float32)


def test_softmax_large_and_infinite_logits():
    x = np.array([[1e30, 0.0], [np.inf, 0.0], [-np.inf, 0.0], [np.nan, 1.0], [1.0, 2.0]], np.float32)
    want = [[1, 0], [np.nan, np.nan], [0, 1], [np.nan, np.nan], _softmax(np.array([1.0, 2.0]), -1)]
    assert_close(ops.softmax(x), want)
    assert_close(ops.log_softmax(x[[0, 2, 4]]), [[0, -1e30], [-np.inf, 0], _log_softmax(np.array([1.0, 2.0]), -1)])
    # The same along a non-last axis (the strided kernel path).
    assert_close(ops.softmax(x.T, axis=0), np.array(want).T)


def test_softmax_axis_out_of_range():
    with pytest.raises((IndexError, ValueError), match="axis 2 is out of bounds for tensor of rank 2"):
        ops.softmax(ops.zeros((2, 3)), axis=2)


def _one_hot(x, n, axis=-1):
    out = (np.asarray(x)[..., None] == np.arange(n)).astype(np.float32)
    return np.moveaxis(out, -1, axis)


@pytest.mark.parametrize("indices,n,axis", [([0, 2, 1], 3, -1), ([[0, 3], [1, 1]], 4, -1), ([[0, 3], [1, 1]], 4, 0),
                                            ([[0, 3], [1, 1]], 4, 1), ([1, -1, 5, 3], 4, -1), ([], 3, -1),
                                            (2, 3, -1)], ids=str)
def test_one_hot(indices, n, axis):
    x = np.array(indices, np.int32)
    assert_close(ops.one_hot(x, n, axis=axis), _one_hot(x, n, axis), dtype=np.float32)


def test_one_hot_dtype_and_errors():
    assert_close(ops.one_hot(np.array([1, 0]), 2, dtype="int32"), [[0, 1], [1, 0]], dtype=np.int32)
    with pytest.raises(TypeError, match="integer"):
        ops.one_hot(np.array([0.5]), 3)
    with pytest.raises((IndexError, ValueError), match="out of bounds"):
        ops.one_hot(np.array([[0]]), 3, axis=3)


def test_keras_activations_module():
    acts = ckeras.activations
    x = rand((17,), -8, 8)
    x64 = x.astype(np.float64)
    assert acts.get("relu") is acts.relu and acts.get(None)(x) is not None
    assert_close(acts.gelu(x), ACTIVATIONS["gelu_exact"][1](x64))  # Keras's activation default is exact
    assert_close(acts.exponential(x), np.exp(x64))
    assert_close(acts.linear(x), x)
    assert_close(acts.relu(x, max_value=6.0), np.clip(x64, 0, 6))
    assert_close(acts.relu(x, negative_slope=0.1), np.where(x64 > 0, x64, 0.1 * x64))
    assert_close(acts.relu(x, threshold=1.0), np.where(x64 > 1, x64, 0))
    assert_close(acts.relu(x, negative_slope=0.1, max_value=4.0, threshold=1.0),
                 np.clip(np.where(x64 > 1, x64, 0), 0, 4) - 0.1 * np.maximum(1 - x64, 0))
    with pytest.raises(ValueError, match="relu"):
        acts.get("reluu")


def test_activations_relu_threshold_zeroes_values_at_the_threshold():
    from ckeras import activations
    x = np.array([-1.0, 0.5, 1.0, 2.0], np.float32)
    np.testing.assert_allclose(np.asarray(activations.relu(x, threshold=1.0)), [0, 0, 0, 2])
    np.testing.assert_allclose(np.asarray(activations.relu(x, max_value=1.5)), [0, 0.5, 1.0, 1.5])
    np.testing.assert_allclose(np.asarray(activations.relu(x, negative_slope=0.1)), [-0.1, 0.5, 1.0, 2.0],
                               rtol=1e-6)
