"""The object config format and the allowlist: register_keras_serializable, custom_objects, the Keras dict
format, and everything the loader refuses (unknown classes, modules, paths, lambdas, bad names, caps)."""
import json
import zipfile

import numpy as np
import pytest

import ckeras
from ckeras import layers
from ckeras.saving import (config_guard, custom_object_scope, deserialize_keras_object, get_registered_name,
                           get_registered_object, register_keras_serializable, serialize_keras_object)


@register_keras_serializable(package="RegistryTest")
class Scale(layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class Unregistered(Scale):
    pass


@register_keras_serializable(package="RegistryTest")
def cube(x):
    return x * x * x


def _model(layer):
    inp = ckeras.Input((3,))
    return ckeras.Model(inp, layer(layers.Dense(3)(inp)))


def test_register_names_and_lookups():
    assert get_registered_name(Scale) == "RegistryTest>Scale"
    assert get_registered_object("RegistryTest>Scale") is Scale
    assert get_registered_name(Unregistered) == "Unregistered"
    assert get_registered_object("Unregistered") is None
    assert get_registered_object("Unregistered", custom_objects={"Unregistered": Unregistered}) is Unregistered
    with custom_object_scope({"Unregistered": Unregistered}):
        with custom_object_scope({"Other": int}):
            assert get_registered_object("Unregistered") is Unregistered
        assert get_registered_object("Other") is None
    assert get_registered_object("Unregistered") is None


def test_register_rejects_bad_classes_and_second_names():
    with pytest.raises(ValueError, match="does not have a get_config"):
        register_keras_serializable()(type("NoConfig", (), {}))
    with pytest.raises(ValueError, match="under two names"):
        register_keras_serializable(package="Elsewhere")(Scale)
    assert register_keras_serializable(package="RegistryTest")(Scale) is Scale  # same name again is fine


def test_serialized_dict_format():
    dense = serialize_keras_object(layers.Dense(2))
    assert (dense["module"], dense["class_name"], dense["registered_name"]) == ("keras.layers", "Dense", None)
    custom = serialize_keras_object(Scale(3.0))
    assert custom["class_name"] == "Scale" and custom["registered_name"] == "RegistryTest>Scale"
    assert custom["module"] == __name__ and custom["config"]["factor"] == 3.0
    adam = serialize_keras_object(ckeras.optimizers.Adam())
    assert (adam["module"], adam["class_name"]) == ("keras.optimizers", "Adam")
    fn = serialize_keras_object(cube)
    assert fn == {"module": __name__, "class_name": "function", "config": "RegistryTest>cube",
                  "registered_name": "RegistryTest>cube"}
    assert deserialize_keras_object(fn) is cube
    loss_fn = serialize_keras_object(ckeras.losses.mean_squared_error)
    assert loss_fn["module"] == "keras.losses" and deserialize_keras_object(loss_fn) is ckeras.losses.mean_squared_error
    assert serialize_keras_object(np.arange(3))["class_name"] == "__numpy__"
    np.testing.assert_array_equal(deserialize_keras_object(serialize_keras_object(np.arange(3))), np.arange(3))


def test_registered_and_custom_objects_round_trip(tmp_path):
    model = _model(Scale(3.0))
    model.save(tmp_path / "m.keras")
    clone = ckeras.models.load_model(tmp_path / "m.keras")
    assert isinstance(clone.layers[-1], Scale) and clone.layers[-1].factor == 3.0
    x = np.ones((2, 3), "float32")
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))

    model = _model(Unregistered(4.0))
    model.save(tmp_path / "u.keras")
    with pytest.raises(TypeError, match=r"Could not locate class 'Unregistered'.*register it or pass custom_objects"):
        ckeras.models.load_model(tmp_path / "u.keras")
    clone = ckeras.models.load_model(tmp_path / "u.keras", custom_objects={"Unregistered": Unregistered})
    assert type(clone.layers[-1]) is Unregistered
    with custom_object_scope({"Unregistered": Unregistered}):
        assert type(ckeras.models.load_model(tmp_path / "u.keras").layers[-1]) is Unregistered


def test_custom_activation_function_by_registered_name(tmp_path):
    inp = ckeras.Input((2,))
    model = ckeras.Model(inp, layers.Dense(2, activation=cube)(inp))
    model.save(tmp_path / "m.keras")
    assert ckeras.models.load_model(tmp_path / "m.keras").layers[-1].activation is cube


