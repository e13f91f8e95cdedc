"""Random access to an untrusted file or bytes object, for the model-file readers: its size is known
(and capped) before anything is read, and every read is exact, so a file that is shorter than its own
header claims (or shrinks while being read) gives LoadError "truncated", never a short buffer."""
import io
import os

from ckeras.saving.errors import LoadError


class ByteSource:
    """`size`, `read(offset, n)` and `read_into(offset, buffer)` over bytes or an open binary file."""

    def __init__(self, name, data=None, file=None):
        self.name = name
        self._data = data
        self._file = file
        self.size = len(data) if data is not None else os.fstat(file.fileno()).st_size

    def read(self, offset, n):
        """Exactly `n` bytes starting at `offset`."""
        self._check(offset, n)
        if self._data is not None:
            return self._data[offset:offset + n]
        self._file.seek(offset)
        data = self._file.read(n)
        if len(data) != n:  # the file shrank since it was opened
            self._short(offset, n)
        return data

    def read_into(self, offset, buffer):
        """Fill a writable buffer (a bytearray, or a NumPy array's bytes) from `offset`."""
        view = memoryview(buffer).cast("B")
        n = len(view)
        self._check(offset, n)
        if self._data is not None:
            view[:] = self._data[offset:offset + n]
            return
        self._file.seek(offset)
        done = 0
        while done < n:
            got = self._file.readinto(view[done:])
            if not got:
                self._short(offset, n)
            done += got

    def _check(self, offset, n):
        if offset < 0 or offset + n > self.size:
            self._short(offset, n)

    def _short(self, offset, n):
        raise LoadError(f"{self.name}: truncated: expected {offset + n} bytes, the file has {self.size}")

    def stream(self):
        """A seekable file object over the same bytes (for parsers that want one)."""
        return io.BytesIO(self._data) if self._data is not None else self._file

    def close(self):
        if self._file is not None:
            self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_source(path_or_bytes, max_bytes=None, default_name="buffer"):
    """A ByteSource over a path (opened, never read whole) or a bytes-like object; a file larger than
    `max_bytes` is refused before any of it is read."""
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        source = ByteSource(default_name, data=bytes(path_or_bytes))
    else:
        path = os.fspath(path_or_bytes)
        source = ByteSource(os.fsdecode(path), file=open(path, "rb"))
    if max_bytes is not None and source.size > max_bytes:
        source.close()
        raise LoadError(f"{source.name}: the file is {source.size} bytes, more than the {max_bytes} "
                        f"allowed for a model file")
    return source
