"""`ckeras.saving.safetensors_io`: round trips for every supported dtype, the reference layout and
byte-for-byte interop with the `safetensors` package (skipped without it), per-tensor CRCs, the
`expected` and `check_finite` checks (ERRORS.md rows 37 and 40), and atomic, validated saving."""
import errno
import json
import struct
import zlib

import numpy as np
import pytest

from ckeras.saving import safetensors_io
from ckeras.saving.byte_source import ByteSource
from ckeras.saving.errors import LoadError
from ckeras.saving.safetensors_io import load_file, save_file

DTYPES = [np.float64, np.float32, np.float16, np.int64, np.int32, np.int16, np.int8, np.uint8,
          np.uint16, np.uint32, np.uint64, np.bool_]


def _tensors():
    rng = np.random.default_rng(0)
    out = {f"t_{np.dtype(d).name}": (rng.standard_normal((3, 4)) * 50).astype(d) for d in DTYPES}
    out.update({"dense/kernel": rng.standard_normal((100, 10)).astype(np.float32),
                "dense/bias": np.zeros(10, np.float32), "scalar": np.array(2.5, np.float64),
                "empty": np.zeros((0, 7), np.float32)})
    return out


def _header(data):
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + n])


def _assert_same(loaded, tensors):
    assert list(sorted(loaded)) == sorted(tensors)
    for name, value in tensors.items():
        value = np.asarray(value)
        assert loaded[name].shape == value.shape and loaded[name].dtype == value.dtype.newbyteorder("<")
        np.testing.assert_array_equal(loaded[name], value)


def test_round_trip_from_path_and_bytes(tmp_path):
    tensors = _tensors()
    save_file(tensors, tmp_path / "w.safetensors", metadata={"format": "np"})
    data = (tmp_path / "w.safetensors").read_bytes()
    for source in (tmp_path / "w.safetensors", str(tmp_path / "w.safetensors"), data, bytearray(data)):
        loaded = load_file(source)
        _assert_same(loaded, tensors)
        assert all(a.flags.writeable and a.flags.c_contiguous for a in loaded.values())


def test_non_contiguous_and_big_endian_inputs(tmp_path):
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    tensors = {"t": x.T, "s": x[:, ::2], "be": x.astype(">f4"), "list": [[1, 2], [3, 4]]}
    save_file(tensors, tmp_path / "w.safetensors")
    _assert_same(load_file(tmp_path / "w.safetensors"), {k: np.asarray(v) for k, v in tensors.items()})


def test_layout_follows_the_reference_order_and_padding(tmp_path):
    save_file(_tensors(), tmp_path / "w.safetensors")
    data = (tmp_path / "w.safetensors").read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    assert n % 8 == 0
    header = _header(data)
    names = [name for name in header if name != "__metadata__"]
    assert names[:4] == ["t_uint64", "t_int64", "scalar", "t_float64"]
    assert names[-3:] == ["t_int8", "t_uint8", "t_bool"]
    assert [header[name]["data_offsets"][0] for name in names] == sorted(
        header[name]["data_offsets"][0] for name in names)


def test_checksums_are_recorded_per_tensor(tmp_path):
    tensors = {"dense/kernel": np.ones((2, 2), np.float32)}
    save_file(tensors, tmp_path / "w.safetensors", metadata={"a": "b"})
    metadata = _header((tmp_path / "w.safetensors").read_bytes())["__metadata__"]
    assert metadata == {"a": "b", "ckeras.crc32.dense/kernel": "%08x" % zlib.crc32(
        tensors["dense/kernel"].tobytes())}


def test_flipped_bytes_give_a_checksum_mismatch(tmp_path):
    save_file({"dense/kernel": np.ones((100, 10), np.float32), "dense/bias": np.zeros(10, np.float32)},
              tmp_path / "w.safetensors")
    data = bytearray((tmp_path / "w.safetensors").read_bytes())
    data[-50] ^= 0x10  # inside dense/kernel, the last tensor in the layout (same dtype, name order)
    with pytest.raises(LoadError, match="checksum mismatch for tensor 'dense/kernel'"):
        load_file(bytes(data))


def test_nan_and_inf_load_unless_check_finite(tmp_path):
    tensors = {"w": np.array([1.0, np.nan], np.float32), "h": np.array([np.inf], np.float16),
               "i": np.array([1, 2], np.int32)}
    save_file(tensors, tmp_path / "w.safetensors")
    loaded = load_file(tmp_path / "w.safetensors")
    assert np.isnan(loaded["w"][1]) and np.isinf(loaded["h"][0])
    with pytest.raises(LoadError, match="tensor '[wh]' holds NaN or Inf values"):
        load_file(tmp_path / "w.safetensors", check_finite=True)
    save_file({"w": np.ones(3, np.float32), "i": np.array([1], np.int64)}, tmp_path / "ok.safetensors")
    assert load_file(tmp_path / "ok.safetensors", check_finite=True)["w"].sum() == 3


def _kernel_file(tmp_path, shape=(100, 10)):
    save_file({"dense/kernel": np.ones(shape, np.float32), "dense/bias": np.zeros(10, np.float32)},
              tmp_path / "w.safetensors")
    return tmp_path / "w.safetensors"


def test_expected_shapes_and_dtypes_pass(tmp_path):
    expected = {"dense/kernel": ((100, 10), "float32"), "dense/bias": ([10], np.float32)}
    assert set(load_file(_kernel_file(tmp_path), expected=expected)) == set(expected)
    assert set(load_file(_kernel_file(tmp_path), expected={"dense/kernel": (None, None),
                                                           "dense/bias": (None, None)})) == set(expected)


