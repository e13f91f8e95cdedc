"""`get_config`/`from_config` through the file format (serialize -> JSON -> deserialize) for every built-in
ckeras has: layers, losses, metrics, optimizers, schedules, initializers, regularizers, constraints."""
import json

import pytest

import ckeras
from ckeras import layers
from ckeras.saving import builtin_objects, deserialize_keras_object, serialize_keras_object

_LAYER_ARGS = {"Dense": {"units": 3, "activation": "relu", "kernel_regularizer": "l2"},
               "Dropout": {"rate": 0.25, "seed": 3}, "Reshape": {"target_shape": (2, 3)},
               "Activation": {"activation": "tanh"}, "InputLayer": {"shape": (3,)},
               "Concatenate": {"axis": 1}, "OpLayer": {"op": "add"}, "Lambda": None, "Layer": None, "Merge": None}
_SKIP = {"Loss", "LossFunctionWrapper", "Metric", "MeanMetricWrapper", "Regularizer"}  # abstract bases
_SCHEDULES = {"ExponentialDecay": (0.1, 10, 0.9), "PiecewiseConstantDecay": ([1], [0.1, 0.01]),
              "PolynomialDecay": (0.1, 10), "InverseTimeDecay": (0.1, 10, 0.5), "CosineDecay": (0.1, 10),
              "CosineDecayRestarts": (0.1, 10)}


def _classes(family):
    table = builtin_objects.families()[family]
    return sorted({n for n, c in table.items() if isinstance(c, type) and n == c.__name__ and n not in _SKIP})


def _round_trip(obj):
    text = json.dumps(serialize_keras_object(obj))
    clone = deserialize_keras_object(json.loads(text))
    assert type(clone) is type(obj)
    assert serialize_keras_object(clone.get_config()) == serialize_keras_object(obj.get_config())
    return clone


@pytest.mark.parametrize("name", _classes("layers"))
def test_layers(name):
    args = _LAYER_ARGS.get(name, {})
    if args is None:
        pytest.skip(f"{name} is a base class or holds Python code (see test_saving_registry)")
    _round_trip(getattr(layers, name)(**args))


@pytest.mark.parametrize("family", ["losses", "metrics", "optimizers", "initializers", "regularizers",
                                    "constraints"])
def test_every_class_of(family):
    names = _classes(family)
    assert names
    for name in names:
        cls = builtin_objects.families()[family][name]
        if family == "initializers" and name == "Constant":
            _round_trip(cls(0.5))
        else:
            _round_trip(cls())


@pytest.mark.parametrize("name", sorted(_SCHEDULES))
def test_schedules(name):
    schedule = getattr(ckeras.optimizers.schedules, name)(*_SCHEDULES[name])
    _round_trip(schedule)
    opt = _round_trip(ckeras.optimizers.SGD(learning_rate=schedule))
    assert type(opt._learning_rate) is type(schedule)


def test_loss_and_metric_of_the_same_name_keep_their_family():
    loss = deserialize_keras_object(serialize_keras_object(ckeras.losses.MeanSquaredError()))
    metric = deserialize_keras_object(serialize_keras_object(ckeras.metrics.MeanSquaredError()))
    assert isinstance(loss, ckeras.losses.Loss) and isinstance(metric, ckeras.metrics.Metric)
