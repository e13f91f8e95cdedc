"""Repeated `model(x)` calls through `ForwardPlan.call_guarded` (models/_inference_fast.py, `_memo`): the
remembered plan runs only while every object the checked path read is unchanged, and gives that path's bits."""
import numpy as np
import pytest

import ckeras as keras
from ckeras import _core
from ckeras.models import _inference_fast
from ckeras.saving import object_state
from test_inference_fast import _eager, _same

pytestmark = pytest.mark.cpu_placement  # the C++ fast paths run on the CPU only

L = keras.layers


def _e1():
    return keras.Sequential([keras.Input((20,)), L.Dense(16, activation="relu"), L.Dense(4, activation="softmax")])


def _e2():
    inp = keras.Input((20,))
    h = L.Dropout(0.2)(L.Dense(8, activation="relu")(inp))
    return keras.Model(inp, L.Dense(3, activation="sigmoid")(h))


def _x(rows=3, seed=0):
    return np.random.default_rng(seed).standard_normal((rows, 20)).astype(np.float32)


def _refuse_checked_path(monkeypatch):
    """Makes the checked path unusable: a call that still succeeds took the remembered plan."""
    def refuse(*args, **kwargs):
        raise AssertionError("the checked path ran")
    monkeypatch.setattr(_inference_fast, "_cached_plan", refuse)


@pytest.mark.parametrize("make", [_e1, _e2], ids=["sequential", "functional"])
def test_a_repeated_call_runs_the_remembered_plan(make, monkeypatch):
    model, x = make(), _x()
    model(x)
    assert model._fast_memo[1] == x.shape
    _refuse_checked_path(monkeypatch)
    for arg in (x, _core.convert_to_tensor(x)):
        before = model._last_call
        out = model(arg)
        assert model._call_path == "plan" and model._last_call == before + 1
        want = _eager(model, x)
        _same(out, want)
        _same(out._keras_logits, want._keras_logits)


def test_weight_values_are_read_at_each_call(monkeypatch):
    model, x = _e1(), _x()
    model(x)
    _refuse_checked_path(monkeypatch)
    model.set_weights([w * 1.5 for w in model.get_weights()])
    _same(model(x), _eager(model, x))


@pytest.mark.parametrize("change", ["tanh", "elu", "no bias", "activity regularizer", "pop"])
def test_changed_layers_leave_the_memo(change):
    model, x = _e1(), _x()
    model(x)
    rng = np.random.default_rng(5)
    model.set_weights([rng.standard_normal(w.shape).astype(np.float32) for w in model.get_weights()])  # biases not 0
    model(x)
    first = model.layers[0]
    if change == "tanh":
        first.activation = keras.activations.tanh
    elif change == "elu":  # no plan stage for it
        first.activation = keras.activations.elu
    elif change == "no bias":
        first.bias = None
    elif change == "activity regularizer":
        first.activity_regularizer = keras.regularizers.L2(0.1)
    else:
        model.pop()
        model.add(L.Dense(2))
    out = model(x)
    _same(out, _eager(model, x))
    assert model._call_path == ("plan" if change in ("tanh", "no bias", "pop") else "layers")
    if change == "activity regularizer":
        assert len(model.losses) == 1  # the layers added the penalty


@pytest.mark.parametrize("case", ["rows", "float64", "strided", "fortran", "1-D"])
def test_another_input_takes_the_checked_path(case):
    model, x = _e1(), _x(rows=4)
    model(x)
    wide = np.repeat(x, 2, axis=1)
    other = {"rows": _x(rows=5, seed=1), "float64": x.astype(np.float64), "strided": wide[:, ::2],
             "fortran": np.asfortranarray(x), "1-D": x[0]}[case]
    try:
        out = model(other)
    except ValueError as e:  # a 1-D input: the layers' own error
        assert case == "1-D" and model._call_path == "layers", e
        return
    _same(out, _eager(model, other))
    if case == "rows":
        assert model._fast_memo[1] == (5, 20)


class _Relu(keras.layers.Layer):
    """A custom layer (the article's third model has one): relu(x @ kernel), as wide as its input (so that the
    tail's remembered input shape is also the model's: only the memo's `whole` flag keeps them apart)."""

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], input_shape[-1]), initializer="glorot_uniform")

    def call(self, inputs):
        return keras.activations.relu(keras.ops.matmul(inputs, self.kernel))


def _mixed():
    return keras.Sequential([keras.Input((20,)), _Relu(), L.Dense(4, activation="softmax")])


def test_a_mixed_call_remembers_its_tail(monkeypatch):
    model, x = _mixed(), _x()
    model(x)
    assert model._call_path == "mixed" and not model._fast_memo[4] and model._fast_memo[1] == x.shape
    with monkeypatch.context() as patch:
        _refuse_checked_path(patch)
        out = model(x)
        assert model._call_path == "mixed"
        _same(out, _eager(model, x))
        _same(out._keras_logits, _eager(model, x)._keras_logits)
    model.layers[1].activation = keras.activations.tanh
    _same(model(x), _eager(model, x))
    model.layers[1].activation = keras.activations.elu
    _same(model(x), _eager(model, x))
    assert model._call_path == "layers"


def test_gradient_tapes_training_and_nested_calls_take_the_layers():
    model, x = _e1(), _x()
    model(x)
    with keras.GradientTape() as tape:
        loss = keras.ops.sum(model(x))
    assert model._call_path == "layers"
    assert all(g is not None for g in tape.gradient(loss, model.trainable_variables))
    model(x, training=True)
    assert model._call_path == "layers"
    outer = keras.Sequential([keras.Input((20,)), model])
    _same(outer(x), _eager(model, x))
    assert model._call_path == "layers"
    model(x)
    assert model._call_path == "plan"


