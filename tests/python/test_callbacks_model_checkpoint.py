"""ModelCheckpoint as Keras 3: formatted file names, save_best_only in both directions, the extension
rules, saving every N batches, verbose messages, and checkpoints that load back with the same predictions."""
import os
import warnings

import numpy as np
import pytest

import ckeras
from ckeras import layers
from ckeras.callbacks import Callback, ModelCheckpoint

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 4)).astype("float32")
Y = (X[:, 0] > 0).astype("int64")


def _model(metrics=("accuracy",)):
    ckeras.utils.set_random_seed(3)
    model = ckeras.Sequential([ckeras.Input((4,)), layers.Dense(8, activation="relu"),
                               layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=list(metrics))
    return model


def _fit(model, callbacks, epochs=3, **kwargs):
    kwargs.setdefault("validation_split", 0.25)
    return model.fit(X, Y, batch_size=10, epochs=epochs, shuffle=False, verbose=0, callbacks=callbacks, **kwargs)


class Snapshots(Callback):
    """The model's predictions on X at the end of every epoch."""

    def __init__(self):
        super().__init__()
        self.predictions = []

    def on_epoch_end(self, epoch, logs=None):
        self.predictions.append(self.model.predict(X, verbose=0))


def test_filepath_formatted_with_epoch_and_logs_and_directories_created(tmp_path):
    model, snaps = _model(), Snapshots()
    pattern = str(tmp_path / "deep" / "er" / "m-{epoch:02d}-{val_loss:.2f}.keras")
    history = _fit(model, [ModelCheckpoint(pattern), snaps])
    names = sorted(os.listdir(tmp_path / "deep" / "er"))
    expected = [f"m-{e + 1:02d}-{v:.2f}.keras" for e, v in enumerate(history.history["val_loss"])]
    assert names == sorted(expected)
    for name, prediction in zip(expected, snaps.predictions):
        loaded = ckeras.models.load_model(tmp_path / "deep" / "er" / name)
        np.testing.assert_array_equal(loaded.predict(X, verbose=0), prediction)
    assert not [n for n in names if n.endswith(".tmp")]  # nothing half-written beside them


def test_missing_key_in_logs_is_a_clear_key_error(tmp_path):
    with pytest.raises(KeyError) as e:
        _fit(_model(), [ModelCheckpoint(str(tmp_path / "{epoch}-{val_auc}.keras"))], epochs=1)
    message = e.value.args[0]
    assert message.startswith('Failed to format this callback filepath: "') and "{epoch}-{val_auc}.keras" in message
    assert "Reason: 'val_auc'" in message and "val_loss" in message  # the keys that were available
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("path, weights_only, message", [
    ("m.h5", False, r"must end in `\.keras` \(Keras model format\). Received: filepath=m\.h5"),
    ("m.weights.h5", False, r"must end in `\.keras`"),
    ("m", False, r"must end in `\.keras`"),
    ("m.keras", True, r"When using `save_weights_only=True` in `ModelCheckpoint`, the filepath provided must "
                      r"end in `\.weights\.h5`.*Received: filepath=m\.keras"),
    ("m.h5", True, r"must end in `\.weights\.h5`"),
])
def test_extension_rules(path, weights_only, message):
    with pytest.raises(ValueError, match=message):
        ModelCheckpoint(path, save_weights_only=weights_only)


@pytest.mark.parametrize("save_freq", ["batch", 0, -1, 1.5, True, None])
def test_bad_save_freq(save_freq):
    with pytest.raises(ValueError, match="Unrecognized save_freq"):
        ModelCheckpoint("m.keras", save_freq=save_freq)


@pytest.mark.parametrize("ext", [".weights.h5", ".safetensors"])
def test_weights_only_checkpoints_load_back(tmp_path, ext):
    model, snaps = _model(), Snapshots()
    _fit(model, [ModelCheckpoint(str(tmp_path / ("w-{epoch}" + ext)), save_weights_only=True), snaps])
    assert sorted(os.listdir(tmp_path)) == [f"w-{e}{ext}" for e in (1, 2, 3)]
    for epoch in (1, 3):
        fresh = _model()
        fresh.load_weights(tmp_path / f"w-{epoch}{ext}")
        np.testing.assert_array_equal(fresh.predict(X, verbose=0), snaps.predictions[epoch - 1])


def _val_losses_then_best(tmp_path, monitor, mode, **kwargs):
    model, snaps = _model(), Snapshots()
    history = _fit(model, [ModelCheckpoint(str(tmp_path / "best.keras"), monitor=monitor, mode=mode,
                                           save_best_only=True, **kwargs), snaps], epochs=5)
    return history.history[monitor], snaps.predictions


@pytest.mark.parametrize("mode", ["min", "auto"])
def test_save_best_only_min(tmp_path, mode):
    values, predictions = _val_losses_then_best(tmp_path, "val_loss", mode)
    best = int(np.argmin(values))
    loaded = ckeras.models.load_model(tmp_path / "best.keras")
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), predictions[best])


def test_save_best_only_max_keeps_the_first_of_equal_values(tmp_path):
    values, predictions = _val_losses_then_best(tmp_path, "loss", "max")  # loss falls: epoch 1 is "best"
    assert int(np.argmax(values)) == 0
    loaded = ckeras.models.load_model(tmp_path / "best.keras")
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), predictions[0])


