"""NumPy interop: zero-copy read-only views out, the __array__ protocol (dtype=, copy=), any NumPy
layout in (ERRORS.md row 5: bit-identical to np.ascontiguousarray), dtype rules for inputs, and
unsupported dtypes (row 8)."""
import gc

import numpy as np
import pytest

import ckeras
from ckeras import ops
from conftest import assert_close, np_of, rand


@pytest.mark.cpu_placement
def test_asarray_is_zero_copy_and_read_only():
    x = rand((3, 4))
    t = ops.convert_to_tensor(x)
    a = np.asarray(t)
    assert np.shares_memory(a, x)  # NumPy in and out without a copy
    assert not a.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        a[0, 0] = 1.0
    y = ops.exp(t)
    assert np.shares_memory(np.asarray(y), np.asarray(y)) and np.shares_memory(y.numpy(), np.asarray(y))
    assert not y.numpy().flags.writeable


@pytest.mark.cpu_placement
def test_dunder_array_dtype_and_copy():
    t = ops.convert_to_tensor(rand((2, 3)))
    base = np.asarray(t)
    same = t.__array__(copy=False)
    assert np.shares_memory(same, base)
    c = t.__array__(copy=True)
    assert c.flags.writeable and not np.shares_memory(c, base)
    assert_close(c, base)
    d = t.__array__(dtype=np.float64)
    assert d.dtype == np.float64 and not np.shares_memory(d, base)
    assert t.__array__(dtype=np.float32, copy=False).dtype == np.float32
    with pytest.raises(ValueError, match="copy"):
        t.__array__(dtype=np.float64, copy=False)
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    assert np.array(t).flags.writeable  # np.array copies by default
    assert np.array(t, copy=False).base is not None
    assert ops.convert_to_numpy(t).flags.writeable


def _layouts():
    x = np.arange(48, dtype=np.float32).reshape(6, 8) * 0.37 - 5
    return {
        "transposed": x.T, "every_other_col": x[:, ::2], "reversed_rows": x[::-1],
        "reversed_both": x[::-1, ::-1], "fortran": np.asfortranarray(x), "odd_steps": x[1::3, ::-3],
        "permuted_3d": x.reshape(2, 3, 8).transpose(2, 0, 1), "broadcast": np.broadcast_to(x[0], (6, 8)),
    }


OPS = {
    "exp": ops.exp, "add_row": lambda t: ops.add(t, np.arange(t.shape[-1], dtype=np.float32)),
    "sum_axis0": lambda t: ops.sum(t, axis=0), "max_last": lambda t: ops.max(t, axis=-1),
    "softmax": ops.softmax, "matmul_self_T": lambda t: ops.matmul(t, ops.swapaxes(t, -1, -2)),
    "reshape": lambda t: ops.reshape(t, (-1,)), "concat": lambda t: ops.concatenate([t, t], axis=0),
    "relu": ops.relu, "take": lambda t: ops.take(t, np.array([0, -1]), axis=0), "index": lambda t: t[1:, ::2],
}


@pytest.mark.parametrize("layout", sorted(_layouts()))
@pytest.mark.parametrize("op", sorted(OPS))
def test_any_layout_gives_the_contiguous_result_bit_for_bit(op, layout):
    x = _layouts()[layout]
    got, want = OPS[op](x), OPS[op](np.ascontiguousarray(x))
    np.testing.assert_array_equal(np_of(got), np_of(want))


def test_misaligned_and_byte_swapped_inputs():
    raw = np.zeros(4 * 5 + 1, np.uint8)
    odd = np.frombuffer(raw.data, dtype=np.float32, count=5, offset=1)  # not 4-byte aligned
    assert_close(ops.add(odd, 1.0), np.ones(5))
    for dt in (">f4", ">f8", ">i4", ">i8", "<f4"):
        x = np.array([1.5, -2.0, 3.0]).astype(dt) if "f" in dt else np.array([1, -2, 3], dt)
        t = ops.convert_to_tensor(x)
        assert_close(t, x.astype(x.dtype.newbyteorder("=")))
        assert t.dtype == x.dtype.newbyteorder("=").name


def test_float64_stays_float64():
    x = rand((3, 4)).astype(np.float64)
    for out in (ops.convert_to_tensor(x), ops.exp(x), ops.add(x, 1.0), ops.sum(x, axis=0), ops.matmul(x, x.T),
                ops.softmax(x), ops.mean(x), ops.convert_to_tensor(np.float64(0.5)), ops.relu(x)):
        assert np_of(out).dtype == np.float64


