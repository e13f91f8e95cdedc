"""Crafted hostile safetensors files, one per case of ERRORS.md's model-file list that applies (items
3, 4, 5, 6, 10, 11, 12; rows 34–37): each gives LoadError with a message naming the problem, before
anything of the claimed size is allocated."""
import json
import struct

import numpy as np
import pytest

from ckeras.saving.errors import LoadError
from ckeras.saving.safetensors_io import load_file


def _file(header, data=b"", length=None):
    """A safetensors file from a header (a dict, or raw bytes) and a data section."""
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(raw) if length is None else length) + raw + data


def _entry(dtype="F32", shape=(2,), offsets=(0, 8)):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


def _refused(data, match, **kwargs):
    with pytest.raises(LoadError, match=match):
        load_file(data, **kwargs)


def test_a_well_formed_crafted_file_loads():
    out = load_file(_file({"a": _entry(), "b": _entry("I8", (0, 3), (8, 8))}, np.ones(2, "<f4").tobytes()))
    np.testing.assert_array_equal(out["a"], [1, 1])
    assert out["b"].shape == (0, 3)


@pytest.mark.parametrize("data", [b"", b"\x08\x00", bytes(7)])
def test_shorter_than_the_length_prefix(data):
    _refused(data, f"truncated: expected at least 8 bytes.*the file has {len(data)}")


def test_header_length_larger_than_the_file():
    _refused(_file({"a": _entry()}, bytes(8), length=500),
             r"truncated \(or not a safetensors file\): the header needs 508 bytes, the file has \d+")


def test_header_length_above_the_cap():
    _refused(_file(b"{}", length=100_000_001),
             "not a ckeras model file: header length 100000001 is more than the 100000000 bytes allowed")
    _refused(_file(b"{}", length=2**64 - 1), "header length")


