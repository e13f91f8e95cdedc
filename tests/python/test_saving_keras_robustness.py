"""`load_model` on damaged and hostile `.keras` files (ERRORS.md rows 34-39 and the model-file list): every
truncation of a real file is a LoadError saying "truncated"; random byte edits of the file, and random edits
of its config.json inside a well-formed zip (CRCs right), load or raise ValueError/TypeError, never anything
else, in bounded time; crafted configs are refused with the documented messages."""
import io
import json
import os
import zipfile
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ckeras
from ckeras import layers
from byte_edits import EDITS, mutate
from zip_craft import make_zip, member

FUZZ = settings(max_examples=200, deadline=timedelta(seconds=5), derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
X = np.linspace(-1, 1, 12, dtype="float32").reshape(4, 3)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A .keras file of 2 Dense layers compiled with Adam and trained one step (optimizer state inside),
    its bytes, its members and the model's predictions."""
    model = ckeras.Sequential([ckeras.Input((3,)), layers.Dense(4), layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    model.train_on_batch(X, np.zeros((4, 2), "float32"))
    path = tmp_path_factory.mktemp("robust") / "m.keras"
    model.save(path)
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    return _Saved(dir=path.parent, bytes=path.read_bytes(), members=members, predictions=model.predict(X, verbose=0))


class _Saved(dict):
    def __repr__(self):  # keeps hypothesis's failure reports short
        return f"<saved .keras, {len(self['bytes'])} bytes>"


def _load(directory, data):
    path = directory / "fuzzed.keras"
    path.write_bytes(data)
    return ckeras.models.load_model(path)


def _zip(members):
    """A well-formed archive (Python's zipfile, so every CRC matches) of {name: bytes}."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def _with_config(saved, config):
    text = config if isinstance(config, (str, bytes)) else json.dumps(config)
    return _zip({**saved["members"], "config.json": text})


def _loads_or_refuses(directory, data):
    """Loading either works (and the model predicts) or raises ValueError (LoadError) or TypeError."""
    try:
        model = _load(directory, data)
    except (ValueError, TypeError):
        return
    model.predict(X, verbose=0)


def test_the_sample_file_loads(saved):
    model = _load(saved["dir"], saved["bytes"])
    np.testing.assert_array_equal(model.predict(X, verbose=0), saved["predictions"])
    assert len(model.optimizer.variables) == 2 + 2 * 4 and int(model.optimizer.iterations.numpy()) == 1


def test_every_truncation_point(saved):
    data = saved["bytes"]
    path = saved["dir"] / "cut.keras"
    path.write_bytes(data)
    for cut in range(len(data) - 1, -1, -1):  # shrinking one file in place: no rewrite per cut
        os.truncate(path, cut)
        with pytest.raises(ckeras.LoadError, match=rf"truncated.*\b{cut}\b"):
            ckeras.models.load_model(path)


@FUZZ
@given(edits=EDITS)
def test_mutated_file_bytes(saved, edits):
    _loads_or_refuses(saved["dir"], mutate(saved["bytes"], edits))


@FUZZ
@given(edits=EDITS)
def test_mutated_config_text_in_a_valid_zip(saved, edits):
    _loads_or_refuses(saved["dir"], _with_config(saved, mutate(saved["members"]["config.json"], edits)))


_SCALARS = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.integers(-3, 5) | st.floats()
            | st.text(max_size=8) | st.sampled_from(["Dense", "keras.layers", "relu", "float64", "__lambda__"]))
_JSON = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)


def _slots(node, out):
    """Every (container, key) in a parsed config, depth first."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        out.append((node, key))
        _slots(value, out)
    return out


@FUZZ
@given(data=st.data())
def test_mutated_config_values_in_a_valid_zip(saved, data):
    config = json.loads(saved["members"]["config.json"])
    for _ in range(data.draw(st.integers(1, 3))):
        slots = _slots(config, [])
        node, key = slots[data.draw(st.integers(0, len(slots) - 1))]
        if isinstance(node, dict) and data.draw(st.booleans()):
            del node[key]
        else:
            node[key] = data.draw(_JSON)
    _loads_or_refuses(saved["dir"], _with_config(saved, json.dumps(config, allow_nan=True)))



def test_fuzz_findings_are_load_errors(saved):
    config = _config(saved)
    del config["config"]  # deserialized as a plain dict, then used as a model
    _refused(saved, _with_config(saved, config), ckeras.LoadError, "describes a dict, not a model")
    config = _config(saved)
    config["config"] = None  # Sequential.from_config({}) looked up "layers"
    _refused(saved, _with_config(saved, config), ckeras.LoadError,
             "does not describe a model ckeras can build: KeyError: 'layers'")

# ---- crafted configs (the cases tests/python/test_saving_registry.py does not already cover) ----
def _config(saved):
    return json.loads(saved["members"]["config.json"])


def _refused(saved, data, error, message):
    with pytest.raises(error, match=message):
        _load(saved["dir"], data)


_OS_SYSTEM = {"module": "os", "class_name": "system", "config": {"command": "touch pwned"}, "registered_name": None}
_LAMBDA = {"class_name": "__lambda__", "config": {"code": "AAAA", "defaults": None, "closure": None}}


@pytest.mark.parametrize("where", ["whole-config", "as-a-layer"])
def test_os_system_is_not_allowed(saved, where):
    config = _config(saved)
    if where == "whole-config":
        config = _OS_SYSTEM
    else:
        config["config"]["layers"][1] = _OS_SYSTEM
    _refused(saved, _with_config(saved, config), ckeras.LoadError, r"A reference to 'os\.system' is not allowed")


@pytest.mark.parametrize("unsafe_flags", [False, True])
def test_a_lambda_activation_needs_safe_mode_false_from_the_caller(saved, unsafe_flags):
    config = _config(saved)
    config["config"]["layers"][1]["config"]["activation"] = _LAMBDA
    members = {**saved["members"], "config.json": json.dumps(config)}
    if unsafe_flags:  # nothing inside the file can turn safe mode off
        for node in (config, config["config"], config["compile_config"], config["config"]["layers"][1]["config"]):
            node["safe_mode"] = False
        members = {**members, "config.json": json.dumps(config),
                   "metadata.json": json.dumps({"keras_version": "3.15.1", "safe_mode": False}).encode()}
    _refused(saved, _zip(members), ckeras.LoadError, r"lambda.*not allowed in safe mode.*`safe_mode=False`")


@pytest.fixture
def planted(tmp_path):
    """A Python file that would leave a marker behind if anything ever imported or ran it."""
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.py"
    evil.write_text(f"open({str(marker)!r}, 'w').close()\n")
    yield str(evil), str(tmp_path)
    assert not marker.exists()


@pytest.mark.parametrize("kind", ["file", "dir", "url", "relative", "windows"])
@pytest.mark.parametrize("slot", ["class_name", "registered_name", "module"])
def test_a_path_or_url_where_a_class_is_expected_is_not_allowed(saved, planted, kind, slot):
    evil, folder = planted
    value = {"file": evil, "dir": folder, "url": "https://example.com/evil.py", "relative": "../../evil.py",
             "windows": "C:\\evil.py"}[kind]
    config = _config(saved)
    config["config"]["layers"][1][slot] = value
    _refused(saved, _with_config(saved, config), ckeras.LoadError, "is not allowed in a model config")


@pytest.mark.parametrize("key", ["activation", "kernel_initializer", "kernel_regularizer"])
def test_a_path_as_an_identifier_string_is_only_looked_up(saved, planted, key):
    config = _config(saved)
    config["config"]["layers"][1]["config"][key] = planted[0]
    _refused(saved, _with_config(saved, config), (TypeError, ValueError), "Could not interpret")


def test_a_path_as_the_loss_is_never_read(saved, planted):
    config = _config(saved)
    config["compile_config"]["loss"] = planted[0]
    model = _load(saved["dir"], _with_config(saved, config))  # as Keras: compile resolves the loss lazily
    with pytest.raises(ValueError, match="Could not interpret loss identifier"):
        model.fit(X, np.zeros((4, 2), "float32"), verbose=0)


@pytest.mark.parametrize("where", ["whole-config", "inside-a-layer"])
def test_nesting_10000_deep_is_refused_before_parsing(saved, where):
    deep = "[" * 10_000 + "]" * 10_000
    config = _config(saved)
    config["config"]["layers"][1]["config"]["units"] = "@deep@"
    text = deep if where == "whole-config" else json.dumps(config).replace('"@deep@"', deep)
    _refused(saved, _with_config(saved, text), ckeras.LoadError, r"nested 100\d\d levels deep, more than the 100")


@pytest.mark.parametrize("member_name, real", [("config.json", True), ("model.weights.h5", False)])
def test_a_member_claiming_100_mb_is_refused_without_inflating_it(saved, member_name, real):
    import tracemalloc
    size = 100 << 20
    members = []
    for name, data in saved["members"].items():
        if name != member_name:
            members.append(member(name, data))
        elif real:  # a genuine bomb: 100 MB of zeros deflate to about 100 kB
            members.append(member(name, b"\0" * size, method=8))
        else:  # a lying directory entry: the real data, declared as 100 MB
            members.append(member(name, data, method=8, file_size=size))
    data = make_zip(members)
    tracemalloc.start()
    try:
        _refused(saved, data, ckeras.LoadError, rf"member '{member_name}': refusing potential decompression bomb: "
                                                rf"declares {size} bytes")
        assert tracemalloc.get_traced_memory()[1] < 10 << 20
    finally:
        tracemalloc.stop()


def test_config_declaring_more_weights_than_the_file_stores_is_refused_before_allocating(tmp_path):
    """A Dense of 10**9 units would need 4 GB for its kernel alone; the file stores a few KB."""
    model = ckeras.Sequential([ckeras.Input((4,)), ckeras.layers.Dense(3)])
    path = tmp_path / "m.keras"
    model.save(path)
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    config = json.loads(members["config.json"])
    config["config"]["layers"][-1]["config"]["units"] = 10**9
    members["config.json"] = json.dumps(config).encode()
    bad = tmp_path / "huge.keras"
    with zipfile.ZipFile(bad, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    with pytest.raises(ckeras.LoadError, match=r"declares a variable of shape \(4, 1000000000\)"):
        ckeras.models.load_model(bad)
    # a legitimate file still loads, and the budget does not outlive the load
    again = ckeras.models.load_model(path)
    assert [w.shape for w in again.weights] == [(4, 3), (3,)]
    ckeras.layers.Dense(5000).build((4, 5000))


def test_a_zip_of_another_tool_is_not_a_ckeras_model_file(tmp_path):
    path = tmp_path / "other.keras"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("hello.txt", "not a model")
    with pytest.raises(ckeras.LoadError, match=r"not a ckeras model file \(a zip without config.json"):
        ckeras.models.load_model(path)
