"""The captured training step (trainers/train_plan.py): `fit` through `_core.TrainPlan` must leave the weights,
optimizer state, metric state and History bitwise equal to the eager step (CKERAS_TRAIN_PLAN=0), both when a
whole epoch runs in C++ and when the existing loop calls it per batch; other models keep the eager path."""
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import ckeras
from ckeras import layers, models

pytestmark = pytest.mark.cpu_placement  # the C++ fast paths run on the CPU only


def _data(n=100, features=20, classes=10, kind="onehot", seed=0):
    r = np.random.default_rng(seed)
    x = r.normal(size=(n, features)).astype("float32")
    labels = r.integers(0, classes, n)
    if kind == "onehot":
        return x, np.eye(classes, dtype="float32")[labels]
    if kind == "sparse":
        return x, labels.astype("int64")
    if kind == "binary":
        return x, (x[:, 0] + 0.3 * r.normal(size=n) > 0).astype("float32")
    return x, x[:, :3] @ r.normal(size=(3, 2)).astype("float32")  # regression, 2 targets


def e1(features):  # the article's model: no Input, built by fit
    return models.Sequential([layers.Dense(32, activation="relu"), layers.Dense(10, activation="softmax")])


def e2(features):  # functional, with Dropout
    i = ckeras.Input((features,))
    h = layers.Dense(16, activation="relu")(i)
    h = layers.Dropout(0.2)(h)
    h = layers.Dense(24, activation="relu")(h)
    return models.Model(i, layers.Dense(10, activation="softmax")(h))


def binary(features):
    return models.Sequential([ckeras.Input((features,)), layers.Dense(8, activation="tanh"),
                              layers.Dense(1, activation="sigmoid")])


def sparse(features):
    return models.Sequential([ckeras.Input((features,)), layers.Dense(12, activation="sigmoid"),
                              layers.Dropout(0.5), layers.Dense(10, activation="softmax")])


def regression(features):
    return models.Sequential([ckeras.Input((features,)), layers.Dense(8, activation="relu", use_bias=False),
                              layers.Dense(2)])


