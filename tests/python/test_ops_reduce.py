"""Reductions against NumPy: several axes, keepdims, negative axes, empty reductions (ERRORS.md row 4),
bad axes (row 12), NaN propagation, integer dtypes, and gradients."""
import numpy as np
import pytest

from ckeras import ops
from conftest import assert_close, check_grad, helper_test_op, np_of, rand


def _logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


# name -> (ckeras fn, NumPy reference); each takes (x, axis, keepdims).
REDUCE = {
    "sum": (ops.sum, np.sum), "mean": (ops.mean, np.mean), "max": (ops.max, np.max),
    "min": (ops.min, np.min), "amax": (ops.amax, np.max), "amin": (ops.amin, np.min),
    "prod": (ops.prod, np.prod), "var": (ops.var, np.var), "std": (ops.std, np.std),
    "logsumexp": (ops.logsumexp, _logsumexp),
}
CASES = [((7,), None), ((7,), 0), ((127,), -1), ((1,), 0), ((3, 4, 5), None), ((3, 4, 5), 1),
         ((3, 4, 5), -1), ((3, 4, 5), (0, 2)), ((3, 4, 5), (-1, -3)), ((3, 4, 5), (1, 2)),
         ((2, 33), 0), ((2, 3), ())]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("shape,axis", CASES, ids=str)
@pytest.mark.parametrize("name", sorted(REDUCE))
def test_reduce_matches_numpy(name, shape, axis, keepdims):
    fn, ref = REDUCE[name]
    low = 0.5 if name == "prod" else -2.0  # keep products of 127 values finite and well-scaled
    high = 1.5 if name == "prod" else 2.0
    # Gradients are checked on a subset: finite differences are the slow part.
    grad = keepdims and (shape != (127,) or name in ("sum", "mean"))
    if name == "std" and np.prod([shape[a] for a in np.atleast_1d(axis)] if axis is not None else shape) <= 1:
        grad = False  # std of one value is 0, where sqrt has no derivative (NaN, as in TF and JAX)
    helper_test_op([shape], lambda x: fn(x, axis=axis, keepdims=keepdims),
                   lambda x: ref(x, axis=axis, keepdims=keepdims), low=low, high=high, grad=grad,
                   rtol=1e-4 if name in ("var", "std") else 2e-5)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("shape,axis", [((7,), None), ((7,), 0), ((3, 4, 5), 1), ((3, 4, 5), -1),
                                        ((3, 4, 5), None), ((2, 33), 0)], ids=str)
def test_arg_reductions_match_numpy(name, shape, axis):
    x = rand(shape, seed=3)
    ref = getattr(np, name)
    assert_close(getattr(ops, name)(x, axis=axis), ref(x, axis=axis), dtype=np.int32)
    assert_close(getattr(ops, name)(x, axis=axis, keepdims=True), ref(x, axis=axis, keepdims=True),
                 dtype=np.int32)


def test_arg_reductions_take_the_first_tie_and_the_first_nan():
    x = np.array([[1, 3, 3, 0], [2, np.nan, 5, np.nan], [0, 0, 0, 0]], np.float32)
    assert_close(ops.argmax(x, axis=1), np.argmax(x, axis=1))
    assert_close(ops.argmin(x, axis=1), np.argmin(x, axis=1))
    assert_close(ops.argmax(x.T, axis=0), np.argmax(x.T, axis=0))  # the inner > 1 path
    assert_close(ops.argmin(x.T, axis=0), np.argmin(x.T, axis=0))


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "prod"])
def test_nan_and_inf_propagate_per_row(name):
    x = np.array([[1, np.nan, 2], [3, 4, 5], [np.inf, 1, 2], [-np.inf, np.inf, 0]], np.float32)
    with np.errstate(invalid="ignore"):
        for axis in (1, 0):
            assert_close(REDUCE[name][0](x, axis=axis), REDUCE[name][1](x.astype(np.float64), axis=axis))


def test_logsumexp_with_infinite_rows():
    x = np.array([[-np.inf, -np.inf], [np.inf, 1.0], [np.nan, 1.0], [1e30, 0.0]], np.float32)
    assert_close(ops.logsumexp(x, axis=1), [-np.inf, np.inf, np.nan, 1e30])


def test_empty_reductions():
    z = np.zeros((0, 3), np.float32)
    assert_close(ops.sum(z, axis=0), np.zeros(3), dtype=np.float32)
    assert_close(ops.sum(z), 0.0)
    assert_close(ops.prod(z, axis=0), np.ones(3))
    with np.errstate(invalid="ignore"):
        assert_close(ops.mean(z, axis=0), np.full(3, np.nan))
        assert_close(ops.mean(z), np.nan)
    # Reducing the non-empty axis of an empty tensor is fine.
    assert_close(ops.max(z, axis=1), np.zeros((0,)))
    for fn in (ops.max, ops.min, ops.argmax, ops.argmin):
        for axis in (0, None):
            with pytest.raises(ValueError, match="zero-size.*no identity"):
                fn(z, axis=axis)


