"""`model(x)` on Dense chains through `_core.plan_forward` (models/_inference_fast.py): the same bits, logits
and behaviour as the layer-by-layer call, and the general path wherever the fast one does not apply."""
import numpy as np
import pytest

import ckeras as keras
from ckeras import _core
from ckeras.models import _inference_fast

pytestmark = pytest.mark.cpu_placement  # the C++ fast paths run on the CPU only


def _eager(model, *args, **kwargs):
    """The layer-by-layer call, bypassing the fast path."""
    return keras.layers.Layer.__call__(model, *args, **kwargs)


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)


def _models():
    L = keras.layers
    yield "E1", keras.Sequential([keras.Input((784,)), L.Dense(128, activation="relu"),
                                  L.Dense(10, activation="softmax")]), (784,)
    inp = keras.Input((784,))
    h = L.Dense(64, activation="relu")(inp)
    h = L.Dropout(0.2)(h)
    h = L.Dense(128, activation="relu")(h)
    yield "E2", keras.Model(inp, L.Dense(10, activation="softmax")(h)), (784,)
    yield "mnist", keras.Sequential([keras.Input((28, 28)), L.Flatten(), L.Dense(32, activation="relu"),
                                     L.Dropout(0.2), L.Dense(10)]), (28, 28)
    yield "acts", keras.Sequential([keras.Input((5, 4)), L.Reshape((20,)), L.Dense(7, activation="tanh"),
                                    L.Dense(3, activation="sigmoid", use_bias=False)]), (5, 4)
    yield "linear", keras.Sequential([keras.Input((33,)), L.Dense(65), L.Dense(1, activation="linear")]), (33,)


@pytest.mark.parametrize("name,model,features", list(_models()), ids=lambda v: v if isinstance(v, str) else "")
@pytest.mark.parametrize("rows", [1, 2, 7, 64])
def test_same_bits_as_the_layers(name, model, features, rows):
    rng = np.random.default_rng(rows)
    x = rng.standard_normal((rows,) + features).astype(np.float32)
    x.reshape(-1)[::5] *= 30  # saturate some activations
    out = model(x)
    assert model._call_path == "plan"
    want = _eager(model, x)
    _same(out, want)
    logits, want_logits = getattr(out, "_keras_logits", None), getattr(want, "_keras_logits", None)
    assert (logits is None) == (want_logits is None)
    if logits is not None:
        _same(logits, want_logits)
    _same(model(_core.convert_to_tensor(x)), want)  # a Tensor input too
    _same(model(x, training=False), want)


def test_nan_and_inf_propagate_as_in_the_layers():
    model = dict((n, m) for n, m, _ in _models())["E1"]
    x = np.zeros((3, 784), np.float32)
    x[0, 5], x[1, 7], x[2, 9] = np.nan, np.inf, -np.inf
    _same(model(x), _eager(model, x))


def test_weight_updates_are_seen():
    model = dict((n, m) for n, m, _ in _models())["E1"]
    x = np.random.default_rng(0).random((2, 784), dtype=np.float32)
    before = np.asarray(model(x))
    model.layers[0].kernel.assign(np.asarray(model.layers[0].kernel) * 2)
    model.layers[1].bias.assign(np.full((10,), 0.5, np.float32))
    after = model(x)
    assert model._call_path == "plan"
    assert not np.array_equal(before, after)
    _same(after, _eager(model, x))
    model.set_weights([w * 0.5 for w in model.get_weights()])
    _same(model(x), _eager(model, x))
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(x, np.eye(10, dtype=np.float32)[:2], epochs=2, verbose=0)
    _same(model(x), _eager(model, x))


def test_changed_layers_are_seen():
    L = keras.layers
    model = keras.Sequential([keras.Input((6,)), L.Dense(5, activation="relu"), L.Dense(3)])
    x = np.random.default_rng(3).standard_normal((4, 6)).astype(np.float32)
    model(x)
    model.layers[0].activation = keras.activations.tanh
    out = model(x)
    assert model._call_path == "plan"
    _same(out, _eager(model, x))
    model.layers[0].activation = keras.activations.elu  # no stage for it: the layers run
    _same(model(x), _eager(model, x))
    assert model._call_path == "layers"
    model.pop()
    model.add(L.Dense(2, activation="sigmoid"))
    _same(model(x), _eager(model, x))
    assert model._call_path == "layers"  # elu still
    model.layers[0].activation = keras.activations.relu
    _same(model(x), _eager(model, x))
    assert model._call_path == "plan" and model(x).shape == (4, 2)


def test_training_calls_take_the_layers():
    model = dict((n, m) for n, m, _ in _models())["E2"]
    x = np.ones((4, 784), np.float32)
    model(x, training=True)
    assert model._call_path == "layers"
    model(x, training=False)
    assert model._call_path == "plan"


