"""Damaged model files, exhaustively and at random (ERRORS.md row 34): every truncation point of a small
safetensors file and of a small zip gives LoadError "truncated"; random byte mutations and random
header JSON give LoadError or a successful load, never another exception, in bounded time."""
import json
import struct
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ckeras.saving.errors import LoadError
from ckeras.saving.safetensors_io import load_file, save_file
from ckeras.saving.zip_guard import open_archive
from byte_edits import EDITS as _EDITS, mutate as _mutate
from zip_craft import make_zip, member, small_zip

FUZZ = settings(max_examples=250, deadline=timedelta(seconds=2), derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def small_safetensors(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "w.safetensors"
    save_file({"dense/kernel": np.arange(12, dtype=np.float32).reshape(3, 4), "dense/bias": np.ones(4, np.float16),
               "step": np.array(7, np.int64), "mask": np.array([True, False])}, path, metadata={"k": "v"})
    return path.read_bytes()


def _read_all(data):
    with open_archive(data) as archive:
        return {name: archive.read(name) for name in archive.names()}


def _small_deflated_zip():
    return make_zip([member("config.json", b'{"layers": []}' * 20, method=8),
                     member("model.weights.h5", bytes(range(200)), method=8)], comment=b"ckeras")


def test_every_truncation_of_a_safetensors_file(small_safetensors):
    assert len(load_file(small_safetensors)) == 4
    for cut in range(len(small_safetensors)):
        with pytest.raises(LoadError, match=rf"truncated.*the file (has|holds) \d+"):
            load_file(small_safetensors[:cut])


@pytest.mark.parametrize("archive", [small_zip, _small_deflated_zip])
def test_every_truncation_of_a_zip(archive):
    data = archive()
    assert len(_read_all(data)) >= 2
    for cut in range(len(data)):
        with pytest.raises(LoadError, match="truncated"):
            _read_all(data[:cut])


@FUZZ
@given(edits=_EDITS)
def test_mutated_safetensors_files(small_safetensors, edits):
    try:
        load_file(_mutate(small_safetensors, edits), check_finite=True)
    except LoadError:
        pass


@FUZZ
@given(edits=_EDITS, deflated=st.booleans())
def test_mutated_zips(edits, deflated):
    try:
        _read_all(_mutate(_small_deflated_zip() if deflated else small_zip(), edits))
    except LoadError:
        pass


_SCALARS = st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=8)
_JSON = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=20)
_DIMS = st.integers(-3, 2**40) | st.booleans() | st.floats(0, 10) | st.none()
_ENTRY = st.fixed_dictionaries({
    "dtype": st.sampled_from(["F32", "F64", "F16", "I32", "I64", "BOOL", "U8", "I8", "BF16", "X", ""]) | _JSON,
    "shape": st.lists(st.integers(0, 4), max_size=3) | st.lists(_DIMS, max_size=4) | _JSON,
    "data_offsets": st.lists(st.integers(-2, 40), min_size=2, max_size=2) | _JSON,
}, optional={"extra": _JSON})


@FUZZ
@given(header=st.dictionaries(st.text(max_size=5), _ENTRY | _JSON, max_size=4) | _JSON, data=st.binary(max_size=40))
def test_random_headers(header, data):
    raw = json.dumps(header, allow_nan=True).encode()
    try:
        out = load_file(struct.pack("<Q", len(raw)) + raw + data)
    except LoadError:
        return
    assert isinstance(header, dict) and all(isinstance(a, np.ndarray) for a in out.values())


@st.composite
def _plausible_files(draw):
    """Well-formed entries laid out back to back and data of the right length; then, often, one
    offset or the data length nudged."""
    header, offset = {}, 0
    for name in draw(st.lists(st.text(max_size=4), max_size=4, unique=True)):
        dtype, itemsize = draw(st.sampled_from([("F32", 4), ("F16", 2), ("I64", 8), ("BOOL", 1), ("U8", 1)]))
        shape = draw(st.lists(st.integers(0, 3), max_size=3))
        nbytes = itemsize * int(np.prod(shape))
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    if header and draw(st.booleans()):
        entry = header[draw(st.sampled_from(sorted(header)))]
        entry["data_offsets"][draw(st.integers(0, 1))] += draw(st.integers(-4, 4))
    raw = json.dumps(header).encode()
    data = bytes(draw(st.integers(0, 1)) for _ in range(max(0, offset + draw(st.sampled_from([0, 0, -1, 2])))))
    return struct.pack("<Q", len(raw)) + raw + data


@FUZZ
@given(data=_plausible_files())
def test_plausible_files(data):
    try:
        load_file(data)
    except LoadError:
        pass
