"""Atomic file writes: the data goes to a temporary file beside the target and is renamed into place
only once it is complete and flushed, so a crash, an exception or a full disk never leaves a damaged
file where a good one was, nor a stray temporary file. Ownership and ACLs are not carried over."""
import contextlib
import os
import stat
import tempfile


@contextlib.contextmanager
def atomic_write(path):
    """`with atomic_write(path) as f: f.write(b"...")` — a binary file object; `path` appears (or is
    replaced) only when the block finishes without an exception. A replaced file keeps its permission
    bits; a new one gets the usual mode for new files (0o666 less the umask), not mkstemp's 0o600."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    mode = _mode_for(path)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            if hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), mode)
            else:
                os.chmod(tmp, mode)
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _mode_for(path):
    """The permission bits the finished file should carry."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~_umask()


def _umask():
    """The process umask, read without changing it where the OS allows (os.umask is a global write)."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_directory(directory):
    """Make the rename itself durable; some systems (Windows, some network filesystems) refuse, which is fine."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
