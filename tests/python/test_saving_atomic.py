"""`ckeras.saving.atomic.atomic_write`: the target is replaced whole or not at all, no temporary file
survives a failure (an exception in the block, a full disk at write, flush or fsync), and modes are sane."""
import errno
import io
import os
import stat

import pytest

from ckeras.saving import atomic
from ckeras.saving.atomic import atomic_write


def _listing(directory):
    return sorted(os.listdir(directory))


@pytest.fixture
def old_model(tmp_path):
    """An existing target holding b"old"."""
    target = tmp_path / "model.keras"
    target.write_bytes(b"old")
    return target


def _assert_untouched(target):
    """The old contents survive, and nothing else (no temporary file) is left beside them."""
    assert target.read_bytes() == b"old"
    assert _listing(target.parent) == [target.name]


def test_writes_a_new_file(tmp_path):
    target = tmp_path / "model.keras"
    with atomic_write(target) as f:
        f.write(b"payload")
    assert target.read_bytes() == b"payload"
    assert _listing(tmp_path) == ["model.keras"]


def test_replaces_an_existing_file(old_model):
    with atomic_write(str(old_model)) as f:
        f.write(b"new contents")
    assert old_model.read_bytes() == b"new contents"
    assert _listing(old_model.parent) == ["model.keras"]


def test_exception_mid_write_keeps_the_old_file_and_no_temp(old_model):
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_write(old_model) as f:
            f.write(b"half of the new")
            raise RuntimeError("boom")
    _assert_untouched(old_model)


def test_exception_before_any_write_creates_nothing(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(tmp_path / "new.keras"):
            raise KeyboardInterrupt
    assert _listing(tmp_path) == []


class _FullDisk(io.RawIOBase):
    """A file whose writes fail with ENOSPC after `room` bytes, like a full disk."""

    def __init__(self, real, room):
        self._real, self._room = real, room

    def writable(self):
        return True

    def write(self, b):
        if len(b) > self._room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self._room -= len(b)
        return self._real.write(b)

    def fileno(self):
        return self._real.fileno()

    def close(self):
        self._real.close()
        super().close()


# One chunk larger than the buffer reaches the disk at once; small ones fail only at the final flush.
@pytest.mark.parametrize("chunks", [[b"x" * 100_000], [b"small", b"still small"]], ids=["write", "flush"])
def test_a_full_disk_keeps_the_old_file_and_no_temp(old_model, monkeypatch, chunks):
    real_fdopen = os.fdopen
    monkeypatch.setattr(atomic.os, "fdopen",
                        lambda fd, mode: io.BufferedWriter(_FullDisk(real_fdopen(fd, mode, buffering=0), 10)))
    with pytest.raises(OSError) as info:
        with atomic_write(old_model) as f:
            for chunk in chunks:
                f.write(chunk)
    assert info.value.errno == errno.ENOSPC
    _assert_untouched(old_model)


def _failing(error):
    def fail(*args):
        raise error
    return fail


def test_fsync_failure_keeps_the_old_file_and_no_temp(old_model, monkeypatch):
    monkeypatch.setattr(atomic.os, "fsync", _failing(OSError(errno.ENOSPC, "No space left on device")))
    with pytest.raises(OSError, match="No space left"):
        with atomic_write(old_model) as f:
            f.write(b"new")
    _assert_untouched(old_model)


def test_rename_failure_leaves_no_temp(old_model, monkeypatch):
    monkeypatch.setattr(atomic.os, "replace", _failing(PermissionError(errno.EACCES, "denied")))
    with pytest.raises(PermissionError):
        with atomic_write(old_model) as f:
            f.write(b"new")
    _assert_untouched(old_model)


def test_directory_is_fsynced_after_the_rename(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def spy(fd):
        synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        real_fsync(fd)

    monkeypatch.setattr(atomic.os, "fsync", spy)
    with atomic_write(tmp_path / "m.keras") as f:
        f.write(b"x")
    assert synced == [False, True]  # the file, then its directory


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_new_file_gets_the_umask_default_mode(tmp_path):
    old = os.umask(0o027)
    try:
        with atomic_write(tmp_path / "m.keras") as f:
            f.write(b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "m.keras").st_mode) == 0o640


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_replaced_file_keeps_its_mode(old_model):
    os.chmod(old_model, 0o604)
    with atomic_write(old_model) as f:
        f.write(b"new")
    assert stat.S_IMODE(os.stat(old_model).st_mode) == 0o604
