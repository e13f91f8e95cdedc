"""`predict`'s one-batch path (loops._lone_batch): same arrays, dtypes and errors as the general loop, and
the general loop whenever something listens (callbacks, progress bar) or `x` needs more than one batch."""
import numpy as np
import pytest

import ckeras
from ckeras import callbacks as cb
from ckeras import layers, models
from ckeras.trainers import loops


def _sequential():
    model = models.Sequential([layers.Input((5,)), layers.Dense(4, activation="relu"),
                               layers.Dense(3, activation="softmax")])
    return model


def _two_outputs():
    inp = layers.Input((5,))
    hidden = layers.Dense(4, activation="relu")(inp)
    return models.Model(inp, {"probs": layers.Dense(3, activation="softmax")(hidden),
                              "value": layers.Dense(1)(hidden)})


def _general(model, x, **kwargs):
    """`predict` forced through the epoch loop."""
    original = loops._lone_batch
    loops._lone_batch = lambda *args: None
    try:
        return model.predict(x, **kwargs)
    finally:
        loops._lone_batch = original


def _assert_same(fast, general):
    assert type(fast) is type(general)
    if isinstance(general, dict):
        assert list(fast) == list(general)
        for key in general:
            _assert_same(fast[key], general[key])
        return
    assert fast.dtype == general.dtype and fast.shape == general.shape
    assert fast.tobytes() == general.tobytes()
    assert fast.flags.owndata and fast.flags.writeable and fast.flags.c_contiguous


def _fast(model, x, **kwargs):
    """`predict` that fails if it builds the epoch loop."""
    def refuse(*args, **kwargs):
        raise AssertionError("predict took the general loop")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(loops, "EpochIterator", refuse)
        return model.predict(x, **kwargs)


@pytest.mark.parametrize("x", [np.random.default_rng(0).random((1, 5), dtype=np.float32),
                               np.random.default_rng(1).normal(size=(32, 5)),  # float64, a full batch
                               np.arange(15, dtype=np.int64).reshape(3, 5),
                               np.asfortranarray(np.random.default_rng(2).random((4, 5), dtype=np.float32))])
def test_one_batch_matches_the_loop(x):
    model = _sequential()
    general = _general(model, x, verbose=0)
    _assert_same(_fast(model, x, verbose=0), general)
    _assert_same(_fast(model, ckeras.ops.convert_to_tensor(x), verbose=0, callbacks=[]), general)


def test_dict_outputs_and_custom_predict_step():
    model = _two_outputs()
    x = np.random.default_rng(0).random((2, 5), dtype=np.float32)
    _assert_same(_fast(model, x, verbose=0), _general(model, x, verbose=0))

    class Doubled(models.Sequential):
        def predict_step(self, data):
            return {"twice": ckeras.ops.multiply(super().predict_step(data), 2.0)}

    doubled = Doubled([layers.Input((5,)), layers.Dense(3)])
    out = _fast(doubled, x, verbose=0)
    _assert_same(out, _general(doubled, x, verbose=0))
    assert doubled.stop_predicting is False


def test_scalar_output_raises_as_in_the_loop():
    class Scalar(models.Sequential):
        def predict_step(self, data):
            return ckeras.ops.sum(super().predict_step(data))

    model = Scalar([layers.Input((5,)), layers.Dense(3)])
    x = np.ones((2, 5), "float32")
    with pytest.raises(ValueError) as general:
        _general(model, x, verbose=0)
    with pytest.raises(ValueError) as fast:
        _fast(model, x, verbose=0)
    assert str(fast.value) == str(general.value)


def test_loop_when_anything_listens_or_several_batches():
    x = np.random.default_rng(0).random((3, 5), dtype=np.float32)
    log = []
    hooks = cb.LambdaCallback(on_predict_begin=lambda logs: log.append("begin"),
                              on_predict_batch_end=lambda batch, logs: log.append(batch),
                              on_predict_end=lambda logs: log.append("end"))
    for kwargs in ({"callbacks": [hooks]}, {"verbose": 1}, {"verbose": "auto"}, {"steps": 1},
                   {"batch_size": 2}):
        assert loops._lone_batch(x, kwargs.get("batch_size"), kwargs.get("verbose", 0), kwargs.get("steps"),
                                 kwargs.get("callbacks")) is None
    model = _sequential()
    model.predict(x, verbose=0, callbacks=[hooks])
    assert log == ["begin", 0, "end"]
    for rejected in (np.zeros((0, 5), "float32"), np.float32(1.0), np.array([["a"] * 5]), [x], {"a": x},
                     np.ones((33, 5), "float32"), ckeras.Variable(x)):
        assert loops._lone_batch(rejected, None, 0, None, None) is None


def test_errors_unchanged():
    model = _sequential()
    with pytest.raises(ValueError, match="batch dimension"):
        model.predict(np.float32(1.0), verbose=0)
    with pytest.raises(ValueError, match="dtype"):
        model.predict(np.array([["a"] * 5]), verbose=0)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        model.predict(np.ones((1, 5), "float32"), batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="incompatible with the layer") as fast:
        _fast(model, np.ones((1, 4), "float32"), verbose=0)
    with pytest.raises(ValueError) as general:
        _general(model, np.ones((1, 4), "float32"), verbose=0)
    assert str(fast.value) == str(general.value)


def test_progress_bar_unchanged(capsys):
    model = _sequential()
    model.predict(np.ones((1, 5), "float32"), verbose=1)
    assert "1/1" in capsys.readouterr().out
