"""Trainer data handling: generators, PyDataset, multi-input/-output structures, class and sample weights."""
import numpy as np
import pytest

import ckeras
from ckeras.trainers import PyDataset, pack_x_y_sample_weight, unpack_x_y_sample_weight
from trainer_models import Linear, MLP, TwoInputs, TwoOutputs, blobs


def _frozen(model):
    """Compiles with a zero learning rate so that fit's logged loss is the loss of the initial weights."""
    return ckeras.optimizers.SGD(0.0)


def test_unpack_and_pack():
    assert unpack_x_y_sample_weight(1) == (1, None, None)
    assert unpack_x_y_sample_weight((1,)) == (1, None, None)
    assert unpack_x_y_sample_weight([1, 2]) == (1, 2, None)
    assert unpack_x_y_sample_weight((1, 2, 3)) == (1, 2, 3)
    with pytest.raises(ValueError, match="Data is expected to be in format"):
        unpack_x_y_sample_weight((1, 2, 3, 4))
    assert pack_x_y_sample_weight(1) == (1,)
    assert pack_x_y_sample_weight(1, 2) == (1, 2)
    assert pack_x_y_sample_weight(1, 2, 3) == (1, 2, 3)


def test_generator_training_and_prediction():
    x, y = blobs(320, 4, 2, seed=2)

    def gen(epochs):
        for _ in range(epochs):
            for i in range(0, len(x), 32):
                yield x[i:i + 32], y[i:i + 32]

    model = MLP(4, 8, 2)
    model.compile(optimizer=ckeras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    h = model.fit(gen(5), steps_per_epoch=10, epochs=5, verbose=0)
    assert len(h.history["loss"]) == 5 and h.history["accuracy"][-1] > 0.95
    # Without steps_per_epoch a generator's epoch ends when it is exhausted.
    h = model.fit(gen(1), epochs=1, verbose=0)
    assert len(h.history["loss"]) == 1
    logs = model.evaluate(gen(1), verbose=0, return_dict=True)
    assert logs["accuracy"] > 0.95
    out = model.predict((x[i:i + 50] for i in range(0, 320, 50)), verbose=0)
    assert out.shape == (320, 2)
    # A finite generator reused for a second epoch has nothing left: warn and stop, keeping epoch 1.
    with pytest.warns(UserWarning, match="ran out of data"):
        h = model.fit(gen(1), epochs=3, verbose=0)
    assert len(h.history["loss"]) == 1


def test_generator_rejects_y_and_sample_weight():
    model = Linear(2, 1)
    model.compile(loss="mse")
    g = (np.zeros((2, 2)) for _ in range(1))
    with pytest.raises(ValueError, match="`y` argument is not supported when using a Python generator"):
        model.fit(g, np.zeros(2), verbose=0)


class Batches(PyDataset):
    def __init__(self, x, y, batch_size, sample_weight=None, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.sw, self.batch_size = x, y, sample_weight, batch_size
        self.epoch_events = []

    def __len__(self):
        return int(np.ceil(len(self.x) / self.batch_size))

    def __getitem__(self, idx):
        s = slice(idx * self.batch_size, (idx + 1) * self.batch_size)
        if self.sw is not None:
            return self.x[s], self.y[s], self.sw[s]
        return self.x[s], self.y[s]

    def on_epoch_begin(self):
        self.epoch_events.append("begin")

    def on_epoch_end(self):
        self.epoch_events.append("end")


def test_py_dataset():
    x, y = blobs(200, 3, 2, seed=7)
    ds = Batches(x, y, 25, workers=1)
    assert ds.num_batches == 8 and ds.workers == 1 and ds.max_queue_size == 10
    model = MLP(3, 8, 2)
    model.compile(optimizer=ckeras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    h = model.fit(ds, epochs=4, validation_data=Batches(x[:50], y[:50], 10), verbose=0)
    assert ds.epoch_events == ["begin", "end"] * 4
    assert sorted(h.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert h.history["accuracy"][-1] > 0.95
    assert model.predict(Batches(x, y, 64), verbose=0).shape == (200, 2)
    threaded = model.predict(Batches(x, y, 7, workers=3, max_queue_size=2), verbose=0)
    np.testing.assert_allclose(threaded, model.predict(x, verbose=0), rtol=1e-6)  # order kept
    with pytest.raises(ValueError, match="`y` argument is not supported when using `keras.utils.PyDataset`"):
        model.fit(ds, y, verbose=0)


def test_py_dataset_without_super_init_warns():
    class NoSuper(PyDataset):
        def __init__(self):
            pass

        def __len__(self):
            return 1

        def __getitem__(self, i):
            return np.zeros((2, 3)), np.zeros(2, "int64")

    model = Linear(3, 2, activation="softmax")
    model.compile(loss="sparse_categorical_crossentropy")
    with pytest.warns(UserWarning, match=r"should call `super\(\).__init__\(\*\*kwargs\)`"):
        model.fit(NoSuper(), verbose=0)


def test_multi_input_dict():
    r = np.random.default_rng(0)
    a, b = r.normal(size=(300, 2)), r.normal(size=(300, 3))
    y = ((a[:, 0] - b[:, 1]) > 0).astype("float32")[:, None]
    model = TwoInputs(2, 3)
    model.compile(optimizer=ckeras.optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
    h = model.fit({"a": a, "b": b}, y, epochs=10, verbose=0, validation_split=0.1)
    assert h.history["accuracy"][-1] > 0.95 and "val_accuracy" in h.history
    assert model.predict({"a": a[:7], "b": b[:7]}, verbose=0).shape == (7, 1)
    with pytest.raises(ValueError, match="'x' sizes: 300, 299"):
        model.fit({"a": a, "b": b[:-1]}, y, verbose=0)


def test_multi_output_dict_losses_weights_and_metrics():
    x, labels = blobs(64, 3, 2, seed=3)
    reg = x[:, :1].astype("float32")
    model = TwoOutputs(3, 2)
    model.compile(optimizer=_frozen(model), loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"},
                  loss_weights={"reg": 0.5, "cls": 2.0}, metrics={"cls": ["accuracy"]})
    h = model.fit(x, {"reg": reg, "cls": labels}, batch_size=64, verbose=0)
    out = model.predict(x, verbose=0)
    assert sorted(out) == ["cls", "reg"] and out["reg"].shape == (64, 1) and out["cls"].shape == (64, 2)
    mse = np.mean((out["reg"] - reg) ** 2)
    ce = np.mean(-np.log(np.clip(out["cls"][np.arange(64), labels], 1e-7, 1)))
    assert sorted(h.history) == ["cls_accuracy", "cls_loss", "loss", "reg_loss"]
    np.testing.assert_allclose(h.history["reg_loss"][0], mse, rtol=1e-5)
    np.testing.assert_allclose(h.history["cls_loss"][0], ce, rtol=1e-5)
    np.testing.assert_allclose(h.history["loss"][0], 0.5 * mse + 2.0 * ce, rtol=1e-5)
    np.testing.assert_allclose(h.history["cls_accuracy"][0], np.mean(out["cls"].argmax(-1) == labels))


def test_multi_output_list_with_output_names():
    x, labels = blobs(32, 3, 2, seed=4)
    model = TwoOutputs(3, 2, as_list=True)
    model.compile(optimizer=_frozen(model), loss=["mse", "sparse_categorical_crossentropy"],
                  metrics=[[], ["accuracy"]])
    h = model.fit(x, [x[:, :1], labels], verbose=0)
    assert sorted(h.history) == ["cls_accuracy", "cls_loss", "loss", "reg_loss"]
    out = model.predict(x, verbose=0)
    assert isinstance(out, list) and out[0].shape == (32, 1) and out[1].shape == (32, 2)


def test_sample_weight_changes_the_loss_as_keras():
    # Keras's "sum_over_batch_size": sum(loss_i * w_i) / batch size (not / sum of weights).
    x = np.array([[1.0], [2.0], [3.0], [4.0]], "float32")
    y = np.array([[0.0], [1.0], [1.0], [5.0]], "float32")
    sw = np.array([1.0, 0.0, 2.0, 0.5], "float32")
    model = Linear(1, 1, w=[[1.0]], b=[0.0])
    model.compile(optimizer=_frozen(model), loss="mse", weighted_metrics=["mse"], metrics=["mae"])
    h = model.fit(x, y, sample_weight=sw, batch_size=4, verbose=0)
    sq = ((x - y) ** 2)[:, 0]
    np.testing.assert_allclose(h.history["loss"][0], np.sum(sq * sw) / 4, rtol=1e-6)
    # weighted metrics divide by the sum of weights; plain metrics ignore the weights
    np.testing.assert_allclose(h.history["mse"][0], np.sum(sq * sw) / np.sum(sw), rtol=1e-6)
    np.testing.assert_allclose(h.history["mae"][0], np.mean(np.abs(x - y)), rtol=1e-6)
    logs = model.evaluate(x, y, sample_weight=sw, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["loss"], np.sum(sq * sw) / 4, rtol=1e-6)


def test_class_weight_changes_the_loss_as_keras():
    x, labels = blobs(40, 3, 3, seed=8)
    cw = {0: 1.0, 1: 3.0, 2: 0.25}
    model = Linear(3, 3, activation="softmax", seed=2)
    model.compile(optimizer=_frozen(model), loss="sparse_categorical_crossentropy")
    h = model.fit(x, labels, class_weight=cw, batch_size=40, verbose=0)
    p = model.predict(x, verbose=0).astype(np.float64)
    ce = -np.log(np.clip(p[np.arange(40), labels], 1e-7, 1))
    w = np.array([cw[c] for c in labels])
    np.testing.assert_allclose(h.history["loss"][0], np.sum(ce * w) / 40, rtol=1e-5)
    # one-hot targets give the same weights (argmax of each row)
    model.compile(optimizer=_frozen(model), loss="categorical_crossentropy")
    h2 = model.fit(x, np.eye(3, dtype="float32")[labels], class_weight=cw, batch_size=40, verbose=0)
    np.testing.assert_allclose(h2.history["loss"][0], h.history["loss"][0], rtol=1e-5)
    # class_weight is used for training only: evaluate is unweighted
    np.testing.assert_allclose(model.evaluate(x, np.eye(3)[labels], verbose=0), ce.mean(), rtol=1e-5)
    with pytest.raises(ValueError, match="class_weight"):
        model.fit(x, labels, class_weight=cw, sample_weight=np.ones(40), verbose=0)
    with pytest.raises(ValueError, match="integer keys"):
        model.fit(x, labels, class_weight={"a": 1.0}, verbose=0)


def test_tensor_inputs_and_strings_rejected():
    model = Linear(2, 1)
    model.compile(loss="mse")
    x = ckeras.ops.convert_to_tensor(np.ones((4, 2), "float64"))
    model.fit(x, np.zeros((4, 1)), verbose=0)
    assert model.predict(x, verbose=0).dtype == np.float32
    model.fit(np.ones((3, 2)), [0.0, 1.0, 1.0], verbose=0)  # a flat list of numbers is one array
    with pytest.raises(ValueError, match="unsupported dtype"):
        model.fit(np.array([["a", "b"]] * 4), np.zeros((4, 1)), verbose=0)
    with pytest.raises(ValueError, match="Unrecognized data type"):
        model.fit(None, None, verbose=0)
