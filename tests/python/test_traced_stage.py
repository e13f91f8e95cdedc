"""Custom layers as TrainPlan stages (trainers/traced_stage.py): layers whose call is activation(x @ kernel
[+ bias]) train bitwise as eagerly; anything else, or a call that reads tensor values, keeps the eager step."""
import numpy as np
import pytest

import ckeras
from ckeras import layers, models, ops

pytestmark = pytest.mark.cpu_placement  # the C++ fast paths run on the CPU only


class ArticleLayer(layers.Layer):  # the article's E3 layer, with the build it forgot
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform")

    def call(self, inputs):
        return ckeras.keras.activations.relu(ckeras.matmul(inputs, self.kernel))


class BiasLayer(layers.Layer):  # bias first in the sum, a training argument, tanh
    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], 6), initializer="glorot_uniform")
        self.b = self.add_weight(shape=(6,), initializer="ones")

    def call(self, x, training=None):
        return ops.tanh(self.b + ops.matmul(x, self.w))


class SoftmaxHead(layers.Layer):  # the model's last stage, softmax with logits attached
    def build(self, input_shape):
        self.k = self.add_weight(shape=(input_shape[-1], 10), initializer="glorot_uniform")

    def call(self, x):
        return ckeras.activations.softmax(ops.matmul(x, self.k))


class Branches(ArticleLayer):  # reads a value: the captured step would freeze the branch
    def call(self, inputs):
        y = ops.matmul(inputs, self.kernel)
        return ops.relu(y) if float(ops.mean(y)) > 0 else y


class TrainingDiffers(ArticleLayer):
    def call(self, inputs, training=None):
        y = ops.matmul(inputs, self.kernel)
        return ops.relu(y) if training else y


class Elu(ArticleLayer):
    def call(self, inputs):
        return ops.elu(ops.matmul(inputs, self.kernel))


class PlainSoftmax(SoftmaxHead):  # ops.softmax attaches no logits: eager scores the probabilities
    def call(self, x):
        return ops.softmax(ops.matmul(x, self.k))


def _data(n=100, features=20, seed=0):
    r = np.random.default_rng(seed)
    x = r.normal(size=(n, features)).astype("float32")
    return x, np.eye(10, dtype="float32")[r.integers(0, 10, n)]


def _fit(monkeypatch, plan, make, optimizer, run_eagerly=False, epochs=2, shuffle=True):
    monkeypatch.setenv("CKERAS_TRAIN_PLAN", "1" if plan else "0")
    x, y = _data()
    ckeras.utils.set_random_seed(3)
    model = make()
    model.compile(optimizer=optimizer(), loss="categorical_crossentropy", metrics=["accuracy"],
                  run_eagerly=run_eagerly)
    history = model.fit(x, y, epochs=epochs, batch_size=16, verbose=0, shuffle=shuffle)
    return model, history


MODELS = {
    "E3": (lambda: models.Sequential([ArticleLayer(64), layers.Dense(10, activation="softmax")]),
           lambda: ckeras.keras.optimizers.experimental.AdamW(learning_rate=1e-3, weight_decay=0.01)),
    "bias-tanh-head": (lambda: models.Sequential([ckeras.Input((20,)), BiasLayer(), layers.Dropout(0.3),
                                                  SoftmaxHead()]), lambda: ckeras.optimizers.SGD(0.1, momentum=0.9)),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_custom_layers_train_on_the_plan_bitwise_as_eagerly(monkeypatch, name):
    make, optimizer = MODELS[name]
    plan = _fit(monkeypatch, True, make, optimizer)
    assert plan[0]._train_plan_status == "epoch"
    eager = _fit(monkeypatch, False, make, optimizer)
    assert eager[0]._train_plan_status.startswith("eager")
    assert plan[1].history == eager[1].history
    for a, b in zip(plan[0].get_weights(), eager[0].get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(plan[0].optimizer.variables, eager[0].optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize("layer, reason", [
    (Branches, "reads a tensor's value"),
    (TrainingDiffers, "differently in training and inference"),
    (Elu, "not activation(inputs @ kernel"),
    (PlainSoftmax, "carries no logits"),
])
def test_other_custom_layers_train_eagerly(monkeypatch, layer, reason):
    units = 10 if issubclass(layer, SoftmaxHead) else 8
    make = (lambda: models.Sequential([ckeras.Input((20,)), layer()])) if units == 10 else \
        (lambda: models.Sequential([ckeras.Input((20,)), layer(units), layers.Dense(10, activation="softmax")]))
    model, history = _fit(monkeypatch, True, make, lambda: "adam")
    assert model._train_plan_status.startswith("eager:") and reason in model._train_plan_status, \
        model._train_plan_status
    assert np.isfinite(history.history["loss"]).all()
    # value reads are refused during the trace only: the eager step still reads them
    assert float(ops.mean(ckeras.convert_to_tensor(np.ones(3, "float32")))) == 1.0


def test_run_eagerly_keeps_the_eager_step(monkeypatch):
    make, optimizer = MODELS["E3"]
    model, _ = _fit(monkeypatch, True, make, optimizer, run_eagerly=True)
    assert model._train_plan_status.startswith("eager:") and "has no plan stage" in model._train_plan_status
