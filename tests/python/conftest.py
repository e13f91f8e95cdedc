"""Shared helpers for the op tests: NumPy comparison with float32 tolerances, and one finite-difference
gradient checker (float64, central differences) in the spirit of tinygrad's `helper_test_op`.

`helper_test_op` runs an op in ckeras and its NumPy reference on the same inputs, compares the
forward results, then checks the backward of `sum(op(x) * w)` (random `w`) against central
differences of the ckeras forward in float64. The reference is always independent NumPy code.
"""
import numpy as np
import pytest

import ckeras
from ckeras import ops

# On a GPU, float32 matmul would use TF32 tensor cores by default (10-bit mantissas, ~1e-3 relative), and
# the float32 tolerances below assume full precision; tests of the TF32 path turn it on themselves.
ckeras.config.enable_tensor_float_32_execution(False)


def pytest_collection_modifyitems(config, items):
    from ckeras import _core
    if not any(item.get_closest_marker("cpu_placement") for item in items):
        return
    if _core.current_device() == "cpu":
        return
    skip = pytest.mark.skip(reason=f"tensors land on {_core.current_device()} by default")
    for item in items:
        if item.get_closest_marker("cpu_placement"):
            item.add_marker(skip)

# float32 results are compared with a float64 reference computed from the same float32 inputs.
F32_RTOL, F32_ATOL = 2e-5, 1e-6
# Finite differences in float64 with h = 1e-6 are good to about 1e-7 relative; allow some slack.
GRAD_RTOL, GRAD_ATOL = 1e-5, 1e-6


def np_of(t):
    """A NumPy copy of a ckeras tensor (or anything array-like)."""
    return np.array(t)


def assert_close(actual, expected, rtol=F32_RTOL, atol=F32_ATOL, dtype=None):
    """Shape, optional dtype, and values (NaN == NaN, inf == inf of the same sign) must match."""
    a = np_of(actual)
    e = np.asarray(expected)
    assert a.shape == e.shape, f"shape {a.shape} != expected {e.shape}"
    if dtype is not None:
        assert a.dtype == np.dtype(dtype), f"dtype {a.dtype} != expected {np.dtype(dtype)}"
    if a.dtype == bool or e.dtype == bool or np.issubdtype(e.dtype, np.integer):
        np.testing.assert_array_equal(a, e)
    else:
        np.testing.assert_allclose(a.astype(np.float64), e.astype(np.float64), rtol=rtol, atol=atol,
                                   equal_nan=True)


def rand(shape, low=-2.0, high=2.0, dtype=np.float32, seed=0):
    """Uniform random values in [low, high)."""
    rng = np.random.default_rng(seed)
    return rng.uniform(low, high, size=shape).astype(dtype)


def numeric_grads(fn, xs, w, h=1e-6):
    """Central-difference gradients of sum(fn(*xs) * w) with respect to every array in xs (float64)."""
    def objective(arrays):
        out = np_of(fn(*[ops.convert_to_tensor(a) for a in arrays]))
        return float(np.sum(out.astype(np.float64) * w))

    grads = []
    for i, x in enumerate(xs):
        g = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            plus = [a.copy() for a in xs]
            minus = [a.copy() for a in xs]
            plus[i][idx] += h
            minus[i][idx] -= h
            g[idx] = (objective(plus) - objective(minus)) / (2 * h)
        grads.append(g)
    return grads


def check_grad(fn, *inputs, h=1e-6, rtol=GRAD_RTOL, atol=GRAD_ATOL, seed=1, wrt=None):
    """Checks GradientTape gradients of sum(fn(*x) * w) against central differences, in float64.

    `wrt` lists the positions of the inputs to differentiate (all by default).
    """
    xs = [np.array(x, dtype=np.float64) for x in inputs]
    wrt = list(range(len(xs))) if wrt is None else list(wrt)
    out = np_of(fn(*[ops.convert_to_tensor(x) for x in xs]))
    w = np.random.default_rng(seed).standard_normal(out.shape)
    ts = [ops.convert_to_tensor(x) for x in xs]
    with ckeras.GradientTape() as tape:
        for i in wrt:
            tape.watch(ts[i])
        y = ops.sum(ops.multiply(fn(*ts), w))
    analytic = tape.gradient(y, [ts[i] for i in wrt])
    numeric = numeric_grads(fn, xs, w, h)
    for i, a in zip(wrt, analytic):
        n = numeric[i]
        if n.size == 0 or not np.any(n):
            # An empty input, or one the output does not depend on: None or zeros are both right.
            assert a is None or not np.any(np_of(a)), f"input {i}: expected a zero gradient"
            continue
        assert a is not None, f"input {i}: no gradient"
        assert np_of(a).shape == xs[i].shape, f"input {i}: gradient shape {np_of(a).shape}"
        np.testing.assert_allclose(np_of(a), n, rtol=rtol, atol=atol, err_msg=f"gradient of input {i}")


def helper_test_op(shapes, ck_fn, np_fn, low=-2.0, high=2.0, grad=True, rtol=F32_RTOL, atol=F32_ATOL,
                   grad_rtol=GRAD_RTOL, grad_atol=GRAD_ATOL, vals=None, seed=0):
    """Forward in float32 against NumPy (float64 reference on the same values), then the backward.

    shapes: one shape per input (ignored when `vals` gives the inputs).
    """
    if vals is None:
        vals = [rand(s, low, high, seed=seed + i) for i, s in enumerate(shapes)]
    vals = [np.asarray(v, dtype=np.float32) for v in vals]
    out = ck_fn(*[ops.convert_to_tensor(v) for v in vals])
    expected = np_fn(*[v.astype(np.float64) for v in vals])
    assert_close(out, np.asarray(expected), rtol=rtol, atol=atol)
    assert np_of(out).dtype == np.float32
    if grad:
        check_grad(ck_fn, *vals, rtol=grad_rtol, atol=grad_atol)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
