"""Reading members of a model archive (a zip) by exact name, in memory, never extracting.

`open_archive(path_or_bytes)` validates the whole central directory before any member data is read:
member paths, file types, encryption, compression methods, duplicate names, and declared sizes and
ratios (zip bombs). `SafeArchive.read(name)` inflates one member into memory, never past its declared
size, and checks its CRC-32. Nothing is written to disk. Every refusal is a LoadError naming the
problem. Multi-disk archives and compression other than stored/deflate are deliberately unsupported."""
import re
import stat
import zipfile
import zlib

from ckeras.saving.byte_source import open_source
from ckeras.saving.errors import LoadError
from ckeras.saving.zip_records import find_directory

MAX_ARCHIVE_BYTES = 4 << 30   # the largest archive opened, and the most its members may unpack to in all
MAX_RATIO = 100               # declared size / compressed size above this is a potential bomb...
RATIO_FLOOR = 1 << 20         # ...for members that unpack to more than this (small ones may compress well)
MAX_MEMBERS = 10_000

_STORED, _DEFLATED = zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED
_ENCRYPTED = 0x1 | 0x40       # general-purpose flags: traditional and strong encryption
_DOS_REPARSE_POINT = 0x400    # how Windows tools mark a symbolic link in the low attribute bits
_DRIVE = re.compile(r"[A-Za-z]:")
_LOCAL_HEADER_SIZE = 30


class SafeArchive:
    """A validated archive: `names()` and `read(name)`; close it (or use `with`) when done."""

    def __init__(self, source, infos):
        self._source = source
        self._infos = {info.orig_filename: info for info in infos}

    def names(self):
        """The member names, in the archive's order."""
        return list(self._infos)

    def read(self, name, max_bytes=None):
        """The bytes of the member called exactly `name`, checked against its CRC-32."""
        where = f"{self._source.name}: member '{name}'"
        info = self._infos.get(name)
        if info is None:
            raise LoadError(f"{self._source.name}: missing member '{name}'")
        if max_bytes is not None and info.file_size > max_bytes:
            raise LoadError(f"{where} declares {info.file_size} bytes, more than the {max_bytes} allowed")
        raw = self._source.read(self._data_offset(info, where), info.compress_size)
        data = _inflate(raw, info.file_size, where) if info.compress_type == _DEFLATED else raw
        if zlib.crc32(data) != info.CRC:
            raise LoadError(f"{self._source.name}: checksum mismatch for member '{name}'")
        return data

    def _data_offset(self, info, where):
        """Where the member's data starts: after its local header, which must agree with the directory."""
        header = self._source.read(info.header_offset, _LOCAL_HEADER_SIZE)
        if header[:4] != b"PK\x03\x04":
            raise LoadError(f"{where} is damaged: no local header at offset {info.header_offset}")
        name_len = int.from_bytes(header[26:28], "little")
        extra_len = int.from_bytes(header[28:30], "little")
        local_name = self._source.read(info.header_offset + _LOCAL_HEADER_SIZE, name_len)
        if local_name != _encoded_name(info):
            raise LoadError(f"{where} is damaged: its local header names {local_name!r}")
        start = info.header_offset + _LOCAL_HEADER_SIZE + name_len + extra_len
        if start + info.compress_size > self._source.size:
            raise LoadError(f"{where} is truncated: expected {start + info.compress_size} bytes, "
                            f"the file has {self._source.size}")
        return start

    def close(self):
        self._source.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_archive(path_or_bytes, max_file_bytes=MAX_ARCHIVE_BYTES):
    """A SafeArchive over a file path or a bytes object, once its whole directory has been checked."""
    source = open_source(path_or_bytes, max_bytes=max_file_bytes, default_name="archive")
    try:
        find_directory(source, max_members=MAX_MEMBERS)
        try:
            infos = zipfile.ZipFile(source.stream()).infolist()
        except (zipfile.BadZipFile, ValueError, NotImplementedError, EOFError, OverflowError) as e:
            raise LoadError(f"{source.name}: damaged zip archive ({e})") from None
        _check_directory(infos, source)
    except BaseException:
        source.close()
        raise
    return SafeArchive(source, infos)


