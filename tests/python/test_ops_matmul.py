"""matmul and dot against NumPy: 2-D, batched, broadcast batch dims, 1-D promotion, transposed,
reversed and broadcast views, empty dims, NaN rows (ERRORS.md row 1), shape errors, and gradients."""
import numpy as np
import pytest

from ckeras import ops
from conftest import assert_close, check_grad, helper_test_op, np_of, rand

SHAPE_PAIRS = [
    ((3, 4), (4, 5)), ((1, 1), (1, 1)), ((7, 33), (33, 1)), ((1, 127), (127, 7)), ((33, 7), (7, 33)),
    ((2, 3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((3, 4), (2, 4, 5)), ((4,), (4, 3)), ((3, 4), (4,)),
    ((5,), (5,)), ((4,), (2, 4, 3)), ((2, 3, 4), (4,)), ((0, 4), (4, 3)), ((3, 0), (0, 2)), ((2, 0, 3), (3, 4)),
]


@pytest.mark.parametrize("sa,sb", SHAPE_PAIRS, ids=str)
def test_matmul_matches_numpy(sa, sb):
    grad = int(np.prod(sa)) <= 64 and int(np.prod(sb)) <= 64  # finite differences cost two matmuls per element
    helper_test_op([sa, sb], ops.matmul, np.matmul, grad=grad, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("n", [1, 7, 33, 127])
def test_matmul_odd_sizes(n):
    a, b = rand((n, 9), seed=1), rand((9, n), seed=2)
    assert_close(ops.matmul(a, b), a.astype(np.float64) @ b, rtol=1e-5, atol=1e-5)
    assert_close(ops.matmul(b, a), b.astype(np.float64) @ a, rtol=1e-5, atol=1e-5)


def _views(x):
    """Differently laid-out views of the same (rows, cols) values, built inside ckeras."""
    t = ops.convert_to_tensor(np.ascontiguousarray(x.T))
    r = ops.convert_to_tensor(np.ascontiguousarray(x[::-1]))
    w = ops.convert_to_tensor(np.repeat(x, 2, axis=1))
    return {"transposed": ops.transpose(t), "reversed_rows": r[::-1], "strided_cols": w[:, ::2],
            "numpy_fortran": np.asfortranarray(x), "numpy_reversed": np.ascontiguousarray(x[::-1])[::-1]}


@pytest.mark.parametrize("which", ["transposed", "reversed_rows", "strided_cols", "numpy_fortran",
                                   "numpy_reversed"])
def test_matmul_of_views_equals_contiguous(which):
    a, b = rand((5, 4), seed=3), rand((4, 6), seed=4)
    want = np_of(ops.matmul(a, b))
    assert_close(ops.matmul(_views(a)[which], b), want, rtol=0, atol=0)
    assert_close(ops.matmul(a, _views(b)[which]), want, rtol=0, atol=0)


def test_matmul_of_broadcast_views():
    v, b = rand((4,), seed=5), rand((4, 3), seed=6)
    a_b = ops.broadcast_to(v, (5, 4))  # row stride 0
    assert_close(ops.matmul(a_b, b), np.broadcast_to(v, (5, 4)).astype(np.float64) @ b)
    col = ops.broadcast_to(ops.reshape(v, (4, 1)), (4, 3))  # column stride 0
    assert_close(ops.matmul(b.T, col), b.T.astype(np.float64) @ np.broadcast_to(v[:, None], (4, 3)))
    assert_close(ops.matmul(np.broadcast_to(v, (2, 5, 4)), b), np.broadcast_to(v, (2, 5, 4)) @ b.astype(np.float64))


def test_matmul_gradients_through_views():
    check_grad(lambda a, b: ops.matmul(ops.transpose(a), b[::-1]), rand((4, 3), seed=7), rand((4, 2), seed=8))
    check_grad(lambda a, b: ops.matmul(a[..., ::2], ops.swapaxes(b, -1, -2)), rand((2, 3, 6), seed=9),
               rand((2, 5, 3), seed=10))
    check_grad(lambda a, b: ops.matmul(ops.broadcast_to(a, (2, 3, 4)), b), rand((4,), seed=11), rand((4, 2), seed=12))


def test_matmul_dtypes():
    a, b = np.arange(6, dtype=np.int32).reshape(2, 3), np.arange(3, dtype=np.int32)
    assert_close(ops.matmul(a, b), a @ b)
    x64 = rand((2, 3)).astype(np.float64)
    assert np_of(ops.matmul(x64, x64.T)).dtype == np.float64
    assert np_of(ops.matmul(x64, rand((3, 2)))).dtype == np.float64


def test_matmul_nan_stays_in_its_row_and_column():
    a, b = rand((4, 5), seed=13), rand((5, 3), seed=14)
    a[1, 2] = np.nan
    b[0, 2] = np.inf
    with np.errstate(invalid="ignore"):
        want = a.astype(np.float64) @ b
    got = np_of(ops.matmul(a, b))
    assert np.array_equal(np.isnan(got), np.isnan(want))
    assert_close(got, want)


def test_matmul_errors():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 5\)"):
        ops.matmul(np.ones((2, 3), np.float32), np.ones((4, 5), np.float32))
    with pytest.raises(ValueError, match=r"\(2, 3, 4\).*\(2, 5, 6\)"):
        ops.matmul(np.ones((2, 3, 4), np.float32), np.ones((2, 5, 6), np.float32))
    with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)"):
        ops.matmul(np.ones(3, np.float32), np.ones(4, np.float32))
    with pytest.raises(ValueError, match=r"broadcast|\(2,\).*\(3,\)"):
        ops.matmul(np.ones((2, 3, 4), np.float32), np.ones((3, 4, 5), np.float32))
    with pytest.raises(ValueError, match="1-D"):
        ops.matmul(np.float32(2.0), np.ones(3, np.float32))


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (3, 4)), ((3,), (3, 2)), ((2, 3), (3,)), ((), (2, 3)),
                                   ((2, 3, 4), (4,)), ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)),
                                   ((3, 4), (2, 4, 5)), ((4,), (2, 4, 5))], ids=str)
def test_dot_matches_numpy(sa, sb):
    helper_test_op([sa, sb], ops.dot, np.dot, rtol=1e-5, atol=1e-5)


def test_dot_misaligned():
    with pytest.raises(ValueError, match=r"\(2, 3, 4\).*\(2, 5, 6\)"):
        ops.dot(np.ones((2, 3, 4), np.float32), np.ones((2, 5, 6), np.float32))