@pytest.mark.parametrize("fn", [ops.sum, ops.mean, ops.max, ops.min, ops.prod, ops.var, ops.std,
                                ops.logsumexp, ops.argmax, ops.argmin], ids=lambda f: f.__name__)
@pytest.mark.parametrize("axis", [2, -3])
def test_axis_out_of_range(fn, axis):
    with pytest.raises((IndexError, ValueError), match=f"axis {axis} is out of bounds for tensor of rank 2"):
        fn(np.zeros((2, 3), np.float32), axis=axis)


def test_duplicate_axes_raise():
    with pytest.raises(ValueError, match="duplicate"):
        ops.sum(np.zeros((2, 3), np.float32), axis=(1, -1))


def test_integer_and_bool_reductions():
    x = np.arange(12, dtype=np.int32).reshape(3, 4) - 5
    assert_close(ops.sum(x, axis=0), x.sum(axis=0), dtype=np.int32)
    assert_close(ops.max(x, axis=1), x.max(axis=1), dtype=np.int32)
    assert_close(ops.min(x), x.min(), dtype=np.int32)
    assert_close(ops.prod(x[:, 1:3], axis=1), x[:, 1:3].prod(axis=1), dtype=np.int32)
    assert_close(ops.mean(x, axis=1), x.mean(axis=1), dtype=np.float32)
    b = np.array([[True, False, True], [True, True, True]])
    assert np_of(ops.sum(b)) == 5
    assert_close(ops.sum(b, axis=1), [2, 3])


@pytest.mark.parametrize("n", [1, 7, 33, 127, 1025, 70_001])
def test_long_float32_sums_are_accurate(n):
    x = rand((n,), 0.0, 1.0, seed=n)
    assert_close(ops.sum(x), np.sum(x, dtype=np.float64), rtol=1e-6)
    assert_close(ops.mean(ops.reshape(x, (1, n)), axis=1), [np.mean(x, dtype=np.float64)], rtol=1e-6)


def test_reductions_of_strided_views():
    a = rand((6, 8), seed=4)
    t = ops.convert_to_tensor(a)
    assert_close(ops.sum(t[::-2, 1::3], axis=0), a[::-2, 1::3].sum(axis=0))
    assert_close(ops.max(ops.transpose(t), axis=1), a.T.max(axis=1))
    assert_close(ops.var(t[:, ::-1], axis=(0, 1)), a[:, ::-1].astype(np.float64).var(), rtol=1e-5)


def test_prod_gradient_with_zeros():
    # d prod / d x_i = product of the others; one zero leaves one non-zero entry, two zeros none.
    check_grad(lambda x: ops.prod(x, axis=1), np.array([[2.0, 0.0, 3.0], [0.0, 4.0, 0.0], [1.5, -2.0, 0.5]]))
    check_grad(lambda x: ops.prod(x), np.array([[2.0, 0.0], [3.0, 5.0]]))


def test_max_gradient_splits_ties():
    import ckeras
    x = ops.convert_to_tensor(np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]]))
    with ckeras.GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(ops.max(x, axis=1))
    assert_close(tape.gradient(y, x), [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])


def test_initial_values_and_prod_dtype():
    z, x = np.zeros((0, 3), np.float32), rand((2, 3), seed=6)
    assert_close(ops.max(z, axis=0, initial=-1.0), np.max(z, axis=0, initial=-1.0))
    assert_close(ops.min(x, axis=1, initial=-0.5), np.min(x, axis=1, initial=-0.5))
    assert_close(ops.max(x, initial=10.0), np.max(x, initial=10.0))
    assert_close(ops.max(x, keepdims=True, initial=0.5), np.max(x, keepdims=True, initial=0.5))
    assert_close(ops.min(x, axis=(0, 1), initial=-5.0), np.min(x, axis=(0, 1), initial=-5.0))
    assert_close(ops.min(z, axis=(0, 1), keepdims=True, initial=2.0), np.min(z, axis=(0, 1), keepdims=True, initial=2.0))
    assert_close(ops.max(np.array([1, 2], np.int32), initial=1.5), np.max(np.array([1, 2], np.int32), initial=1.5),
                 dtype=np.int32)
    assert_close(ops.prod(np.array([2, 3], np.int32), dtype="float64"), 6.0, dtype=np.float64)
