"""Reading members of a model archive (a zip) by exact name, in memory, never extracting.

`open_archive(path)` validates the whole directory before anything is read; `SafeArchive.read(name)`
returns one member's bytes. Every refusal is a LoadError naming what is wrong."""
import io
import os
import zipfile

from ckeras.saving.errors import LoadError


class SafeArchive:
    def __init__(self, zf, source):
        self._zf = zf
        self._source = source

    def names(self):
        return [info.filename for info in self._zf.infolist()]

    def read(self, name, max_bytes=None):
        try:
            info = self._zf.getinfo(name)
        except KeyError:
            raise LoadError(f"{self._source}: missing member '{name}'") from None
        if max_bytes is not None and info.file_size > max_bytes:
            raise LoadError(f"{self._source}: member '{name}' declares {info.file_size} bytes, "
                            f"more than the {max_bytes} allowed")
        try:
            return self._zf.read(info)
        except (zipfile.BadZipFile, EOFError, OSError) as e:
            raise LoadError(f"{self._source}: member '{name}' is damaged: {e}") from None

    def close(self):
        self._zf.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_archive(path_or_bytes):
    """A SafeArchive over a file path or a bytes object."""
    if isinstance(path_or_bytes, (bytes, bytearray)):
        source, stream = "archive", io.BytesIO(path_or_bytes)
    else:
        source = os.fspath(path_or_bytes)
        with open(source, "rb") as f:
            stream = io.BytesIO(f.read())
    try:
        zf = zipfile.ZipFile(stream)
    except zipfile.BadZipFile as e:
        raise LoadError(f"{source}: not a ckeras model file ({e})") from None
    return SafeArchive(zf, source)
