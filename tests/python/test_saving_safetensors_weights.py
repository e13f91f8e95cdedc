"""`model.save_weights("*.safetensors")` / `load_weights`: round trip, names in Keras's weights-layout
paths, readable by the reference `safetensors` package, and refusals before anything is assigned."""
import numpy as np
import pytest

import ckeras as keras
from ckeras.saving import LoadError


def _model(inputs=6, seed=0):
    keras.utils.set_random_seed(seed)
    inp = keras.Input((inputs,))
    h = keras.layers.Dense(5, activation="relu")(inp)
    h = keras.layers.Dropout(0.1)(h)
    out = keras.layers.Dense(3, activation="softmax")(keras.layers.Concatenate()([h, keras.layers.Dense(2)(inp)]))
    return keras.Model(inp, out)


def test_round_trip_gives_the_same_predictions(tmp_path):
    a, b = _model(seed=1), _model(seed=2)
    x = np.random.default_rng(0).random((4, 6), dtype=np.float32)
    assert not np.allclose(a.predict(x, verbose=0), b.predict(x, verbose=0))
    a.save_weights(tmp_path / "w.safetensors")
    b.load_weights(tmp_path / "w.safetensors")
    np.testing.assert_array_equal(a.predict(x, verbose=0), b.predict(x, verbose=0))


def test_names_follow_the_weights_layout_and_the_reference_reader_agrees(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    m = _model()
    m.save_weights(tmp_path / "w.safetensors")
    tensors = st.load_file(str(tmp_path / "w.safetensors"))
    assert sorted(tensors) == sorted(["layers/dense/vars/0", "layers/dense/vars/1", "layers/dense_1/vars/0",
                                      "layers/dense_1/vars/1", "layers/dense_2/vars/0", "layers/dense_2/vars/1"])
    by_shape = {v.shape: v.numpy() for v in m.weights}
    for value in tensors.values():
        np.testing.assert_array_equal(value, by_shape[value.shape])


def test_a_file_from_the_reference_writer_loads(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    src, dst = _model(seed=3), _model(seed=4)
    src.save_weights(tmp_path / "ours.safetensors")
    st.save_file(st.load_file(str(tmp_path / "ours.safetensors")), str(tmp_path / "theirs.safetensors"))
    dst.load_weights(tmp_path / "theirs.safetensors")
    for a, b in zip(src.weights, dst.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_shape_mismatch_names_the_tensor_and_assigns_nothing(tmp_path):
    _model(inputs=6).save_weights(tmp_path / "w.safetensors")
    other = _model(inputs=7)
    before = [v.numpy().copy() for v in other.weights]
    with pytest.raises(ValueError, match=r"layers/dense/vars/0.*\(6, 5\).*\(7, 5\)"):
        other.load_weights(tmp_path / "w.safetensors")
    for v, old in zip(other.weights, before):
        np.testing.assert_array_equal(v.numpy(), old)


def test_flipped_byte_is_a_checksum_error(tmp_path):
    path = tmp_path / "w.safetensors"
    _model().save_weights(path)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x40  # inside the last tensor's bytes
    path.write_bytes(bytes(data))
    with pytest.raises(LoadError, match="checksum mismatch for tensor"):
        _model().load_weights(path)


def test_missing_tensor_is_refused(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    path = tmp_path / "w.safetensors"
    _model().save_weights(path)
    tensors = st.load_file(str(path))
    del tensors["layers/dense_2/vars/1"]
    st.save_file(tensors, str(path))
    with pytest.raises(LoadError, match="missing"):
        _model().load_weights(path)