def test_calls_under_a_gradient_tape_record_the_layers():
    model = dict((n, m) for n, m, _ in _models())["E1"]
    x = np.random.default_rng(2).random((4, 784), dtype=np.float32)
    with keras.GradientTape() as tape:
        loss = keras.ops.sum(model(x))
    assert model._call_path == "layers"
    grads = tape.gradient(loss, model.trainable_variables)
    assert all(g is not None for g in grads)
    model(x)
    assert model._call_path == "plan"


@pytest.mark.parametrize("case", ["float64", "1-D", "subclass", "custom activation", "nested", "list input",
                                  "disabled"])
def test_other_calls_take_the_layers(case, monkeypatch):
    L = keras.layers
    x = np.random.default_rng(1).random((3, 8), dtype=np.float32)
    model = keras.Sequential([keras.Input((8,)), L.Dense(4, activation="relu"), L.Dense(2)])
    args = (x,)
    if case == "float64":
        args = (x.astype(np.float64),)
    elif case == "1-D":
        model = keras.Sequential([keras.Input((8,)), L.Dense(2)])
        args = (x[0],)
    elif case == "subclass":
        class MyDense(L.Dense):
            pass
        model = keras.Sequential([keras.Input((8,)), MyDense(2)])
    elif case == "custom activation":
        model = keras.Sequential([keras.Input((8,)), L.Dense(2, activation=lambda v: v * 2.0)])
    elif case == "nested":
        inner = model
        model = keras.Sequential([keras.Input((8,)), inner])
    elif case == "list input":
        args = (x.tolist(),)
    elif case == "disabled":
        monkeypatch.setattr(_inference_fast, "_ENABLED", False)
    try:
        out = model(*args)
    except Exception as e:  # then the general path raised it, with its message
        assert model._call_path == "layers", e
        return
    assert model._call_path == "layers"
    _same(out, _eager(model, *args))


def test_bad_input_shape_raises_the_layers_error():
    model = dict((n, m) for n, m, _ in _models())["E1"]
    x = np.ones((2, 783), np.float32)
    with pytest.raises(ValueError) as fast:
        model(x)
    with pytest.raises(ValueError) as eager:
        _eager(model, x)
    assert str(fast.value) == str(eager.value)


def test_plan_forward_checks_its_arguments():
    k = _core.convert_to_tensor(np.ones((4, 3), np.float32))
    stages = [_core.PlanStage.dense(k, None, _core.PlanActivation.Relu)]
    with pytest.raises(ValueError, match="shape"):
        _core.plan_forward(stages, _core.convert_to_tensor(np.ones((2, 5), np.float32)))
    with pytest.raises(ValueError, match="float32"):
        _core.plan_forward(stages, _core.convert_to_tensor(np.ones((2, 4), np.float64)))
    with pytest.raises(ValueError, match="no Dense"):
        _core.plan_forward([], _core.convert_to_tensor(np.ones((2, 4), np.float32)))
    # An ndarray goes to the plan as it is, a Tensor too, and the logits come attached.
    out = _core.plan_forward(stages, np.ones((2, 4), np.float32))
    assert out.shape == (2, 3) and getattr(out, "_keras_logits", None) is None


def test_host_arrays_follow_the_default_device_as_in_the_layers():
    """With a GPU as default device, an ndarray given to a CPU model lands on the GPU, as convert_to_tensor
    puts it: the plan then steps aside and the layers' call decides (here: their mixed-device error)."""
    import os
    import subprocess
    import sys
    import textwrap
    code = textwrap.dedent("""
        import numpy as np, ckeras as keras
        with keras.device("cpu"):
            m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
            x = np.ones((2, 4), np.float32)
            t = keras.ops.convert_to_tensor(x)
            m(x); m(x)
            print(m._call_path)
        out = m(t)  # a cpu Tensor stays on the cpu, as in the layers (also through the remembered plan)
        print(m._call_path, out.device, np.array_equal(out, keras.layers.Layer.__call__(m, t)))
        try:
            m(x)
        except ValueError as e:
            print(m._call_path, "ValueError", "cpu" in str(e))
    """)
    env = dict(os.environ, CKERAS_TEST_FAKE_GPU="1",
               PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(keras.__file__))))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["plan", "plan", "cpu", "True", "layers", "ValueError", "True"]


class _Scale(keras.layers.Layer):
    """A custom layer (the article's third model has one): relu(x @ kernel) * factor, adding a loss."""

    def __init__(self, units, factor=1.0, fail=False):
        super().__init__()
        self.units, self.factor, self.fail = units, factor, fail

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform")

    def call(self, inputs):
        if self.fail:
            raise ValueError("scale failed on purpose")
        self.add_loss(keras.ops.mean(inputs))
        return keras.activations.relu(keras.ops.matmul(inputs, self.kernel)) * self.factor


