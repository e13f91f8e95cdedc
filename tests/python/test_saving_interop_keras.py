"""`.keras` files between ckeras and real Keras 3 (PyTorch backend), both directions: same predictions, same
optimizer state after training, and the same weights after one more step on each side. Keras always runs
in a subprocess (KERAS_BACKEND=torch), so Keras and ckeras never share a process."""
import importlib.util
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import ckeras

_HAVE_KERAS = importlib.util.find_spec("keras") is not None and importlib.util.find_spec("torch") is not None
if not _HAVE_KERAS and os.environ.get("CKERAS_REQUIRE_KERAS_INTEROP") == "1":
    raise RuntimeError("CKERAS_REQUIRE_KERAS_INTEROP=1 but Keras 3 / torch are not importable")
pytestmark = pytest.mark.skipif(not _HAVE_KERAS,
                                reason="Keras 3 with the torch backend is not installed (scripts/test.sh installs it)")

# Built the same way on both sides: `keras` is either ckeras or Keras 3.
BUILDERS = textwrap.dedent('''
    def sequential(keras):
        L = keras.layers
        return keras.Sequential([keras.Input((2, 3)), L.Flatten(), L.Dense(8, activation="relu"), L.Dropout(0.3),
                                 L.Dense(6, activation="tanh"), L.Reshape((2, 3)), L.Activation("sigmoid"),
                                 L.Flatten(), L.Dense(4, activation="elu"), L.Dense(2, activation="softmax")])

    def functional(keras):
        L = keras.layers
        a = keras.Input((4,), name="a")
        b = keras.Input((4,), name="b")
        h = L.Dense(5, activation="relu")(a)
        g = L.Dense(5, activation="selu")(b)
        merged = [L.Add()([h, g]), L.Subtract()([h, g]), L.Multiply()([h, g]), L.Average()([h, g]),
                  L.Maximum()([h, g]), L.Minimum()([h, g])]
        c = L.Concatenate()(merged + [a])
        c = L.Dropout(0.2)(c)
        out = L.Dense(3, activation="sigmoid")(L.Identity()(c))
        return keras.Model([a, b], out)

    def trainable(keras, optimizer):
        L = keras.layers
        opt = (keras.optimizers.Adam(learning_rate=0.01) if optimizer == "adam"
               else keras.optimizers.SGD(learning_rate=0.05, momentum=0.9))
        model = keras.Sequential([keras.Input((4,)), L.Dense(6, activation="tanh"), L.Dense(2)])
        model.compile(optimizer=opt, loss="mse", metrics=["mae"])
        return model
''')

# Runs in the Keras process: build (and train) and save, or load; then dump what the test compares.
KERAS_SCRIPT = BUILDERS + textwrap.dedent('''
    import sys, numpy as np, keras
    action, kind, path, data, out = sys.argv[1:6]
    d = dict(np.load(data))
    if action == "save":
        if kind in ("adam", "sgd"):
            model = trainable(keras, kind)
            for i in range(3):
                model.train_on_batch(d["x"][i * 4:(i + 1) * 4], d["y"][i * 4:(i + 1) * 4])
        else:
            model = globals()[kind](keras)
        model.save(path)
    else:
        model = keras.models.load_model(path)
    result = {"pred": model.predict(d["inputs"] if kind == "sequential" else
                                    ([d["a"], d["b"]] if kind == "functional" else d["x"]), verbose=0)}
    for i, w in enumerate(model.get_weights()):
        result[f"w{i}"] = w
    if kind in ("adam", "sgd"):
        for i, v in enumerate(model.optimizer.variables):
            result[f"opt{i}"] = np.asarray(v.numpy())
        model.train_on_batch(d["x"][12:], d["y"][12:])
        for i, w in enumerate(model.get_weights()):
            result[f"next{i}"] = w
    np.savez(out, **result)
''')


def _builders():
    namespace = {}
    exec(BUILDERS, namespace)
    return namespace


