"""The safetensors header: the dtype table, writing a header in the reference layout, and checking an
untrusted one (the checks of the reference's `validate()`, and more) before anything is allocated.

Layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON mapping each tensor name to
{"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the data section) plus an
optional "__metadata__" of str -> str, padded with spaces to a multiple of 8, then the data section."""
import collections
import json
import struct

import numpy as np

from ckeras.saving.errors import LoadError
from ckeras.saving.json_guard import parse_json

MAX_HEADER_BYTES = 100_000_000  # the reference's cap
MAX_RANK = 32
MAX_DEPTH = 8                   # a valid header nests 3 deep: {name: {"shape": [...]}}
_INT64_MAX = 2**63 - 1
_KEYS = {"dtype", "shape", "data_offsets"}

# In the reference's enum order: tensors are laid out by this order descending (widest alignment
# first), then by name. BF16 and the 8-bit floats have no NumPy dtype and are not supported.
DTYPES = {"BOOL": np.dtype(np.bool_), "U8": np.dtype("u1"), "I8": np.dtype("i1"),
          "I16": np.dtype("<i2"), "U16": np.dtype("<u2"), "F16": np.dtype("<f2"),
          "I32": np.dtype("<i4"), "U32": np.dtype("<u4"), "F32": np.dtype("<f4"),
          "F64": np.dtype("<f8"), "I64": np.dtype("<i8"), "U64": np.dtype("<u8")}
_ORDER = {name: i for i, name in enumerate(DTYPES)}

# One tensor as the header describes it: `dtype` is the safetensors name, offsets are in the data section.
Entry = collections.namedtuple("Entry", "name dtype shape begin end")


def dtype_name(dtype):
    """The safetensors name of a NumPy dtype (either byte order), or None."""
    dtype = np.dtype(dtype).newbyteorder("<")
    return next((name for name, known in DTYPES.items() if known == dtype), None)


def layout_order(entries):
    """The reference's order: dtype descending in its enum, then name."""
    return sorted(entries, key=lambda e: (-_ORDER[e.dtype], e.name))


def build_header(entries, metadata):
    """The length prefix and padded JSON header for entries already in layout order."""
    header = {"__metadata__": dict(sorted(metadata.items()))} if metadata else {}
    for e in entries:
        header[e.name] = {"dtype": e.dtype, "shape": list(e.shape), "data_offsets": [e.begin, e.end]}
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text


def parse_header(raw, data_len, source):
    """(entries in header order, metadata dict) from header bytes, for a data section of `data_len`
    bytes: every entry well-formed, and the entries tiling the data section exactly."""
    header = parse_json(raw, source, "safetensors header", MAX_HEADER_BYTES, MAX_DEPTH)
    if not isinstance(header, dict):
        raise LoadError(f"{source}: not a ckeras model file (the safetensors header is not a JSON object)")
    metadata = header.pop("__metadata__", None)
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise LoadError(f"{source}: __metadata__ must map strings to strings")
    entries = [_entry(name, info, f"{source}: tensor '{name}'") for name, info in header.items()]
    _check_tiling(entries, data_len, source)
    return entries, metadata


def _entry(name, info, where):
    if not isinstance(info, dict) or set(info) != _KEYS:
        got = sorted(info) if isinstance(info, dict) else type(info).__name__
        raise LoadError(f"{where}: expected exactly the keys data_offsets, dtype, shape; got {got}")
    dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
    if not isinstance(dtype, str) or dtype not in DTYPES:
        raise LoadError(f"{where}: unknown dtype {dtype!r} (supported: {', '.join(DTYPES)})")
    if not isinstance(shape, list) or len(shape) > MAX_RANK:
        raise LoadError(f"{where}: shape must be a list of at most {MAX_RANK} dimensions, got {shape!r}")
    count = 1
    for dim in shape:
        if type(dim) is not int or dim < 0:  # bool is an int subclass: refused too
            raise LoadError(f"{where}: invalid dimension {dim!r} in shape {shape}: dimensions must be "
                            f"non-negative integers")
        count *= dim
        if count > _INT64_MAX:
            raise LoadError(f"{where}: shape {shape} overflows int64 elements")
    if (not isinstance(offsets, list) or len(offsets) != 2 or any(type(o) is not int for o in offsets)
            or not 0 <= offsets[0] <= offsets[1] or offsets[1] > _INT64_MAX):
        raise LoadError(f"{where}: invalid offset {offsets!r}: expected [begin, end] with 0 <= begin <= end")
    nbytes = count * DTYPES[dtype].itemsize
    if nbytes != offsets[1] - offsets[0]:
        raise LoadError(f"{where}: shape {tuple(shape)} can't be created from {offsets[1] - offsets[0]} "
                        f"bytes ({dtype} needs {nbytes})")
    return Entry(name, dtype, tuple(shape), offsets[0], offsets[1])


def _check_tiling(entries, data_len, source):
    """The tensors must cover the data section exactly: no overlaps, no gaps, nothing past its end."""
    end, last = 0, None
    for e in sorted(entries, key=lambda e: (e.begin, e.end)):
        if e.begin < end:
            raise LoadError(f"{source}: invalid offset: tensor '{e.name}' (bytes {e.begin}..{e.end}) "
                            f"overlaps tensor '{last.name}' (bytes {last.begin}..{last.end})")
        if e.begin > end:
            raise LoadError(f"{source}: invalid offset: a gap of {e.begin - end} bytes before tensor '{e.name}'")
        end, last = e.end, e
    if end > data_len:
        raise LoadError(f"{source}: truncated (or invalid offset): tensor '{last.name}' needs a data section "
                        f"of {end} bytes, the file holds {data_len}")
    if end < data_len:
        raise LoadError(f"{source}: invalid offset: {data_len - end} bytes after the last tensor belong to none")
