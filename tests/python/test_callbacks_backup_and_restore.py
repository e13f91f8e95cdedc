"""BackupAndRestore as Keras 3: a fit interrupted by an exception resumes, when called again with the same
backup_dir, at the epoch after the last backup, with the weights and optimizer state of that moment, and
ends with the same weights as a run that was never interrupted; the backup is removed at the end."""
import json
import os

import numpy as np
import pytest

import ckeras
from ckeras import layers
from ckeras.callbacks import BackupAndRestore, Callback

RNG = np.random.default_rng(1)
X = RNG.normal(size=(24, 4)).astype("float32")
Y = (X[:, :2].sum(axis=1) > 0).astype("int64")


def _model(seed=5):
    ckeras.utils.set_random_seed(seed)
    model = ckeras.Sequential([ckeras.Input((4,)), layers.Dense(8, activation="relu"),
                               layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _fit(model, callbacks, epochs=5):
    return model.fit(X, Y, batch_size=8, epochs=epochs, shuffle=False, verbose=0, callbacks=callbacks)


def _state(model):
    return [w.copy() for w in model.get_weights()] + [np.array(v.numpy()) for v in model.optimizer.variables]


def _assert_same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


class Interrupt(Callback):
    """Raises at the start of an epoch, or after a given batch of it."""

    def __init__(self, epoch, batch=None):
        super().__init__()
        self.epoch, self.batch, self.current = epoch, batch, None

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch
        if epoch == self.epoch and self.batch is None:
            raise RuntimeError("interrupted")

    def on_train_batch_end(self, batch, logs=None):
        if self.current == self.epoch and batch == self.batch:
            raise RuntimeError("interrupted")


class Recorder(Callback):
    """The epochs that ran, and the training state at the start of each."""

    def __init__(self):
        super().__init__()
        self.epochs, self.states = [], {}

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)
        self.states[epoch] = _state(self.model)


@pytest.fixture(scope="module")
def uninterrupted():
    model, recorder = _model(), Recorder()
    _fit(model, [recorder])
    return recorder.states, _state(model)


@pytest.mark.parametrize("batch", [None, 1], ids=["at-epoch-start", "mid-epoch"])
def test_resumes_where_the_backup_left_off(tmp_path, uninterrupted, batch):
    states, final = uninterrupted
    backup_dir = tmp_path / "backup"
    model, callback = _model(), BackupAndRestore(backup_dir)
    with pytest.raises(RuntimeError, match="interrupted"):
        _fit(model, [callback, Interrupt(epoch=2, batch=batch)])  # the 3rd of 5 epochs
    assert json.loads((backup_dir / "training_metadata.json").read_text())["epoch"] == 2
    recorder = Recorder()
    history = _fit(model, [callback, recorder])
    assert recorder.epochs == [2, 3, 4] and len(history.history["loss"]) == 3
    _assert_same(recorder.states[2], states[2])  # weights and optimizer state as after epoch 2 of the full run
    _assert_same(_state(model), final)
    assert not backup_dir.exists()


def test_resumes_in_a_new_model_and_callback(tmp_path, uninterrupted):
    states, final = uninterrupted
    with pytest.raises(RuntimeError):
        _fit(_model(), [BackupAndRestore(tmp_path / "b"), Interrupt(epoch=3)])
    model, recorder = _model(seed=99), Recorder()  # as after a restart: other initial weights, a fresh optimizer
    _fit(model, [BackupAndRestore(tmp_path / "b"), recorder])
    assert recorder.epochs == [3, 4]
    _assert_same(recorder.states[3], states[3])
    _assert_same(_state(model), final)


def test_the_resumed_epoch_applies_to_that_fit_only(tmp_path):
    model = _model()
    with pytest.raises(RuntimeError):
        _fit(model, [BackupAndRestore(tmp_path / "b"), Interrupt(epoch=2)])
    _fit(model, [BackupAndRestore(tmp_path / "b")])
    recorder = Recorder()
    _fit(model, [recorder], epochs=2)
    assert recorder.epochs == [0, 1]


def test_delete_checkpoint_false_keeps_the_backup(tmp_path):
    model, backup_dir = _model(), tmp_path / "b"
    _fit(model, [BackupAndRestore(backup_dir, delete_checkpoint=False)], epochs=2)
    assert json.loads((backup_dir / "training_metadata.json").read_text())["epoch"] == 2
    recorder = Recorder()
    _fit(model, [BackupAndRestore(backup_dir, delete_checkpoint=False), recorder], epochs=3)
    assert recorder.epochs == [2]  # a later fit continues after the kept backup, as in Keras


def test_only_the_backup_files_are_removed(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    _fit(_model(), [BackupAndRestore(tmp_path)], epochs=2)
    assert os.listdir(tmp_path) == ["notes.txt"]


def test_save_freq_in_batches(tmp_path):
    seen = []

    class Peek(Callback):
        def on_train_batch_end(self, batch, logs=None):
            path = tmp_path / "b" / "training_metadata.json"
            seen.append(json.loads(path.read_text()) if path.exists() else None)

    model = _model()
    with pytest.raises(RuntimeError):  # 3 batches an epoch; a backup every 2 batches
        _fit(model, [BackupAndRestore(tmp_path / "b", save_freq=2), Peek(), Interrupt(epoch=1, batch=2)])
    assert [s and (s["epoch"], s["batch"]) for s in seen] == [None, (0, 1), (0, 1), (1, 0), (1, 0), (1, 2)]
    recorder = Recorder()
    _fit(model, [BackupAndRestore(tmp_path / "b", save_freq=2), recorder], epochs=3)
    assert recorder.epochs == [1, 2]  # the unfinished epoch runs again, from the mid-epoch weights


def test_a_damaged_latest_backup_falls_back_to_the_one_before(tmp_path, uninterrupted):
    states, _ = uninterrupted
    backup_dir = tmp_path / "b"
    with pytest.raises(RuntimeError):
        _fit(_model(), [BackupAndRestore(backup_dir), Interrupt(epoch=3)])
    weights = backup_dir / "latest.weights.h5"
    weights.write_bytes(weights.read_bytes()[:-100])
    model, recorder = _model(seed=7), Recorder()
    _fit(model, [BackupAndRestore(backup_dir), recorder])
    assert recorder.epochs == [2, 3, 4]
    _assert_same(recorder.states[2], states[2])


def test_weights_that_do_not_match_the_metadata_are_not_used(tmp_path, uninterrupted):
    states, _ = uninterrupted
    backup_dir = tmp_path / "b"
    with pytest.raises(RuntimeError):
        _fit(_model(), [BackupAndRestore(backup_dir), Interrupt(epoch=3)])
    # as if the process died between writing the weights and the metadata of a backup
    (backup_dir / "latest.weights.h5").write_bytes((backup_dir / "_latest.weights.h5").read_bytes())
    (backup_dir / "_training_metadata.json").unlink()
    with pytest.raises(ckeras.LoadError, match="does not describe the backup"):
        _fit(_model(), [BackupAndRestore(backup_dir)])


def test_unbuilt_model_with_a_backup_is_refused(tmp_path):
    with pytest.raises(RuntimeError):
        _fit(_model(), [BackupAndRestore(tmp_path / "b"), Interrupt(epoch=1)])
    model = ckeras.Sequential([layers.Dense(8), layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="must be built before you call `fit\\(\\)`"):
        _fit(model, [BackupAndRestore(tmp_path / "b")])
    fresh = ckeras.Sequential([layers.Dense(2, activation="softmax")])  # no backup: nothing to restore
    fresh.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    _fit(fresh, [BackupAndRestore(tmp_path / "other")], epochs=1)


def test_argument_checks():
    with pytest.raises(ValueError, match="Empty `backup_dir` argument passed"):
        BackupAndRestore("")
    with pytest.raises(ValueError, match="Invalid value for argument `save_freq`"):
        BackupAndRestore("b", save_freq="batch")
