"""ERRORS.md rows 21-30 (training): exact exception types and message fragments, and a usable model after."""
import re

import numpy as np
import pytest

import ckeras
from ckeras import ops
from ckeras.callbacks import TerminateOnNaN
from trainer_models import Linear, blobs


def _compiled(din=3, dout=2, loss="sparse_categorical_crossentropy", **kw):
    model = Linear(din, dout, activation="softmax" if dout > 1 else None)
    model.compile(optimizer="sgd", loss=loss, **kw)
    return model


def _still_trains(model, x, y):
    h = model.fit(x, y, epochs=1, verbose=0)
    assert np.isfinite(h.history["loss"][0])
    assert model.predict(x, verbose=0).shape[0] == len(x)


def test_row21_fit_or_evaluate_before_compile():
    x, y = blobs(10, 3, 2)
    model = Linear(3, 2, activation="softmax")
    with pytest.raises(ValueError, match=re.escape("You must call `compile()` before calling `fit()`.")):
        model.fit(x, y, verbose=0)
    with pytest.raises(ValueError, match=re.escape("You must call `compile()` before calling `evaluate()`.")):
        model.evaluate(x, y, verbose=0)
    with pytest.raises(ValueError, match=re.escape("before calling `train_on_batch()`")):
        model.train_on_batch(x, y)
    assert model.predict(x, verbose=0).shape == (10, 2)  # predict needs no compile
    model.compile(loss="sparse_categorical_crossentropy")
    _still_trains(model, x, y)


def test_row22_cardinality_mismatch():
    model = _compiled()
    x, y = blobs(100, 3, 2)
    with pytest.raises(ValueError) as info:
        model.fit(x, y[:90], verbose=0)
    msg = str(info.value)
    assert "Data cardinality is ambiguous" in msg
    assert "\n'x' sizes: 100\n" in msg and "\n'y' sizes: 90\n" in msg  # each label on its own line
    with pytest.raises(ValueError, match="'sample_weight' sizes: 7"):
        model.fit(x, y, sample_weight=np.ones(7), verbose=0)
    with pytest.raises(ValueError, match="Data cardinality is ambiguous"):
        model.evaluate(x[:5], y, verbose=0)
    _still_trains(model, x, y)


def test_row23_zero_samples():
    model = _compiled()
    for call in (lambda: model.fit(np.zeros((0, 3)), np.zeros((0,), "int64"), verbose=0),
                 lambda: model.evaluate(np.zeros((0, 3)), np.zeros((0,), "int64"), verbose=0)):
        with pytest.raises(ValueError, match="0 samples"):
            call()
    assert model.predict(np.zeros((0, 3)), verbose=0).shape == (0, 2)
    _still_trains(model, *blobs(10, 3, 2))


def test_row24_integer_labels_with_categorical_crossentropy():
    model = Linear(3, 10, activation="softmax")
    model.compile(loss="categorical_crossentropy")
    x = np.random.default_rng(0).normal(size=(16, 3))
    y = np.arange(16) % 10
    with pytest.raises(ValueError) as info:
        model.fit(x, y, verbose=0)
    msg = str(info.value)
    assert "must have the same shape" in msg and "(16,)" in msg and "(16, 10)" in msg
    assert "use sparse_categorical_crossentropy for integer labels" in msg
    _still_trains(model, x, np.eye(10, dtype="float32")[y])


def test_row25_label_out_of_range():
    model = _compiled(dout=3)
    x = np.random.default_rng(0).normal(size=(4, 3))
    for bad in (3, -1):
        with pytest.raises(ValueError, match=rf"label value of {bad}.*valid range of \[0, 3\)"):
            model.fit(x, np.array([0, 1, bad, 2]), verbose=0)
    _still_trains(model, x, np.array([0, 1, 2, 2]))


@pytest.mark.parametrize("bad", [0, -3, 2.5, 32.0, True, "32"])
def test_row26_batch_size_must_be_a_positive_integer(bad):
    model = _compiled()
    x, y = blobs(10, 3, 2)
    for call in (lambda: model.fit(x, y, batch_size=bad, verbose=0),
                 lambda: model.evaluate(x, y, batch_size=bad, verbose=0),
                 lambda: model.predict(x, batch_size=bad, verbose=0)):
        with pytest.raises(ValueError, match="batch_size must be a positive integer"):
            call()
    with pytest.raises(ValueError, match="validation_batch_size must be a positive integer"):
        model.fit(x, y, validation_split=0.5, validation_batch_size=bad, verbose=0)
    model.fit(x, y, batch_size=np.int64(4), verbose=0)  # NumPy integers are fine
    _still_trains(model, x, y)


def test_row27_batch_size_larger_than_the_data():
    model = _compiled()
    x, y = blobs(10, 3, 2)
    h = model.fit(x, y, batch_size=1000, epochs=2, verbose=0)
    assert model.calls[-1][0][0] == 10 and len(h.history["loss"]) == 2


def test_row28_epochs_zero_and_negative():
    model = _compiled()
    x, y = blobs(10, 3, 2)
    before = model.get_weights()
    h = model.fit(x, y, epochs=0, verbose=0)
    assert h.history == {} and model.calls == []
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    with pytest.raises(ValueError, match="`epochs` must be a non-negative integer"):
        model.fit(x, y, epochs=-1, verbose=0)
    with pytest.raises(ValueError, match="`initial_epoch` must be a non-negative integer"):
        model.fit(x, y, initial_epoch=-2, verbose=0)
    _still_trains(model, x, y)


