"""The `Layer` base class: names, kwargs, tracking, weights, training propagation, losses, dtypes, config."""
import warnings

import numpy as np
import pytest

import ckeras
from ckeras import layers, models, ops
from ckeras.layers._utils import reset_uids


@pytest.fixture(autouse=True)
def _fresh_names():
    reset_uids()


def test_automatic_unique_names():
    assert [layers.Dense(1).name for _ in range(3)] == ["dense", "dense_1", "dense_2"]
    assert layers.Dropout(0.1).name == "dropout"

    class MyCustomLayer(layers.Layer):
        pass
    assert MyCustomLayer().name == "my_custom_layer"
    assert layers.Dense(1, name="head").name == "head"
    with pytest.raises(ValueError, match="cannot contain character `/`"):
        layers.Dense(1, name="a/b")


def test_input_shape_and_input_dim_warn():
    with pytest.warns(UserWarning, match=r"Do not pass an `input_shape`/`input_dim` argument to a layer\. When "
                                         r"using Sequential models, prefer using an `Input\(shape\)` object as "
                                         r"the first layer in the model instead\."):
        d = layers.Dense(2, input_shape=(784,))
    assert d._input_shape_arg == (784,)
    with pytest.warns(UserWarning):
        d = layers.Dense(2, input_dim=5)
    assert d._input_shape_arg == (5,)


def test_dense_defaults_and_config():
    d = layers.Dense(3)
    config = d.get_config()
    assert config["kernel_initializer"]["class_name"] == "GlorotUniform"
    assert config["bias_initializer"]["class_name"] == "Zeros"
    assert config["activation"] == "linear" and config["use_bias"] is True
    assert list(config)[:3] == ["name", "trainable", "dtype"]
    d2 = layers.Dense.from_config({**config, "name": "other", "activation": "relu"})
    assert d2.activation is ckeras.activations.relu


def test_glorot_uniform_bound_and_zero_bias():
    d = layers.Dense(128)
    d.build((None, 784))
    k = np.asarray(d.kernel)
    limit = np.sqrt(6 / (784 + 128))
    assert np.abs(k).max() <= limit and np.abs(k).max() > 0.9 * limit
    assert abs(k.std() - limit / np.sqrt(3)) < 0.01 * limit * 5
    assert not np.any(np.asarray(d.bias))
    assert d.kernel.path == "dense/kernel" and d.bias.path == "dense/bias"


def test_dense_math_and_activation_callable():
    d = layers.Dense(2, activation=lambda t: ops.multiply(t, 2.0))
    x = np.arange(6, dtype="float32").reshape(2, 3)
    y = np.asarray(d(x))
    np.testing.assert_allclose(y, 2 * (x @ np.asarray(d.kernel) + np.asarray(d.bias)), rtol=1e-6)


def test_int_and_float64_inputs_are_cast():
    d = layers.Dense(2)
    assert d(np.ones((2, 3), dtype="float64")).dtype == "float32"
    assert d(np.ones((2, 3), dtype="int32")).dtype == "float32"
    assert d(ops.convert_to_tensor(np.ones((2, 3)))).dtype == "float32"


def test_tracking_nested_layers_and_variables():
    class Block(layers.Layer):
        def __init__(self):
            super().__init__()
            self.a = layers.Dense(3)
            self.pair = [layers.Dense(2), layers.Dense(1)]
            self.scale = self.add_weight(shape=(), initializer="ones", trainable=False, name="scale")

        def call(self, x):
            return ops.multiply(self.pair[1](self.pair[0](self.a(x))), self.scale)

    b = Block()
    b(np.ones((2, 4)))
    assert len(b.layers) == 3
    assert [v.path for v in b.weights] == ["block/scale", "dense/kernel", "dense/bias", "dense_1/kernel",
                                           "dense_1/bias", "dense_2/kernel", "dense_2/bias"]
    assert len(b.trainable_weights) == 6 and len(b.non_trainable_weights) == 1
    assert b.variables == b.weights and b.trainable_variables == b.trainable_weights
    b.trainable = False
    assert b.trainable_weights == [] and len(b.non_trainable_weights) == 7
    assert not b.a.trainable


