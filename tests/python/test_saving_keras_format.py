"""The `.keras` file and `.weights.h5` in Keras 3's layout: what is written (zip members, config keys, HDF5
object paths) and that a load gives back the same model, the same optimizer state, and the same next step."""
import io
import json
import os
import zipfile

import h5py
import numpy as np
import pytest

import ckeras
from ckeras import layers, optimizers
from ckeras.saving import h5_format


def _data(n=16, d=4, k=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)).astype("float32"), rng.standard_normal((n, k)).astype("float32")


def _mlp(optimizer="adam", seed=0):
    model = ckeras.Sequential([ckeras.Input((4,)), layers.Dense(5, activation="relu"), layers.Dense(2)])
    model.compile(optimizer=optimizer, loss="mse", metrics=["mae"])
    return model


def _h5_tree(data):
    out = {}
    with h5py.File(io.BytesIO(data), "r") as f:
        f.visititems(lambda name, obj: out.__setitem__(
            name, (tuple(obj.shape), obj.dtype.name) if isinstance(obj, h5py.Dataset) else dict(obj.attrs)))
    return out


def test_zip_members_metadata_and_config_keys(tmp_path):
    x, y = _data()
    model = _mlp()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == ["metadata.json", "config.json", "model.weights.h5"]
        assert all(i.compress_type == zipfile.ZIP_STORED for i in infos)
        metadata = json.loads(zf.read("metadata.json"))
        config = json.loads(zf.read("config.json"))
    assert set(metadata) == {"keras_version", "date_saved"}
    assert len(metadata["date_saved"]) == len("2025-01-31@12:00:00") and metadata["date_saved"][10] == "@"
    assert (config["module"], config["class_name"], config["registered_name"]) == ("keras", "Sequential", None)
    assert set(config) == {"module", "class_name", "config", "registered_name", "build_config", "compile_config"}
    assert set(config["compile_config"]) == {"optimizer", "loss", "loss_weights", "metrics", "weighted_metrics",
                                             "run_eagerly", "steps_per_execution", "jit_compile"}
    assert config["compile_config"]["optimizer"]["class_name"] == "Adam"
    assert config["compile_config"]["optimizer"]["module"] == "keras.optimizers"
    first = config["config"]["layers"][0]
    assert first["class_name"] == "InputLayer" and first["module"] == "keras.layers"
    dense = config["config"]["layers"][1]
    assert set(dense) == {"module", "class_name", "config", "registered_name", "build_config"}


def test_weights_h5_object_paths_and_optimizer_order(tmp_path):
    x, y = _data()
    model = _mlp()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        tree = _h5_tree(zf.read("model.weights.h5"))
    assert tree["vars"] == {"name": model.name}  # the empty top-level group, named after the model
    assert tree["layers/dense/vars/0"] == ((4, 5), "float32")  # kernel
    assert tree["layers/dense/vars/1"] == ((5,), "float32")  # bias
    assert tree["layers/dense_1/vars/0"] == ((5, 2), "float32")
    assert tree["layers/dense/vars"] == {"name": model.layers[0].name}
    opt = [tree[f"optimizer/vars/{i}"] for i in range(10)]
    assert opt[0] == ((), "int64") and opt[1] == ((), "float32")  # iteration, learning_rate
    assert [s for s, _ in opt[2:]] == [(4, 5), (4, 5), (5,), (5,), (5, 2), (5, 2), (2,), (2,)]  # m, v pairs
    assert "optimizer/vars/10" not in tree
    with h5py.File(io.BytesIO(zipfile.ZipFile(tmp_path / "m.keras").read("model.weights.h5")), "r") as f:
        assert int(f["optimizer/vars/0"][()]) == 2
        np.testing.assert_array_equal(f["layers/dense/vars/0"][()], model.layers[0].kernel.numpy())


