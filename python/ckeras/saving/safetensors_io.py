"""safetensors files (the public format of huggingface/safetensors): `save_file` writes the reference
layout atomically, adding a CRC-32 per tensor to `__metadata__`; `load_file` checks the whole header
(and, given `expected`, the names, shapes and dtypes) before allocating anything, then reads each
tensor and verifies its CRC where the file has one (files from other tools have none)."""
import re
import struct
import zlib

import numpy as np

from ckeras.saving.atomic import atomic_write
from ckeras.saving.byte_source import open_source
from ckeras.saving.errors import LoadError
from ckeras.saving.safetensors_header import (DTYPES, MAX_HEADER_BYTES, Entry, build_header, dtype_name,
                                              layout_order, parse_header)

CRC_PREFIX = "ckeras.crc32."
_CRC_TEXT = re.compile(r"[0-9a-f]{8}")


def save_file(tensors, path, metadata=None, checksums=True):
    """Write `tensors` ({name: array}) to `path` as safetensors, atomically.

    Args:
        tensors: dict of str names to NumPy arrays (or array-likes) of a supported dtype.
        path: the file to write (replaced only once the new one is complete).
        metadata: optional dict of str to str, stored in `__metadata__`.
        checksums: record each tensor's CRC-32 in `__metadata__` (False writes exactly what the
            reference implementation writes).
    """
    arrays = {name: _little_endian(name, value) for name, value in _checked_items(tensors)}
    metadata = dict(metadata or {})
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ValueError(f"Expected `metadata` to map str to str. Received: {key!r}: {value!r}")
        if key.startswith(CRC_PREFIX):
            raise ValueError(f"Metadata keys starting with {CRC_PREFIX!r} are reserved. Received: {key!r}")
    entries, offset = [], 0
    for e in layout_order(Entry(n, dtype_name(a.dtype), a.shape, 0, 0) for n, a in arrays.items()):
        entries.append(e._replace(begin=offset, end=offset + arrays[e.name].nbytes))
        offset += arrays[e.name].nbytes
        if checksums:
            metadata[CRC_PREFIX + e.name] = f"{zlib.crc32(_raw(arrays[e.name])):08x}"
    with atomic_write(path) as f:
        f.write(build_header(entries, metadata))
        for e in entries:
            f.write(_raw(arrays[e.name]))


def load_file(path_or_bytes, expected=None, check_finite=False):
    """Read a safetensors file (a path or bytes) into {name: np.ndarray}.

    Args:
        path_or_bytes: the file, or its contents.
        expected: optional {name: (shape, dtype)}: the file must hold exactly these tensors with
            these shapes and dtypes (None skips one check); compared before any data is read.
        check_finite: refuse float tensors holding NaN or Inf.
    Returns:
        A dict of writable, little-endian NumPy arrays in the header's order.
    Raises:
        LoadError (a ValueError) naming the problem for any damaged, hostile or mismatched file.
    """
    with open_source(path_or_bytes, default_name="safetensors buffer") as source:
        if source.size < 8:
            raise LoadError(f"{source.name}: truncated: expected at least 8 bytes (the header length), "
                            f"the file has {source.size}")
        (header_len,) = struct.unpack("<Q", source.read(0, 8))
        if header_len > MAX_HEADER_BYTES:
            raise LoadError(f"{source.name}: not a ckeras model file: header length {header_len} is "
                            f"more than the {MAX_HEADER_BYTES} bytes allowed")
        if 8 + header_len > source.size:
            raise LoadError(f"{source.name}: truncated (or not a safetensors file): the header needs "
                            f"{8 + header_len} bytes, the file has {source.size}")
        entries, metadata = parse_header(source.read(8, header_len), source.size - 8 - header_len, source.name)
        if expected is not None:
            _check_expected(entries, expected, source.name)
        checksums = _checksums(metadata, entries, source.name)
        return {e.name: _read_tensor(source, 8 + header_len, e, checksums.get(e.name), check_finite)
                for e in entries}


def _checked_items(tensors):
    if not isinstance(tensors, dict):
        raise ValueError(f"Expected `tensors` to be a dict of name to array. Received: {type(tensors).__name__}")
    for name, value in tensors.items():
        if not isinstance(name, str) or name == "__metadata__":
            raise ValueError(f"Tensor names must be strings other than '__metadata__'. Received: {name!r}")
        yield name, value


def _little_endian(name, value):
    """A C-contiguous little-endian copy of `value` (no copy when it already is one)."""
    array = np.asarray(value)
    if dtype_name(array.dtype) is None:
        raise ValueError(f"unsupported dtype {array.dtype} for tensor '{name}'. Supported: "
                         f"{', '.join(str(d) for d in DTYPES.values())}")
    return array.astype(array.dtype.newbyteorder("<"), order="C", copy=False)


def _raw(array):
    """The bytes of a C-contiguous array as a flat uint8 view (no copy)."""
    return array.reshape(-1).view(np.uint8)


def _check_expected(entries, expected, source):
    """Names, shapes and dtypes against the model's, from the header alone."""
    found = {e.name: e for e in entries}
    missing = [name for name in expected if name not in found]
    extra = [name for name in found if name not in expected]
    if missing or extra:
        raise LoadError(f"{source}: the file holds {len(found)} tensors and the model expects {len(expected)}: "
                        f"missing {missing}, unexpected {extra}")
    for name, (shape, dtype) in expected.items():
        e = found[name]
        if shape is not None and e.shape != tuple(int(d) for d in shape):
            raise LoadError(f"{source}: tensor '{name}' has shape {e.shape} in the file, but the model "
                            f"expects {tuple(int(d) for d in shape)}")
        if dtype is not None and DTYPES[e.dtype] != np.dtype(dtype).newbyteorder("<"):
            raise LoadError(f"{source}: tensor '{name}' has dtype {DTYPES[e.dtype].name} ({e.dtype}) in the "
                            f"file, but the model expects {np.dtype(dtype).name}")


def _checksums(metadata, entries, source):
    """{name: CRC-32} from our `ckeras.crc32.<name>` metadata entries."""
    names = {e.name for e in entries}
    checksums = {}
    for key, value in metadata.items():
        if not key.startswith(CRC_PREFIX):
            continue
        name = key[len(CRC_PREFIX):]
        if name not in names:
            raise LoadError(f"{source}: a checksum is recorded for tensor '{name}', which the file lacks")
        if not _CRC_TEXT.fullmatch(value):
            raise LoadError(f"{source}: invalid checksum {value!r} recorded for tensor '{name}'")
        checksums[name] = int(value, 16)
    return checksums


def _read_tensor(source, data_start, e, checksum, check_finite):
    array = np.empty(e.shape, DTYPES[e.dtype])  # its size was checked against the bytes on disk
    if array.nbytes:
        source.read_into(data_start + e.begin, _raw(array))
    if checksum is not None and zlib.crc32(_raw(array)) != checksum:
        raise LoadError(f"{source.name}: checksum mismatch for tensor '{e.name}'")
    if e.dtype == "BOOL" and _raw(array).max(initial=0) > 1:
        raise LoadError(f"{source.name}: tensor '{e.name}' holds bytes other than 0 and 1 for BOOL values")
    if check_finite and array.dtype.kind == "f" and not np.isfinite(array).all():
        raise LoadError(f"{source.name}: tensor '{e.name}' holds NaN or Inf values (check_finite=True)")
    return array
