"""`predict` on several batches of a Dense chain in one C++ call (loops._plan_batches, ForwardPlan.predict_guarded):
the bytes of the batch-by-batch loop, and that loop whenever anything could differ."""
import numpy as np
import pytest

import ckeras
from ckeras import callbacks as cb
from ckeras import layers, models
from ckeras.trainers import loops


def _sequential(last="softmax"):
    return models.Sequential([layers.Input((6,)), layers.Dense(5, activation="relu"),
                              layers.Dense(4, activation=last)])


def _functional():
    inp = layers.Input((6,))
    h = layers.Dropout(0.5)(layers.Dense(7, activation="tanh")(inp))
    return models.Model(inp, layers.Dense(3, activation="sigmoid")(layers.Dense(5)(h)))


def _x(rows, seed=0):
    return np.random.default_rng(seed).normal(size=(rows, 6)).astype(np.float32)


def _general(model, x, **kwargs):
    """`predict` through the epoch loop."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(loops, "_plan_batches", lambda *args: None)
        return model.predict(x, **kwargs)


def _counting(monkeypatch):
    """A list that gets one entry per predict the plan ran."""
    from ckeras.models import _inference_fast
    ran, original = [], _inference_fast.predict_batches

    def counted(*args):
        out = original(*args)
        if out is not None:
            ran.append(out.shape)
        return out
    monkeypatch.setattr(_inference_fast, "predict_batches", counted)
    return ran


def _assert_same(a, b):
    assert a.dtype == b.dtype == np.float32 and a.shape == b.shape
    assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("make", [_sequential, _functional, lambda: _sequential("linear")])
@pytest.mark.parametrize("rows,batch_size", [(70, 32), (65, 32), (64, 32), (1025, 1024), (9, 2)])
def test_the_batches_in_one_call_give_the_loops_bytes(make, rows, batch_size, monkeypatch):
    model = make()
    x = _x(rows)
    expected = _general(model, x, batch_size=batch_size, verbose=0)
    ran = _counting(monkeypatch)
    out = model.predict(x, batch_size=batch_size, verbose=0)  # the loop ran first: the model remembers its plan
    assert ran == [(rows, expected.shape[1])]
    _assert_same(out, expected)
    assert out.flags.owndata and out.flags.writeable and out.flags.c_contiguous
    assert model._call_path == "plan"
    out[0, 0] = 5.0  # the caller's own array


def test_the_default_batch_size_and_new_weights(monkeypatch):
    model = _sequential()
    x = _x(100)
    model.predict(x, verbose=0)
    ran = _counting(monkeypatch)
    _assert_same(model.predict(x, verbose=0), _general(model, x, verbose=0))
    model.layers[0].kernel.assign(np.full((6, 5), 0.25, np.float32))
    model.set_weights([w * 2 for w in model.get_weights()])
    after = model.predict(x, verbose=0)
    _assert_same(after, _general(model, x, verbose=0))
    assert len(ran) == 2  # weights are read at the call: same plan, new values
    assert not np.array_equal(after, model.predict(_x(100, seed=1), verbose=0))


def test_a_changed_layer_takes_the_loop(monkeypatch):
    model = _sequential()
    x = _x(50)
    model.predict(x, batch_size=16, verbose=0)
    ran = _counting(monkeypatch)
    model.layers[1].activation = ckeras.activations.sigmoid
    out = model.predict(x, batch_size=16, verbose=0)
    expected = 1 / (1 + np.exp(-(np.maximum(x @ model.layers[0].kernel.numpy() + model.layers[0].bias.numpy(), 0)
                                 @ model.layers[1].kernel.numpy() + model.layers[1].bias.numpy())))
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    assert ran == []  # the guard failed: the loop ran, and its plan call is remembered again
    _assert_same(model.predict(x, batch_size=16, verbose=0), out)
    assert len(ran) == 1


def test_the_loop_when_anything_listens_or_x_does_not_fit(monkeypatch):
    model = _sequential()
    x = _x(40)
    model.predict(x, batch_size=8, verbose=0)
    ran = _counting(monkeypatch)
    log = []
    hooks = cb.LambdaCallback(on_predict_batch_end=lambda batch, logs: log.append(batch))
    expected = _general(model, x, batch_size=8, verbose=0)
    _assert_same(model.predict(x, batch_size=8, verbose=0, callbacks=[hooks]), expected)
    assert log == [0, 1, 2, 3, 4]
    _assert_same(model.predict(x, batch_size=8, verbose=0, steps=5), expected)
    for other in (np.asfortranarray(x), x.astype(np.float64), x[:, :5]):
        if other.shape[1] == 6:
            np.testing.assert_allclose(model.predict(other, batch_size=8, verbose=0), expected, rtol=1e-6)
    with pytest.raises(ValueError) as fast:
        model.predict(x[:, :5], batch_size=8, verbose=0)
    with pytest.raises(ValueError) as general:
        _general(model, x[:, :5], batch_size=8, verbose=0)
    assert str(fast.value) == str(general.value)
    with ckeras.GradientTape():
        _assert_same(model.predict(x, batch_size=8, verbose=0), expected)
    assert ran == []


def test_a_custom_step_function_or_layer_takes_the_loop(monkeypatch):
    class Doubled(models.Sequential):
        def predict_step(self, data):
            return ckeras.ops.multiply(super().predict_step(data), 2.0)

    x = _x(30)
    doubled = Doubled([layers.Input((6,)), layers.Dense(3)])
    doubled.predict(x, batch_size=8, verbose=0)
    ran = _counting(monkeypatch)
    twice = doubled.predict(x, batch_size=8, verbose=0)
    np.testing.assert_allclose(twice, 2 * doubled(x).numpy(), rtol=1e-6)

    model = _sequential()
    model.predict(x, batch_size=8, verbose=0)
    model.predict_function = lambda data: model.predict_step(data) * 0 + 1
    assert np.all(model.predict(x, batch_size=8, verbose=0) == 1)

    class Scale(layers.Layer):
        def call(self, inputs):
            return inputs * 3.0

    mixed = models.Sequential([layers.Input((6,)), Scale(), layers.Dense(4, activation="softmax")])
    mixed.predict(x, batch_size=8, verbose=0)
    _assert_same(mixed.predict(x, batch_size=8, verbose=0), _general(mixed, x, batch_size=8, verbose=0))
    assert ran == []


def test_predict_guarded_checks_its_arguments():
    model = _sequential()
    x = _x(20)
    model.predict(x, batch_size=8, verbose=0)
    memo = model.__dict__["_fast_memo"]
    plan, guards = memo[0], memo[2]
    _assert_same(plan.predict_guarded(x, 6, 8, guards), _general(model, x, batch_size=8, verbose=0))
    assert plan.predict_guarded(x, 6, 0, guards) is None
    assert plan.predict_guarded(x, 5, 8, guards) is None
    assert plan.predict_guarded(x[::2], 6, 8, guards) is None  # not C-contiguous
    assert plan.predict_guarded(ckeras.ops.convert_to_tensor(x), 6, 8, guards) is None
    assert plan.predict_guarded(x, 6, 8, (model.__dict__, "built", False)) is None
    with pytest.raises(TypeError, match="guards must be a tuple"):
        plan.predict_guarded(x, 6, 8, [])
    with pytest.raises(ValueError, match="triples"):
        plan.predict_guarded(x, 6, 8, (model.__dict__, "built"))