def _mixed_models():
    L = keras.layers
    yield "E3", keras.Sequential([_Scale(64), L.Dense(10, activation="softmax")])
    yield "middle", keras.Sequential([keras.Input((12,)), L.Dense(9, activation="tanh"), _Scale(7, 2.0),
                                      L.Dropout(0.3), L.Dense(5, activation="relu"), L.Dense(3)])
    inp = keras.Input((12,))
    out = L.Dense(4, activation="sigmoid")(_Scale(6)(inp))
    yield "functional", keras.Model(inp, out)


@pytest.mark.parametrize("name,model", list(_mixed_models()), ids=lambda v: v if isinstance(v, str) else "")
@pytest.mark.parametrize("rows", [1, 5])
def test_custom_head_then_dense_tail_is_mixed(name, model, rows):
    width = 784 if name == "E3" else 12
    x = np.random.default_rng(rows).standard_normal((rows, width)).astype(np.float32)
    _eager(model, x)  # builds E3 (a build pass may add losses of its own)
    want = _eager(model, x)
    want_losses = [np.asarray(v) for v in model.losses]
    out = model(x)
    assert model._call_path == "mixed"
    _same(out, want)
    logits, want_logits = getattr(out, "_keras_logits", None), getattr(want, "_keras_logits", None)
    assert (logits is None) == (want_logits is None)
    if logits is not None:
        _same(logits, want_logits)
    got_losses = [np.asarray(v) for v in model.losses]  # the head's add_loss, from this call
    assert len(got_losses) == len(want_losses) == 1
    _same(got_losses[0], want_losses[0])
    _same(model(x, training=False), want)
    model(x, training=True)
    assert model._call_path == "layers"


def test_a_head_whose_output_the_plan_cannot_take_runs_the_tail_layers():
    L = keras.layers
    model = keras.Sequential([keras.Input((6,)), L.Lambda(lambda v: keras.ops.cast(v, "float64")), L.Dense(3)])
    x = np.random.default_rng(4).standard_normal((2, 6)).astype(np.float32)
    out = model(x)
    assert model._call_path == "layers"
    _same(out, _eager(model, x))


def test_errors_in_the_head_are_the_layers_errors():
    model = keras.Sequential([keras.Input((5,)), _Scale(4), keras.layers.Dense(2)])
    model.layers[0].fail = True
    x = np.ones((2, 5), np.float32)
    with pytest.raises(ValueError) as fast:
        model(x)
    with pytest.raises(ValueError) as eager:
        _eager(model, x)
    assert str(fast.value) == str(eager.value) and "scale failed on purpose" in str(fast.value)
    from ckeras.layers import _utils
    assert _utils.CALL_CONTEXT.depth == 0 and _utils.CALL_CONTEXT.training is None  # the context is restored
    model.layers[0].fail = False
    assert model(x).shape == (2, 2) and model._call_path == "mixed"


@pytest.mark.parametrize("input_shape,x_shape", [((4, 1), (3, 4)), ((4,), (3, 4, 1))])
def test_a_functional_head_gets_the_input_rank_the_model_adjusts(input_shape, x_shape):
    # Functional.call adds or drops a trailing axis of size 1 before its layers run; the mixed path leaves
    # such calls to it.
    class Squeeze(keras.layers.Layer):
        def call(self, v):
            return keras.ops.squeeze(v, -1) if v.ndim == 3 else v

    inp = keras.Input(input_shape)
    model = keras.Model(inp, keras.layers.Dense(2)(Squeeze()(inp)))
    x = np.random.default_rng(5).standard_normal(x_shape).astype(np.float32)
    out = model(x)
    assert model._call_path == "layers"
    _same(out, _eager(model, x))


@pytest.mark.parametrize("structure", ["list output", "dict output", "list input"])
def test_structured_functional_models_keep_their_structure(structure):
    inp = keras.Input((6,), name="features")
    out = keras.layers.Dense(3, activation="softmax")(keras.layers.Dense(4, activation="relu")(inp))
    model = {"list output": lambda: keras.Model(inp, [out]), "dict output": lambda: keras.Model(inp, {"p": out}),
             "list input": lambda: keras.Model([inp], out)}[structure]()
    x = np.random.default_rng(6).standard_normal((2, 6)).astype(np.float32)
    got, want = model([x] if structure == "list input" else x), _eager(model, [x] if structure == "list input" else x)
    assert model._call_path == "layers" and type(got) is type(want)
    for g, w in zip(*(v.values() if isinstance(v, dict) else v if isinstance(v, list) else [v] for v in (got, want))):
        _same(g, w)
