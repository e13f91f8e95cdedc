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


def test_writes_a_new_file(tmp_path):
    target = tmp_path / "model.keras"
    with atomic_write(target) as f:
        f.write(b"payload")
    assert target.read_bytes() == b"payload"
    assert _listing(tmp_path) == ["model.keras"]


def test_replaces_an_existing_file(tmp_path):
    target = tmp_path / "model.keras"
    target.write_bytes(b"old")
    with atomic_write(str(target)) as f:
        f.write(b"new contents")
    assert target.read_bytes() == b"new contents"
    assert _listing(tmp_path) == ["model.keras"]


def test_exception_mid_write_keeps_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "model.keras"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_write(target) as f:
            f.write(b"half of the new")
            raise RuntimeError("boom")
    assert target.read_bytes() == b"old"
    assert _listing(tmp_path) == ["model.keras"]


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


def test_full_disk_during_write_keeps_the_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "model.keras"
    target.write_bytes(b"old")
    real_fdopen = os.fdopen
    monkeypatch.setattr(atomic.os, "fdopen",
                        lambda fd, mode: io.BufferedWriter(_FullDisk(real_fdopen(fd, mode, buffering=0), 10)))
    with pytest.raises(OSError) as info:
        with atomic_write(target) as f:
            f.write(b"x" * 100_000)  # larger than the buffer: reaches the disk at once
    assert info.value.errno == errno.ENOSPC
    assert target.read_bytes() == b"old"
    assert _listing(tmp_path) == ["model.keras"]


def test_full_disk_at_flush_keeps_the_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "model.keras"
    target.write_bytes(b"old")
    real_fdopen = os.fdopen
    monkeypatch.setattr(atomic.os, "fdopen",
                        lambda fd, mode: io.BufferedWriter(_FullDisk(real_fdopen(fd, mode, buffering=0), 10)))
    with pytest.raises(OSError):
        with atomic_write(target) as f:
            f.write(b"small")  # buffered; the failure comes at flush
            f.write(b"still small")
    assert target.read_bytes() == b"old"
    assert _listing(tmp_path) == ["model.keras"]


def test_fsync_failure_keeps_the_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "model.keras"
    target.write_bytes(b"old")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full)
    with pytest.raises(OSError, match="No space left"):
        with atomic_write(target) as f:
            f.write(b"new")
    assert target.read_bytes() == b"old"
    assert _listing(tmp_path) == ["model.keras"]


def test_rename_failure_leaves_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "model.keras"
    target.write_bytes(b"old")

    def refuse(src, dst):
        raise PermissionError(errno.EACCES, "denied")

    monkeypatch.setattr(atomic.os, "replace", refuse)
    with pytest.raises(PermissionError):
        with atomic_write(target) as f:
            f.write(b"new")
    assert target.read_bytes() == b"old"
    assert _listing(tmp_path) == ["model.keras"]


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
def test_replaced_file_keeps_its_mode(tmp_path):
    target = tmp_path / "m.keras"
    target.write_bytes(b"old")
    os.chmod(target, 0o604)
    with atomic_write(target) as f:
        f.write(b"new")
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o604
