"""The eager train step's shortcuts give what the long ways give: Python scalars as tensors, `_divide_no_nan`
on a scalar, the optimizer's cached slot tensors, and `fit` skipping train-batch hooks nobody overrides."""
import numpy as np
import pytest

import ckeras
from ckeras import _core, layers, models, ops
from ckeras import callbacks as cb
from ckeras.callbacks.callback_list import CallbackList
from ckeras.losses.loss import _divide_no_nan
from ckeras.ops.core import _tensor


@pytest.mark.parametrize("value", [0.0, -0.0, 1.5, 0.1, 1e300, -1e300, 1e-50, 3.4028235677973366e38, float("inf"),
                                   float("nan"), True, False, 0, 7, -1, 2 ** 31 - 1, -2 ** 31, 2 ** 31, -2 ** 31 - 1,
                                   2 ** 62 + 1])
def test_python_scalars_convert_as_the_engine_does(value):
    fast, engine = _tensor(value), _core.convert_to_tensor(value)
    assert (fast.dtype, fast.shape, fast.device) == (engine.dtype, engine.shape, engine.device)
    assert np.asarray(fast).tobytes() == np.asarray(engine).tobytes()


def test_convert_to_tensor_returns_a_tensor_of_the_asked_dtype_as_is():
    t = ops.convert_to_tensor(np.ones(3, "float32"))
    assert ops.convert_to_tensor(t) is t and ops.convert_to_tensor(t, dtype="float32") is t
    assert ops.convert_to_tensor(t, dtype=np.float32).dtype == "float32"
    assert ops.convert_to_tensor(t, dtype="float64").dtype == "float64"
    with pytest.raises(ValueError, match="unsupported dtype"):
        ops.convert_to_tensor(t, dtype="float16")
    with pytest.raises(ValueError, match="sparse"):
        ops.convert_to_tensor(t, dtype="float32", sparse=True)


def _divide_no_nan_by_selects(x, y):
    """The general formula `_divide_no_nan` shortcuts for a non-zero scalar divisor."""
    x, y = ops.convert_to_tensor(x), ops.convert_to_tensor(y)
    zero = ops.equal(y, 0)
    return ops.where(zero, 0.0, ops.divide(x, ops.where(zero, 1.0, y)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("x,y", [(3.0, 7.0), (1.0, 0.0), (1.0, -0.0), (0.0, 0.0), (np.nan, 2.0), (2.0, np.nan),
                                 (np.inf, 3.0), (5.0, np.inf), ([1.0, -2.0, 0.5], 3.0), (1.0, [2.0, 0.0]),
                                 (1e-30, 3e38)])
def test_divide_no_nan_matches_the_selects(x, y, dtype):
    x, y = np.asarray(x, dtype), np.asarray(y, dtype)
    fast, general = _divide_no_nan(x, y), _divide_no_nan_by_selects(x, y)
    assert fast.dtype == general.dtype and fast.shape == general.shape
    assert np.asarray(fast).tobytes() == np.asarray(general).tobytes()


def test_divide_no_nan_keeps_the_gradient():
    x = ckeras.Variable(np.array(3.0, "float32"))
    for y in (2.0, 0.0):
        with ckeras.GradientTape() as tape:
            out = _divide_no_nan(x, np.float32(y))
        assert float(tape.gradient(out, x)) == (0.5 if y else 0.0)


def test_optimizer_reads_slots_written_after_its_first_step():
    rng = np.random.default_rng(0)
    shapes = [(4, 3), (3,)]
    grads = [[rng.normal(size=s).astype("float32") for s in shapes] for _ in range(3)]
    first = [ckeras.Variable(rng.normal(size=s).astype("float32")) for s in shapes]
    second = [ckeras.Variable(v.numpy()) for v in first]
    used, fresh = ckeras.optimizers.AdamW(weight_decay=0.01), ckeras.optimizers.AdamW(weight_decay=0.01)
    used.apply(grads[0], first)  # builds the optimizer and caches its slot tensors
    fresh.build(second)
    state = [v.numpy() if v.dtype == "int64" or v.ndim == 0 else rng.random(v.shape).astype(v.dtype)
             for v in used.variables]  # new moments, written in place
    used.set_weights(state)
    fresh.set_weights(state)
    for v, w in zip(second, first):
        v.assign(w.numpy())
    for g in grads[1:]:
        used.apply(g, first)
        fresh.apply(g, second)
    for a, b in zip(first + used.variables, second + fresh.variables):
        assert a.numpy().tobytes() == b.numpy().tobytes()


class _Quiet(cb.Callback):
    def on_epoch_end(self, epoch, logs=None):
        pass


class _Legacy(cb.Callback):
    def __init__(self):
        super().__init__()
        self.batches = []

    def on_batch_end(self, batch, logs=None):  # reached through Callback.on_train_batch_end
        self.batches.append(batch)


class _Spying(cb.Callback):
    def __getattribute__(self, name):
        return object.__getattribute__(self, name)


def test_which_callback_lists_listen_to_train_batches():
    def quiet(*callbacks):
        return CallbackList(list(callbacks), add_history=True).batch_hooks_are_noops()

    assert quiet() and quiet(cb.Callback(), _Quiet(), cb.History())
    assert not quiet(_Legacy()) and not quiet(_Spying())
    assert not quiet(cb.LambdaCallback(on_train_batch_begin=lambda batch, logs: None))
    assert not quiet(cb.LambdaCallback(on_batch_end=lambda batch, logs: None))
    assert not quiet(cb.ProgbarLogger())
    patched = cb.Callback()
    patched.on_train_batch_end = lambda batch, logs=None: None
    assert not quiet(patched)

    class Mine(CallbackList):
        def on_train_batch_end(self, batch, logs=None):
            super().on_train_batch_end(batch, logs)

    assert not Mine([]).batch_hooks_are_noops()


def _fit(callbacks):
    np.random.seed(3)
    ckeras.utils.set_random_seed(3)
    rng = np.random.default_rng(0)
    x = rng.random((70, 6), dtype=np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 70)]
    model = models.Sequential([layers.Input((6,)), layers.Dense(5, activation="relu"),
                               layers.Dense(3, activation="softmax")])
    model.compile(optimizer=ckeras.optimizers.AdamW(), loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=callbacks).history
    return history, [w.tobytes() for w in model.get_weights()]


def test_fit_gives_the_same_with_and_without_batch_hooks(monkeypatch):
    monkeypatch.setenv("CKERAS_TRAIN_PLAN", "0")
    legacy = _Legacy()
    assert _fit([legacy]) == _fit([]) == _fit([_Quiet()])
    assert legacy.batches == [0, 1, 2, 3, 4] * 2
