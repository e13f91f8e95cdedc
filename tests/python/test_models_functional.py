"""Functional API and subclassed models: seed program 2, several inputs/outputs, shared layers, nested
models, config round trip, summary with "Connected to", the trainer-facing interface."""
import numpy as np
import pytest

import ckeras
from ckeras import layers, models, ops
from ckeras.layers._utils import reset_uids


@pytest.fixture(autouse=True)
def _fresh_names(monkeypatch):
    reset_uids()
    monkeypatch.setenv("COLUMNS", "80")


def seed_program_2():
    """keras-interacts-with-tensorflow.md, example 2."""
    input_tensor = layers.Input(shape=(784,))
    x = layers.Dense(64, activation="relu")(input_tensor)
    x = layers.Dropout(0.2)(x)
    y = layers.Dense(128, activation="relu")(x)
    output_tensor = layers.Dense(10, activation="softmax")(y)
    return models.Model(inputs=input_tensor, outputs=output_tensor)


def test_seed_program_2():
    model = seed_program_2()
    assert type(model).__name__ == "Functional" and isinstance(model, models.Model)
    assert model.name == "functional" and model.built
    assert [l.name for l in model.layers] == ["input_layer", "dense", "dropout", "dense_1", "dense_2"]
    assert model.count_params() == 784 * 64 + 64 + 64 * 128 + 128 + 128 * 10 + 10
    x = np.random.rand(8, 784).astype("float32")
    np.testing.assert_allclose(np.asarray(model(x)), np.asarray(model(x, training=False)))
    np.testing.assert_allclose(np.asarray(model(x)).sum(1), 1.0, rtol=1e-5)
    assert model.inputs[0].shape == (None, 784) and model.outputs[0].shape == (None, 10)
    assert model.get_layer("dropout").rate == 0.2 and model.get_layer(index=1).name == "dense"


def test_dropout_active_only_in_training():
    inp = layers.Input((100,))
    model = models.Model(inp, layers.Dropout(0.5)(inp))
    x = np.ones((4, 100), "float32")
    np.testing.assert_array_equal(np.asarray(model(x)), x)
    assert (np.asarray(model(x, training=True)) == 0).any()


def test_multi_input_multi_output_lists():
    a, b = layers.Input((3,), name="a"), layers.Input((5,), name="b")
    h = layers.Concatenate()([layers.Dense(4)(a), layers.Dense(4)(b)])
    out1, out2 = layers.Dense(1, name="out1")(h), layers.Dense(2, name="out2")(h)
    model = models.Model([a, b], [out1, out2])
    xa, xb = np.ones((6, 3), "float32"), np.ones((6, 5), "float32")
    y1, y2 = model([xa, xb])
    assert y1.shape == (6, 1) and y2.shape == (6, 2)
    y1d, _ = model({"a": xa, "b": xb})  # inputs by name
    np.testing.assert_allclose(np.asarray(y1d), np.asarray(y1))
    with pytest.raises(ValueError, match='expects 2 input'):
        model([xa])


def test_dict_inputs_and_outputs():
    inputs = {"img": layers.Input((4,), name="img"), "meta": layers.Input((2,), name="meta")}
    h = layers.Add()([layers.Dense(3)(inputs["img"]), layers.Dense(3)(inputs["meta"])])
    model = models.Model(inputs, {"score": layers.Dense(1)(h), "feat": h})
    out = model({"img": np.ones((2, 4)), "meta": np.ones((2, 2))})
    assert set(out) == {"score", "feat"} and out["score"].shape == (2, 1)
    with pytest.raises(ValueError, match='Missing data for input "meta"'):
        model({"img": np.ones((2, 4))})


def test_shared_layer():
    shared = layers.Dense(3, name="shared")
    a, b = layers.Input((4,)), layers.Input((4,))
    model = models.Model([a, b], layers.Subtract()([shared(a), shared(b)]))
    assert len(model.trainable_weights) == 2
    x = np.random.rand(2, 4).astype("float32")
    np.testing.assert_allclose(np.asarray(model([x, x])), 0.0, atol=1e-6)
    assert len(shared._inbound_nodes) == 2
    out = []
    model.summary(print_fn=out.append)
    assert "Connected to" in out[0] and "shared[0][0]" in out[0] and "shared[1][0]" in out[0]


