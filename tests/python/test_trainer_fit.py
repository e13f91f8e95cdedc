"""Trainer: compile/fit/evaluate/predict on stand-in models, against NumPy and Keras 3's documented behaviour."""
import numpy as np
import pytest

import ckeras
from ckeras import ops
from ckeras.callbacks import Callback, History
from trainer_models import MLP, Linear, blobs


class Recorder(Callback):
    def __init__(self):
        super().__init__()
        self.events = []

    def on_train_batch_end(self, batch, logs=None):
        self.events.append(("train_batch", batch, dict(logs)))

    def on_test_batch_end(self, batch, logs=None):
        self.events.append(("test_batch", batch))

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(("epoch", epoch, dict(logs)))


def test_mlp_learns_separable_data():
    x, y = blobs(600, 4, 3)
    model = MLP(4, 16, 3)
    model.compile(optimizer=ckeras.optimizers.Adam(0.02), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=8, batch_size=32, validation_split=0.2, verbose=0)
    assert isinstance(history, History) and model.history is history
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert all(len(v) == 8 for v in history.history.values())
    assert history.epoch == list(range(8))
    assert history.history["accuracy"][-1] > 0.95
    assert history.history["val_accuracy"][-1] > 0.95
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_compile_defaults_and_metrics_names():
    model = Linear(3, 1)
    model.compile(loss="mse")
    assert type(model.optimizer).__name__ == "RMSprop"  # Keras's default optimizer
    assert model.compiled and not model.run_eagerly and model.jit_compile is False
    assert model.metrics_names == ["loss"]
    model.compile(loss="mse", metrics=["mae"])
    assert model.metrics_names == ["loss", "compile_metrics"]  # Keras 3 names the container
    config = model.get_compile_config()
    assert config["loss"] == "mse" and config["metrics"] == ["mae"]
    assert config["optimizer"]["class_name"] == "RMSprop"


def test_evaluate_list_vs_dict_and_loss_matches_numpy():
    x, y = blobs(70, 3, 2, seed=1)
    model = Linear(3, 2, activation="softmax", seed=3)
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    p = np.asarray(model.predict(x, verbose=0), dtype=np.float64)
    ce = -np.log(np.clip(p[np.arange(len(y)), y], 1e-7, 1 - 1e-7))
    acc = np.mean(np.argmax(p, -1) == y)
    as_list = model.evaluate(x, y, batch_size=16, verbose=0)
    as_dict = model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    assert isinstance(as_list, list) and len(as_list) == 2
    assert list(as_dict) == ["accuracy", "loss"]
    np.testing.assert_allclose(as_list, [as_dict["loss"], as_dict["accuracy"]])
    np.testing.assert_allclose(as_dict["loss"], ce.mean(), rtol=1e-5)  # batch-size-weighted mean
    np.testing.assert_allclose(as_dict["accuracy"], acc)
    only_loss = Linear(3, 1)
    only_loss.compile(loss="mse")
    assert isinstance(only_loss.evaluate(x, y[:, None].astype("float32"), verbose=0), float)


def test_predict_shapes_batching_and_dtype():
    model = Linear(5, 3)
    x = np.random.default_rng(0).normal(size=(70, 5))  # float64 in
    out = model.predict(x, batch_size=32, verbose=0)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32 and out.shape == (70, 3)
    assert [c[0][0] for c in model.calls] == [32, 32, 6]  # the last partial batch is kept
    assert all(training is False for _, training in model.calls)
    expected = x.astype(np.float32) @ model.w.numpy() + model.b.numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    empty = model.predict(np.zeros((0, 5)), verbose=0)  # ERRORS row 3
    assert empty.shape == (0, 3) and empty.dtype == np.float32
    model.calls.clear()
    model.predict(x, verbose=0)
    assert [c[0][0] for c in model.calls] == [32, 32, 6]  # batch_size None -> 32
    np.testing.assert_allclose(model.predict_on_batch(x[:4]), expected[:4], rtol=1e-5, atol=1e-6)