def flatten_input(features):
    return models.Sequential([ckeras.Input((4, features // 4)), layers.Flatten(),
                              layers.Dense(16, activation="relu"), layers.Dense(10, activation="softmax")])


CASES = {
    "E1-adam": (e1, "onehot", "adam", "categorical_crossentropy", ["accuracy"]),
    "E2-adam": (e2, "onehot", "adam", "categorical_crossentropy", ["accuracy"]),
    "sigmoid-bce-rmsprop": (binary, "binary", "rmsprop", "binary_crossentropy", ["accuracy"]),
    "sparse-sgd-momentum": (sparse, "sparse", lambda: ckeras.optimizers.SGD(0.05, momentum=0.9),
                            "sparse_categorical_crossentropy", ["accuracy"]),
    "mse-adamw-clipnorm": (regression, "regression", lambda: ckeras.optimizers.AdamW(clipnorm=0.5), "mse", None),
    "flatten-adagrad-global-clip": (flatten_input, "onehot", lambda: ckeras.optimizers.Adagrad(0.05,
                                    global_clipnorm=1.0), "categorical_crossentropy", ["acc"]),
}


def _train(monkeypatch, plan, case, epochs=2, batch_size=32, n=100, fit_kwargs=None, model=None):
    build, kind, optimizer, loss, metrics = CASES[case]
    monkeypatch.setenv("CKERAS_TRAIN_PLAN", "1" if plan else "0")
    x, y = _data(n=n, kind=kind)
    if case.startswith("flatten"):
        x = x.reshape(n, 4, 5)
    ckeras.utils.set_random_seed(7)
    if model is None:
        model = build(20)
        model.compile(optimizer=optimizer() if callable(optimizer) else optimizer, loss=loss, metrics=metrics)
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, **(fit_kwargs or {"verbose": 0}))
    return model, history


def _assert_same(a, b):
    (ma, ha), (mb, hb) = a, b
    assert ha.history == hb.history
    for wa, wb in zip(ma.get_weights(), mb.get_weights()):
        assert np.array_equal(wa, wb)
    for va, vb in zip(ma.optimizer.variables, mb.optimizer.variables):
        assert np.array_equal(np.asarray(va), np.asarray(vb)), va.path
    assert ma.get_metrics_result().keys() == mb.get_metrics_result().keys()
    for (ka, ra), rb in zip(ma.get_metrics_result().items(), mb.get_metrics_result().values()):
        assert float(ra) == float(rb), ka


@pytest.mark.parametrize("case", sorted(CASES))
def test_whole_epochs_match_eager_bitwise(monkeypatch, case):
    eager = _train(monkeypatch, False, case, n=100)  # 100 = 3 batches of 32 and one of 4
    plan = _train(monkeypatch, True, case, n=100)
    assert eager[0]._train_plan_status == "eager: CKERAS_TRAIN_PLAN=0"
    assert plan[0]._train_plan_status == "epoch"
    _assert_same(plan, eager)


@pytest.mark.parametrize("case", ["E1-adam", "E2-adam", "sigmoid-bce-rmsprop"])
def test_per_batch_steps_match_eager_bitwise(monkeypatch, case):
    class Seen(ckeras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.logs = []

        def on_train_batch_end(self, batch, logs=None):
            self.logs.append((batch, dict(logs)))

    seen = {}
    runs = []
    for plan in (False, True):
        seen[plan] = Seen()
        runs.append(_train(monkeypatch, plan, case, n=70, batch_size=16,
                           fit_kwargs={"verbose": 0, "callbacks": [seen[plan]], "validation_split": 0.2}))
    assert runs[1][0]._train_plan_status == "step"
    _assert_same(runs[1], runs[0])
    assert seen[True].logs == seen[False].logs and len(seen[True].logs) == 2 * 4
    assert "val_loss" in runs[1][1].history


@pytest.mark.parametrize("verbose", [1, 2])
def test_progress_bar_epochs_run_whole_and_report(monkeypatch, capsys, verbose):
    """The progress bar alone keeps the whole-epoch path: it gets the running logs after the first step and
    then periodically, and prints what the eager run prints (up to timings)."""
    from ckeras.callbacks.progbar_logger import ProgbarLogger
    calls = []
    original = ProgbarLogger.on_train_batch_end
    monkeypatch.setattr(ProgbarLogger, "on_train_batch_end",
                        lambda self, batch, logs=None: (calls.append((batch, dict(logs))), original(self, batch, logs)))
    runs, printed = [], []
    for plan in (False, True):
        calls.clear()
        runs.append(_train(monkeypatch, plan, "E1-adam", n=300, batch_size=8, fit_kwargs={"verbose": verbose}))
        printed.append(capsys.readouterr().out)
    assert runs[1][0]._train_plan_status == "epoch"
    _assert_same(runs[1], runs[0])
    assert calls and calls[0][0] == 0 and all(b < 300 // 8 for b, _ in calls)  # partial epochs, then the end
    assert set(calls[0][1]) == {"loss", "accuracy"}

    def final_lines(out):  # the finished bar of each epoch, without the timings
        import re
        lines = [l for l in re.split(r"[\r\n]", out) if "38/38" in l or "Epoch" in l]
        return [re.sub(r"\d+(\.\d+)?(ms|us|s)(/step)?", "T", l).rstrip() for l in lines if l.strip()][-3:]
    assert final_lines(printed[1]) == final_lines(printed[0])


def test_an_error_in_the_progress_bar_stops_the_epoch_cleanly(monkeypatch):
    from ckeras.callbacks.progbar_logger import ProgbarLogger

    def fail(self, batch, logs=None):
        raise RuntimeError("stdout is gone")
    monkeypatch.setattr(ProgbarLogger, "on_train_batch_end", fail)
    monkeypatch.setenv("CKERAS_TRAIN_PLAN", "1")
    x, y = _data(n=64)
    model = e1(20)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    with pytest.raises(RuntimeError, match="stdout is gone"):
        model.fit(x, y, batch_size=8, epochs=1, verbose=1)
    assert model._train_plan_status == "epoch"
    assert int(model.optimizer.iterations) == 1  # the progress call after the first step raised
    assert np.isfinite(model.predict(x, verbose=0)).all()


def test_batch_of_one_and_no_shuffle(monkeypatch):
    kw = {"verbose": 0, "shuffle": False}
    eager = _train(monkeypatch, False, "E2-adam", n=5, batch_size=1, fit_kwargs=kw)
    plan = _train(monkeypatch, True, "E2-adam", n=5, batch_size=1, fit_kwargs=kw)
    _assert_same(plan, eager)


def test_integer_data_frozen_layer_and_column_labels(monkeypatch):
    """uint8 images and one-hot labels (converted as the data adapter does), a frozen first layer, and sparse
    labels of shape (n, 1)."""
    r = np.random.default_rng(3)
    images = r.integers(0, 256, (90, 4, 5), dtype=np.uint8)
    onehot = np.eye(10, dtype=np.uint8)[r.integers(0, 10, 90)]
    column = r.integers(0, 10, (90, 1)).astype("int32")
    for labels, loss in ((onehot, "categorical_crossentropy"), (column, "sparse_categorical_crossentropy")):
        runs = []
        for flag in ("0", "1"):
            monkeypatch.setenv("CKERAS_TRAIN_PLAN", flag)
            ckeras.utils.set_random_seed(11)
            model = flatten_input(20)
            model.layers[1].trainable = False
            model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
            runs.append((model, model.fit(images, labels, epochs=2, batch_size=16, verbose=0)))
        assert runs[1][0]._train_plan_status == "epoch"
        _assert_same(runs[1], runs[0])


def test_trained_state_is_the_models(monkeypatch):
    """evaluate/predict see the plan's training, and a later eager fit continues from it exactly."""
    x, y = _data()
    plan = _train(monkeypatch, True, "E1-adam", epochs=1)
    eager = _train(monkeypatch, False, "E1-adam", epochs=1)
    assert int(plan[0].optimizer.iterations) == 4
    assert np.array_equal(plan[0].predict(x, verbose=0), eager[0].predict(x, verbose=0))
    assert plan[0].evaluate(x, y, verbose=0) == eager[0].evaluate(x, y, verbose=0)
    _assert_same(_train(monkeypatch, False, "E1-adam", epochs=1, model=plan[0]),
                 _train(monkeypatch, False, "E1-adam", epochs=1, model=eager[0]))


class Doubler(layers.Layer):
    def call(self, x):
        return x * 2.0


class CustomStep(models.Sequential):
    def train_step(self, data):
        return super().train_step(data)


@pytest.mark.parametrize("make, reason", [
    (lambda: models.Sequential([ckeras.Input((20,)), Doubler(), layers.Dense(10, activation="softmax")]),
     "(Doubler): not one kernel"),
    (lambda: CustomStep([ckeras.Input((20,)), layers.Dense(10, activation="softmax")]), "`train_step`"),
    (lambda: models.Sequential([ckeras.Input((20,)), layers.Dense(10, activation="softmax",
                                                                  kernel_regularizer="l2")]), "regularizer"),
    (lambda: models.Sequential([ckeras.Input((20,)), layers.Dense(10, activation="elu"),
                                layers.Dense(10, activation="softmax")]), "activation"),
])
def test_ineligible_models_train_eagerly(monkeypatch, make, reason):
    monkeypatch.setenv("CKERAS_TRAIN_PLAN", "1")
    x, y = _data()
    model = make()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=2, verbose=0)
    assert model._train_plan_status.startswith("eager:") and reason in model._train_plan_status
    assert np.isfinite(history.history["loss"]).all() and int(model.optimizer.iterations) == 8


def test_sample_weights_and_schedules_train_eagerly(monkeypatch):
    monkeypatch.setenv("CKERAS_TRAIN_PLAN", "1")
    x, y = _data()
    model = e1(20)
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(x, y, sample_weight=np.ones(len(x)), verbose=0)
    assert model._train_plan_status.startswith("eager: sample weights")
    schedule = ckeras.optimizers.schedules.ExponentialDecay(0.01, 10, 0.9)
    model.compile(optimizer=ckeras.optimizers.Adam(schedule), loss="categorical_crossentropy")
    model.fit(x, y, verbose=0)
    assert model._train_plan_status == "eager: a learning-rate schedule"


def test_bad_labels_and_nan_losses_match_eager(monkeypatch):
    x, y = _data(n=200, kind="sparse")
    y[170] = 10  # in the sixth batch: five steps are done when it fails
    errors, trackers = [], []
    for flag in ("0", "1"):
        monkeypatch.setenv("CKERAS_TRAIN_PLAN", flag)
        ckeras.utils.set_random_seed(3)
        model = sparse(20)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        with pytest.raises(ValueError) as e:
            model.fit(x, y, shuffle=False, verbose=0)
        errors.append(str(e.value))
        trackers.append((model._loss_tracker._total, model._loss_tracker._count, int(model.optimizer.iterations)))
    assert errors[0] == errors[1] and "label value of 10" in errors[1]
    assert trackers[0] == trackers[1] and trackers[1][1] == 5 * 32 and trackers[1][2] == 5
    x, y = _data()
    x[40:50] = np.nan
    messages = []
    for flag in ("0", "1"):
        monkeypatch.setenv("CKERAS_TRAIN_PLAN", flag)
        model = e1(20)
        model.compile(optimizer="sgd", loss="categorical_crossentropy")
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            model.fit(x, y, shuffle=False, verbose=0)
        messages.append([str(m.message) for m in w if m.category is RuntimeWarning])
    assert messages[0] == messages[1] and len(messages[1]) == 1 and "at batch 1 (loss=nan)" in messages[1][0]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_stops_a_whole_epoch_fit():
    code = textwrap.dedent("""
        import os, signal, threading, time
        import numpy as np
        from ckeras import layers, models
        x = np.random.rand(200000, 64).astype("float32")
        y = np.eye(10, dtype="float32")[np.random.randint(0, 10, 200000)]
        m = models.Sequential([layers.Dense(256, activation="relu"), layers.Dense(10, activation="softmax")])
        m.compile(optimizer="adam", loss="categorical_crossentropy")
        threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        t0 = time.time()
        try:
            m.fit(x, y, epochs=50, batch_size=32, verbose=0)
            print("NOT INTERRUPTED")
        except KeyboardInterrupt:
            print("INTERRUPTED", time.time() - t0)
        steps = int(m.optimizer.iterations)
        print("STATUS", m._train_plan_status, steps > 0)
        print("COUNTED", m._loss_tracker._count == 32 * (steps % 6250))  # this epoch's finished steps
        print("FINITE", all(np.isfinite(w).all() for w in m.get_weights()))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert "INTERRUPTED" in out.stdout and "NOT" not in out.stdout, out.stdout + out.stderr
    assert float(out.stdout.split("INTERRUPTED")[1].split()[0]) < 30.0
    assert "STATUS epoch True" in out.stdout and "FINITE True" in out.stdout and "COUNTED True" in out.stdout
