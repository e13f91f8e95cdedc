"""Callbacks: hook order, History, EarlyStopping, ReduceLROnPlateau, LearningRateScheduler, TerminateOnNaN,
CSVLogger, LambdaCallback and CallbackList, on stand-in models."""
import csv

import numpy as np
import pytest

import ckeras
from ckeras import callbacks as cb
from trainer_models import Linear, blobs


class HookLog(cb.Callback):
    def __init__(self):
        super().__init__()
        self.log = []

    def __getattribute__(self, name):
        attr = object.__getattribute__(self, name)
        if name.startswith("on_") and callable(attr):
            def record(*args, **kwargs):
                object.__getattribute__(self, "log").append(name)
                return attr(*args, **kwargs)
            return record
        return attr


def _model(loss="sparse_categorical_crossentropy", dout=2, optimizer="sgd", **kw):
    model = Linear(3, dout, activation="softmax" if dout > 1 else None)
    model.compile(optimizer=optimizer, loss=loss, **kw)
    return model


def test_hook_order_in_fit_evaluate_predict():
    x, y = blobs(8, 3, 2)
    model = _model()
    h = HookLog()
    model.fit(x, y, batch_size=4, epochs=1, validation_data=(x, y), callbacks=[h], verbose=0)
    assert h.log == ["on_train_begin", "on_epoch_begin",
                     "on_train_batch_begin", "on_batch_begin", "on_train_batch_end", "on_batch_end",
                     "on_train_batch_begin", "on_batch_begin", "on_train_batch_end", "on_batch_end",
                     "on_test_begin", "on_test_batch_begin", "on_test_batch_end", "on_test_batch_begin",
                     "on_test_batch_end", "on_test_end", "on_epoch_end", "on_train_end"]
    assert h.model is model and h.params == {"verbose": 0, "epochs": 1, "steps": 2}
    h.log.clear()
    model.evaluate(x, y, batch_size=8, callbacks=[h], verbose=0)
    assert h.log == ["on_test_begin", "on_test_batch_begin", "on_test_batch_end", "on_test_end"]
    h.log.clear()
    model.predict(x, batch_size=8, callbacks=[h], verbose=0)
    assert h.log == ["on_predict_begin", "on_predict_batch_begin", "on_predict_batch_end", "on_predict_end"]


def test_logs_passed_to_hooks():
    x, y = blobs(8, 3, 2)
    model = _model(metrics=["accuracy"])
    seen = {}
    lam = cb.LambdaCallback(
        on_train_batch_end=lambda batch, logs: seen.setdefault("batch", []).append((batch, dict(logs))),
        on_epoch_end=lambda epoch, logs: seen.setdefault("epoch", []).append(dict(logs)),
        on_predict_batch_end=lambda batch, logs: seen.setdefault("predict", []).append(logs["outputs"]))
    model.fit(x, y, batch_size=4, validation_split=0.5, callbacks=[lam], verbose=0)
    assert [b for b, _ in seen["batch"]] == [0]
    assert list(seen["batch"][0][1]) == ["accuracy", "loss"] and isinstance(seen["batch"][0][1]["loss"], float)
    assert list(seen["epoch"][0]) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    model.predict(x, callbacks=[lam], verbose=0)
    assert tuple(seen["predict"][0].shape) == (8, 2)
    assert not hasattr(lam, "on_foo")
    custom = cb.LambdaCallback(on_test_end=lambda logs: seen.setdefault("test_end", logs))
    model.evaluate(x, y, callbacks=[custom], verbose=0)
    assert sorted(seen["test_end"]) == ["accuracy", "loss"]


def test_history_collects_epochs_and_is_set_on_the_model():
    x, y = blobs(20, 3, 2)
    model = _model()
    mine = cb.History()
    returned = model.fit(x, y, epochs=3, callbacks=[mine], verbose=0)
    assert returned is mine and model.history is mine and mine.epoch == [0, 1, 2]
    assert len(mine.history["loss"]) == 3


def test_callback_list():
    h = HookLog()
    model = _model()
    cl = cb.CallbackList([h, [cb.History()]], add_history=True, add_progbar=True, model=model, verbose=1, epochs=2,
                         steps=5)
    assert [type(c).__name__ for c in cl.callbacks] == ["HookLog", "History", "ProgbarLogger"]
    assert model.history is cl.callbacks[1] and h.params == {"verbose": 1, "epochs": 2, "steps": 5}
    cl.on_train_batch_end(0, {"b": np.float32(2.0), "a": {"c": 1}})
    assert h.log == ["on_train_batch_end", "on_batch_end"]


def test_early_stopping_patience_and_restore_best_weights():
    x, y = blobs(40, 3, 2)
    model = _model()
    losses = iter([1.0, 0.5, 0.6, 0.7, 0.4, 0.3])
    weights_at = {}

    class FakeVal(cb.Callback):  # runs before EarlyStopping: fixes the monitored value per epoch
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = next(losses)
            model.w.assign(np.full((3, 2), float(epoch), "float32"))
            weights_at[epoch] = model.w.numpy()

    es = cb.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True, verbose=1)
    h = model.fit(x, y, epochs=10, callbacks=[FakeVal(), es], verbose=0)
    assert len(h.history["loss"]) == 4 and es.stopped_epoch == 3 and es.best_epoch == 1
    np.testing.assert_array_equal(model.w.numpy(), weights_at[1])