def _data(tmp_path):
    rng = np.random.default_rng(0)
    data = {"inputs": rng.standard_normal((5, 2, 3)).astype("float32"),
            "a": rng.standard_normal((5, 4)).astype("float32"), "b": rng.standard_normal((5, 4)).astype("float32"),
            "x": rng.standard_normal((16, 4)).astype("float32"), "y": rng.standard_normal((16, 2)).astype("float32")}
    np.savez(tmp_path / "data.npz", **data)
    return data


def _keras(tmp_path, action, kind, path):
    script = tmp_path / "keras_side.py"
    script.write_text(KERAS_SCRIPT)
    out = tmp_path / f"keras_{action}_{kind}.npz"
    env = {**os.environ, "KERAS_BACKEND": "torch", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run([sys.executable, str(script), action, kind, str(path), str(tmp_path / "data.npz"),
                           str(out)], env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return dict(np.load(out))


def _inputs(kind, data):
    return {"sequential": data["inputs"], "functional": [data["a"], data["b"]]}.get(kind, data["x"])


def _weights(result, prefix):
    return [result[f"{prefix}{i}"] for i in range(sum(k.startswith(prefix) and k[len(prefix):].isdigit()
                                                      for k in result))]


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_ckeras_file_loads_in_keras(tmp_path, kind):
    data = _data(tmp_path)
    model = _builders()[kind](ckeras)
    model.save(tmp_path / "m.keras")
    result = _keras(tmp_path, "load", kind, tmp_path / "m.keras")
    np.testing.assert_allclose(result["pred"], model.predict(_inputs(kind, data), verbose=0), rtol=1e-5, atol=1e-6)
    for mine, theirs in zip(model.get_weights(), _weights(result, "w")):
        np.testing.assert_array_equal(mine, theirs)


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_keras_file_loads_in_ckeras(tmp_path, kind):
    data = _data(tmp_path)
    result = _keras(tmp_path, "save", kind, tmp_path / "k.keras")
    model = ckeras.models.load_model(tmp_path / "k.keras")
    assert type(model).__name__ == ("Sequential" if kind == "sequential" else "Functional")
    np.testing.assert_allclose(model.predict(_inputs(kind, data), verbose=0), result["pred"], rtol=1e-5, atol=1e-6)


def _check_state_and_next_step(model, result, data):
    assert int(model.optimizer.iterations) == 3 == int(result["opt0"])
    theirs = _weights(result, "opt")
    assert len(model.optimizer.variables) == len(theirs)
    for mine, other in zip(model.optimizer.variables, theirs):
        assert tuple(mine.shape) == other.shape
        np.testing.assert_allclose(np.asarray(mine), other, rtol=1e-5, atol=1e-6)
    model.train_on_batch(data["x"][12:], data["y"][12:])
    for mine, other in zip(model.get_weights(), _weights(result, "next")):
        np.testing.assert_allclose(mine, other, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_training_state_ckeras_to_keras(tmp_path, optimizer):
    data = _data(tmp_path)
    model = _builders()["trainable"](ckeras, optimizer)
    for i in range(3):
        model.train_on_batch(data["x"][i * 4:(i + 1) * 4], data["y"][i * 4:(i + 1) * 4])
    model.save(tmp_path / "m.keras")
    result = _keras(tmp_path, "load", optimizer, tmp_path / "m.keras")
    _check_state_and_next_step(model, result, data)  # Keras's loaded state equals ckeras's, and so does its step


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_training_state_keras_to_ckeras(tmp_path, optimizer):
    data = _data(tmp_path)
    result = _keras(tmp_path, "save", optimizer, tmp_path / "k.keras")
    model = ckeras.models.load_model(tmp_path / "k.keras")
    assert model.compiled and type(model.optimizer).__name__ == ("Adam" if optimizer == "adam" else "SGD")
    for mine, other in zip(model.get_weights(), _weights(result, "w")):
        np.testing.assert_array_equal(mine, other)
    _check_state_and_next_step(model, result, data)
