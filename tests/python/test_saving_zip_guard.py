"""`ckeras.saving.zip_guard`: hostile model archives (ERRORS.md rows 34, 35, 37, 38 and the model-file
list, items 1, 2 and 11) are refused with LoadError before any member is read; good ones read back
exactly, in memory, by exact name, with nothing written to disk."""
import builtins
import io
import os
import pickle
import stat
import zipfile

import pytest

from ckeras.saving import zip_guard
from ckeras.saving.errors import LoadError
from ckeras.saving.zip_guard import open_archive
from zip_craft import make_zip, member, small_zip


def _refused(data, match, **kwargs):
    with pytest.raises(LoadError, match=match):
        with open_archive(data, **kwargs) as archive:
            for name in archive.names():
                archive.read(name)


def test_reads_members_by_exact_name_from_bytes_and_path(tmp_path):
    data = small_zip()
    (tmp_path / "m.keras").write_bytes(data)
    for source in (data, bytearray(data), tmp_path / "m.keras", str(tmp_path / "m.keras")):
        with open_archive(source) as archive:
            assert archive.names() == ["config.json", "metadata.json", "model.weights.h5"]
            assert archive.read("config.json") == b'{"class_name": "Sequential"}'
            assert archive.read("model.weights.h5") == bytes(range(256)) * 2
            with pytest.raises(LoadError, match="missing member 'config'"):
                archive.read("config")


