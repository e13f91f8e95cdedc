"""The trainer on real ckeras models: Sequential and Functional with Dense, Dropout, regularizers."""
import numpy as np
import pytest

import ckeras
from ckeras import callbacks, layers, models
from trainer_models import blobs


def _mlp(din=8, classes=3, **dense_kw):
    return models.Sequential([layers.Input((din,)), layers.Dense(32, activation="relu", **dense_kw),
                              layers.Dense(classes, activation="softmax")])


def test_sequential_mlp_end_to_end():
    x, y = blobs(800, 8, 3, seed=11)
    model = _mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    h = model.fit(x[:600], y[:600], epochs=5, batch_size=32, validation_split=0.2, verbose=0)
    assert sorted(h.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert h.history["val_accuracy"][-1] > 0.95
    loss, acc = model.evaluate(x[600:], y[600:], verbose=0)
    assert acc > 0.95 and loss < h.history["loss"][0]
    probs = model.predict(x[600:], verbose=0)
    assert probs.shape == (200, 3) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-5)
    assert model.predict(np.zeros((0, 8)), verbose=0).shape == (0, 3)


def test_one_hot_labels_and_crossentropy_string():
    x, y = blobs(300, 8, 3, seed=12)
    model = _mlp()
    model.compile(optimizer=ckeras.optimizers.Adam(0.02), loss="ce", metrics=["acc"])
    h = model.fit(x, np.eye(3)[y], epochs=4, verbose=0)
    assert "acc" in h.history and h.history["acc"][-1] > 0.9


def test_unbuilt_sequential_builds_at_the_first_batch():
    x, y = blobs(64, 5, 2)
    model = models.Sequential([layers.Dense(4, activation="relu"), layers.Dense(2, activation="softmax")])
    assert model.predict(x[:3], verbose=0).shape == (3, 2)  # predict builds lazily, no compile needed
    model = models.Sequential([layers.Dense(4, activation="relu"), layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    before = None
    model.fit(x, y, epochs=1, verbose=0)
    before = [w.copy() for w in model.get_weights()]
    model.fit(x, y, epochs=1, verbose=0)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_dropout_only_in_training():
    x = np.ones((16, 4), "float32")
    model = models.Sequential([layers.Input((4,)), layers.Dropout(0.5),
                               layers.Dense(1, kernel_initializer="ones", use_bias=False)])
    p1 = model.predict(x, verbose=0)
    np.testing.assert_allclose(p1, 4.0)  # inference is the identity
    model.compile(optimizer=ckeras.optimizers.SGD(0.0), loss="mse")
    # training applies dropout: the per-sample outputs are sums of 0s and 2s, so the loss differs
    logs = model.train_on_batch(x, np.full((16, 1), 4.0, "float32"), return_dict=True)
    assert logs["loss"] > 0
    assert model.evaluate(x, np.full((16, 1), 4.0, "float32"), verbose=0) == pytest.approx(0.0, abs=1e-10)


def test_kernel_regularizer_enters_the_loss():
    x, y = blobs(32, 8, 3)
    model = _mlp(kernel_regularizer=ckeras.regularizers.L2(0.1))
    model.compile(optimizer=ckeras.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy")
    p = model.predict(x, verbose=0).astype(np.float64)
    ce = np.mean(-np.log(np.clip(p[np.arange(32), y], 1e-7, 1)))
    penalty = 0.1 * np.sum(model.layers[0].kernel.numpy().astype(np.float64) ** 2)
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), ce + penalty, rtol=1e-5)
    h = model.fit(x, y, batch_size=32, verbose=0)
    np.testing.assert_allclose(h.history["loss"][0], ce + penalty, rtol=1e-5)


def test_functional_multi_input_and_named_outputs():
    a_in, b_in = layers.Input((2,), name="a"), layers.Input((3,), name="b")
    z = layers.Concatenate()([a_in, b_in])
    reg = layers.Dense(1, name="reg")(z)
    cls = layers.Dense(2, activation="softmax", name="cls")(z)
    r = np.random.default_rng(0)
    a, b = r.normal(size=(200, 2)), r.normal(size=(200, 3))
    targets = [a[:, :1] - b[:, 1:2], (b[:, 0] > 0).astype("int64")]

    as_list = models.Model({"a": a_in, "b": b_in}, [reg, cls])
    as_list.compile(optimizer=ckeras.optimizers.Adam(0.05), loss=["mse", "sparse_categorical_crossentropy"],
                    metrics=[[], ["accuracy"]])
    h = as_list.fit({"a": a, "b": b}, targets, epochs=10, verbose=0)
    assert sorted(h.history) == ["cls_accuracy", "cls_loss", "loss", "reg_loss"]  # named after the layers
    assert h.history["cls_accuracy"][-1] > 0.9 and h.history["reg_loss"][-1] < 0.05
    out = as_list.predict({"a": a, "b": b}, verbose=0)
    assert isinstance(out, list) and out[0].shape == (200, 1) and out[1].shape == (200, 2)

    by_name = models.Model({"a": a_in, "b": b_in}, [reg, cls])
    by_name.compile(optimizer="adam", loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
                    loss_weights={"reg": 0.0, "cls": 1.0}, metrics={"cls": "accuracy"})
    logs = by_name.evaluate({"a": a, "b": b}, {"reg": targets[0], "cls": targets[1]}, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["loss"], logs["cls_loss"], rtol=1e-6)  # the reg loss has weight 0

    as_dict = models.Model({"a": a_in, "b": b_in}, {"r": reg, "c": cls})
    as_dict.compile(optimizer="adam", loss={"r": "mse", "c": "sparse_categorical_crossentropy"})
    h = as_dict.fit({"a": a, "b": b}, {"r": targets[0], "c": targets[1]}, epochs=1, verbose=0)
    assert sorted(h.history) == ["c_loss", "loss", "r_loss"]
    assert sorted(as_dict.predict({"a": a, "b": b}, verbose=0)) == ["c", "r"]


def test_early_stopping_restores_real_model_weights():
    x, y = blobs(64, 8, 3)
    model = _mlp()
    model.compile(optimizer=ckeras.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy")
    snapshots = []

    class Snap(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = [3.0, 1.0, 2.0, 2.0][epoch]
            snapshots.append(model.get_weights())

    es = callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    h = model.fit(x, y, epochs=10, callbacks=[Snap(), es], verbose=0)
    assert len(h.history["loss"]) == 4
    for a, b in zip(model.get_weights(), snapshots[1]):
        np.testing.assert_array_equal(a, b)


def test_trainable_false_layer_is_not_updated():
    x, y = blobs(64, 8, 3)
    model = _mlp()
    model.layers[0].trainable = False
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    frozen = model.layers[0].kernel.numpy().copy()
    head = model.layers[1].kernel.numpy().copy()
    model.fit(x, y, epochs=1, verbose=0)
    np.testing.assert_array_equal(model.layers[0].kernel.numpy(), frozen)
    assert not np.array_equal(model.layers[1].kernel.numpy(), head)