@pytest.mark.parametrize("bad", [1.0, 1.5, -0.1, "0.2"])
def test_row29_validation_split_out_of_range(bad):
    model = _compiled()
    x, y = blobs(10, 3, 2)
    with pytest.raises(ValueError, match=r"validation_split.*\[0, 1\)"):
        model.fit(x, y, validation_split=bad, verbose=0)
    _still_trains(model, x, y)


def test_row29_validation_split_leaving_no_samples():
    model = _compiled()
    x, y = blobs(3, 3, 2)
    with pytest.raises(ValueError, match="Training data contains 3 samples, which is not sufficient to split it "
                                         "into a validation and training set"):
        model.fit(x, y, validation_split=0.9, verbose=0)  # floor(3 * 0.1) = 0 training samples
    gen = (b for b in [(x, y)])
    with pytest.raises(ValueError, match="`validation_split` is only supported for Tensors or NumPy arrays"):
        model.fit(gen, validation_split=0.5, verbose=0)
    _still_trains(model, x, y)


def _nan_data():
    x = np.ones((8, 1), "float32")
    y = np.ones((8, 1), "float32")
    x[5] = np.nan  # batch 2 (batch size 2) carries a NaN: the loss is NaN from there on
    return x, y


def test_row30_nan_loss_warns_once_and_keeps_training():
    x, y = _nan_data()
    model = Linear(1, 1)
    model.compile(optimizer="sgd", loss="mse")
    with pytest.warns(RuntimeWarning) as record:
        h = model.fit(x, y, batch_size=2, epochs=2, shuffle=False, verbose=0)
    nan_warnings = [w for w in record if "NaN or Inf loss encountered at batch 2" in str(w.message)]
    assert len(nan_warnings) == 1 and len(record) == 1
    assert len(h.history["loss"]) == 2 and np.isnan(h.history["loss"][0])
    assert len(model.calls) == 8  # every batch of both epochs ran


def test_row30_terminate_on_nan(capsys):
    x, y = _nan_data()
    model = Linear(1, 1)
    model.compile(optimizer="sgd", loss="mse")
    with pytest.warns(RuntimeWarning):
        h = model.fit(x, y, batch_size=2, epochs=3, shuffle=False, verbose=0, callbacks=[TerminateOnNaN()])
    assert "Batch 2: Invalid loss, terminating training" in capsys.readouterr().out
    assert model.stop_training and len(model.calls) == 3 and len(h.history["loss"]) == 1


def test_row30_terminate_on_nan_raise_error():
    x, y = _nan_data()
    model = Linear(1, 1)
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 2"):
        model.fit(x, y, batch_size=2, shuffle=False, verbose=0, callbacks=[TerminateOnNaN(raise_error=True)])
    model.set_weights([np.ones((1, 1), "float32"), np.zeros(1, "float32")])
    _still_trains(model, np.ones((4, 1), "float32"), np.ones((4, 1), "float32"))


def test_error_inside_a_step_leaves_the_model_usable():
    calls = {"n": 0}

    def flaky(y_true, y_pred):
        calls["n"] += 1
        if calls["n"] == 2:
            raise ValueError("boom")
        return ops.mean(ops.square(y_true - y_pred), axis=-1)

    x, y = np.ones((6, 2), "float32"), np.zeros((6, 1), "float32")
    model = Linear(2, 1)
    model.compile(optimizer="sgd", loss=flaky)
    with pytest.raises(ValueError, match="boom"):
        model.fit(x, y, batch_size=2, verbose=0)
    assert not ckeras._core.grad_enabled()  # the tape closed
    _still_trains(model, x, y)
    assert model.evaluate(x, y, verbose=0) >= 0


def test_compile_argument_errors():
    model = Linear(2, 1)
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier: adamm"):
        model.compile(optimizer="adamm", loss="mse")
    with pytest.raises(ValueError, match="Expected `metrics` argument to be a list, tuple, or dict"):
        model.compile(loss="mse", metrics="accuracy")
    model.compile(optimizer="sgd")
    with pytest.raises(ValueError, match="No loss to compute"):
        model.fit(np.ones((2, 2)), np.ones((2, 1)), verbose=0)
    with pytest.raises(ValueError, match="Expected `validation_freq` to be a list or int"):
        model.compile(loss="mse")
        model.fit(np.ones((4, 2)), np.ones((4, 1)), validation_split=0.5, validation_freq="x", verbose=0)
    with pytest.raises(ValueError, match="Arguments not recognized"):
        model.evaluate(np.ones((4, 2)), np.ones((4, 1)), foo=1)


def test_single_output_accepts_one_element_loss_and_loss_weights_lists():
    import numpy as np
    import ckeras as keras
    x = np.random.default_rng(0).random((16, 4)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss=["mse"], loss_weights=[2.0])
    plain = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    plain.set_weights(model.get_weights())
    plain.compile(optimizer="sgd", loss="mse")
    weighted = model.evaluate(x, y, verbose=0)
    base = plain.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(weighted, 2.0 * base, rtol=1e-5)