def test_call_guarded_compares_every_guard():
    model, x = _e1(), _x()
    model(x)
    plan, shape, guards = model._fast_memo[:3]
    assert plan.call_guarded(x, shape, guards) is not None
    assert {guards[i + 1] for i in range(0, len(guards), 3)} == {
        "_input_spec", "_call_layers", "built", "activation", "kernel", "bias", "activity_regularizer", "_dtype"}
    for i in range(0, len(guards), 3):
        d, key, value = guards[i:i + 3]
        d[key] = object()
        assert plan.call_guarded(x, shape, guards) is None, key
        del d[key]
        assert plan.call_guarded(x, shape, guards) is None, key
        d[key] = value
    assert plan.call_guarded(x, (3, 21), guards) is None
    assert plan.call_guarded(x.astype(np.float64), shape, guards) is None
    assert plan.call_guarded(x.tolist(), shape, guards) is None
    _same(plan.call_guarded(x, shape, guards), _eager(model, x))


def test_call_guarded_checks_its_arguments():
    model, x = _e1(), _x()
    model(x)
    plan, shape, guards = model._fast_memo[:3]
    with pytest.raises(TypeError, match="tuple"):
        plan.call_guarded(x, shape, list(guards))
    with pytest.raises(ValueError, match="triples"):
        plan.call_guarded(x, shape, guards[:4])
    with pytest.raises(TypeError, match="dict"):
        plan.call_guarded(x, shape, (1, "a", None))
    assert plan.call_guarded(x, (3,), guards) is None
    with pytest.raises(TypeError):
        plan.call_guarded(x, ("3", 20), guards)


@pytest.mark.parametrize("make", [_e1, _e2, _mixed], ids=["sequential", "functional", "mixed"])
def test_the_caches_are_not_saved_state(make, tmp_path):
    model, x = make(), _x()
    model.compile(optimizer="adam", loss="mse")
    paths = [p for p, _ in object_state.walk(model)]
    model(x)
    model(x)
    assert "_fast_memo" in vars(model)
    assert [p for p, _ in object_state.walk(model)] == paths
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", custom_objects={"_Relu": _Relu})
    _same(loaded(x), model(x))


class _MutatingPlan:
    """A ForwardPlan whose call first changes the model, as another thread may while the plan runs without
    the GIL."""

    def __init__(self, plan, change):
        self.plan, self.change = plan, change

    def __call__(self, x):
        self.change()
        return self.plan(x)

    def call_guarded(self, *args):
        return self.plan.call_guarded(*args)


def test_a_change_during_the_plan_call_is_not_remembered_as_checked(monkeypatch):
    model, x = _e1(), _x()
    model(x)
    cached = _inference_fast._cached_plan

    def racing(d, layers, feature_shape):
        entry = cached(d, layers, feature_shape)
        def change():
            monkeypatch.setattr(_inference_fast, "_cached_plan", cached)
            model.pop()
            model.add(L.Dense(2))
        return entry[:3] + ((_MutatingPlan(entry[3][0], change), entry[3][1]),)

    monkeypatch.setattr(_inference_fast, "_cached_plan", racing)
    del model.__dict__["_fast_memo"]
    assert model(x).shape == (3, 4)  # the call that raced: the layers it checked
    out = model(x)
    assert out.shape == (3, 2)
    _same(out, _eager(model, x))


def test_other_model_state_leaves_the_memo(monkeypatch):
    model, x = _e1(), _x()
    model(x)
    model(x)
    copy = __import__("copy").copy(model)  # shares the memo, not the dict
    copy.input_spec = keras.layers.InputSpec(shape=(None, 21))
    with pytest.raises(ValueError):
        copy(x)
    monkeypatch.setattr(_inference_fast, "_ENABLED", False)
    model(x)
    assert model._call_path == "layers"
    monkeypatch.setattr(_inference_fast, "_ENABLED", True)
    model.built = False
    _same(model(x), _eager(model, x))
    assert model._call_path == "layers" and model.built
    model(x)

    class Doubled(keras.Sequential):
        def call(self, inputs, training=None):
            return super().call(inputs, training=training) * 2.0

    model.__class__ = Doubled
    _same(model(x), np.asarray(_eager(keras.Sequential(model.layers), x)) * 2.0)
    assert model._call_path == "layers"


@pytest.mark.parametrize("where", ["model", "dropout"])
def test_activity_regularizers_outside_the_dense_layers_are_added(where):
    L2 = keras.regularizers.L2(0.1)
    model = keras.Sequential([keras.Input((20,)), L.Dense(8, activation="relu"), L.Dropout(0.1), L.Dense(3)])
    x = _x()
    model(x)
    model(x)
    if where == "model":
        model.activity_regularizer = L2
    else:
        model.layers[1].activity_regularizer = L2
    _same(model(x), _eager(model, x))
    assert model._call_path == "layers" and len(model.losses) == 1


def test_a_dense_layer_made_nonlinear_after_its_creation():
    model, x = keras.Sequential([keras.Input((20,)), L.Dense(8), L.Dense(3)]), _x()
    model.layers[0].activation = keras.activations.relu
    out = model(x)
    assert model._call_path == "plan"
    want = _eager(model, x)
    _same(out, want)
    np.testing.assert_array_equal(np.asarray(keras.ops.relu(model.layers[0](x))), np.asarray(model.layers[0](x)))