def _rewrite_config(src, dst, edit):
    with zipfile.ZipFile(src) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    config = json.loads(members["config.json"])
    edit(config)
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(dst, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


@pytest.mark.parametrize("payload", [
    {"module": "os", "class_name": "system", "config": {}, "registered_name": None},
    {"module": "builtins", "class_name": "function", "config": "eval", "registered_name": None},
    {"module": "subprocess", "class_name": "Popen", "config": {"args": "ls"}, "registered_name": None},
    {"module": "../../etc/passwd", "class_name": "Dense", "config": {}, "registered_name": None},
    {"module": "https://example.com/x.py", "class_name": "Dense", "config": {}, "registered_name": None},
    {"module": "keras.layers", "class_name": "os.system", "config": {}, "registered_name": None},
    {"module": "keras.saving", "class_name": "load_model", "config": {}, "registered_name": None},
    {"class_name": "__lambda__", "config": {"code": "AAAA", "defaults": None, "closure": None}},
])
def test_forbidden_references_are_not_allowed(tmp_path, payload):
    model = _model(layers.Activation("relu"))
    model.save(tmp_path / "m.keras")

    def edit(config):
        config["config"]["layers"][-1]["config"]["activity_regularizer"] = payload
    _rewrite_config(tmp_path / "m.keras", tmp_path / "bad.keras", edit)
    with pytest.raises(ckeras.LoadError, match="not allowed"):
        ckeras.models.load_model(tmp_path / "bad.keras")
    with pytest.raises(ckeras.LoadError, match="not allowed"):
        deserialize_keras_object(payload)


def test_lambda_layer_needs_safe_mode_false_from_the_caller(tmp_path):
    inp = ckeras.Input((3,))
    model = ckeras.Model(inp, layers.Lambda(lambda t: t * 3.0 + 1.0)(inp))
    with pytest.warns(UserWarning, match="lambda"):
        model.save(tmp_path / "m.keras")
    with pytest.raises(ckeras.LoadError, match=r"not allowed.*safe_mode=False"):
        ckeras.models.load_model(tmp_path / "m.keras")

    def enable(config):  # nothing in the file can turn unsafe mode on
        config["safe_mode"] = False
        config["config"]["safe_mode"] = False
        config["config"]["layers"][-1]["config"]["safe_mode"] = False
    _rewrite_config(tmp_path / "m.keras", tmp_path / "flag.keras", enable)
    with pytest.raises(ckeras.LoadError, match="not allowed"):
        ckeras.models.load_model(tmp_path / "flag.keras")
    clone = ckeras.models.load_model(tmp_path / "m.keras", safe_mode=False)
    np.testing.assert_allclose(clone.predict(np.ones((1, 3), "float32"), verbose=0), [[4.0, 4.0, 4.0]])


@pytest.mark.parametrize("name", ["a/b", "a\\b", "..", "x..y", "nul\x00"])
def test_layer_names_that_would_be_paths_are_refused(tmp_path, name):
    model = _model(layers.Activation("relu", name="act"))
    model.save(tmp_path / "m.keras")

    def rename(config):
        entry = config["config"]["layers"][-1]
        entry["name"] = entry["config"]["name"] = name
    _rewrite_config(tmp_path / "m.keras", tmp_path / "bad.keras", rename)
    with pytest.raises(ckeras.LoadError, match="not allowed"):
        ckeras.models.load_model(tmp_path / "bad.keras")


def test_json_size_and_depth_caps(monkeypatch):
    deep = "[" * 101 + "]" * 101
    with pytest.raises(ckeras.LoadError, match="nested 101 levels deep"):
        config_guard.loads(deep)
    config_guard.loads("[" * 100 + "]" * 100)
    assert config_guard.loads('{"a": "[[[[[[["}') == {"a": "[[[[[[["}  # brackets in strings do not count
    with pytest.raises(ckeras.LoadError, match="more than the 10 allowed"):
        config_guard.loads("[" + "1," * 10 + "1]", max_bytes=10)
    with pytest.raises(ckeras.LoadError, match="not valid UTF-8 JSON"):
        config_guard.loads(b"{nope")
    with pytest.raises(ckeras.LoadError, match="nested"):
        ckeras.models.model_from_json("[" * 5000 + "]" * 5000)


def test_unknown_class_from_json_and_to_json_round_trip():
    model = _model(Scale(5.0))
    text = model.to_json()
    clone = ckeras.models.model_from_json(text)
    assert clone.layers[-1].factor == 5.0
    bad = text.replace('"registered_name": "RegistryTest>Scale"', '"registered_name": "RegistryTest>Nope"')
    bad = bad.replace('"class_name": "Scale"', '"class_name": "MyLayer"')
    with pytest.raises(TypeError, match="Could not locate class 'MyLayer'"):
        ckeras.models.model_from_json(bad)