def test_nested_models():
    encoder = models.Sequential([layers.Input((6,)), layers.Dense(4, activation="relu")], name="encoder")
    inner_in = layers.Input((4,))
    head = models.Model(inner_in, layers.Dense(2)(inner_in), name="head")
    inp = layers.Input((6,))
    outer = models.Model(inp, head(encoder(inp)))
    assert outer.outputs[0].shape == (None, 2)
    assert [l.name for l in outer.layers] == ["input_layer_2", "encoder", "head"]
    assert len(outer.weights) == 4 and outer.count_params() == 28 + 10
    x = np.random.rand(3, 6).astype("float32")
    np.testing.assert_allclose(np.asarray(outer(x)), np.asarray(head(encoder(x))), rtol=1e-6)
    lazy = models.Sequential([layers.Dense(5)])  # unbuilt Sequential nested in a graph
    assert lazy(layers.Input((7,))).shape == (None, 5) and lazy.built


def test_functional_config_round_trip():
    a, b = layers.Input((3,), name="a"), layers.Input((3,), name="b")
    shared = layers.Dense(2, name="shared")
    out = layers.Concatenate(name="cat")([shared(a), shared(b)])
    model = models.Model([a, b], layers.Dense(1, name="head")(out), name="twin")
    config = model.get_config()
    assert config["input_layers"] == [["a", 0, 0], ["b", 0, 0]]
    assert config["output_layers"] == [["head", 0, 0]]
    node = [l for l in config["layers"] if l["name"] == "cat"][0]["inbound_nodes"][0]
    assert node["args"][0][1]["config"]["keras_history"] == ["shared", 1, 0]
    reset_uids()
    clone = models.Model.from_config(config)
    assert clone.name == "twin" and clone.count_params() == model.count_params()
    clone.set_weights(model.get_weights())
    x = [np.random.rand(2, 3).astype("float32")] * 2
    np.testing.assert_allclose(np.asarray(clone(x)), np.asarray(model(x)), rtol=1e-6)


def test_subclassed_model():
    class MLP(models.Model):
        def __init__(self):
            super().__init__()
            self.hidden = layers.Dense(8, activation="relu")
            self.drop = layers.Dropout(0.5)
            self.out = layers.Dense(2)

        def call(self, x, training=None):
            return self.out(self.drop(self.hidden(x), training=training))

    model = MLP()
    assert model.name == "mlp" and not model.built
    y = model(np.ones((3, 4)))
    assert y.shape == (3, 2) and model.built and len(model.trainable_variables) == 4
    assert [l.name for l in model.layers] == ["dense", "dropout", "dense_1"]
    other = MLP()
    other.build((None, 4))
    assert other.count_params() == 4 * 8 + 8 + 8 * 2 + 2
    out = []
    other.summary(print_fn=out.append)
    assert " Total params: 58 (232.00 B)" in out[0]


def test_trainer_interface():
    model = seed_program_2()
    assert model.non_trainable_variables == [] or all(not v.trainable for v in model.non_trainable_variables)
    assert len(model.trainable_variables) == 6
    assert any("seed_generator" in v.name for v in model.variables)
    x = np.random.rand(16, 784).astype("float32")
    y = np.eye(10, dtype="float32")[np.arange(16) % 10]
    assert model(x, training=True).shape == (16, 10)
    opt = ckeras.optimizers.SGD(learning_rate=0.1)
    with ckeras.GradientTape() as tape:  # training=False: no dropout noise, so one step must help
        loss = ops.mean(ops.categorical_crossentropy(y, model(x, training=False)))
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))
    after = float(ops.mean(ops.categorical_crossentropy(y, model(x))))
    assert after < float(loss)


def test_inputs_must_be_keras_tensors():
    with pytest.raises(ValueError, match="must be KerasTensors"):
        models.Model(np.ones((2, 3)), layers.Input((3,)))