def test_int_and_bool_inputs_are_cast_labels_are_not():
    seen = []

    class Spy(Linear):
        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            seen.append(y.dtype)
            return super().compute_loss(x, y, y_pred, sample_weight, training)

    model = Spy(2, 1)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.array([[1, 2], [3, 4]], dtype="int64"), np.array([[1], [0]]), verbose=0)
    assert seen == ["int64"]
    model.fit(np.array([[True, False]] * 2), np.array([[1], [0]], dtype="int32"), verbose=0)
    assert seen[-1] == "int32"
    assert model.predict(np.array([[1, 2]], dtype="int32"), verbose=0).dtype == np.float32


def test_batches_steps_per_epoch_and_shuffle():
    x, y = np.arange(10, dtype="float32")[:, None], np.zeros((10, 1), "float32")
    model = Linear(1, 1)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, batch_size=4, shuffle=False, verbose=0)
    assert [c[0][0] for c in model.calls] == [4, 4, 2] and all(t for _, t in model.calls)
    model.calls.clear()
    model.fit(x, y, steps_per_epoch=2, verbose=0)  # batch size = ceil(10 / 2)
    assert [c[0][0] for c in model.calls] == [5, 5]
    model.calls.clear()
    model.fit(x, y, batch_size=100, verbose=0)  # ERRORS row 27: one partial batch
    assert [c[0][0] for c in model.calls] == [10]

    seen = []
    model.compile(optimizer="sgd", loss=lambda yt, yp: (seen.append(np.asarray(yt)[:, 0].copy()),
                                                        ops.mean(yp - yp, axis=-1))[1])
    labels = np.arange(10, dtype="float32")[:, None]
    model.fit(x, labels, batch_size=10, shuffle=False, verbose=0)
    model.fit(x, labels, batch_size=10, shuffle=True, epochs=3, verbose=0)
    assert seen[0].tolist() == list(range(10))
    assert all(sorted(s.tolist()) == list(range(10)) for s in seen[1:])
    assert any(s.tolist() != list(range(10)) for s in seen[1:])
    seen.clear()
    model.fit(x, labels, batch_size=5, shuffle="batch", verbose=0)
    assert sorted(np.concatenate(seen).tolist()) == list(range(10))
    assert all(set(s.tolist()) in ({0, 1, 2, 3, 4}, {5, 6, 7, 8, 9}) for s in seen)


def test_steps_per_epoch_carries_the_iterator_across_epochs():
    x = np.arange(6, dtype="float32")[:, None]
    model = Linear(1, 1)
    seen = []
    model.compile(optimizer="sgd", loss=lambda yt, yp: (seen.append(np.asarray(yt)[:, 0].tolist()),
                                                        ops.mean(yp - yp, axis=-1))[1])
    with pytest.warns(UserWarning, match="ran out of data"):
        h = model.fit(x, x, batch_size=2, steps_per_epoch=2, epochs=3, shuffle=False, verbose=0)
    # As Keras: epoch 2 continues where epoch 1 stopped and ends early when the 3 batches are used up.
    assert seen == [[0, 1], [2, 3], [4, 5], [0, 1], [2, 3]]
    assert len(h.history["loss"]) == 3
    seen.clear()
    model.fit(x, x, batch_size=2, steps_per_epoch=3, epochs=2, shuffle=False, verbose=0)
    assert seen == [[0, 1], [2, 3], [4, 5]] * 2


def test_validation_split_takes_the_last_fraction_before_shuffling():
    x, y = blobs(100, 3, 2, seed=4)
    model = Linear(3, 2, activation="softmax")
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    rec = Recorder()
    history = model.fit(x, y, epochs=1, batch_size=10, validation_split=0.25, callbacks=[rec], verbose=0)
    assert len([e for e in rec.events if e[0] == "train_batch"]) == 8  # 75 training samples
    val = model.evaluate(x[75:], y[75:], verbose=0, return_dict=True)
    np.testing.assert_allclose(history.history["val_loss"][0], val["loss"], rtol=1e-6)
    np.testing.assert_allclose(history.history["val_accuracy"][0], val["accuracy"])


