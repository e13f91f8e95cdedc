"""Datasets and `get_file`: the shipped digits set (offline), and downloads from a fake mirror served by
an `http.server` on 127.0.0.1 that each test starts and stops itself (no other address is contacted).

Checked: download, cache hits without network, checksum mismatch (bad file deleted), network failures,
atomic writes (an interrupted transfer leaves nothing behind), safe archive extraction.
"""
import gzip
import hashlib
import http.server
import io
import os
import socket
import tarfile
import threading

import numpy as np
import pytest

from ckeras.datasets import digits, fashion_mnist, mnist
from ckeras.utils import get_file


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        srv = self.server
        srv.hits.append(self.path)
        name = self.path.lstrip("/")
        if name in srv.truncated:  # promise more bytes than are sent, then hang up
            body = srv.truncated[name]
            self.send_response(200)
            self.send_header("Content-Length", str(len(body) * 10))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True
            return
        if name not in srv.files:
            self.send_error(404, "Not Found")
            return
        body = srv.files[name]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    """A loopback HTTP server for this test only: `.files` maps names to bytes, `.hits` logs requests."""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.files, srv.truncated, srv.hits = {}, {}, []
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}/"
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=5)


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("CKERAS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _sha(data):
    return hashlib.sha256(data).hexdigest()


def _closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


# --- digits (shipped) -----------------------------------------------------------------------------

def test_digits_loads_offline_with_all_samples():
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    assert x_train.shape == (1437, 8, 8) and x_test.shape == (360, 8, 8)
    assert len(x_train) + len(x_test) == 1797
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    y = np.concatenate([y_train, y_test])
    assert set(np.unique(y)) == set(range(10))
    assert np.concatenate([x_train, x_test]).max() == 16


def test_digits_split_is_deterministic_and_a_partition():
    (a, ya), (b, yb) = digits.load_data()
    (c, yc), (d, yd) = digits.load_data()
    np.testing.assert_array_equal(a, c)
    np.testing.assert_array_equal(yb, yd)
    (e, _), _ = digits.load_data(seed=1)
    assert not np.array_equal(a, e)
    (full, yfull), (empty, _) = digits.load_data(test_split=0.0)
    assert full.shape == (1797, 8, 8) and empty.shape == (0, 8, 8)
    raw = np.load(digits._PATH)
    assert np.bincount(yfull).tolist() == np.bincount(raw["labels"]).tolist()


@pytest.mark.parametrize("bad", [1.0, -0.1, 1.5])
def test_digits_rejects_bad_test_split(bad):
    with pytest.raises(ValueError, match=r"test_split.*\[0, 1\)"):
        digits.load_data(test_split=bad)


def test_to_mnist_shape_blows_up_and_pads():
    x = np.arange(64, dtype=np.uint8).reshape(1, 8, 8) % 17
    big = digits.to_mnist_shape(x)
    assert big.shape == (1, 28, 28) and big.dtype == np.uint8
    assert not big[:, :2].any() and not big[:, -2:].any()
    assert not big[:, :, :2].any() and not big[:, :, -2:].any()
    inner = big[0, 2:26, 2:26]
    expected = np.round(x[0].astype(np.float64) * 255 / 16 + 1e-9).astype(np.uint8)
    np.testing.assert_array_equal(inner[::3, ::3], expected)
    np.testing.assert_array_equal(inner, np.kron(expected, np.ones((3, 3), np.uint8)))
    assert digits.to_mnist_shape(np.full((8, 8), 16, np.uint8)).max() == 255
    assert digits.to_mnist_shape(np.zeros((0, 8, 8), np.uint8)).shape == (0, 28, 28)


def test_digits_upscaled_feed_a_784_wide_model():
    (x_train, y_train), (x_test, _) = digits.load_data(upscale=True)
    assert x_train.shape == (1437, 28, 28) and x_test.shape == (360, 28, 28)
    assert x_train.max() == 255
    (small, y_small), _ = digits.load_data()
    np.testing.assert_array_equal(x_train, digits.to_mnist_shape(small))
    np.testing.assert_array_equal(y_train, y_small)
    assert x_train.reshape(-1, 784).shape == (1437, 784)


def test_to_mnist_shape_rejects_other_shapes_and_levels():
    with pytest.raises(ValueError, match="8x8"):
        digits.to_mnist_shape(np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(ValueError, match=r"\[0, 16\]"):
        digits.to_mnist_shape(np.full((1, 8, 8), 17, np.uint8))


def test_digits_license_ships_beside_the_data():
    folder = os.path.dirname(digits._PATH)
    text = open(os.path.join(folder, "DATA_LICENSE")).read()
    assert "CC BY 4.0" in text and "Alpaydin" in text and "10.24432/C50P49" in text
    assert "CC BY 4.0" in digits.__doc__


# --- get_file ---------------------------------------------------------------------------------------

def test_get_file_downloads_then_hits_the_cache_without_network(server, home):
    data = b"hello ckeras\n" * 100
    server.files["a.txt"] = data
    path = get_file("a.txt", origin=server.url + "a.txt", file_hash=_sha(data))
    assert path == os.path.join(str(home), "datasets", "a.txt")
    assert open(path, "rb").read() == data and server.hits == ["/a.txt"]
    # Cache hit: an unreachable origin is never contacted.
    assert get_file("a.txt", origin=_closed_port_url() + "a.txt", file_hash=_sha(data)) == path
    assert get_file("a.txt", origin=server.url + "a.txt") == path
    assert server.hits == ["/a.txt"]
    get_file("a.txt", origin=server.url + "a.txt", force_download=True)
    assert server.hits == ["/a.txt", "/a.txt"]


def test_get_file_name_defaults_to_url_and_respects_cache_dir(server, tmp_path):
    server.files["b.bin"] = b"\x00\x01"
    path = get_file(origin=server.url + "b.bin", cache_dir=str(tmp_path), cache_subdir="sub")
    assert path == os.path.join(str(tmp_path), "sub", "b.bin")


def test_get_file_checksum_mismatch_deletes_the_file(server, home):
    server.files["c.txt"] = b"tampered"
    with pytest.raises(ValueError, match="(?s)corrupted.*sha256.*" + "0" * 64):
        get_file("c.txt", origin=server.url + "c.txt", file_hash="0" * 64)
    assert os.listdir(home / "datasets") == []


def test_get_file_md5_hash(server, home):
    server.files["m.txt"] = b"md5 me"
    good = hashlib.md5(b"md5 me").hexdigest()
    assert os.path.exists(get_file("m.txt", origin=server.url + "m.txt", md5_hash=good))
    with pytest.raises(ValueError, match="md5"):
        get_file("m2.txt", origin=server.url + "m.txt", file_hash="f" * 32)


def test_get_file_redownloads_a_corrupted_cache(server, home):
    data = b"the real bytes"
    server.files["d.txt"] = data
    path = get_file("d.txt", origin=server.url + "d.txt", file_hash=_sha(data))
    with open(path, "wb") as f:
        f.write(b"bit rot")
    assert get_file("d.txt", origin=server.url + "d.txt", file_hash=_sha(data)) == path
    assert open(path, "rb").read() == data and len(server.hits) == 2
    # The mirror now serves bad bytes too: the bad cached copy is deleted as well.
    with open(path, "wb") as f:
        f.write(b"bit rot")
    server.files["d.txt"] = b"also bad"
    with pytest.raises(ValueError, match="does not match"):
        get_file("d.txt", origin=server.url + "d.txt", file_hash=_sha(data))
    assert os.listdir(home / "datasets") == []


def test_get_file_network_failures_are_clear(server, home):
    with pytest.raises(ConnectionError, match="URL fetch failure.*404"):
        get_file("missing.txt", origin=server.url + "missing.txt")
    with pytest.raises(ConnectionError, match="URL fetch failure"):
        get_file("e.txt", origin=_closed_port_url() + "e.txt")
    assert os.listdir(home / "datasets") == []


def test_get_file_interrupted_transfer_is_atomic(server, home):
    server.truncated["big.bin"] = b"x" * 5000
    with pytest.raises(ConnectionError, match="URL fetch failure.*closed after 5000 of 50000 bytes"):
        get_file("big.bin", origin=server.url + "big.bin")
    assert os.listdir(home / "datasets") == []  # neither the target nor a .part file
    server.truncated.clear()
    # A good copy in the cache is untouched when a forced re-download breaks.
    server.files["big.bin"] = b"y" * 100
    path = get_file("big.bin", origin=server.url + "big.bin")
    server.files.pop("big.bin")
    with pytest.raises(ConnectionError):
        get_file("big.bin", origin=server.url + "big.bin", force_download=True)
    assert open(path, "rb").read() == b"y" * 100
    assert os.listdir(home / "datasets") == ["big.bin"]


def test_get_file_argument_errors(home):
    with pytest.raises(ValueError, match="origin"):
        get_file("x")
    with pytest.raises(ValueError, match="fname"):
        get_file("a/b.txt", origin="http://127.0.0.1:9/a")
    with pytest.raises(ValueError, match="file name"):
        get_file(origin="http://127.0.0.1:9/")


def _tar_bytes(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_get_file_extracts_a_tar_archive(server, home):
    server.files["pack.tar.gz"] = _tar_bytes({"pack/a.txt": b"A", "pack/b/c.txt": b"C"})
    folder = get_file("pack.tar.gz", origin=server.url + "pack.tar.gz", extract=True)
    assert folder == os.path.join(str(home), "datasets", "pack_extracted")
    assert open(os.path.join(folder, "pack", "b", "c.txt"), "rb").read() == b"C"


def test_get_file_refuses_archive_members_outside_the_folder(server, home):
    server.files["evil.tar.gz"] = _tar_bytes({"ok.txt": b"1", "../../escaped.txt": b"2"})
    with pytest.raises(ValueError, match="invalid member path"):
        get_file("evil.tar.gz", origin=server.url + "evil.tar.gz", extract=True)
    assert not (home / "escaped.txt").exists() and not (home.parent / "escaped.txt").exists()
    assert sorted(os.listdir(home / "datasets")) == ["evil.tar.gz"]


# --- mnist / fashion_mnist against the fake mirror -----------------------------------------------

def _fake_mnist_npz(rng):
    buf = io.BytesIO()
    np.savez(buf, x_train=rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
             y_train=np.arange(6, dtype=np.uint8), x_test=rng.integers(0, 256, (2, 28, 28), dtype=np.uint8),
             y_test=np.array([7, 9], np.uint8))
    return buf.getvalue()


def test_mnist_uses_keras_url_and_hash():
    assert mnist._FILE_HASH == "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
    from ckeras.datasets import _remote
    assert _remote._ORIGIN == "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


def test_mnist_downloads_from_the_mirror_once(server, home, monkeypatch, rng):
    data = _fake_mnist_npz(rng)
    server.files["mnist.npz"] = data
    monkeypatch.setenv("CKERAS_DATASETS_ORIGIN", server.url)
    monkeypatch.setattr(mnist, "_FILE_HASH", _sha(data))
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert x_train.shape == (6, 28, 28) and x_test.shape == (2, 28, 28) and x_train.dtype == np.uint8
    assert y_test.tolist() == [7, 9]
    mnist.load_data()
    assert server.hits == ["/mnist.npz"]
    assert (home / "datasets" / "mnist.npz").exists()


def test_mnist_rejects_a_file_that_is_not_the_published_one(server, home, monkeypatch, rng):
    server.files["mnist.npz"] = _fake_mnist_npz(rng)
    monkeypatch.setenv("CKERAS_DATASETS_ORIGIN", server.url)
    with pytest.raises(ValueError, match="731c5ac6"):
        mnist.load_data()
    assert os.listdir(home / "datasets") == []


def _idx_gz(array):
    header = bytes([0, 0, 8, array.ndim]) + np.asarray(array.shape, ">i4").tobytes()
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def test_fashion_mnist_reads_idx_files_from_the_mirror(server, home, monkeypatch, rng):
    arrays = {"train-labels-idx1-ubyte.gz": np.arange(5) % 10,
              "train-images-idx3-ubyte.gz": rng.integers(0, 256, (5, 28, 28)),
              "t10k-labels-idx1-ubyte.gz": np.array([3, 1]),
              "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (2, 28, 28))}
    hashes = {}
    for name, arr in arrays.items():
        server.files[name] = _idx_gz(arr)
        hashes[name] = _sha(server.files[name])
    monkeypatch.setenv("CKERAS_DATASETS_ORIGIN", server.url)
    monkeypatch.setattr(fashion_mnist, "_FILE_HASHES", hashes)
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    np.testing.assert_array_equal(x_train, arrays["train-images-idx3-ubyte.gz"])
    assert y_train.tolist() == [0, 1, 2, 3, 4] and y_test.tolist() == [3, 1]
    assert x_test.shape == (2, 28, 28) and x_test.dtype == np.uint8
    assert (home / "datasets" / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz").exists()


def test_fashion_mnist_rejects_truncated_idx(server, home, monkeypatch):
    bad = gzip.compress(bytes([0, 0, 8, 1]) + np.array([10], ">i4").tobytes() + b"\x01\x02")
    path = home / "bad.gz"
    home.mkdir()
    path.write_bytes(bad)
    with pytest.raises(ValueError, match="truncated"):
        fashion_mnist._read_idx(str(path), 1)