def test_rank_adjustment_of_trailing_axis():
    inp = layers.Input((1,))
    model = models.Model(inp, layers.Dense(2)(inp))
    assert model(np.ones((5,), "float32")).shape == (5, 2)


def test_operators_on_keras_tensors():
    a = layers.Input((4,))
    h = layers.Dense(4)(a)
    z = -(((h + a) * 2.0 - 1.0)[:, :2])
    model = models.Model(a, z)
    assert z.shape == (None, 2)
    assert [l.name for l in model.layers][2:] == ["add", "multiply", "subtract", "get_item", "negative"]
    x = np.random.rand(3, 4).astype("float32")
    d = model.get_layer("dense")
    ref = -(((x @ np.asarray(d.kernel) + np.asarray(d.bias)) + x) * 2 - 1)[:, :2]
    np.testing.assert_allclose(np.asarray(model(x)), ref, rtol=1e-5, atol=1e-6)
    r = models.Model(a, 1.0 - a)
    np.testing.assert_allclose(np.asarray(r(x)), 1.0 - x, rtol=1e-6)


def test_custom_layer_automatic_config():
    class Scale(layers.Layer):
        def __init__(self, factor, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return ops.multiply(x, self.factor)

    s = Scale(3.0, name="scale")
    assert s.get_config()["factor"] == 3.0 and s.get_config()["name"] == "scale"
    assert Scale.from_config(s.get_config()).factor == 3.0


def test_model_inherits_trainer_mixin_when_present():
    """With `ckeras.trainers.trainer.Trainer` importable, Model subclasses it and calls its __init__."""
    import subprocess
    import sys
    import textwrap
    code = textwrap.dedent("""
        import sys, types
        pkg = types.ModuleType("ckeras.trainers"); pkg.__path__ = []
        mod = types.ModuleType("ckeras.trainers.trainer")
        class Trainer:
            def __init__(self):
                self.compiled = False
                self.optimizer = None
            def fit(self, x):
                self._symbolic_build(data_batch=(x,))
                return self(x, training=True).shape
        mod.Trainer = Trainer
        sys.modules["ckeras.trainers"] = pkg
        sys.modules["ckeras.trainers.trainer"] = mod
        import numpy as np
        from ckeras import layers, models
        assert issubclass(models.Model, Trainer)
        m = models.Sequential([layers.Dense(3)])
        assert m.compiled is False
        assert m.fit(np.ones((4, 2))) == (4, 3)
        inp = layers.Input((2,))
        f = models.Model(inp, layers.Dense(1)(inp))
        assert isinstance(f, Trainer) and f.compiled is False
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_subclass_built_from_inputs_and_outputs_runs_its_own_train_step():
    # Keras's "customize what happens in fit()" recipe: a Model subclass built as Functional.
    import numpy as np
    import ckeras as keras

    class CustomModel(keras.Model):
        def train_step(self, data):
            x, y = data
            with keras.GradientTape() as tape:
                loss = self.compute_loss(y=y, y_pred=self(x, training=True))
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply(grads, self.trainable_variables)
            self.custom_steps += 1
            for metric in self.metrics:  # as Keras's guide does: the step updates its own trackers
                if metric.name == "loss":
                    metric.update_state(loss)
            return {m.name: m.result() for m in self.metrics}

    class WithInit(keras.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.extra = 5

    inputs = keras.Input(shape=(4,))
    outputs = keras.layers.Dense(1)(inputs)
    model = CustomModel(inputs, outputs)
    assert isinstance(model, CustomModel) and type(model).__name__ == "CustomModel"
    model.custom_steps = 0
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    x = np.random.default_rng(0).random((64, 4)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert model.custom_steps == 20
    assert history.history["loss"][-1] < history.history["loss"][0]
    other = WithInit(inputs=inputs, outputs=outputs, name="with_init")
    assert other.extra == 5 and other.name == "with_init"
    assert other.predict(x[:3], verbose=0).shape == (3, 1)