def test_layer_paths_use_class_names_and_attributes(tmp_path):
    @ckeras.saving.register_keras_serializable(package="FormatTest")
    class Block(layers.Layer):
        def __init__(self, units=3, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.inner = layers.Dense(units)
            self.parts = [layers.Dense(units), layers.Dropout(0.1)]

        def build(self, input_shape):
            self.w = self.add_weight(shape=(1,), initializer="ones", name="w")

        def call(self, x):
            return self.parts[0](self.inner(x)) * self.w

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    inner = ckeras.Sequential([ckeras.Input((3,)), layers.Dense(3, name="hid")], name="sub")
    inp = ckeras.Input((3,), name="xin")
    out = layers.Dense(1, name="out")(Block(3, name="blk")(inner(inp)))
    model = ckeras.Model(inp, out)
    model.save_weights(tmp_path / "w.weights.h5")
    tree = _h5_tree((tmp_path / "w.weights.h5").read_bytes())
    datasets = sorted(k for k, v in tree.items() if isinstance(v, tuple))
    assert datasets == ["layers/block/inner/vars/0", "layers/block/inner/vars/1", "layers/block/parts/dense/vars/0",
                        "layers/block/parts/dense/vars/1", "layers/block/vars/0", "layers/dense/vars/0",
                        "layers/dense/vars/1", "layers/sequential/layers/dense/vars/0",
                        "layers/sequential/layers/dense/vars/1"]
    assert tree["layers/block/vars"] == {"name": "blk"} and tree["layers/dense/vars"] == {"name": "out"}
    assert "layers/block/parts/dropout/vars" in tree and "layers/input_layer/vars" in tree
    model.save(tmp_path / "m.keras")
    clone = ckeras.models.load_model(tmp_path / "m.keras")
    x = np.random.default_rng(1).standard_normal((2, 3)).astype("float32")
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def _every_layer_model():
    a = ckeras.Input((2, 3), name="a")
    f = layers.Flatten()(a)
    h = layers.Dense(6, activation="relu")(f)
    g = layers.Dense(6, activation="tanh")(f)
    merged = [cls()([h, g]) for cls in (layers.Add, layers.Subtract, layers.Multiply, layers.Average,
                                        layers.Maximum, layers.Minimum)]
    c = layers.Concatenate()(merged)
    c = layers.Dropout(0.5)(c)
    c = layers.Identity()(c)
    r = layers.Reshape((6, 6))(c)
    r = layers.Activation("sigmoid")(r)
    r = layers.Flatten()(r)
    out = layers.Dense(3, activation="softmax")(r + 1.0)
    return ckeras.Model(a, out)


def test_round_trip_every_layer_predictions_equal(tmp_path):
    model = _every_layer_model()
    x = np.random.default_rng(2).standard_normal((4, 2, 3)).astype("float32")
    model.save(tmp_path / "m.keras")
    clone = ckeras.models.load_model(tmp_path / "m.keras")
    assert [type(l).__name__ for l in clone.layers] == [type(l).__name__ for l in model.layers]
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))
    rebuilt = ckeras.models.model_from_json(model.to_json())
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_array_equal(rebuilt.predict(x, verbose=0), model.predict(x, verbose=0))


OPTIMIZERS = [lambda: optimizers.SGD(0.05), lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True),
              lambda: optimizers.Adam(0.01), lambda: optimizers.Adam(0.01, amsgrad=True),
              lambda: optimizers.AdamW(0.01), lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
              lambda: optimizers.Adagrad(0.05), lambda: optimizers.Adamax(0.01), lambda: optimizers.Nadam(0.01),
              lambda: optimizers.Lion(0.001),
              lambda: optimizers.Adam(optimizers.schedules.ExponentialDecay(0.01, 2, 0.5))]


