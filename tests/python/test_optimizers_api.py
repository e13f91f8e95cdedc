"""ckeras.optimizers API: Keras 3 signatures and defaults, argument errors (ERRORS.md rows 31-33), get(),
config round trips, the learning-rate property, apply() edge cases."""
import inspect
import warnings

import numpy as np
import pytest

import ckeras
from ckeras import optimizers

BASE = ["weight_decay", "clipnorm", "clipvalue", "global_clipnorm", "use_ema", "ema_momentum",
        "ema_overwrite_frequency", "loss_scale_factor", "gradient_accumulation_steps", "name"]
# Keras 3: class -> (its own arguments with defaults, default name).
SIGNATURES = {
    "SGD": ({"learning_rate": 0.01, "momentum": 0.0, "nesterov": False}, "SGD"),
    "Adam": ({"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False}, "adam"),
    "AdamW": ({"learning_rate": 0.001, "weight_decay": 0.004, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7,
               "amsgrad": False}, "adamw"),
    "RMSprop": ({"learning_rate": 0.001, "rho": 0.9, "momentum": 0.0, "epsilon": 1e-7, "centered": False},
                "rmsprop"),
    "Adagrad": ({"learning_rate": 0.001, "initial_accumulator_value": 0.1, "epsilon": 1e-7}, None),
    "Adamax": ({"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}, "adamax"),
    "Nadam": ({"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}, "nadam"),
    "Lion": ({"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.99}, "lion"),
}


@pytest.mark.parametrize("name", list(SIGNATURES))
def test_signature_and_defaults(name):
    own, default_name = SIGNATURES[name]
    params = inspect.signature(getattr(optimizers, name)).parameters
    for arg, value in own.items():
        assert params[arg].default == value, arg
    for arg in BASE:
        assert arg in params, arg
    assert params["name"].default == default_name
    assert params["weight_decay"].default == own.get("weight_decay")
    config = getattr(optimizers, name)().get_config()
    assert config["learning_rate"] == float(np.float32(own["learning_rate"]))  # stored as a float32 variable
    for arg, value in own.items():
        if arg != "learning_rate":
            assert config[arg] == value, arg
    assert config["name"] == (default_name or "adagrad") or config["name"].startswith("adagrad")


@pytest.mark.parametrize("name", list(SIGNATURES))
def test_config_round_trip(name):
    cls = getattr(optimizers, name)
    opt = cls(learning_rate=0.25, clipnorm=2.0, name="opt_x")
    clone = cls.from_config(opt.get_config())
    assert type(clone) is cls and clone.get_config() == opt.get_config()
    again = optimizers.deserialize(optimizers.serialize(opt))
    assert type(again) is cls and again.get_config() == opt.get_config()


def test_error_messages():
    with pytest.raises(ValueError, match="Invalid learning rate: -0.1"):
        optimizers.Adam(learning_rate=-0.1)
    with pytest.raises(ValueError, match=r"`momentum` must be a float between \[0, 1\]"):
        optimizers.SGD(momentum=1.5)
    with pytest.raises(ValueError, match=r"`momentum` must be a float between \[0, 1\]"):
        optimizers.RMSprop(momentum=-0.5)
    with pytest.raises(ValueError, match="Invalid weight_decay value"):
        optimizers.SGD(weight_decay=-1)
    with pytest.raises(ValueError, match=r"Argument\(s\) not recognized"):
        optimizers.Adam(lr=0.1)
    with pytest.raises(ValueError, match="weight_decay"):
        optimizers.AdamW(weight_decay=None)
    with pytest.raises(ValueError, match="Only one of"):
        optimizers.SGD(clipnorm=1.0, global_clipnorm=1.0)
    with pytest.raises(ValueError, match="learning_rate"):
        optimizers.SGD(learning_rate="fast")
    with pytest.raises(ValueError, match="beta_1"):
        optimizers.Lion(beta_1=0.0)
    with pytest.raises(NotImplementedError):
        optimizers.Adam(use_ema=True)
    with pytest.warns(UserWarning, match="decay"):
        optimizers.SGD(decay=0.1)
    optimizers.SGD(weight_decay=1e-4, momentum=1)  # ERRORS.md row 33: accepted; ints are fine


def test_get_resolution():
    for key, cls in [("adam", optimizers.Adam), ("SGD", optimizers.SGD), ("RMSprop", optimizers.RMSprop),
                     ("adamw", optimizers.AdamW), ("adagrad", optimizers.Adagrad), ("Adamax", optimizers.Adamax),
                     ("nadam", optimizers.Nadam), ("lion", optimizers.Lion)]:
        assert type(optimizers.get(key)) is cls
    opt = optimizers.SGD()
    assert optimizers.get(opt) is opt and optimizers.get(None) is None
    from_dict = optimizers.get({"class_name": "Adam", "config": {"learning_rate": 0.5, "amsgrad": True}})
    assert isinstance(from_dict, optimizers.Adam) and from_dict.amsgrad
    assert float(from_dict.learning_rate) == 0.5
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier: adamm") as e:
        optimizers.get("adamm")
    assert "did you mean 'adam'?" in str(e.value).lower()
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier"):
        optimizers.get(42)
    assert optimizers.experimental.AdamW is optimizers.AdamW
    assert ckeras.optimizers.experimental.SGD is optimizers.SGD


def test_learning_rate_property():
    v = ckeras.Variable(np.zeros(2, np.float32), name="v")
    opt = optimizers.SGD(learning_rate=0.5)
    assert float(opt.learning_rate) == 0.5
    opt.apply([np.ones(2, np.float32)], [v])
    opt.learning_rate = 0.25
    opt.apply([np.ones(2, np.float32)], [v])
    np.testing.assert_allclose(np.asarray(v), [-0.75, -0.75])
    with pytest.raises(ValueError, match="Invalid learning rate"):
        opt.learning_rate = -1.0
    opt.learning_rate = lambda it: 1.0 / (it + 1)  # third step: iteration 2 -> 1/3
    assert [x.name for x in opt.variables] == ["iteration"]
    opt.apply([np.ones(2, np.float32)], [v])
    np.testing.assert_allclose(np.asarray(v), [-0.75 - 1 / 3] * 2, rtol=1e-6)
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.1


def test_apply_edge_cases():
    a = ckeras.Variable(np.ones(3, np.float32), name="a")
    b = ckeras.Variable(np.ones((2, 2), np.float32), name="b")
    opt = optimizers.SGD(learning_rate=1.0)
    with pytest.raises(ValueError, match="must already be built"):
        opt.apply([np.ones(3)])
    opt.apply([])  # no-op
    assert int(opt.iterations) == 0
    with pytest.warns(UserWarning, match="Gradients do not exist"):
        it = opt.apply_gradients([(None, a), (np.full((2, 2), 0.5), b)])
    assert it is opt.iterations and int(it) == 1
    np.testing.assert_array_equal(np.asarray(a), np.ones(3))
    np.testing.assert_array_equal(np.asarray(b), np.full((2, 2), 0.5))
    opt.apply([np.ones(3), np.ones((2, 2))])  # grads only, after build; float64 grads are cast
    np.testing.assert_array_equal(np.asarray(a), np.zeros(3))
    with pytest.raises(ValueError, match="No gradients provided"):
        opt.apply([None, None], [a, b])
    with pytest.raises(ValueError, match="Unknown variable"):
        opt.apply([np.ones(3)], [ckeras.Variable(np.ones(3, np.float32), name="c")])
    with pytest.raises(ValueError, match="shape"):
        opt.apply([np.ones(4), np.ones((2, 2))], [a, b])
    with pytest.raises(ValueError, match="float32"):
        optimizers.Adam().apply([np.ones(2)], [ckeras.Variable(np.ones(2), name="d64")])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optimizers.SGD().build([a, b])


def test_loss_scale_factor_divides_gradients():
    v = ckeras.Variable(np.zeros(2, np.float32), name="v")
    opt = optimizers.SGD(learning_rate=1.0, loss_scale_factor=4.0)
    assert float(opt.scale_loss(2.0)) == 8.0
    opt.apply([np.full(2, 8.0, np.float32)], [v])
    np.testing.assert_allclose(np.asarray(v), [-2.0, -2.0])


def test_variables_paths_and_state_round_trip():
    v = ckeras.Variable(np.ones(3, np.float32), name="dense_kernel")
    opt = optimizers.Adam(learning_rate=0.1, name="my_adam")
    opt.apply([np.ones(3, np.float32)], [v])
    assert [x.path for x in opt.variables] == ["my_adam/iteration", "my_adam/learning_rate",
                                               "my_adam/dense_kernel_momentum", "my_adam/dense_kernel_velocity"]
    store = {}
    opt.save_own_variables(store)
    fresh = optimizers.Adam(learning_rate=0.1, name="other")
    fresh.build([v])
    fresh.load_own_variables(store)
    for x, y in zip(opt.variables, fresh.variables):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    assert int(fresh.iterations) == 1


def test_constraint_applied_after_update_and_custom_kind_rejected():
    v = ckeras.Variable(np.zeros(3, np.float32), name="v")
    v.constraint = lambda x: ckeras.ops.clip(x, -0.5, 0.5)
    optimizers.SGD(learning_rate=1.0).apply([np.array([2.0, -0.25, -3.0], np.float32)], [v])
    np.testing.assert_allclose(np.asarray(v), [-0.5, 0.25, 0.5])

    class Custom(optimizers.Optimizer):
        pass
    with pytest.raises(NotImplementedError, match="update_step"):
        Custom(learning_rate=0.1).apply([np.ones(3, np.float32)], [v])