def test_reads_archives_written_by_pythons_zipfile():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("config.json", "{}" * 500, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("assets/", b"")
        zf.writestr("model.weights.h5", os.urandom(5000))
        with zf.open("big.bin", "w", force_zip64=True) as f:
            f.write(b"z" * 1000)
    with open_archive(buffer.getvalue()) as archive:
        reference = zipfile.ZipFile(buffer)
        for name in reference.namelist():
            assert archive.read(name) == reference.read(name)


def test_reads_a_zip64_archive():
    data = make_zip([member("a.bin", b"hello" * 100, method=8)], zip64=True)
    assert open_archive(data).read("a.bin") == b"hello" * 100


def test_read_refuses_members_over_max_bytes():
    with open_archive(small_zip()) as archive:
        with pytest.raises(LoadError, match="model.weights.h5.*512 bytes, more than the 100 allowed"):
            archive.read("model.weights.h5", max_bytes=100)


@pytest.mark.parametrize("name", ["../../x", "a/../../x", "..", "/etc/x", "C:\\x", "C:x", "c:/x",
                                  "a\\..\\..\\x", "a\x00b", ""])
def test_refuses_unsafe_member_paths(name):
    _refused(make_zip([member("config.json", b"{}"), member(name, b"evil")]), "invalid member path")


def test_refuses_a_nul_in_a_name_that_zipfile_would_truncate():
    data = make_zip([member(b"config.json\x00../../evil", b"{}")])
    _refused(data, r"invalid member path 'config.json\\x00\.\./\.\./evil'")


@pytest.mark.parametrize("mode", [stat.S_IFLNK | 0o777])
def test_refuses_symlink_members(mode):
    _refused(make_zip([member("config.json", b"/etc/passwd", mode=mode)]), "invalid member path.*symbolic link")


def test_refuses_windows_symlink_members():
    link = member("config.json", b"x", mode=0)
    data = bytearray(make_zip([link]))
    at = data.index(b"PK\x01\x02") + 38  # the external attributes of the only directory entry
    data[at:at + 4] = (0x400).to_bytes(4, "little")
    _refused(bytes(data), "symbolic link")


@pytest.mark.parametrize("kind", [stat.S_IFIFO, stat.S_IFCHR, stat.S_IFBLK, stat.S_IFSOCK])
def test_refuses_non_regular_members(kind):
    _refused(make_zip([member("config.json", b"", mode=kind | 0o644)]), "not a regular file")


def test_refuses_duplicate_member_names():
    data = make_zip([member("config.json", b"{}"), member("config.json", b'{"evil": 1}')])
    _refused(data, "duplicate member name 'config.json'")


def test_refuses_a_real_zip_bomb():
    data = make_zip([member("model.weights.h5", bytes(8 << 20), method=8)])  # 8 MiB of zeros, ~8 KiB
    assert len(data) < 20_000
    _refused(data, "refusing potential decompression bomb.*more than 100x")


def test_refuses_a_declared_size_over_the_cap():
    data = make_zip([member("model.weights.h5", b"tiny", method=8, file_size=0xFFFFFFFF)])
    _refused(data, "refusing potential decompression bomb: declares 4294967295 bytes")


def test_refuses_many_small_members_adding_up_to_a_bomb():
    data = make_zip([member(f"m{i}", bytes(1 << 20), method=8) for i in range(40)])
    _refused(data, "refusing potential decompression bomb: members declare")


def test_accepts_stored_members_at_ratio_one():
    payload = os.urandom(3 << 20)
    assert open_archive(make_zip([member("model.weights.h5", payload)])).read("model.weights.h5") == payload


def test_accepts_small_members_that_compress_well():
    data = make_zip([member("config.json", b" " * 100_000, method=8)])
    assert open_archive(data).read("config.json") == b" " * 100_000


def test_a_lying_size_never_inflates_past_the_declared_bytes():
    data = make_zip([member("config.json", bytes(50_000), method=8, file_size=10)])
    _refused(data, "member 'config.json' inflates to more than its declared 10 bytes")


def test_a_size_declared_too_large_is_caught():
    data = make_zip([member("config.json", b"abc" * 10, method=8, file_size=31)])
    _refused(data, "truncated or damaged: inflates to 30 bytes of the declared 31")


@pytest.mark.parametrize("method", [0, 8])
def test_flipped_bytes_give_a_checksum_mismatch(method):
    good = member("model.weights.h5", bytes(range(200)), method=method)
    payload = bytearray(good["payload"])
    payload[len(payload) // 2] ^= 0x01
    data = make_zip([member("model.weights.h5", bytes(range(200)), method=method, payload=bytes(payload))])
    _refused(data, "checksum mismatch for member 'model.weights.h5'|damaged")
    if method == 0:
        _refused(data, "checksum mismatch for member 'model.weights.h5'")


def test_refuses_encrypted_members():
    _refused(make_zip([member("config.json", b"{}", flags=0x1)]), "member 'config.json' is encrypted")


@pytest.mark.parametrize("method", [1, 9, 12, 14, 93, 99])
def test_refuses_compression_methods_other_than_stored_and_deflate(method):
    _refused(make_zip([member("config.json", b"{}", method=method)]), f"compression method {method}")


def test_refuses_stored_members_whose_sizes_disagree():
    _refused(make_zip([member("config.json", b"{}", file_size=5)]), "stored, but declares 2 bytes compressed")


def test_refuses_a_damaged_deflate_stream():
    _refused(make_zip([member("config.json", b"{}" * 50, method=8, payload=b"\xff" * 20)]), "damaged")


def test_refuses_a_local_header_that_disagrees_with_the_directory():
    data = make_zip([member("config.json", b"{}", local_name=b"../../evil.py")])
    _refused(data, "damaged: its local header names")


@pytest.mark.parametrize("data, kind", [
    (b"hello world, not a zip at all", "not a zip archive"),
    (b"\x89HDF\r\n\x1a\n" + bytes(100), "HDF5"),
    (pickle.dumps({"weights": [1, 2, 3]}), "pickle"),
])
def test_refuses_files_that_are_not_zips(data, kind):
    _refused(data, f"not a ckeras model file.*{kind}")


def test_refuses_data_after_the_end_record():
    _refused(small_zip() + b"trailing", "not a ckeras model file.*8 bytes follow")


def test_refuses_multi_disk_archives():
    _refused(make_zip([member("config.json", b"{}")], disk=1), "multi-disk")


def test_refuses_an_oversized_central_directory_before_parsing_it():
    _refused(make_zip([member("config.json", b"{}")], directory_size=64 << 20), "central directory declares")
    _refused(make_zip([member("config.json", b"{}")], zip64=True, directory_size=1 << 40),
             "central directory declares")


def test_refuses_a_truncated_comment():
    data = make_zip([member("config.json", b"{}")], comment=b"a comment")
    _refused(data[:-3], r"truncated: expected \d+ bytes, the file has \d+")


@pytest.mark.parametrize("cut", [0, 2, 10, 60, -30, -1])
def test_truncated_archives_say_so(cut):
    _refused(small_zip()[:cut], "truncated")


def test_refuses_a_file_over_the_size_cap_before_reading_it(tmp_path, monkeypatch):
    path = tmp_path / "m.keras"
    path.write_bytes(small_zip())
    monkeypatch.setattr(zip_guard, "find_directory", lambda *a, **k: pytest.fail("read the file"))
    _refused(path, "more than the 100 allowed", max_file_bytes=100)


def test_reading_writes_nothing(tmp_path, monkeypatch):
    path = tmp_path / "m.keras"
    path.write_bytes(small_zip())
    real_open, real_os_open = builtins.open, os.open

    def read_only_open(file, mode="r", *args, **kwargs):
        assert not set(mode) & set("wax+"), f"opened {file} for writing"
        return real_open(file, mode, *args, **kwargs)

    def read_only_os_open(file, flags, *args, **kwargs):
        assert not flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT), f"opened {file} for writing"
        return real_os_open(file, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", read_only_open)
    monkeypatch.setattr(os, "open", read_only_os_open)
    monkeypatch.chdir(tmp_path)
    with open_archive(path) as archive:
        assert [len(archive.read(name)) for name in archive.names()] == [28, 26, 512]
    assert sorted(os.listdir(tmp_path)) == ["m.keras"]


def test_a_file_that_shrinks_after_opening_reads_as_truncated(tmp_path):
    path = tmp_path / "m.keras"
    path.write_bytes(small_zip())
    with open_archive(path) as archive:
        with open(path, "r+b") as f:
            f.truncate(100)
        with pytest.raises(LoadError, match=r"truncated: expected \d+ bytes, the file has \d+"):
            archive.read("model.weights.h5")