@pytest.mark.parametrize("raw, match", [
    (b'{"a": "\xff\xfe"}', "not valid UTF-8"),
    (b'{"a": ', "not valid JSON"),
    (b"\xef\xbb\xbf{}", "not valid JSON"),
    (b"[1, 2]", "not a ckeras model file .*not a JSON object"),
    (b'"just a string"', "not a JSON object"),
    (b'{"a": NaN}', "NaN is not a JSON value"),
    (b'{"a": ' + b"9" * 5000 + b"}", "not valid JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "nested 100000 levels deep, more than the 8 allowed"),
    (b'{"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}}', "nested 9 levels deep"),
])
def test_header_must_be_a_utf8_json_object(raw, match):
    _refused(_file(raw), match)


def test_brackets_inside_strings_do_not_count_as_nesting():
    name = '[[[[[[[[[[{{{{{{{{{{\\"[[[['  # backslash and quote: escapes inside the JSON string
    assert list(load_file(_file({name: _entry()}, bytes(8)))) == [name]


def test_duplicate_tensor_names():
    raw = b'{"a": %s, "a": %s}' % (json.dumps(_entry()).encode(), json.dumps(_entry()).encode())
    _refused(_file(raw, bytes(8)), "duplicate key 'a'")


@pytest.mark.parametrize("entry, match", [
    ({"dtype": "F32", "shape": [2]}, "expected exactly the keys data_offsets, dtype, shape; got"),
    (dict(_entry(), extra=1), "expected exactly the keys"),
    ([1, 2], "got list"),
    (_entry(dtype="Q8"), "unknown dtype 'Q8'"),
    (_entry(dtype="BF16"), "unknown dtype 'BF16'"),
    (_entry(dtype="f32"), "unknown dtype 'f32'"),
    (_entry(dtype=4), "unknown dtype 4"),
    (_entry(shape=(-2,)), r"invalid dimension -2 in shape \[-2\]"),
    (_entry(shape=(2.0,)), "invalid dimension 2.0"),
    (_entry(shape=(True, 2)), "invalid dimension True"),
    (_entry(shape=("2",)), "invalid dimension '2'"),
    (_entry(shape=(None,)), "invalid dimension None"),
    ({"dtype": "F32", "shape": 2, "data_offsets": [0, 8]}, "shape must be a list"),
    (_entry(shape=(1,) * 33), "at most 32 dimensions"),
    (_entry(shape=(2, 13, 419, 691, 823, 2977518503)), "overflows int64"),
    (_entry(shape=(2**30, 2**30)), r"shape \(1073741824, 1073741824\) can't be created from 8 bytes"),
    (_entry(shape=(3,)), r"tensor 'w': shape \(3,\) can't be created from 8 bytes \(F32 needs 12\)"),
    (_entry(offsets=(-8, 0)), r"invalid offset \[-8, 0\]"),
    (_entry(offsets=(8, 0)), r"invalid offset \[8, 0\]"),
    (_entry(offsets=(0, 8.0)), "invalid offset"),
    (_entry(offsets=(0, 8, 16)), "invalid offset"),
    (_entry(offsets=(0, 2**64 + 8)), "invalid offset"),
])
def test_malformed_entries(entry, match):
    _refused(_file({"w": entry}, bytes(8)), match)


def test_a_claimed_shape_is_never_allocated(monkeypatch):
    def no_allocation(*args, **kwargs):
        raise AssertionError("allocated before validation")

    monkeypatch.setattr(np, "empty", no_allocation)
    _refused(_file({"w": _entry(shape=(10**6, 10**6), offsets=(0, 8))}, bytes(8)), "can't be created")


def test_overlapping_offsets():
    header = {"a": _entry(offsets=(0, 8)), "b": _entry(offsets=(4, 12))}
    _refused(_file(header, bytes(12)), r"invalid offset: tensor 'b' \(bytes 4..12\) overlaps tensor 'a'")


def test_identical_offsets_overlap():
    _refused(_file({"a": _entry(), "b": _entry()}, bytes(8)), "invalid offset: tensor '[ab]'.*overlaps")


def test_a_gap_between_tensors():
    header = {"a": _entry(offsets=(0, 8)), "b": _entry(offsets=(12, 20))}
    _refused(_file(header, bytes(20)), "invalid offset: a gap of 4 bytes before tensor 'b'")


def test_a_gap_at_the_start():
    _refused(_file({"a": _entry(offsets=(4, 12))}, bytes(12)), "a gap of 4 bytes before tensor 'a'")


def test_bytes_after_the_last_tensor():
    _refused(_file({"a": _entry()}, bytes(12)), "invalid offset: 4 bytes after the last tensor")


def test_offsets_past_the_end_of_the_file():
    header = {"a": _entry(offsets=(0, 8)), "b": _entry(shape=(1000,), offsets=(8, 4008))}
    _refused(_file(header, bytes(16)), r"truncated \(or invalid offset\): tensor 'b' needs a data section of "
                                       r"4008 bytes, the file holds 16")


@pytest.mark.parametrize("metadata, match", [
    ([1], "__metadata__ must map strings to strings"),
    ({"k": 1}, "__metadata__ must map strings to strings"),
    ({"ckeras.crc32.a": "xyz"}, "invalid checksum 'xyz' recorded for tensor 'a'"),
    ({"ckeras.crc32.a": "0000000G"}, "invalid checksum"),
    ({"ckeras.crc32.gone": "00000000"}, "checksum is recorded for tensor 'gone', which the file lacks"),
])
def test_bad_metadata(metadata, match):
    _refused(_file({"__metadata__": metadata, "a": _entry()}, bytes(8)), match)


def test_a_wrong_checksum():
    data = _file({"__metadata__": {"ckeras.crc32.dense/kernel": "12345678"}, "dense/kernel": _entry()}, bytes(8))
    _refused(data, "checksum mismatch for tensor 'dense/kernel'")


def test_files_without_checksums_load_unchecked():
    assert load_file(_file({"dense/kernel": _entry()}, b"\x01" * 8))["dense/kernel"].shape == (2,)


def test_bool_bytes_other_than_zero_and_one():
    _refused(_file({"m": _entry("BOOL", (2,), (0, 2))}, b"\x01\x07"), "'m' holds bytes other than 0 and 1")


def test_not_a_safetensors_file_at_all():
    _refused(b"PK\x03\x04" + bytes(100), r"truncated \(or not a safetensors file\): the header needs 67324760")
    _refused(b"\x89HDF\r\n\x1a\n" + bytes(100), "not a ckeras model file: header length")