def test_seed_generator_state_is_a_variable_not_a_weight():
    d = layers.Dropout(0.5, seed=1)
    assert d.weights == [] and len(d.variables) == 1


def test_training_propagates_to_nested_layers():
    seen = []

    class Probe(layers.Layer):
        def call(self, x, training=None):
            seen.append(training)
            return x

    class Outer(layers.Layer):
        def __init__(self):
            super().__init__()
            self.probe = Probe()

        def call(self, x):
            return self.probe(x)

    outer = Outer()
    outer(np.ones((1, 2)), training=True)
    outer(np.ones((1, 2)))
    outer(np.ones((1, 2)), training=False)
    assert seen == [True, None, False]


def test_dropout_semantics():
    drop = layers.Dropout(0.5, seed=7)
    x = np.ones((64, 64), "float32")
    np.testing.assert_array_equal(np.asarray(drop(x)), x)  # bare call: inference
    y = np.asarray(drop(x, training=True))
    assert set(np.unique(y)) <= {0.0, 2.0} and 0.3 < (y == 0).mean() < 0.7
    assert not np.array_equal(y, np.asarray(drop(x, training=True)))  # the generator advances
    model = models.Sequential([layers.Input((64,)), layers.Dropout(0.5)])
    np.testing.assert_array_equal(np.asarray(model(x)), x)
    assert (np.asarray(model(x, training=True)) == 0).any()
    with pytest.raises(ValueError, match="Expected a float value between 0 and 1"):
        layers.Dropout(1.5)


def test_losses_are_from_last_call_and_regularizers():
    reg = ckeras.regularizers.L2(0.5)
    d = layers.Dense(2, kernel_regularizer=reg, activity_regularizer=ckeras.regularizers.L1(0.1),
                     kernel_initializer="ones")
    x = np.ones((4, 3), "float32")
    y = np.asarray(d(x))
    losses = d.losses
    assert len(losses) == 2
    np.testing.assert_allclose(float(losses[0]), 0.1 * np.abs(y).sum() / 4, rtol=1e-6)
    np.testing.assert_allclose(float(losses[1]), 0.5 * 6, rtol=1e-6)
    d(x)
    assert len(d.losses) == 2  # not accumulated across calls
    model = models.Sequential([layers.Input((3,)), d])
    model(x)
    assert len(model.losses) == 2


def test_add_loss_in_call_and_gradients_through_losses():
    class Penalized(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")

        def call(self, x):
            self.add_loss(ops.sum(ops.square(self.w)))
            return ops.multiply(x, self.w)

    p = Penalized()
    with ckeras.GradientTape() as tape:
        p(np.ones((2, 3), "float32"))
        total = p.losses[0]
    g = tape.gradient(total, p.trainable_variables)
    np.testing.assert_allclose(np.asarray(g[0]), 2 * np.ones(3))


def test_the_first_call_of_an_unbuilt_model_reports_its_own_losses_only():
    # A Sequential without an Input builds on its first call by running its layers once; that pass's
    # add_loss calls are not the call's losses (Keras reports one here, not three).
    class Penalized(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], 2))

        def call(self, x):
            self.add_loss(ops.mean(x))
            return ops.matmul(x, self.w)

    model = models.Sequential([Penalized(), layers.Dense(2)])
    x = np.full((2, 4), 3.0, "float32")
    model(x)
    assert [float(v) for v in model.losses] == [3.0]
    model(x)
    assert len(model.losses) == 1


def test_build_called_directly_and_super_build():
    class Sub(layers.Dense):
        def build(self, input_shape):
            super().build(input_shape)
            self.extra = self.add_weight(shape=(1,), name="extra")  # still inside the outer build

    s = Sub(2)
    s.build((None, 3))
    assert s.built and len(s.weights) == 3


def test_set_weights_checks():
    d = layers.Dense(2)
    d.build((None, 3))
    with pytest.raises(ValueError, match="was expecting 2 weights"):
        d.set_weights([np.ones((3, 2))])
    with pytest.raises(ValueError, match=r"weight shape \(3, 2\) is not compatible with provided weight shape"):
        d.set_weights([np.ones((2, 2)), np.ones(2)])
    d.set_weights([np.ones((3, 2)), np.zeros(2)])
    np.testing.assert_array_equal(d.get_weights()[0], np.ones((3, 2)))


