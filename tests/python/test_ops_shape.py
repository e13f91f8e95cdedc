"""Shape and layout ops against NumPy: reshape (overflow and negative dims, ERRORS.md rows 9 and 11),
transpose, expand/squeeze, broadcast, concatenate/stack/split, take, creation ops, and their gradients.
Indexing lives in test_ops_indexing.py."""
import numpy as np
import pytest

from ckeras import ops
from conftest import assert_close, check_grad, np_of, rand


@pytest.mark.parametrize("shape,newshape", [
    ((6,), (2, 3)), ((2, 3), (-1,)), ((2, 3, 4), (4, -1)), ((1,), ()), ((), (1, 1)), ((0, 3), (3, 0)),
    ((0, 3), (0, 5)), ((127,), (127, 1)), ((4, 6), (2, 2, -1, 3)),
], ids=str)
def test_reshape(shape, newshape):
    x = rand(shape)
    assert_close(ops.reshape(x, newshape), np.reshape(x, newshape))
    if np.prod(shape) > 0:
        check_grad(lambda t: ops.reshape(t, newshape), x)


def test_reshape_of_a_non_contiguous_view():
    x = rand((4, 6))
    t = ops.convert_to_tensor(x)
    assert_close(ops.reshape(ops.transpose(t), (3, 8)), x.T.reshape(3, 8))
    assert_close(ops.reshape(t[::-1, ::2], (-1,)), x[::-1, ::2].reshape(-1))
    check_grad(lambda a: ops.reshape(ops.transpose(a)[::2], (-1,)), rand((3, 4)))


def test_reshape_overflow_is_a_value_error_naming_the_shape():
    shape = (2, 13, 419, 691, 823, 2977518503)
    with pytest.raises(ValueError) as info:
        ops.reshape(ops.zeros((2,)), shape)
    assert "overflow" in str(info.value) and "(2, 13, 419, 691, 823, 2977518503)" in str(info.value)
    # A single dim beyond int64 is an overflow too, not a TypeError from the bindings.
    for make in (lambda: ops.reshape(ops.zeros((2,)), (2 ** 64,)), lambda: ops.zeros((2 ** 63, 2)),
                 lambda: ops.zeros((2 ** 40, 2 ** 40)), lambda: ops.broadcast_to(ops.zeros((1,)), (2 ** 64,))):
        with pytest.raises(ValueError, match="overflow"):
            make()


def test_reshape_errors():
    x = ops.zeros((2, 3))
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
        ops.reshape(x, (4,))
    with pytest.raises(ValueError, match="only one|one unknown"):
        ops.reshape(x, (-1, -1))
    with pytest.raises(ValueError, match=r"negative dimension.*\(-2, -3\)"):
        ops.reshape(x, (-2, -3))


@pytest.mark.parametrize("make", [lambda: ops.zeros((-2,)), lambda: ops.ones((3, -1)),
                                  lambda: ops.full((-5,), 1.0), lambda: ops.broadcast_to(ops.zeros((2,)), (-1, 2))])
def test_negative_dimensions(make):
    with pytest.raises(ValueError, match=r"negative dimension.*\(.*-\d.*\)"):
        make()


@pytest.mark.parametrize("axes", [None, (1, 0, 2), (2, 0, 1), (-1, 0, 1)], ids=str)
def test_transpose(axes):
    x = rand((2, 3, 4))
    assert_close(ops.transpose(x, axes), np.transpose(x, axes))
    check_grad(lambda t: ops.transpose(t, axes), x)


def test_swapaxes_expand_dims_squeeze():
    x = rand((2, 1, 3))
    assert_close(ops.swapaxes(x, 0, -1), np.swapaxes(x, 0, -1))
    for axis in (0, 2, 3, -1, -4):
        assert_close(ops.expand_dims(x, axis), np.expand_dims(x, axis))
    for axes in ((0, 2), (-1, 0), (1, -2)):
        assert_close(ops.expand_dims(x, axes), np.expand_dims(x, axes))
    with pytest.raises((IndexError, ValueError), match="axis 5 is out of bounds for tensor of rank 5"):
        ops.expand_dims(x, (0, 5))
    with pytest.raises(ValueError, match="repeated"):
        ops.expand_dims(x, (1, 1))
    assert_close(ops.squeeze(x), np.squeeze(x))
    assert_close(ops.squeeze(np.ones((1, 2, 1), np.float32), (0, 2)), np.ones(2))
    assert_close(ops.squeeze(x, 1), np.squeeze(x, 1))
    assert_close(ops.squeeze(x, -2), np.squeeze(x, -2))
    assert_close(ops.squeeze(np.ones((1, 1), np.float32)), np.float32(1))
    with pytest.raises(ValueError, match="squeeze"):
        ops.squeeze(x, 0)
    check_grad(lambda t: ops.swapaxes(t, 0, 2), x)
    check_grad(lambda t: ops.expand_dims(t, -1), x)
    check_grad(lambda t: ops.squeeze(t, 1), x)


@pytest.mark.parametrize("shape,target", [((3, 1), (3, 4)), ((4,), (2, 3, 4)), ((), (5,)), ((1, 1), (2, 0)),
                                          ((2, 1, 3), (2, 5, 3))], ids=str)
def test_broadcast_to(shape, target):
    x = rand(shape)
    assert_close(ops.broadcast_to(x, target), np.broadcast_to(x, target))
    check_grad(lambda t: ops.broadcast_to(t, target), x)


def test_broadcast_to_incompatible():
    with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)"):
        ops.broadcast_to(ops.zeros((3,)), (4,))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate(axis):
    xs = [rand((2, 3), seed=1), rand((2, 3), seed=2), rand((2, 3), seed=3)]
    assert_close(ops.concatenate(xs, axis), np.concatenate(xs, axis))
    check_grad(lambda a, b, c: ops.concatenate([a, b, c], axis), *xs)