def _check_directory(infos, source):
    """Every member: a safe relative path, a regular file, unencrypted, stored or deflated, unique,
    and sizes that neither exceed the caps nor compress suspiciously well."""
    if len(infos) > MAX_MEMBERS:
        raise LoadError(f"{source.name}: {len(infos)} members, more than the {MAX_MEMBERS} allowed")
    cap = min(MAX_ARCHIVE_BYTES, MAX_RATIO * source.size + RATIO_FLOOR)
    seen, total = set(), 0
    for info in infos:
        name = info.orig_filename
        where = f"{source.name}: member '{name}'"
        _check_path(name, source.name)
        if name in seen:
            raise LoadError(f"{source.name}: duplicate member name '{name}'")
        seen.add(name)
        _check_file_type(info, source.name)
        if info.flag_bits & _ENCRYPTED:
            raise LoadError(f"{where} is encrypted; model archives cannot be")
        if info.compress_type not in (_STORED, _DEFLATED):
            raise LoadError(f"{where} uses compression method {info.compress_type}; "
                            f"only stored (0) and deflate (8) are supported")
        if info.compress_type == _STORED and info.compress_size != info.file_size:
            raise LoadError(f"{where} is damaged: stored, but declares {info.compress_size} bytes "
                            f"compressed and {info.file_size} uncompressed")
        if info.header_offset < 0 or info.header_offset + info.compress_size > source.size:
            raise LoadError(f"{where} is truncated or damaged: its data would end at byte "
                            f"{max(info.header_offset, 0) + info.compress_size}, the file has {source.size}")
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * info.compress_size:
            raise LoadError(f"{where}: refusing potential decompression bomb: declares {info.file_size} "
                            f"bytes from {info.compress_size} (more than {MAX_RATIO}x)")
        total += info.file_size
        if total > cap:
            raise LoadError(f"{source.name}: refusing potential decompression bomb: members declare "
                            f"{total} bytes in all (at most {cap} allowed for a {source.size}-byte archive)")


def _check_path(name, source_name):
    """A relative path that stays inside the archive's root on every OS."""
    problem = None
    if not name or "\x00" in name:
        problem = "empty or NUL in the name"
    elif "\\" in name:
        problem = "backslash in the name"
    elif name.startswith("/"):
        problem = "absolute path"
    elif _DRIVE.match(name):
        problem = "drive letter"
    elif ".." in name.split("/"):
        problem = "'..' component"
    if problem:
        raise LoadError(f"{source_name}: invalid member path {name!r} ({problem})")


def _check_file_type(info, source_name):
    """Regular files (and directory entries) only: no symbolic links, devices or FIFOs."""
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind == stat.S_IFLNK or info.external_attr & _DOS_REPARSE_POINT:
        raise LoadError(f"{source_name}: invalid member path '{info.orig_filename}' (a symbolic link)")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise LoadError(f"{source_name}: invalid member path '{info.orig_filename}' "
                        f"(not a regular file: mode {oct(info.external_attr >> 16)})")


def _encoded_name(info):
    """The name's bytes as the directory stored them (UTF-8 when flagged, else cp437)."""
    encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
    try:
        return info.orig_filename.encode(encoding)
    except UnicodeEncodeError:
        return None


def _inflate(raw, size, where):
    """Raw deflate data → exactly `size` bytes; never produces more than size + 1 whatever the data says."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        data = inflater.decompress(raw, size + 1)
    except zlib.error as e:
        raise LoadError(f"{where} is damaged: {e}") from None
    if len(data) > size:
        raise LoadError(f"{where} inflates to more than its declared {size} bytes")
    if not inflater.eof or len(data) < size:
        raise LoadError(f"{where} is truncated or damaged: inflates to {len(data)} bytes "
                        f"of the declared {size}")
    return data
