"""Elementwise ops against NumPy: unary math, broadcasting binary ops, comparisons, where, dtype
promotion, NaN/Inf propagation (ERRORS.md rows 1-2), Tensor operators, and their gradients."""
import numpy as np
import pytest

import ckeras
from ckeras import ops
from conftest import assert_close, check_grad, helper_test_op, np_of, rand

SHAPES = [(), (1,), (7,), (33,), (127,), (3, 5), (2, 0, 3)]

# name -> (ckeras fn, NumPy reference, input range)
UNARY = {
    "negative": (ops.negative, np.negative, (-2, 2)),
    "abs": (ops.abs, np.abs, (-2, 2)),
    "absolute": (ops.absolute, np.abs, (-2, 2)),
    "square": (ops.square, np.square, (-2, 2)),
    "sqrt": (ops.sqrt, np.sqrt, (0.1, 3)),
    "rsqrt": (ops.rsqrt, lambda x: 1 / np.sqrt(x), (0.1, 3)),
    "exp": (ops.exp, np.exp, (-2, 2)),
    "log": (ops.log, np.log, (0.1, 3)),
    "log1p": (ops.log1p, np.log1p, (-0.5, 3)),
    "sign": (ops.sign, np.sign, (-2, 2)),
    "tanh": (ops.tanh, np.tanh, (-2, 2)),
    "reciprocal": (ops.reciprocal, np.reciprocal, (0.5, 3)),
    "clip": (lambda x: ops.clip(x, -0.5, 0.75), lambda x: np.clip(x, -0.5, 0.75), (-2, 2)),
    "power_scalar": (lambda x: ops.power(x, 3.0), lambda x: x ** 3, (-2, 2)),
}


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_matches_numpy(name, shape):
    fn, ref, (lo, hi) = UNARY[name]
    helper_test_op([shape], fn, ref, low=lo, high=hi)


def test_unary_on_integers_keeps_or_widens_dtype():
    x = np.array([-3, 0, 4], np.int32)
    assert_close(ops.abs(x), np.abs(x), dtype=np.int32)
    assert_close(ops.negative(x), -x, dtype=np.int32)
    assert_close(ops.square(x), x * x, dtype=np.int32)
    assert_close(ops.sign(x), np.sign(x), dtype=np.int32)
    assert_close(ops.sqrt(np.array([4, 9], np.int32)), [2.0, 3.0], dtype=np.float32)
    assert_close(ops.exp(np.array([0, 1], np.int32)), np.exp([0.0, 1.0]), dtype=np.float32)


BINARY = {
    "add": (ops.add, np.add),
    "subtract": (ops.subtract, np.subtract),
    "multiply": (ops.multiply, np.multiply),
    "divide": (ops.divide, np.divide),
    "true_divide": (ops.true_divide, np.divide),
    "power": (ops.power, np.power),
    "maximum": (ops.maximum, np.maximum),
    "minimum": (ops.minimum, np.minimum),
}
BROADCAST_PAIRS = [((3, 1), (1, 4)), ((5,), (2, 5)), ((), (3,)), ((4,), ()), ((7,), (7,)),
                   ((33,), (1,)), ((2, 1, 3), (4, 1)), ((2, 0), (1,)), ((1, 0), (3, 1))]


def _binary_inputs(name, sa, sb):
    a, b = rand(sa, seed=1), rand(sb, seed=2)
    if name == "power":
        a = rand(sa, 0.5, 2.0, seed=1)  # a^b and its gradient need a > 0
    if name in ("divide", "true_divide"):
        b = np.where(b < 0, b - 0.5, b + 0.5).astype(np.float32)  # keep |b| >= 0.5
    return a, b