def test_early_stopping_modes_min_delta_baseline_and_start_epoch(capsys):
    x, y = blobs(40, 3, 2)

    def run(values, **kw):
        model = _model(metrics=["accuracy"])
        it = iter(values)

        class Fake(cb.Callback):
            def on_epoch_end(self, epoch, logs=None):
                logs["val_accuracy"] = logs["val_loss"] = next(it)
        es = cb.EarlyStopping(**kw)
        return len(model.fit(x, y, epochs=len(values), callbacks=[Fake(), es], verbose=0).history["loss"]), es

    assert run([0.5, 0.6, 0.7, 0.8], monitor="val_accuracy", patience=1)[0] == 4  # "accuracy" maximised
    assert run([0.5, 0.6, 0.7, 0.8], monitor="val_loss", patience=1)[0] == 2
    assert run([0.5, 0.49, 0.48, 0.47], monitor="val_loss", min_delta=0.05, patience=1)[0] == 2
    assert run([0.5] * 5, monitor="val_loss", patience=2)[0] == 3
    assert run([0.5] * 5, monitor="val_loss", baseline=0.15, patience=2)[0] == 2  # never beat the baseline
    assert run([0.5, 0.6, 0.7, 0.8, 0.9], monitor="val_loss", patience=0, start_from_epoch=3)[0] == 5
    assert run([0.5, 0.6, 0.7], monitor="val_accuracy", mode="min", patience=0)[0] == 2
    n, es = run([1.0, 2.0, 3.0], monitor="val_loss", patience=1, verbose=1)
    assert n == 2 and "Epoch 2: early stopping" in capsys.readouterr().out
    with pytest.warns(UserWarning, match="Early stopping conditioned on metric `missing`"):
        run([1.0, 2.0], monitor="missing", mode="min")
    with pytest.warns(UserWarning, match="EarlyStopping mode bogus is unknown"):
        cb.EarlyStopping(mode="bogus")
    with pytest.raises(ValueError, match="isn't able to automatically determine"):
        run([1.0], monitor="val_something")


def test_reduce_lr_on_plateau(capsys):
    x, y = blobs(40, 3, 2)
    model = _model(optimizer=ckeras.optimizers.SGD(0.1))
    values = iter([1.0] * 8)

    class Fake(cb.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = next(values)

    rl = cb.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, cooldown=1, min_lr=0.02, verbose=1)
    h = model.fit(x, y, epochs=8, callbacks=[Fake(), rl], verbose=0)
    # The rate is logged before the reduction: epoch 0 best; waits 1, 2 -> reduce at epoch 2; cooldown
    # during epoch 3 (wait restarts at 1); wait 2 -> reduce at epoch 4; again at epoch 6, to min_lr.
    np.testing.assert_allclose(h.history["learning_rate"], [0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.02],
                               rtol=1e-6)
    np.testing.assert_allclose(float(model.optimizer.learning_rate), 0.02, rtol=1e-6)
    assert "Epoch 3: ReduceLROnPlateau reducing learning rate to 0.05" in capsys.readouterr().out
    with pytest.raises(ValueError, match="does not support a factor >= 1.0"):
        cb.ReduceLROnPlateau(factor=1.5)


def test_learning_rate_scheduler(capsys):
    x, y = blobs(40, 3, 2)
    model = _model(optimizer=ckeras.optimizers.SGD(0.1))
    sched = cb.LearningRateScheduler(lambda epoch, lr: lr if epoch < 2 else lr * 0.5, verbose=1)
    h = model.fit(x, y, epochs=4, callbacks=[sched], verbose=0)
    np.testing.assert_allclose(h.history["learning_rate"], [0.1, 0.1, 0.05, 0.025], rtol=1e-6)
    np.testing.assert_allclose(float(model.optimizer.learning_rate), 0.025, rtol=1e-6)
    assert "Epoch 3: LearningRateScheduler setting learning rate to 0.05" in capsys.readouterr().out
    h = model.fit(x, y, epochs=2, callbacks=[cb.LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1))], verbose=0)
    np.testing.assert_allclose(h.history["learning_rate"], [0.01, 0.02], rtol=1e-6)
    with pytest.raises(ValueError, match="should be a float"):
        model.fit(x, y, callbacks=[cb.LearningRateScheduler(lambda epoch, lr: "x")], verbose=0)


def test_terminate_on_nan_direct():
    model = _model()
    t = cb.TerminateOnNaN()
    t.set_model(model)
    t.on_batch_end(0, {"loss": 1.0})
    assert not model.stop_training
    t.on_batch_end(3, {"loss": float("inf")})
    assert model.stop_training
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 7"):
        cb.TerminateOnNaN(raise_error=True).on_batch_end(7, {"loss": float("nan")})


def test_csv_logger(tmp_path):
    x, y = blobs(40, 3, 2)
    model = _model(metrics=["accuracy"])
    path = tmp_path / "log.csv"
    model.fit(x, y, epochs=2, validation_split=0.25, callbacks=[cb.CSVLogger(path)], verbose=0)
    rows = list(csv.reader(open(path)))
    assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1"] and all(len(r) == 5 for r in rows)
    model.fit(x, y, epochs=1, callbacks=[cb.CSVLogger(str(path), separator=";", append=True)], verbose=0)
    lines = open(path).read().splitlines()
    assert len(lines) == 4 and lines[-1].startswith("0;") and lines[-1].count(";") == 2
    model.fit(x, y, epochs=1, callbacks=[cb.CSVLogger(path)], verbose=0)
    assert len(open(path).read().splitlines()) == 2  # overwritten


def test_stop_training_from_a_callback_and_stop_predicting():
    x, y = blobs(64, 3, 2)
    model = _model()

    class StopAt(cb.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                self.model.stop_training = True

        def on_predict_batch_end(self, batch, logs=None):
            self.model.stop_predicting = True

    h = model.fit(x, y, batch_size=8, epochs=5, callbacks=[StopAt()], verbose=0)
    assert len(h.history["loss"]) == 1 and len(model.calls) == 2
    assert model.predict(x, batch_size=8, callbacks=[StopAt()], verbose=0).shape == (8, 2)
