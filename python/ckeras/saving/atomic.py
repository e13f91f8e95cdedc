"""Atomic file writes: the data goes to a temporary file beside the target and is renamed into place
only once it is complete and flushed, so a crash or a full disk never leaves a damaged file where a
good one was."""
import contextlib
import os
import tempfile


@contextlib.contextmanager
def atomic_write(path):
    """`with atomic_write(path) as f: f.write(b"...")` — a binary file object; `path` appears (or is
    replaced) only when the block finishes without an exception."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