@pytest.mark.parametrize("monitor, maximise", [("val_accuracy", True), ("accuracy", True), ("val_loss", False),
                                               ("val_acc", True), ("auc", True), ("val_mse", False)])
def test_auto_mode_direction(monitor, maximise):
    callback = ModelCheckpoint("m.keras", monitor=monitor, save_best_only=True)
    callback.set_model(_model())
    callback._set_monitor_op()
    assert callback.best == (-np.inf if maximise else np.inf)
    assert callback.monitor_op(2.0, 1.0) == maximise


def test_auto_mode_uses_the_metric_direction():
    callback = ModelCheckpoint("m.keras", monitor="val_mean_squared_error", save_best_only=True)
    callback.set_model(_model(metrics=["mean_squared_error"]))
    callback._set_monitor_op()
    assert callback.monitor_op(1.0, 2.0)


def test_unknown_mode_warns_and_falls_back_to_auto():
    with pytest.warns(UserWarning, match="ModelCheckpoint mode 'best' is unknown, fallback to auto mode"):
        assert ModelCheckpoint("m.keras", mode="best").mode == "auto"


def test_initial_value_threshold_must_be_beaten(tmp_path):
    _val_losses_then_best(tmp_path, "val_loss", "min", initial_value_threshold=0.0)
    assert not os.path.exists(tmp_path / "best.keras")
    _val_losses_then_best(tmp_path, "val_loss", "min", initial_value_threshold=100.0)
    assert os.path.exists(tmp_path / "best.keras")


def test_missing_monitor_warns_and_saves(tmp_path):
    with pytest.warns(UserWarning, match="Can save best model only with val_auc available"):
        _fit(_model(), [ModelCheckpoint(str(tmp_path / "m.keras"), monitor="val_auc", save_best_only=True)],
             epochs=1)
    assert os.path.exists(tmp_path / "m.keras")


def test_verbose_messages(tmp_path, capsys):
    path = str(tmp_path / "m.keras")
    _fit(_model(), [ModelCheckpoint(path, verbose=1, save_best_only=True, initial_value_threshold=50.0,
                                    monitor="loss", mode="max")], epochs=1, validation_split=0.0)
    lines = [line for line in capsys.readouterr().out.splitlines() if line]
    assert lines == ["Epoch 1: loss did not improve from 50.00000"]
    history = _fit(_model(), [ModelCheckpoint(path, verbose=1, save_best_only=True)], epochs=1)
    loss = history.history["val_loss"][0]
    lines = [line for line in capsys.readouterr().out.splitlines() if line]
    assert lines == [f"Epoch 1: val_loss improved from inf to {loss:.5f}, saving model to {path}",
                     f"Epoch 1: finished saving model to {path}"]
    _fit(_model(), [ModelCheckpoint(path, verbose=1)], epochs=1)
    lines = [line for line in capsys.readouterr().out.splitlines() if line]
    assert lines == [f"Epoch 1: saving model to {path}", f"Epoch 1: finished saving model to {path}"]


def test_save_freq_in_batches(tmp_path):
    saved = []

    class Recorder(Callback):
        def on_train_batch_end(self, batch, logs=None):
            saved.append(sorted(os.listdir(tmp_path)))

    # 30 training samples in batches of 10: 3 batches an epoch, 9 in all; every 2nd batch -> 4 saves
    checkpoint = ModelCheckpoint(str(tmp_path / "m-{epoch}-{batch}.weights.h5"), save_weights_only=True, save_freq=2)
    _fit(_model(), [checkpoint, Recorder()])
    assert sorted(os.listdir(tmp_path)) == ["m-1-2.weights.h5", "m-2-1.weights.h5", "m-2-3.weights.h5",
                                            "m-3-2.weights.h5"]
    assert saved[1] == ["m-1-2.weights.h5"]  # written at the end of that batch, not of the epoch


def test_save_freq_checkpoint_matches_the_model_at_that_batch(tmp_path):
    states = {}

    class Recorder(Callback):
        def on_train_batch_end(self, batch, logs=None):
            states[(self.epoch, batch)] = self.model.predict(X, verbose=0)

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

    path = str(tmp_path / "m-{epoch}-{batch}.keras")
    _fit(_model(), [ModelCheckpoint(path, save_freq=4), Recorder()], epochs=2)
    assert sorted(os.listdir(tmp_path)) == ["m-2-1.keras"]  # the 4th batch is the 1st of epoch 2
    loaded = ckeras.models.load_model(tmp_path / "m-2-1.keras")
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), states[(1, 0)])


def test_existing_directory_as_filepath_is_refused(tmp_path):
    (tmp_path / "m.keras").mkdir()
    with pytest.raises(IOError, match="Please specify a non-directory filepath for ModelCheckpoint"):
        _fit(_model(), [ModelCheckpoint(str(tmp_path / "m.keras"))], epochs=1)


def test_failed_save_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "m.keras"
    model = _model()
    _fit(model, [ModelCheckpoint(str(path))], epochs=1)
    before = path.read_bytes()
    from ckeras.saving import object_state

    def fail(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(object_state, "weights_bytes", fail)
    with pytest.raises(OSError, match="disk full"), warnings.catch_warnings():
        _fit(model, [ModelCheckpoint(str(path))], epochs=1)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["m.keras"]