def test_expected_shape_mismatch_names_the_variable_and_both_shapes(tmp_path, monkeypatch):
    path = _kernel_file(tmp_path)
    data_start = 8 + struct.unpack("<Q", path.read_bytes()[:8])[0]
    real_read_into = ByteSource.read_into

    def header_only(self, offset, buffer):
        assert offset < data_start, "read tensor data before comparing shapes"
        real_read_into(self, offset, buffer)

    monkeypatch.setattr(ByteSource, "read_into", header_only)
    with pytest.raises(ValueError, match=r"'dense/kernel' has shape \(100, 10\) in the file, but the model "
                                         r"expects \(784, 10\)"):
        load_file(path, expected={"dense/kernel": ((784, 10), "float32"), "dense/bias": ((10,), "float32")})


def test_expected_dtype_mismatch(tmp_path):
    with pytest.raises(LoadError, match=r"'dense/bias' has dtype float32 \(F32\).*expects float64"):
        load_file(_kernel_file(tmp_path), expected={"dense/kernel": ((100, 10), "float32"),
                                                    "dense/bias": ((10,), "float64")})


def test_expected_missing_and_extra_tensors(tmp_path):
    with pytest.raises(LoadError, match=r"holds 2 tensors and the model expects 2: missing \['dense/gamma'\], "
                                        r"unexpected \['dense/bias'\]"):
        load_file(_kernel_file(tmp_path), expected={"dense/kernel": ((100, 10), "float32"),
                                                    "dense/gamma": ((10,), "float32")})
    with pytest.raises(LoadError, match=r"missing \[\], unexpected \['dense/bias'\]"):
        load_file(_kernel_file(tmp_path), expected={"dense/kernel": ((100, 10), "float32")})


@pytest.mark.parametrize("value", [np.array(["a", "b"]), np.array([1 + 2j]), np.array([object()]),
                                   np.array(["2020-01-01"], "datetime64[D]")])
def test_save_refuses_unsupported_dtypes(tmp_path, value):
    with pytest.raises(ValueError, match=r"unsupported dtype .* for tensor 'x'. Supported: .*float64"):
        save_file({"x": value}, tmp_path / "w.safetensors")
    assert not (tmp_path / "w.safetensors").exists()


@pytest.mark.parametrize("tensors, metadata, match", [
    ({"__metadata__": np.ones(1)}, None, "other than '__metadata__'"),
    ({1: np.ones(1)}, None, "Tensor names must be strings"),
    ({"x": np.ones(1)}, {"k": 1}, "map str to str"),
    ({"x": np.ones(1)}, {"ckeras.crc32.x": "00000000"}, "reserved"),
])
def test_save_refuses_bad_names_and_metadata(tmp_path, tensors, metadata, match):
    with pytest.raises(ValueError, match=match):
        save_file(tensors, tmp_path / "w.safetensors", metadata=metadata)


def test_a_save_failing_mid_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = _kernel_file(tmp_path)
    before = path.read_bytes()
    real_raw, calls = safetensors_io._raw, []

    def disk_fills(array):
        calls.append(array.shape)
        if len(calls) > 3:  # two checksums, the header and first tensor written, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_raw(array)

    monkeypatch.setattr(safetensors_io, "_raw", disk_fills)
    with pytest.raises(OSError, match="No space left"):
        save_file({"a": np.ones(3, np.float32), "b": np.ones(2, np.float32)}, path)
    assert len(calls) == 4
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["w.safetensors"]


@pytest.fixture
def reference():
    """The reference implementation (huggingface/safetensors), or a skip where it isn't installed."""
    return pytest.importorskip("safetensors.numpy")


def test_reference_reads_our_files(tmp_path, reference):
    tensors = _tensors()
    save_file(tensors, tmp_path / "w.safetensors", metadata={"format": "np"})
    _assert_same(reference.load_file(str(tmp_path / "w.safetensors")), tensors)


def test_we_read_reference_files(tmp_path, reference):
    tensors = _tensors()
    reference.save_file(tensors, str(tmp_path / "w.safetensors"), metadata={"format": "np"})
    _assert_same(load_file(tmp_path / "w.safetensors"), tensors)


def test_byte_identical_to_the_reference_without_our_checksums(tmp_path, reference):
    tensors = _tensors()
    save_file(tensors, tmp_path / "w.safetensors", checksums=False)
    assert (tmp_path / "w.safetensors").read_bytes() == reference.save(tensors)
    save_file(tensors, tmp_path / "m.safetensors", metadata={"format": "np"}, checksums=False)
    assert (tmp_path / "m.safetensors").read_bytes() == reference.save(tensors, metadata={"format": "np"})
    save_file({}, tmp_path / "e.safetensors", checksums=False)
    assert (tmp_path / "e.safetensors").read_bytes() == reference.save({})


def test_same_data_section_as_the_reference_with_checksums(tmp_path, reference):
    tensors = _tensors()
    save_file(tensors, tmp_path / "w.safetensors")
    ours, theirs = (tmp_path / "w.safetensors").read_bytes(), reference.save(tensors)
    data_size = sum(np.asarray(t).nbytes for t in tensors.values())
    assert ours[-data_size:] == theirs[-data_size:]
    our_header, their_header = _header(ours), _header(theirs)
    assert our_header.pop("__metadata__").keys() == {f"ckeras.crc32.{n}" for n in tensors}
    assert our_header == their_header
