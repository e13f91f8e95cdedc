"""`ckeras.config` (Keras 3's settings and tf.config's device calls) and the TensorFlow compatibility
names that `ckeras._compat.install` attaches (`import ckeras as tf`), checked against NumPy."""
import numpy as np
import pytest

import ckeras
from ckeras import _compat, config

tf = _compat.install(ckeras)  # idempotent; ckeras/__init__.py calls it too once the lead wires it in


def np_of(t):
    return np.asarray(t)


@pytest.fixture
def restore_config():
    saved = (config.floatx(), config.epsilon(), config.image_data_format(),
             config.tensor_float_32_execution_enabled())
    yield
    config.set_floatx(saved[0])
    config.set_epsilon(saved[1])
    config.set_image_data_format(saved[2])
    config.enable_tensor_float_32_execution(saved[3])


# --- keras.config ------------------------------------------------------------------------------------

def test_config_defaults_match_keras():
    assert config.floatx() == "float32"
    assert config.epsilon() == 1e-7
    assert config.image_data_format() == "channels_last"
    assert config.backend() == "ckeras"
    assert config.is_interactive_logging_enabled() and config.is_traceback_filtering_enabled()


def test_config_setters(restore_config):
    config.set_floatx("float64")
    assert config.floatx() == "float64"
    config.set_floatx(tf.float32)
    assert config.floatx() == "float32"
    config.set_epsilon(1e-5)
    assert config.epsilon() == 1e-5
    config.set_image_data_format("channels_first")
    assert config.image_data_format() == "channels_first"


@pytest.mark.parametrize("bad", ["float16", "bfloat16", "int32", "float"])
def test_set_floatx_rejects_dtypes_the_engine_lacks(bad):
    with pytest.raises(ValueError, match=f"Unknown `floatx` value: {bad}"):
        config.set_floatx(bad)


def test_set_image_data_format_rejects_unknown():
    with pytest.raises(ValueError, match="channels_last"):
        config.set_image_data_format("NHWC")


def test_max_epochs(monkeypatch):
    assert config.max_epochs() is None
    monkeypatch.setenv("KERAS_MAX_EPOCHS", "3")
    assert config.max_epochs() == 3
    config.set_max_epochs(2)
    try:
        assert config.max_epochs() == 2
    finally:
        config.set_max_epochs(None)
    with pytest.raises(ValueError, match="positive integer"):
        config.set_max_steps_per_epoch(0)


def test_keras_config_names_exist():
    for name in ["floatx", "set_floatx", "epsilon", "set_epsilon", "image_data_format",
                 "set_image_data_format", "backend", "enable_unsafe_deserialization",
                 "enable_interactive_logging", "disable_interactive_logging",
                 "enable_traceback_filtering", "disable_traceback_filtering", "max_epochs",
                 "set_max_epochs", "max_steps_per_epoch", "set_max_steps_per_epoch"]:
        assert callable(getattr(ckeras.config, name)), name


# --- tf.config ----------------------------------------------------------------------------------------

def test_list_physical_devices_cpu_only(monkeypatch):
    monkeypatch.setattr(config._core, "cuda_device_count", lambda: 0)
    devices = tf.config.list_physical_devices()
    assert [(d.name, d.device_type) for d in devices] == [("/physical_device:CPU:0", "CPU")]
    assert tf.config.list_physical_devices("GPU") == []
    assert len(tf.config.list_physical_devices("cpu")) == 1


def test_list_physical_devices_reports_each_gpu(monkeypatch):
    monkeypatch.setattr(config._core, "cuda_device_count", lambda: 2)
    gpus = tf.config.list_physical_devices("GPU")
    assert [g.name for g in gpus] == ["/physical_device:GPU:0", "/physical_device:GPU:1"]
    assert all(g.device_type == "GPU" for g in gpus)
    assert [d.name for d in tf.config.list_logical_devices("GPU")] == ["/device:GPU:0", "/device:GPU:1"]
    tf.config.experimental.set_memory_growth(gpus[0], True)
    assert tf.config.experimental.get_memory_growth(gpus[0])


def test_real_gpu_count_matches_engine():
    assert len(tf.config.list_physical_devices("GPU")) == ckeras._core.cuda_device_count()


def test_tensor_float_32_flag():
    # On by default as in TF (checked in a fresh process by test_devices); conftest turns it off for tests.
    before = config.tensor_float_32_execution_enabled()
    try:
        tf.config.experimental.enable_tensor_float_32_execution(True)
        assert config.tensor_float_32_execution_enabled() is True
        tf.config.experimental.enable_tensor_float_32_execution(False)
        assert config.tensor_float_32_execution_enabled() is False
    finally:
        config.enable_tensor_float_32_execution(before)


def test_set_memory_growth_rejects_unknown_device():
    with pytest.raises(ValueError, match="Unrecognized device"):
        tf.config.experimental.set_memory_growth("GPU:7", True)


def test_threading_sets_engine_threads():
    before = tf.config.threading.get_intra_op_parallelism_threads()
    tf.config.threading.set_intra_op_parallelism_threads(1)
    try:
        assert tf.config.threading.get_intra_op_parallelism_threads() == 1
    finally:
        tf.config.threading.set_intra_op_parallelism_threads(before)


# --- device ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["/CPU:0", "/cpu:0", "cpu", "CPU", "/device:CPU:0",
                                  "/job:localhost/replica:0/task:0/device:CPU:0"])
def test_device_accepts_cpu_names(name):
    with tf.device(name):
        out = tf.add(tf.constant([1.0]), 1.0)
    assert np_of(out).tolist() == [2.0]


@pytest.mark.parametrize("name", ["/TPU:0", "cpu:1", "banana"])
def test_device_rejects_unknown_names(name):
    with pytest.raises(ValueError, match="invalid device"):
        with tf.device(name):
            pass


@pytest.mark.skipif(ckeras._core.cuda_device_count() > 0, reason="a GPU is present")
@pytest.mark.parametrize("name", ["/GPU:0", "/device:GPU:0", "gpu:0", "cuda:0"])
def test_device_gpu_without_gpu_raises_clear_error(name):
    with pytest.raises(RuntimeError, match="Cannot place ops on device.*cuda"):
        with tf.device(name):
            pass
