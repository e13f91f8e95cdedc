"""`predict` on several batches of a Dense chain in one C++ call (loops._plan_batches, ForwardPlan.predict_guarded):
through the plan the model's last call remembered, or one built for the call with custom layers traced (as a traced
predict function runs them); the bytes of the batch-by-batch loop, and that loop whenever anything could differ."""
import numpy as np
import pytest

import ckeras
from ckeras import callbacks as cb
from ckeras import layers, models
from ckeras.trainers import loops
from test_predict_fast_path import _fast as _one_call  # predict that fails if it builds the epoch loop

pytestmark = pytest.mark.cpu_placement  # the C++ fast paths run on the CPU only

def _sequential(last="softmax"):
    return models.Sequential([layers.Input((6,)), layers.Dense(5, activation="relu"),
                              layers.Dense(4, activation=last)])


def _functional():
    inp = layers.Input((6,))
    h = layers.Dropout(0.5)(layers.Dense(7, activation="tanh")(inp))
    return models.Model(inp, layers.Dense(3, activation="sigmoid")(layers.Dense(5)(h)))


class Custom(layers.Layer):
    """The article's E3 layer: relu(inputs @ kernel); counts its calls."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units, self.calls = units, 0

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform")

    def call(self, inputs):
        self.calls += 1
        return ckeras.nn.relu(ckeras.matmul(inputs, self.kernel))


def _mixed():
    return models.Sequential([layers.Input((6,)), Custom(5), layers.Dense(4, activation="softmax")])


def _x(rows, seed=0):
    x = np.random.default_rng(seed).normal(size=(rows, 6)).astype(np.float32)
    x[1, 2], x[2, :], x[3, 4] = np.nan, np.inf, -np.inf
    return x


def _general(model, x, **kwargs):
    """`predict` through the epoch loop."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(loops, "_plan_batches", lambda *args: None)
        return model.predict(x, **kwargs)


def _counting(monkeypatch):
    """A list that gets one entry per predict the remembered plan ran."""
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


def _assert_same_error(model, x, **kwargs):
    with pytest.raises(ValueError) as fast:
        model.predict(x, **kwargs)
    with pytest.raises(ValueError) as general:
        _general(model, x, **kwargs)
    assert str(fast.value) == str(general.value)


def _loop_runs(monkeypatch):
    """A list that gets one entry each time predict builds its epoch loop."""
    built, original = [], loops.EpochIterator

    def counted(*args, **kwargs):
        built.append(1)
        return original(*args, **kwargs)
    monkeypatch.setattr(loops, "EpochIterator", counted)
    return built


@pytest.mark.parametrize("make", [_sequential, _functional, lambda: _sequential("linear"), _mixed])
@pytest.mark.parametrize("rows,batch_size", [(70, 32), (65, 32), (64, 32), (1025, 1024), (9, 2)])
def test_the_batches_in_one_call_give_the_loops_bytes(make, rows, batch_size):
    model = make()
    x = _x(rows)
    first = _one_call(model, x, batch_size=batch_size, verbose=0)  # a fresh model: a plan built for the call
    assert model._call_path == "plan"
    expected = _general(model, x, batch_size=batch_size, verbose=0)
    _assert_same(first, expected)
    again = _one_call(model, x, batch_size=batch_size, verbose=0)  # a Dense chain: the plan the loop remembered
    _assert_same(again, expected)
    assert again.flags.owndata and again.flags.writeable and again.flags.c_contiguous
    again[0, 0] = 5.0  # the caller's own array: the next predict is not changed by it
    _assert_same(model.predict(x, batch_size=batch_size, verbose=0), expected)


def test_the_remembered_plan_reads_new_weights(monkeypatch):
    model = _sequential()
    x = _x(100)
    model(x[:32])  # remembers its plan
    ran = _counting(monkeypatch)
    before = model.predict(x, verbose=0)
    _assert_same(before, _general(model, x, verbose=0))
    model.layers[0].kernel.assign(np.full((6, 5), 0.25, np.float32))
    model.set_weights([w * 2 for w in model.get_weights()])
    after = model.predict(x, verbose=0)
    _assert_same(after, _general(model, x, verbose=0))
    assert len(ran) == 2  # weights are read at the call: same plan, new values (batch size 32 by default)
    finite = np.isfinite(x).all(axis=1)
    assert not np.allclose(after[finite], before[finite])