@pytest.mark.parametrize("src,want", [
    (np.uint8, np.int32), (np.int8, np.int32), (np.int16, np.int32), (np.uint16, np.int32), (np.uint32, np.int64),
    (np.float16, np.float32), (np.bool_, np.bool_), (np.int32, np.int32), (np.int64, np.int64),
    (np.float32, np.float32), (np.float64, np.float64),
], ids=str)
def test_input_dtypes(src, want):
    x = np.array([0, 1, 100, 255] if src != np.bool_ else [True, False, True, True]).astype(src)
    t = ops.convert_to_tensor(x)
    assert_close(t, x.astype(want), dtype=want)


def test_python_ints_beyond_int32_become_exact_int64():
    assert_close(ops.convert_to_tensor(2 ** 40), 2 ** 40, dtype=np.int64)
    assert_close(ops.convert_to_tensor(2 ** 62 + 1), np.int64(2 ** 62 + 1), dtype=np.int64)
    assert_close(ops.convert_to_tensor([2 ** 40, -1]), np.array([2 ** 40, -1]), dtype=np.int64)
    assert_close(ops.convert_to_tensor([2 ** 31 - 1, -2 ** 31]), [2 ** 31 - 1, -2 ** 31], dtype=np.int32)
    with pytest.raises(ValueError, match="unsupported dtype"):
        ops.convert_to_tensor(2 ** 70)


def test_python_and_numpy_scalars_and_lists():
    assert ops.convert_to_tensor([1.5, 2.0]).dtype == "float32"
    assert ops.convert_to_tensor([[1, 2]]).dtype == "int32"
    assert ops.convert_to_tensor(3).dtype == "int32" and ops.convert_to_tensor(True).dtype == "bool"
    assert ops.convert_to_tensor(np.float64(1.5)).dtype == "float64"
    assert ops.convert_to_tensor(np.int64(7)).dtype == "int64"
    assert ops.convert_to_tensor(np.float32(1.5)).dtype == "float32"
    assert ops.convert_to_tensor([1, 2], dtype="float64").dtype == "float64"
    assert_close(ops.convert_to_tensor(np.array(2.5)), 2.5)
    assert_close(ops.convert_to_tensor(np.zeros((0, 2))), np.zeros((0, 2)))


@pytest.mark.parametrize("x", [np.array(["a", "b"]), np.array([b"x"]), np.array([1, None], dtype=object),
                               np.array([1 + 2j]), np.array([1 + 2j], np.complex64),
                               np.array(["2020-01-01"], dtype="datetime64[D]"), np.array([1, 2], np.uint64)],
                         ids=lambda a: str(a.dtype))
def test_unsupported_dtypes_raise_value_error(x):
    for convert in (ops.convert_to_tensor, lambda a: ops.add(a, 1), ops.exp):
        with pytest.raises(ValueError, match="unsupported dtype") as info:
            convert(x)
        msg = str(info.value)
        assert str(x.dtype) in msg and "float32" in msg and "int64" in msg


def test_unsupported_dtype_arguments():
    with pytest.raises(ValueError, match="unsupported dtype.*complex64"):
        ops.convert_to_tensor([1.0], dtype="complex64")
    with pytest.raises(ValueError, match="unsupported dtype.*float16"):
        ops.zeros((2,), dtype="float16")


def test_tensors_keep_their_numpy_source_alive():
    t = ops.convert_to_tensor(np.arange(1000, dtype=np.float32) * 2)
    gc.collect()
    assert_close(ops.sum(t), 999_000.0)
    view = np.asarray(t)
    del t
    gc.collect()
    assert view[-1] == 1998.0


def test_numpy_on_the_left_defers_to_tensors():
    a = rand((2, 3))
    t = ops.convert_to_tensor(rand((2, 3), seed=5))
    out = a + t
    assert isinstance(out, ckeras.Tensor)
    assert_close(out, a + np_of(t))
    assert isinstance(a @ ops.transpose(t), ckeras.Tensor)


def test_repr_shows_values_shape_and_dtype():
    r = repr(ops.convert_to_tensor(np.array([1.5, 2.0], np.float32)))
    assert "1.5" in r and "shape=(2,)" in r and "float32" in r