@pytest.mark.parametrize("make_optimizer", OPTIMIZERS)
def test_round_trip_every_optimizer_training_continues_identically(tmp_path, make_optimizer):
    x, y = _data(seed=3)
    model = _mlp(make_optimizer())
    for i in range(3):
        model.train_on_batch(x[i * 4:(i + 1) * 4], y[i * 4:(i + 1) * 4])
    model.save(tmp_path / "m.keras")
    clone = ckeras.models.load_model(tmp_path / "m.keras")
    assert type(clone.optimizer) is type(model.optimizer)
    assert int(clone.optimizer.iterations) == 3
    assert len(clone.optimizer.variables) == len(model.optimizer.variables)
    for a, b in zip(model.optimizer.variables, clone.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    model.train_on_batch(x[12:], y[12:])
    clone.train_on_batch(x[12:], y[12:])
    for a, b in zip(model.get_weights(), clone.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_compiled_but_untrained_optimizer_and_compile_false(tmp_path):
    model = _mlp(optimizers.Adam(0.01))
    model.save(tmp_path / "m.keras")  # the optimizer has only iteration and learning_rate yet
    clone = ckeras.models.load_model(tmp_path / "m.keras")
    assert clone.optimizer.built and int(clone.optimizer.iterations) == 0
    x, y = _data()
    model.train_on_batch(x, y)
    model.save(tmp_path / "m.keras")
    bare = ckeras.models.load_model(tmp_path / "m.keras", compile=False)
    assert not bare.compiled and bare.optimizer is None
    np.testing.assert_array_equal(bare.predict(x, verbose=0), model.predict(x, verbose=0))


def test_save_weights_and_load_weights_resume_training(tmp_path):
    x, y = _data(seed=4)
    model = _mlp(optimizers.Adam(0.01))
    model.train_on_batch(x, y)
    model.save_weights(tmp_path / "w.weights.h5")
    other = _mlp(optimizers.Adam(0.01))  # compiled, optimizer not built yet: load_weights builds it
    other.load_weights(tmp_path / "w.weights.h5")
    assert int(other.optimizer.iterations) == 1
    model.train_on_batch(x, y)
    other.train_on_batch(x, y)
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)
    model.save(tmp_path / "m.keras")
    third = _mlp(optimizers.Adam(0.01))
    third.load_weights(tmp_path / "m.keras")  # weights from a .keras file
    for a, b in zip(model.get_weights(), third.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_shape_mismatch_names_variable_and_both_shapes_and_loads_nothing(tmp_path):
    small = ckeras.Sequential([ckeras.Input((100,)), layers.Dense(10)])
    small.save_weights(tmp_path / "w.weights.h5")
    big = ckeras.Sequential([ckeras.Input((784,)), layers.Dense(10)])
    before = [w.copy() for w in big.get_weights()]
    with pytest.raises(ValueError, match=r"layers/dense/vars/0.*\(784, 10\).*\(100, 10\)"):
        big.load_weights(tmp_path / "w.weights.h5")
    for a, b in zip(before, big.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.warns(UserWarning, match="Skipping loading"):
        big.load_weights(tmp_path / "w.weights.h5", skip_mismatch=True)


def test_shape_is_checked_before_data_is_read(tmp_path, monkeypatch):
    small = ckeras.Sequential([ckeras.Input((3,)), layers.Dense(2)])
    small.save_weights(tmp_path / "w.weights.h5")
    big = ckeras.Sequential([ckeras.Input((5,)), layers.Dense(2)])
    reads = []
    original = h5_format.Reader.read
    monkeypatch.setattr(h5_format.Reader, "read", lambda self, ds: reads.append(ds.name) or original(self, ds))
    with pytest.raises(ValueError, match=r"\(5, 2\).*\(3, 2\)"):
        big.load_weights(tmp_path / "w.weights.h5")
    assert reads == []


def test_missing_and_extra_variables_are_named(tmp_path):
    one = ckeras.Sequential([ckeras.Input((3,)), layers.Dense(2)])
    two = ckeras.Sequential([ckeras.Input((3,)), layers.Dense(2), layers.Dense(2)])
    one.save_weights(tmp_path / "one.weights.h5")
    two.save_weights(tmp_path / "two.weights.h5")
    with pytest.raises(ckeras.LoadError, match=r"Missing from the file: \['layers/dense_1/vars/0'"):
        two.load_weights(tmp_path / "one.weights.h5")
    with pytest.raises(ckeras.LoadError, match=r"not in the model: \['layers/dense_1/vars/0'"):
        one.load_weights(tmp_path / "two.weights.h5")


def test_extension_rules_and_unbuilt_sequential(tmp_path):
    model = _mlp()
    with pytest.raises(ValueError, match="only the native `.keras` format"):
        model.save(tmp_path / "m.h5")
    with pytest.raises(ValueError, match="Invalid filepath extension for saving"):
        model.save(tmp_path / "m.txt")
    with pytest.raises(ValueError, match=r"The filename must end in `.weights.h5`"):
        model.save_weights(tmp_path / "w.h5")
    with pytest.raises(ValueError, match="File format not supported"):
        ckeras.models.load_model(tmp_path / "m.txt")
    with pytest.raises(ValueError, match="File not found"):
        ckeras.models.load_model(tmp_path / "nope.keras")
    unbuilt = ckeras.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="has no defined input shape yet"):
        unbuilt.save(tmp_path / "u.keras")
    assert not os.path.exists(tmp_path / "u.keras")


@pytest.mark.parametrize("target", ["model", "weights"])
def test_failed_save_leaves_previous_file_intact(tmp_path, monkeypatch, target):
    model = _mlp()
    path = tmp_path / ("m.keras" if target == "model" else "w.weights.h5")
    save = model.save if target == "model" else model.save_weights
    save(path)
    before = path.read_bytes()

    def broken(groups):
        raise OSError("disk full (simulated)")
    monkeypatch.setattr(h5_format, "write", broken)
    model.layers[0].kernel.assign(np.ones((4, 5), "float32"))
    with pytest.raises(OSError, match="simulated"):
        save(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == [path.name]  # no temporary file left behind


def test_failure_while_writing_the_zip_leaves_previous_file_intact(tmp_path, monkeypatch):
    model = _mlp()
    path = tmp_path / "m.keras"
    model.save(path)
    before = path.read_bytes()

    def broken(self, name, data, *args, **kwargs):
        raise OSError("write failed (simulated)")
    monkeypatch.setattr(zipfile.ZipFile, "writestr", broken)  # after metadata.json and config.json
    with pytest.raises(OSError, match="simulated"):
        model.save(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["m.keras"]


def test_object_path_names_follow_keras_snake_case():
    from ckeras.saving.builtin_objects import to_snake_case
    assert to_snake_case("InputLayer") == "input_layer"
    assert to_snake_case("Conv2DTranspose") == "conv2d_transpose"
    assert to_snake_case("HTTPLayer") == "http_layer"


def test_weights_without_optimizer_state_load_into_a_compiled_model(tmp_path):
    plain = ckeras.Sequential([ckeras.Input((4,)), layers.Dense(5, activation="relu"), layers.Dense(2)])
    plain.save_weights(tmp_path / "w.weights.h5")
    model = _mlp()
    with pytest.warns(UserWarning, match="no optimizer state"):
        model.load_weights(tmp_path / "w.weights.h5")
    for a, b in zip(plain.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_registered_custom_schedule_in_optimizer_config(tmp_path):
    @ckeras.saving.register_keras_serializable(package="FormatTest")
    class Halving(optimizers.schedules.LearningRateSchedule):
        def __init__(self, start=0.1):
            self.start = start

        def __call__(self, step):
            return self.start / (1.0 + float(step))

        def get_config(self):
            return {"start": self.start}

    model = _mlp(optimizers.SGD(learning_rate=Halving(0.2)))
    x, y = _data()
    model.train_on_batch(x, y)
    model.save(tmp_path / "m.keras")
    clone = ckeras.models.load_model(tmp_path / "m.keras")
    assert isinstance(clone.optimizer._learning_rate, Halving) and clone.optimizer._learning_rate.start == 0.2
    assert int(clone.optimizer.iterations) == 1
