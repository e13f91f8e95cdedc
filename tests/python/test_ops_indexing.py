"""Tensor indexing against NumPy: integers, slices with any step, `...`, None, one integer-array index
(with NumPy's placement rule), errors, and gradients through indexing."""
import numpy as np
import pytest

from ckeras import ops
from conftest import assert_close, check_grad, rand

X = np.arange(60, dtype=np.float32).reshape(3, 4, 5)

KEYS = [
    1, -1, (0, 2), (1, -1, 3), slice(None), slice(1, None), slice(None, None, 2), slice(None, None, -1),
    slice(-1, 0, -2), (slice(None), slice(None, None, 2)), (slice(None), slice(3, 0, -1), slice(None, None, 3)),
    (Ellipsis, None), (None, 1), (Ellipsis, 2), (1, Ellipsis, None), (None, Ellipsis, None, slice(1, 3)),
    slice(5, 10), slice(2, 1), (slice(None), 0, slice(4, -6, -1)),
    [0, 2], [-1, 0, 0], (slice(None), [3, 1]), (Ellipsis, [4, 0, 1]), ([[0, 1], [2, 2]],),
    (1, [0, 2]), (slice(None), 1, [0, 2]), (1, slice(None), [0, 2]), ([0, 1], slice(None), 1),
    (1, None, [0, 1]), (None, 1, slice(None), [0, 2]), ([[0, 1]], None), (slice(None), np.array([2, 0])),
    (np.int64(2), slice(None, None, -2)),
]


@pytest.mark.parametrize("key", KEYS, ids=repr)
def test_getitem_matches_numpy(key):
    t = ops.convert_to_tensor(X)
    assert_close(t[key], X[key], rtol=0, atol=0)


@pytest.mark.parametrize("key", [1, (slice(None), slice(None, None, 2)), slice(None, None, -1), (Ellipsis, None),
                                 ([0, 2, 0],), (slice(None), [3, 3, 1]), (1, slice(None), [0, 2])], ids=repr)
def test_gradient_through_indexing(key):
    check_grad(lambda t: t[key], rand((3, 4, 5)))


def test_getitem_on_zero_size_and_zero_d():
    z = ops.zeros((0, 3))
    assert_close(z[::-1], np.zeros((0, 3)))
    assert_close(z[:, 1], np.zeros((0,)))
    s = ops.convert_to_tensor(np.float32(2.5))
    assert_close(s[None], [2.5])
    assert_close(s[...], 2.5)


@pytest.mark.parametrize("key,exc,msg", [
    (3, IndexError, "index 3 is out of bounds for axis 0 with size 3"),
    ((0, -5), IndexError, "index -5 is out of bounds for axis 1 with size 4"),
    ((0, 0, 0, 0), IndexError, "too many indices"),
    ((Ellipsis, Ellipsis), IndexError, "single ellipsis"),
    ([3], IndexError, "out of bounds"),
    (([0], [1]), IndexError, "one integer-array index"),
    (slice(None, None, 0), ValueError, "step cannot be zero"),
    (np.array([True, False, True]), IndexError, "boolean"),
], ids=repr)
def test_getitem_errors(key, exc, msg):
    with pytest.raises(exc, match=msg):
        ops.convert_to_tensor(X)[key]


def test_iteration_and_len():
    t = ops.convert_to_tensor(X)
    assert len(t) == 3
    for got, want in zip(t, X):
        assert_close(got, want)
    with pytest.raises(TypeError):
        len(ops.convert_to_tensor(np.float32(1)))
