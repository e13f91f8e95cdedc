"""Damaged or hostile weights files: truncation at any offset, wrong magic, trailing bytes, HDF5 links that
point elsewhere. Each is a LoadError, and the model is left as it was."""
import io

import h5py
import numpy as np
import pytest

import ckeras
from ckeras import layers


def _model():
    model = ckeras.Sequential([ckeras.Input((3,)), layers.Dense(4), layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    model.train_on_batch(np.ones((2, 3), "float32"), np.zeros((2, 2), "float32"))
    return model


def _assert_untouched(model, weights):
    for a, b in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_truncated_weights_file_at_every_offset(tmp_path):
    model = _model()
    path = tmp_path / "w.weights.h5"
    model.save_weights(path)
    data = path.read_bytes()
    target = ckeras.Sequential([ckeras.Input((3,)), layers.Dense(4), layers.Dense(2)])
    weights = target.get_weights()
    cuts = list(range(0, 256)) + list(range(256, len(data), 61)) + [len(data) - 1]
    for cut in cuts:
        (tmp_path / "cut.weights.h5").write_bytes(data[:cut])
        with pytest.raises(ckeras.LoadError) as e:
            target.load_weights(tmp_path / "cut.weights.h5")
        if cut >= 64:
            assert "truncated" in str(e.value) and str(len(data)) in str(e.value) and str(cut) in str(e.value)
    _assert_untouched(target, weights)


def test_truncated_keras_file(tmp_path):
    model = _model()
    model.save(tmp_path / "m.keras")
    data = (tmp_path / "m.keras").read_bytes()
    for cut in list(range(0, len(data), 97)) + [len(data) - 1]:
        (tmp_path / "cut.keras").write_bytes(data[:cut])
        with pytest.raises(ckeras.LoadError):
            ckeras.models.load_model(tmp_path / "cut.keras")


def test_wrong_magic_and_trailing_bytes(tmp_path):
    model = _model()
    model.save_weights(tmp_path / "w.weights.h5")
    data = (tmp_path / "w.weights.h5").read_bytes()
    (tmp_path / "bad.weights.h5").write_bytes(b"PK\x03\x04" + data[4:])
    with pytest.raises(ckeras.LoadError, match="not a ckeras model file"):
        model.load_weights(tmp_path / "bad.weights.h5")
    (tmp_path / "long.weights.h5").write_bytes(data + b"\x00" * 10)
    with pytest.raises(ckeras.LoadError, match="10 unexpected bytes"):
        model.load_weights(tmp_path / "long.weights.h5")
    (tmp_path / "text.keras").write_bytes(b"not a zip at all")
    with pytest.raises(ckeras.LoadError, match="not a ckeras model file"):
        ckeras.models.load_model(tmp_path / "text.keras")


def _weights_with(tmp_path, edit):
    model = ckeras.Sequential([ckeras.Input((3,)), layers.Dense(2)])
    model.save_weights(tmp_path / "w.weights.h5")
    buffer = io.BytesIO((tmp_path / "w.weights.h5").read_bytes())
    with h5py.File(buffer, "a") as f:
        edit(f)
    (tmp_path / "edited.weights.h5").write_bytes(buffer.getvalue())
    return model


@pytest.mark.parametrize("link", ["soft", "external"])
def test_links_out_of_the_group_are_refused(tmp_path, link):
    def edit(f):
        del f["layers/dense/vars/0"]
        if link == "soft":
            f["layers/dense/vars/0"] = h5py.SoftLink("/layers/dense/vars/1")
        else:
            f["layers/dense/vars/0"] = h5py.ExternalLink("/etc/passwd", "/data")
    model = _weights_with(tmp_path, edit)
    with pytest.raises(ckeras.LoadError, match="Link; only plain groups and datasets are allowed"):
        model.load_weights(tmp_path / "edited.weights.h5")


def test_unsupported_dtype_and_dtype_mismatch(tmp_path):
    def to_float64(f):
        value = f["layers/dense/vars/0"][()]
        del f["layers/dense/vars/0"]
        f["layers/dense/vars/0"] = value.astype("float64")
    model = _weights_with(tmp_path, to_float64)
    with pytest.raises(ValueError, match=r"dtype float32 in the model.*dtype float64"):
        model.load_weights(tmp_path / "edited.weights.h5")

    def to_strings(f):
        del f["layers/dense/vars/1"]
        f["layers/dense/vars/1"] = np.array([b"a", b"b"])
    model = _weights_with(tmp_path, to_strings)
    with pytest.raises(ckeras.LoadError, match="unsupported dtype"):
        model.load_weights(tmp_path / "edited.weights.h5")
