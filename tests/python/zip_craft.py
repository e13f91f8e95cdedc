"""Zip archives built byte by byte for the loader tests, so that every field a hostile file could set
(names, flags, methods, file modes, declared sizes, CRCs, end records) can be set to anything."""
import struct
import zlib

_LOCAL = struct.Struct("<4s5H3L2H")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_END = struct.Struct("<4s4H2LH")
_END64 = struct.Struct("<4sQ2H2L4Q")
_LOCATOR = struct.Struct("<4sLQL")


def deflate(data):
    """Raw deflate (no zlib header), as zip stores it."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


def member(name, data=b"", method=0, flags=0, mode=0o100644, file_size=None, crc=None, payload=None,
           local_name=None):
    """One member: `data` stored (method 0) or deflated (8); the other fields override what goes in
    the headers (`file_size`, `crc`, the compressed `payload`, the local header's name)."""
    if isinstance(name, str):
        name = name.encode("utf-8")
    if payload is None:
        payload = deflate(data) if method == 8 else data
    return {"name": name, "method": method, "flags": flags | 0x800, "mode": mode, "payload": payload,
            "file_size": len(data) if file_size is None else file_size,
            "crc": zlib.crc32(data) if crc is None else crc,
            "local_name": name if local_name is None else local_name}


def make_zip(members, comment=b"", zip64=False, directory_size=None, disk=0):
    """The archive's bytes: local headers and data, central directory, [zip64 records,] end record."""
    body, central = bytearray(), bytearray()
    for m in members:
        offset = len(body)
        body += _LOCAL.pack(b"PK\x03\x04", 20, m["flags"], m["method"], 0, 0, m["crc"], len(m["payload"]),
                            m["file_size"], len(m["local_name"]), 0) + m["local_name"] + m["payload"]
        central += _CENTRAL.pack(b"PK\x01\x02", (3 << 8) | 20, 20, m["flags"], m["method"], 0, 0, m["crc"],
                                 len(m["payload"]), m["file_size"], len(m["name"]), 0, 0, 0, 0,
                                 m["mode"] << 16, offset) + m["name"]
    size = len(central) if directory_size is None else directory_size
    count, start = len(members), len(body)
    tail = b""
    if zip64:
        record_at = start + len(central)
        tail = (_END64.pack(b"PK\x06\x06", _END64.size - 12, 45, 45, 0, 0, count, count, size, start)
                + _LOCATOR.pack(b"PK\x06\x07", 0, record_at, 1))
        count, size, start = 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF
    end = _END.pack(b"PK\x05\x06", disk, disk, count, count, size, start, len(comment)) + comment
    return bytes(body + central + tail + end)


def small_zip():
    """A valid archive with a few stored members, like a small .keras file."""
    return make_zip([member("config.json", b'{"class_name": "Sequential"}'),
                     member("metadata.json", b'{"keras_version": "3.0.0"}'),
                     member("model.weights.h5", bytes(range(256)) * 2)])