@pytest.mark.parametrize("sa,sb", BROADCAST_PAIRS, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_broadcasting_matches_numpy(name, sa, sb):
    fn, ref = BINARY[name]
    helper_test_op(None, fn, ref, vals=_binary_inputs(name, sa, sb))


def test_broadcast_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
        ops.add(np.zeros((2, 3), np.float32), np.zeros((4,), np.float32))


PREDICATES = {
    "equal": (ops.equal, np.equal), "not_equal": (ops.not_equal, np.not_equal),
    "less": (ops.less, np.less), "less_equal": (ops.less_equal, np.less_equal),
    "greater": (ops.greater, np.greater), "greater_equal": (ops.greater_equal, np.greater_equal),
}


@pytest.mark.parametrize("name", sorted(PREDICATES))
def test_comparisons_give_bool_and_handle_ties_and_nan(name):
    fn, ref = PREDICATES[name]
    a = np.array([[1, 2, 3], [np.nan, 2, -np.inf]], np.float32)
    b = np.array([2, 2, np.nan], np.float32)
    assert_close(fn(a, b), ref(a, b), dtype=bool)
    assert_close(fn(a, 2.0), ref(a, 2.0), dtype=bool)
    ia = np.arange(6, dtype=np.int32).reshape(2, 3)
    assert_close(fn(ia, 3), ref(ia, 3), dtype=bool)


def test_logical_ops():
    a = np.array([True, True, False, False])
    b = np.array([True, False, True, False])
    assert_close(ops.logical_and(a, b), a & b, dtype=bool)
    assert_close(ops.logical_or(a, b), a | b, dtype=bool)
    assert_close(ops.logical_not(a), ~a, dtype=bool)
    x = np.array([0.0, 2.0, -1.0], np.float32)
    assert_close(ops.logical_not(x), np.logical_not(x), dtype=bool)
    assert_close(ops.logical_and(x, np.array([1, 1, 0], np.int32)), [False, True, False], dtype=bool)


@pytest.mark.parametrize("a,b,expected", [
    (np.int32, np.float32, np.float32), (np.float32, np.int32, np.float32), (np.int32, np.int32, np.int32),
    (np.int32, np.int64, np.int64), (np.float32, np.float64, np.float64), (np.bool_, np.int32, np.int32),
    (np.int64, np.float32, np.float32), (np.float64, np.float64, np.float64),
], ids=str)
def test_dtype_promotion(a, b, expected):
    x, y = np.array([1, 2], a), np.array([3, 1], b)
    out = ops.add(x, y)
    assert_close(out, x.astype(np.float64) + y.astype(np.float64), dtype=expected)


@pytest.mark.parametrize("tensor_dtype,scalar,expected", [
    (np.int32, 1.5, np.float32), (np.int32, 2, np.int32), (np.float32, 1.5, np.float32),
    (np.float64, 1.5, np.float64), (np.float64, 2, np.float64), (np.int64, 2, np.int64),
], ids=str)
def test_python_scalars_are_weakly_typed(tensor_dtype, scalar, expected):
    x = np.array([1, 2], tensor_dtype)
    for out in (ops.add(x, scalar), ops.add(scalar, x), ops.convert_to_tensor(x) + scalar,
                scalar + ops.convert_to_tensor(x)):
        assert_close(out, x.astype(np.float64) + scalar, dtype=expected)


def test_operand_kinds_give_the_same_result():
    # ops.core's fast checks (exact Tensor type, then a Variable's tensor) must not change what any
    # operand kind means: Tensor, Variable, NumPy array, NumPy scalar, Python scalar, list.
    x = np.array([[1.5, -2.0, 3.25]], np.float32)
    w = np.array([0.5, 4.0, -1.0], np.float32)
    expected = np.add(x, w)
    t, v = ops.convert_to_tensor(x), ckeras.Variable(w)
    for a, b in [(t, v), (v, t), (t, ops.convert_to_tensor(w)), (x, v), (t, w), (w.tolist(), t)]:
        out = ops.add(a, b)
        assert type(out) is type(t) and out.dtype == "float32"
        np.testing.assert_array_equal(np_of(out), expected)
    assert ops.core._tensor(v) is v.value and ops.core._tensor(t) is t
    assert ops.multiply(v, np.float64(2.0)).dtype == "float64"  # a NumPy scalar is not weakly typed
    assert ops.multiply(v, 2.0).dtype == "float32" and ops.multiply(2, ops.convert_to_tensor([1, 2])).dtype == "int32"
    for name, kernel in ops.core._UNARY.items():
        assert kernel is getattr(ckeras._core, f"_unary_{ckeras._core.UNARY_OPS[name]}")


def test_weak_integer_scalars_are_exact_and_range_checked():
    big = 2 ** 60 + 1  # not representable in float64
    assert_close(ops.add(np.array([5], np.int64), big), np.array([5]) + big, dtype=np.int64)
    assert_close(ops.subtract(big, np.array([1], np.int64)), np.array([big - 1]), dtype=np.int64)
    with pytest.raises(OverflowError, match="out of bounds for int32"):
        ops.add(np.array([5], np.int32), 2 ** 40)


def test_integer_division_gives_float32():
    out = ops.divide(np.array([1, 7], np.int32), np.array([2, 2], np.int32))
    assert_close(out, [0.5, 3.5], dtype=np.float32)


SPECIALS = np.array([1.0, np.nan, -0.5, np.inf, -np.inf, 0.0, 2.5], np.float32)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_nan_and_inf_follow_numpy(name):
    fn, ref, _ = UNARY[name]
    with np.errstate(all="ignore"):
        expected = ref(SPECIALS.astype(np.float64))
    assert_close(fn(SPECIALS), expected)
    # NaN propagates to exactly the affected output.
    assert np.isnan(np_of(fn(SPECIALS))).tolist() == np.isnan(expected).tolist()


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_nan_and_inf_follow_numpy(name):
    fn, ref = BINARY[name]
    a = np.array([np.nan, 1.0, np.inf, np.inf, 0.0, -1.0, 2.0], np.float32)
    b = np.array([1.0, np.nan, -np.inf, np.inf, 0.0, 0.0, np.inf], np.float32)
    with np.errstate(all="ignore"):
        expected = ref(a.astype(np.float64), b.astype(np.float64))
    assert_close(fn(a, b), expected)


def test_where_broadcasts_and_promotes():
    cond = np.array([[True], [False], [True]])
    a = rand((1, 4), seed=3)
    assert_close(ops.where(cond, a, 0.5), np.where(cond, a, 0.5), dtype=np.float32)
    assert_close(ops.where(cond, np.int32(3), np.float64(1.5) * np.ones(4)),
                 np.where(cond, 3, 1.5 * np.ones(4)), dtype=np.float64)
    assert_close(ops.where(np.array([0, 2]), 1.0, 2.0), [2.0, 1.0])


def test_where_gradients():
    cond = np.array([[True, False, True, False]] * 3)
    check_grad(lambda a, b: ops.where(cond, a, b), rand((3, 1), seed=4), rand((4,), seed=5))


def test_where_requires_both_branches():
    with pytest.raises(ValueError, match="x1.*x2"):
        ops.where(np.array([True]))


def test_tensor_operators_match_numpy():
    a, b = rand((3, 4), seed=6), rand((4,), 0.5, 2.0, seed=7)
    t, u = ops.convert_to_tensor(a), ops.convert_to_tensor(b)
    cases = [(t + u, a + b), (t - u, a - b), (t * u, a * b), (t / u, a / b), (u ** 2, b ** 2),
             (2.0 ** u, 2.0 ** b), (-t, -a), (abs(t), abs(a)), (1 + t, 1 + a), (1 - t, 1 - a),
             (3 * t, 3 * a), (1 / u, 1 / b), (a - u, a - b), (b * t, b * a), (t @ a.T, a @ a.T)]
    for got, want in cases:
        assert_close(got, want)
    assert_close(t > 0.5, a > 0.5, dtype=bool)
    assert_close(t == t, np.ones((3, 4), bool), dtype=bool)
    assert_close(~(t > 0), ~(a > 0), dtype=bool)


@pytest.mark.parametrize("n", [1, 7, 33, 127, 1025])
def test_binary_on_strided_views(n):
    a = rand((2, n), seed=8)
    t = ops.convert_to_tensor(a)
    assert_close(ops.add(t[:, ::-1], t[::-1]), a[:, ::-1] + a[::-1])
    assert_close(ops.multiply(ops.transpose(t), 2.0), a.T * 2.0)
    check_grad(lambda x: ops.multiply(x[:, ::2], x[::-1, ::2]), rand((2, min(n, 9)), seed=9))


def test_clip_with_tensor_bounds_and_integers():
    x, lo, hi = rand((3, 4), seed=10), rand((4,), -1.0, 0.0, seed=11), rand((3, 1), 0.0, 1.0, seed=12)
    assert_close(ops.clip(x, lo, hi), np.minimum(np.maximum(x, lo), hi))
    assert_close(ops.clip(np.array([1, 5, 9], np.int32), 2, 6), [2, 5, 6], dtype=np.int32)