def test_float64_layer():
    d = layers.Dense(2, dtype="float64")
    y = d(np.ones((1, 3)))
    assert y.dtype == "float64" and d.kernel.dtype == "float64"


def test_custom_layer_from_keras_docs():
    class SimpleDense(layers.Layer):
        def __init__(self, units=32):
            super().__init__()
            self.units = units

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform",
                                          trainable=True, name="kernel")
            self.bias = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True, name="bias")

        def call(self, inputs):
            return ops.matmul(inputs, self.kernel) + self.bias

    layer = SimpleDense(4)
    assert layer(ops.ones((2, 2))).shape == (2, 4)
    assert len(layer.weights) == 2 and len(layer.trainable_weights) == 2
    kt = SimpleDense(3)(layers.Input((5,)))  # shape inferred by running call on zeros
    assert kt.shape == (None, 3)


def test_symbolic_inference_keeps_unknown_dims():
    class Tile(layers.Layer):
        def call(self, x):
            return ops.concatenate([x, x], axis=1)

    out = Tile()(layers.Input(shape=(None, 4)))
    assert out.shape == (None, None, 4)


def test_initializers_get_and_seeds():
    from ckeras import initializers
    assert isinstance(initializers.get("glorot_uniform"), initializers.GlorotUniform)
    assert isinstance(initializers.get("GlorotUniform"), initializers.GlorotUniform)
    assert initializers.get(None) is None
    with pytest.raises(ValueError, match="Did you mean 'glorot_uniform'"):
        initializers.get("glorot_unifrom")
    a = initializers.HeNormal(seed=3)((4, 5))
    b = initializers.HeNormal(seed=3)((4, 5))
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert not np.array_equal(np.asarray(initializers.RandomNormal()((4, 5))),
                              np.asarray(initializers.RandomNormal()((4, 5))))
    np.testing.assert_array_equal(np.asarray(initializers.Constant(3.0)((2,))), [3.0, 3.0])
    q = np.asarray(initializers.Orthogonal(seed=1)((6, 4)))
    np.testing.assert_allclose(q.T @ q, np.eye(4), atol=1e-5)
    u = np.asarray(initializers.HeUniform(seed=0)((1000, 10)))
    assert np.abs(u).max() <= np.sqrt(6 / 1000)
    cfg = initializers.serialize(initializers.RandomUniform(-1.0, 1.0, seed=2))
    assert cfg["config"] == {"minval": -1.0, "maxval": 1.0, "seed": 2}
    assert initializers.deserialize(cfg).get_config() == cfg["config"]


def test_regularizers_and_constraints():
    from ckeras import constraints, regularizers
    w = np.array([[3.0, -4.0], [0.0, 0.0]], "float32")
    assert float(regularizers.l1(0.1)(w)) == pytest.approx(0.7)
    assert float(regularizers.L2(0.1)(w)) == pytest.approx(2.5)
    assert float(regularizers.l1_l2(l1=0.1, l2=0.1)(w)) == pytest.approx(3.2)
    assert regularizers.get("l2").get_config() == {"l2": 0.01}
    with pytest.raises(ValueError, match="Could not interpret regularizer"):
        regularizers.get("l3")
    np.testing.assert_allclose(np.asarray(constraints.NonNeg()(w)), np.maximum(w, 0))
    np.testing.assert_allclose(np.linalg.norm(np.asarray(constraints.unit_norm()(w)), axis=0)[0], 1.0, rtol=1e-5)
    mn = np.asarray(constraints.max_norm(2.0)(w))
    assert np.all(np.linalg.norm(mn, axis=0) <= 2.0 + 1e-5)


def test_constraint_applied_by_optimizer():
    d = layers.Dense(2, kernel_constraint="non_neg", kernel_initializer="ones")
    x = np.ones((4, 3), "float32")
    opt = ckeras.optimizers.SGD(learning_rate=10.0)
    with ckeras.GradientTape() as tape:
        loss = ops.sum(d(x))
    opt.apply_gradients(zip(tape.gradient(loss, d.trainable_variables), d.trainable_variables))
    assert np.all(np.asarray(d.kernel) >= 0)
