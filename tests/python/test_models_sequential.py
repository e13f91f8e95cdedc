"""Sequential: construction, add/pop, lazy build, summary (Keras 3's table), config, seed programs 1 and 3."""
import numpy as np
import pytest

import ckeras
from ckeras import layers, models, ops
from ckeras.layers._utils import reset_uids

# Keras 3's summary of the article's first model (784-128-10), as it prints in an 80-column terminal.
EXPECTED_SUMMARY = """\
Model: "sequential"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ dense (Dense)                   │ (None, 128)            │       100,480 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_1 (Dense)                 │ (None, 10)             │         1,290 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 101,770 (397.54 KB)
 Trainable params: 101,770 (397.54 KB)
 Non-trainable params: 0 (0.00 B)
"""


@pytest.fixture(autouse=True)
def _fresh_names(monkeypatch):
    reset_uids()
    monkeypatch.setenv("COLUMNS", "80")


def seed_program_1():
    """keras-interacts-with-tensorflow.md, example 1."""
    with pytest.warns(UserWarning, match="Do not pass an `input_shape`"):
        return models.Sequential([
            layers.Dense(128, activation="relu", input_shape=(784,)),
            layers.Dense(10, activation="softmax"),
        ])


def test_seed_program_1_builds_immediately():
    model = seed_program_1()
    assert model.built
    assert [l.name for l in model.layers] == ["dense", "dense_1"]
    assert model.count_params() == 101770
    assert model.input_shape == (None, 784) and model.output_shape == (None, 10)
    y = np.asarray(model(np.random.rand(5, 784).astype("float32")))
    assert y.shape == (5, 10)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)


def test_summary_matches_keras_table():
    model = seed_program_1()
    out = []
    model.summary(print_fn=out.append)
    assert out == [EXPECTED_SUMMARY]


def test_summary_wide_terminal_and_line_length():
    model = seed_program_1()
    out = []
    model.summary(print_fn=out.append, line_length=88)
    lines = out[0].splitlines()
    assert all(len(l) == 88 for l in lines[1:-3])
    assert lines[2] == "┃ Layer (type)                         ┃ Output Shape                ┃         Param # ┃"


def test_summary_to_stdout(capsys):
    seed_program_1().summary()
    assert capsys.readouterr().out == EXPECTED_SUMMARY


def test_summary_non_trainable_and_unbuilt_rows():
    model = models.Sequential([layers.Input((4,)), layers.Dense(3), layers.Dense(2)])
    model.layers[0].trainable = False
    out = []
    model.summary(print_fn=out.append, show_trainable=True)
    assert " Non-trainable params: 15 (60.00 B)" in out[0]
    assert " Trainable params: 8 (32.00 B)" in out[0]
    assert "Trainable" in out[0]


class MyCustomLayer(layers.Layer):
    """keras-interacts-with-tensorflow.md, example 3: `call` reads `self.kernel`, which is never created."""

    def __init__(self, units):
        super(MyCustomLayer, self).__init__()
        self.units = units

    def call(self, inputs):
        return ckeras.activations.relu(ops.matmul(inputs, self.kernel))


def test_seed_program_3_raises_attribute_error_with_keras_context():
    model = models.Sequential([MyCustomLayer(64), layers.Dense(10, activation="softmax")])
    assert not model.built
    with pytest.raises(AttributeError) as info:
        model(np.ones((32, 784), "float32"))
    msg = str(info.value)
    assert "'MyCustomLayer' object has no attribute 'kernel'" in msg
    assert "Exception encountered when calling MyCustomLayer.call()" in msg
    assert "Arguments received by MyCustomLayer.call():" in msg
    assert "784" in msg


def test_add_pop_and_lazy_build():
    model = models.Sequential()
    model.add(layers.Dense(4))
    model.add(layers.Dense(2))
    assert not model.built and model.weights == []
    y = model(np.ones((3, 5)))
    assert model.built and y.shape == (3, 2) and model.input_shape == (None, 5)
    popped = model.pop()
    assert popped.name == "dense_1" and [l.name for l in model.layers] == ["dense"]
    assert model(np.ones((3, 5))).shape == (3, 4)
    model.add(layers.Dense(7))
    assert model.built and model.output_shape == (None, 7)
    with pytest.raises(TypeError, match="There are no layers in the model"):
        models.Sequential().pop()


def test_input_tensor_and_input_layer_first():
    m1 = models.Sequential([layers.Input(shape=(6,)), layers.Dense(2)])
    m2 = models.Sequential([layers.InputLayer(shape=(6,)), layers.Dense(2)])
    m3 = models.Sequential()
    m3.add(layers.Input(shape=(6,)))
    m3.add(layers.Dense(2))
    for m in (m1, m2, m3):
        assert m.built and m.output_shape == (None, 2) and len(m.layers) == 1


def test_explicit_build_and_symbolic_build():
    model = models.Sequential([layers.Dense(3), layers.Dense(1)])
    model.build((None, 8))
    assert model.built and model.count_params() == 27 + 4
    lazy = models.Sequential([layers.Dense(3)])
    lazy._symbolic_build(data_batch=(np.ones((16, 2)), np.ones((16, 3))))
    assert lazy.built and lazy.output_shape == (None, 3)


def test_add_errors():
    model = models.Sequential([layers.Dense(2, name="a")])
    with pytest.raises(ValueError, match="unique names"):
        model.add(layers.Dense(2, name="a"))
    with pytest.raises(ValueError, match="Only instances of `keras.Layer`"):
        model.add("dense")


def test_config_round_trip():
    model = models.Sequential([layers.Input((5,)), layers.Dense(4, activation="relu"), layers.Dropout(0.2),
                               layers.Dense(1)])
    config = model.get_config()
    assert config["layers"][0]["class_name"] == "InputLayer"
    assert [l["class_name"] for l in config["layers"][1:]] == ["Dense", "Dropout", "Dense"]
    clone = models.Sequential.from_config(config)
    assert clone.built and clone.count_params() == model.count_params()
    clone.set_weights(model.get_weights())
    x = np.random.rand(3, 5).astype("float32")
    np.testing.assert_allclose(np.asarray(clone(x)), np.asarray(model(x)), rtol=1e-6)


def test_training_step_reduces_loss():
    model = models.Sequential([layers.Input((4,)), layers.Dense(8, activation="relu"), layers.Dense(1)])
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 4)).astype("float32")
    y = (x.sum(axis=1, keepdims=True)).astype("float32")
    opt = ckeras.optimizers.Adam(learning_rate=0.01)
    losses = []
    for _ in range(30):
        with ckeras.GradientTape() as tape:
            loss = ops.mean(ops.square(ops.subtract(model(x, training=True), y)))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        losses.append(float(loss))
    assert losses[-1] < 0.5 * losses[0]