def test_validation_data_wins_and_validation_freq():
    x, y = blobs(40, 3, 2, seed=5)
    model = Linear(3, 2, activation="softmax")
    model.compile(loss="sparse_categorical_crossentropy")
    h = model.fit(x, y, epochs=4, validation_data=(x[:8], y[:8]), validation_split=0.5, validation_freq=2,
                  verbose=0, shuffle=False)
    assert len(h.history["loss"]) == 4 and len(h.history["val_loss"]) == 2
    model.calls.clear()
    model.fit(x, y, epochs=1, validation_data=(x[:8], y[:8]), verbose=0)
    assert [c[0][0] for c in model.calls] == [32, 8, 8]  # all 40 trained, validation on the 8 given
    h = model.fit(x, y, epochs=3, validation_data=(x[:8], y[:8], np.ones(8)), validation_freq=[1, 3], verbose=0)
    assert len(h.history["val_loss"]) == 2


def test_initial_epoch_and_zero_epochs():
    x, y = blobs(20, 3, 2)
    model = Linear(3, 2, activation="softmax")
    model.compile(loss="sparse_categorical_crossentropy")
    rec = Recorder()
    h = model.fit(x, y, epochs=5, initial_epoch=3, callbacks=[rec], verbose=0)
    assert h.epoch == [3, 4] and [e[1] for e in rec.events if e[0] == "epoch"] == [3, 4]
    before = model.get_weights()
    h = model.fit(x, y, epochs=0, verbose=0)  # ERRORS row 28
    assert h.history == {}
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert model.fit(x, y, epochs=2, initial_epoch=2, verbose=0).history == {}


def test_loss_includes_regularization_and_is_batch_weighted():
    x = np.array([[1.0], [2.0], [3.0]], "float32")
    y = np.zeros((3, 1), "float32")
    model = Linear(1, 1, w=[[1.0]], b=[0.5])
    model.regularization = lambda: ops.multiply(ops.sum(ops.square(model.w)), 0.1)
    model.compile(optimizer=ckeras.optimizers.SGD(0.0), loss="mse")
    h = model.fit(x, y, batch_size=2, shuffle=False, verbose=0)
    per_batch = [np.mean(np.array([1.5, 2.5]) ** 2) + 0.1, 3.5 ** 2 + 0.1]
    np.testing.assert_allclose(h.history["loss"][0], (2 * per_batch[0] + per_batch[1]) / 3, rtol=1e-6)
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=2, verbose=0), h.history["loss"][0], rtol=1e-6)


def test_train_and_test_on_batch():
    x, y = blobs(16, 3, 2)
    model = Linear(3, 2, activation="softmax")
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    before = model.w.numpy()
    out = model.train_on_batch(x, y)
    assert isinstance(out, list) and len(out) == 2
    assert not np.array_equal(before, model.w.numpy())
    logs = model.test_on_batch(x, y, return_dict=True)
    assert sorted(logs) == ["accuracy", "loss"]
    np.testing.assert_allclose(logs["loss"], model.evaluate(x, y, verbose=0)[0], rtol=1e-6)
    out = model.train_on_batch(x, y, class_weight={0: 2.0, 1: 1.0}, return_dict=True)
    assert sorted(out) == ["accuracy", "loss"]


def test_custom_train_step_override():
    class Custom(Linear):
        def train_step(self, data):
            x, y = data
            with ckeras.GradientTape() as tape:
                loss = ops.mean(ops.square(self(x, training=True) - y))
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
            return {"custom_loss": loss}

    x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    y = x @ np.array([[2.0], [-1.0]], "float32") + 0.5
    model = Custom(2, 1)
    model.compile(optimizer=ckeras.optimizers.SGD(0.1))
    h = model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    assert list(h.history) == ["custom_loss"]
    assert h.history["custom_loss"][-1] < 1e-3
    np.testing.assert_allclose(model.w.numpy(), [[2.0], [-1.0]], atol=0.02)


def test_gradient_tape_custom_loop():
    x = np.random.default_rng(1).normal(size=(128, 3)).astype("float32")
    y = x @ np.array([[1.0], [2.0], [-3.0]], "float32")
    model = Linear(3, 1)
    optimizer = ckeras.optimizers.Adam(0.05)
    for _ in range(200):
        with ckeras.GradientTape() as tape:
            loss = ops.mean(ops.square(model(ops.convert_to_tensor(x), training=True) - y))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
    assert float(loss) < 1e-3
    # The trained model still goes through fit/evaluate normally.
    model.compile(optimizer="sgd", loss="mse")
    assert model.evaluate(x, y, verbose=0) < 1e-3