def test_concatenate_sizes_dtypes_and_errors():
    a, b, z = rand((2, 3), seed=1), rand((5, 3), seed=2), np.zeros((0, 3), np.float32)
    assert_close(ops.concatenate([a, z, b]), np.concatenate([a, z, b]))
    check_grad(lambda x, y: ops.concatenate([x, y], 0), a, b)
    out = ops.concatenate([np.array([1, 2], np.int32), np.array([0.5], np.float64)])
    assert_close(out, [1, 2, 0.5], dtype=np.float64)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 4\)"):
        ops.concatenate([a, np.zeros((2, 4), np.float32)], 0)
    with pytest.raises((IndexError, ValueError), match="axis 2 is out of bounds for tensor of rank 2"):
        ops.concatenate([a, a], 2)


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
def test_stack(axis):
    xs = [rand((2, 3), seed=1), rand((2, 3), seed=2)]
    assert_close(ops.stack(xs, axis), np.stack(xs, axis))
    check_grad(lambda a, b: ops.stack([a, b], axis), *xs)


@pytest.mark.parametrize("spec,axis", [(3, 0), (2, 1), ([1, 4], 0), ([2], -1), ([0, 0, 5], 0), ([-2], 0)],
                         ids=str)
def test_split(spec, axis):
    x = rand((6, 4))
    got, want = ops.split(x, spec, axis), np.split(x, spec, axis)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert_close(g, w)
    check_grad(lambda t: ops.concatenate([p * (i + 1.0) for i, p in enumerate(ops.split(t, spec, axis))], axis), x)


def test_split_errors():
    with pytest.raises(ValueError, match="equal division"):
        ops.split(ops.zeros((5,)), 2)
    with pytest.raises((IndexError, ValueError), match="axis 2 is out of bounds for tensor of rank 2"):
        ops.split(ops.zeros((2, 3)), 1, axis=2)


@pytest.mark.parametrize("indices,axis", [([0, 2, 2, -1], 0), ([[1, 0], [3, 3]], 1), ([5, 0, 11], None),
                                          ([], 0), (np.array([2, -4], np.int64), -1), (1, 1)], ids=str)
def test_take(indices, axis):
    x = rand((3, 4))
    idx = np.array(indices, np.int32)
    assert_close(ops.take(x, idx, axis=axis), np.take(x, idx, axis=axis))
    check_grad(lambda t: ops.take(t, idx, axis=axis), x)  # repeated indices accumulate


def test_take_errors():
    x = ops.zeros((3, 4))
    with pytest.raises(IndexError, match="out of bounds"):
        ops.take(x, np.array([4]), axis=1)
    with pytest.raises(IndexError, match="out of bounds"):
        ops.take(x, np.array([-13]))
    with pytest.raises(IndexError, match="index 7 is out of bounds for axis 1 with size 5"):
        ops.take(ops.zeros((0, 5)), np.array([7]), axis=1)  # validated even when the result is empty
    with pytest.raises(IndexError, match="out of bounds"):
        ops.take(ops.zeros((3, 0)), np.array([3]), axis=0)
    with pytest.raises(TypeError, match="integer"):
        ops.take(x, np.array([0.5]), axis=0)
    with pytest.raises((IndexError, ValueError), match="axis 2 is out of bounds for tensor of rank 2"):
        ops.take(x, np.array([0]), axis=2)


def test_creation_ops():
    assert_close(ops.zeros((2, 3)), np.zeros((2, 3)), dtype=np.float32)
    assert_close(ops.ones(4, dtype="int32"), np.ones(4), dtype=np.int32)
    assert_close(ops.full((2,), 7.5, dtype="float64"), [7.5, 7.5], dtype=np.float64)
    assert_close(ops.zeros((0, 3)), np.zeros((0, 3)))
    x = rand((2, 3)).astype(np.float64)
    assert_close(ops.zeros_like(x), np.zeros_like(x), dtype=np.float64)
    assert_close(ops.ones_like(x, dtype="int32"), np.ones((2, 3)), dtype=np.int32)
    assert_close(ops.full_like(x, 3), np.full_like(x, 3), dtype=np.float64)
    assert_close(ops.arange(5), np.arange(5), dtype=np.int32)
    assert_close(ops.arange(1, 2, 0.25), np.arange(1, 2, 0.25), dtype=np.float32)
    assert_close(ops.arange(5, 0, -2), np.arange(5, 0, -2), dtype=np.int32)
    assert_close(ops.arange(3, 3), np.arange(3, 3))
    with pytest.raises(ValueError, match="step"):
        ops.arange(0, 5, 0)


def test_copy_ravel_cast():
    x = rand((3, 4))
    t = ops.convert_to_tensor(x)
    c = ops.copy(t[:, ::-1])
    assert c.is_contiguous
    assert_close(c, x[:, ::-1])
    assert_close(ops.ravel(ops.transpose(t)), x.T.ravel())
    assert_close(ops.cast(np.array([1.7, -1.7, 0.0]), "int32"), [1, -1, 0], dtype=np.int32)
    assert_close(ops.cast(np.array([0.0, 2.0]), "bool"), [False, True], dtype=bool)
    check_grad(lambda a: ops.ravel(a[::-1]), x)


def test_shape_and_is_tensor():
    t = ops.zeros((2, 0, 3))
    assert ops.shape(t) == (2, 0, 3) and ops.shape(np.zeros((4,))) == (4,) and ops.shape(ops.zeros(())) == ()
    assert ops.is_tensor(t) and not ops.is_tensor(np.zeros(2)) and not ops.is_tensor(1.0)