def test_a_changed_layer_gets_a_new_plan(monkeypatch):
    model = _sequential()
    x = _x(50)
    model.predict(x, batch_size=16, verbose=0)
    ran = _counting(monkeypatch)
    model.layers[1].activation = ckeras.activations.sigmoid
    out = _one_call(model, x, batch_size=16, verbose=0)
    assert ran == []  # the remembered plan's guards failed; a plan built for the call ran
    finite = np.isfinite(x).all(axis=1)
    h = np.maximum(x[finite] @ model.layers[0].kernel.numpy() + model.layers[0].bias.numpy(), 0)
    expected = 1 / (1 + np.exp(-(h @ model.layers[1].kernel.numpy() + model.layers[1].bias.numpy())))
    np.testing.assert_allclose(out[finite], expected, rtol=1e-5, atol=1e-6)
    _assert_same(out, _general(model, x, batch_size=16, verbose=0))


def test_the_loop_when_anything_listens_or_x_does_not_fit(monkeypatch):
    model = _sequential()
    x = _x(40)
    expected = _general(model, x, batch_size=8, verbose=0)
    loop = _loop_runs(monkeypatch)
    log = []
    hooks = cb.LambdaCallback(on_predict_batch_end=lambda batch, logs: log.append(batch))
    _assert_same(model.predict(x, batch_size=8, verbose=0, callbacks=[hooks]), expected)
    assert log == [0, 1, 2, 3, 4]
    _assert_same(model.predict(x, batch_size=8, verbose=0, steps=5), expected)
    _assert_same(model.predict(np.asfortranarray(x), batch_size=8, verbose=0), expected)
    np.testing.assert_allclose(model.predict(x.astype(np.float64), batch_size=8, verbose=0), expected, rtol=1e-6)
    assert len(loop) == 4
    _assert_same_error(model, np.ascontiguousarray(x[:, :5]), batch_size=8, verbose=0)
    with ckeras.GradientTape():
        _assert_same(model.predict(x, batch_size=8, verbose=0), expected)
    assert len(loop) == 7


def test_custom_steps_and_untraceable_layers_take_the_loop(monkeypatch):
    class Doubled(models.Sequential):
        def predict_step(self, data):
            return ckeras.ops.multiply(super().predict_step(data), 2.0)

    x = _x(30)
    loop = _loop_runs(monkeypatch)
    doubled = Doubled([layers.Input((6,)), layers.Dense(3)])
    np.testing.assert_allclose(doubled.predict(x, batch_size=8, verbose=0), 2 * doubled(x).numpy(), rtol=1e-6)
    assert len(loop) == 1

    model = _sequential()
    model.predict(x, batch_size=8, verbose=0)
    model.predict_function = lambda data: ckeras.ops.ones_like(model.predict_step(data))
    assert np.all(model.predict(x, batch_size=8, verbose=0) == 1)
    assert len(loop) == 2

    class Scale(layers.Layer):
        def call(self, inputs):
            return inputs * 3.0

    scaled = models.Sequential([layers.Input((6,)), Scale(), layers.Dense(4, activation="softmax")])
    _assert_same(scaled.predict(x, batch_size=8, verbose=0), _general(scaled, x, batch_size=8, verbose=0))
    assert len(loop) == 4


def test_custom_layers_run_traced_unless_run_eagerly():
    model = _mixed()
    custom = model.layers[0]
    x = _x(40)
    expected = _general(model, x, batch_size=8, verbose=0)
    calls = custom.calls
    _general(model, x, batch_size=8, verbose=0)
    assert custom.calls == calls + 5  # the loop calls the layer on every batch
    _assert_same(_one_call(model, x, batch_size=8, verbose=0), expected)
    assert custom.calls == calls + 7  # traced: called twice on a probe (training and inference), not per batch
    with ckeras.GradientTape():  # a recording tape: the loop, and no trace before it
        _assert_same(model.predict(x, batch_size=8, verbose=0), expected)
    assert custom.calls == calls + 12
    calls += 5
    model.compile(loss="categorical_crossentropy", run_eagerly=True)
    with pytest.raises(AssertionError, match="general loop"):
        _one_call(model, x, batch_size=8, verbose=0)
    _assert_same(model.predict(x, batch_size=8, verbose=0), expected)
    assert custom.calls == calls + 12


def test_predict_guarded_checks_its_arguments():
    model = _sequential()
    x = _x(20)
    model(x)  # remembers its plan
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


def test_a_model_without_an_input_spec_refuses_a_wrong_width_as_the_loop_does():
    model = models.Sequential([layers.Dense(5, activation="relu"), layers.Dense(4)])
    model.build((None, 6))
    model.input_spec = None  # only the first Dense layer's own check is left
    x = _x(20)
    _assert_same(_one_call(model, x, batch_size=8, verbose=0), _general(model, x, batch_size=8, verbose=0))
    _assert_same_error(model, np.ascontiguousarray(x[:, :5]), batch_size=8, verbose=0)
