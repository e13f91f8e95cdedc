"""The end records of a zip archive (end of central directory, and the zip64 locator and record),
read the way Python's zipfile reads them, so that a file that is not a zip, is cut short, or declares
an oversized central directory is refused before zipfile parses (and allocates for) the directory."""
import struct

from ckeras.saving.errors import LoadError

MAX_DIRECTORY_BYTES = 4 << 20  # ~90k entries at their smallest: plenty for a model, bounded memory

_END = struct.Struct("<4s4H2LH")         # signature, disks, entries (disk, total), size, offset, comment
_LOCATOR = struct.Struct("<4sLQL")       # zip64 locator: signature, disk, record offset, disks
_END64 = struct.Struct("<4sQ2H2L4Q")     # zip64 end record: ..., entries (disk, total), size, offset
_LOCAL_MAGIC, _END_MAGIC = b"PK\x03\x04", b"PK\x05\x06"
_MAGICS = {b"\x89HDF": "an HDF5 file (legacy .h5 models are not supported)",
           b"\x80": "a Python pickle", b"PK\x07\x08": "a split zip archive"}


def find_directory(source, max_members):
    """Check the archive's end records: that they exist, that the comment ends exactly at the end of
    the file, that the directory they declare is within the caps and fits before them."""
    tail_len = min(source.size, _END.size + 0xFFFF)
    tail = source.read(source.size - tail_len, tail_len)
    at = tail.rfind(_END_MAGIC)
    if at < 0:
        _not_a_zip(source)
    if at + _END.size > len(tail):
        raise LoadError(f"{source.name}: truncated: the end-of-directory record needs "
                        f"{source.size - len(tail) + at + _END.size} bytes, the file has {source.size}")
    fields = _END.unpack_from(tail, at)
    comment_end = at + _END.size + fields[-1]
    if comment_end > len(tail):
        raise LoadError(f"{source.name}: truncated: expected {source.size - len(tail) + comment_end} "
                        f"bytes, the file has {source.size}")
    if comment_end < len(tail):
        raise LoadError(f"{source.name}: not a ckeras model file ({len(tail) - comment_end} bytes "
                        f"follow the zip archive's end record)")
    end_at = source.size - len(tail) + at
    if fields[1] != 0 or fields[2] != 0:
        raise LoadError(f"{source.name}: not a ckeras model file (a multi-disk zip archive)")
    entries, size, records = fields[4], fields[5], 0
    zip64 = _zip64_record(source, end_at)
    if zip64 is not None:
        entries, size, records = zip64[-3], zip64[-2], _END64.size + _LOCATOR.size
    if size > MAX_DIRECTORY_BYTES or entries > max_members:
        raise LoadError(f"{source.name}: the central directory declares {entries} members in {size} "
                        f"bytes, more than the {max_members} members or {MAX_DIRECTORY_BYTES} bytes allowed")
    if size + records > end_at:
        raise LoadError(f"{source.name}: truncated or damaged: the central directory needs {size} bytes "
                        f"before its end record, which is at byte {end_at - records}")


def _zip64_record(source, end_at):
    """The zip64 end record's fields, when a zip64 locator sits just before the end record (zipfile
    then uses the record's values whatever the classic record says)."""
    if end_at < _LOCATOR.size:
        return None
    locator = _LOCATOR.unpack(source.read(end_at - _LOCATOR.size, _LOCATOR.size))
    if locator[0] != b"PK\x06\x07":
        return None
    record_at = end_at - _LOCATOR.size - _END64.size
    if record_at < 0:
        raise LoadError(f"{source.name}: truncated or damaged: a zip64 locator without its record")
    record = _END64.unpack(source.read(record_at, _END64.size))
    if record[0] != b"PK\x06\x06":
        raise LoadError(f"{source.name}: damaged zip archive (bad zip64 end record)")
    if locator[3] > 1 or record[4] != 0 or record[5] != 0:
        raise LoadError(f"{source.name}: not a ckeras model file (a multi-disk zip archive)")
    return record


def _not_a_zip(source):
    """No end record at all: a zip cut short (it starts like one), or some other kind of file."""
    head = source.read(0, min(4, source.size))
    if _LOCAL_MAGIC.startswith(head) or _END_MAGIC.startswith(head):
        raise LoadError(f"{source.name}: truncated: a zip archive of {source.size} bytes without "
                        f"its end-of-directory record")
    kind = next((what for magic, what in _MAGICS.items() if head.startswith(magic)), "not a zip archive")
    raise LoadError(f"{source.name}: not a ckeras model file ({kind})")
