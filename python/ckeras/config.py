"""`ckeras.config`: Keras 3's global settings (`keras.config`) plus the few `tf.config` calls that
TensorFlow code makes (`list_physical_devices`, TF32, memory growth, thread counts).

The same module serves `import ckeras as keras` (`keras.config.floatx()`) and `import ckeras as tf`
(`tf.config.list_physical_devices("GPU")`). Left out: dtype policies, backend switching, flash attention.
"""
import collections
import os
import types

from ckeras import _core
from ckeras._devices import (device_memory_info, get_device, release_device_memory,  # noqa: F401
                             reset_device_memory_peak, set_device)

__all__ = [
    "backend", "floatx", "set_floatx", "epsilon", "set_epsilon", "image_data_format",
    "set_image_data_format", "enable_unsafe_deserialization", "enable_interactive_logging",
    "disable_interactive_logging", "is_interactive_logging_enabled", "enable_traceback_filtering",
    "disable_traceback_filtering", "is_traceback_filtering_enabled", "max_epochs", "set_max_epochs",
    "max_steps_per_epoch", "set_max_steps_per_epoch", "PhysicalDevice", "LogicalDevice",
    "list_physical_devices", "list_logical_devices", "get_visible_devices",
    "enable_tensor_float_32_execution", "tensor_float_32_execution_enabled", "experimental", "threading",
    "set_device", "get_device", "device_memory_info", "reset_device_memory_peak", "release_device_memory",
]

_FLOATX = "float32"
_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = "channels_last"
_FLAGS = {"unsafe_deserialization": False, "interactive_logging": True, "traceback_filtering": True,
          "max_epochs": None, "max_steps_per_epoch": None}
_MEMORY_GROWTH = {}


def backend():
    """The name of the backend running the ops: always `"ckeras"`."""
    return "ckeras"


def floatx():
    """The default float type, as a string (`"float32"` unless `set_floatx` changed it)."""
    return _FLOATX


def set_floatx(value):
    """Sets the default float type: `"float32"` or `"float64"` (the dtypes the engine computes in)."""
    global _FLOATX
    accepted = ("float32", "float64")
    value = str(getattr(value, "name", value))
    if value not in accepted:
        raise ValueError(f"Unknown `floatx` value: {value}. Expected one of {accepted} "
                         "(ckeras computes in float32 or float64 only)")
    _FLOATX = value


def epsilon():
    """The fuzz factor used in numeric expressions (1e-7 by default)."""
    return _EPSILON


def set_epsilon(value):
    """Sets the fuzz factor used in numeric expressions."""
    global _EPSILON
    _EPSILON = float(value)


def image_data_format():
    """The default image layout, `"channels_last"` or `"channels_first"`."""
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format):
    """Sets the default image layout: `"channels_last"` or `"channels_first"`."""
    global _IMAGE_DATA_FORMAT
    accepted = ("channels_last", "channels_first")
    value = str(data_format).lower()
    if value not in accepted:
        raise ValueError(f"The `data_format` argument must be one of {accepted}. "
                         f"Received: data_format={data_format}")
    _IMAGE_DATA_FORMAT = value


def enable_unsafe_deserialization():
    """Kept for Keras compatibility. ckeras model files never carry code, so loading stays safe."""
    _FLAGS["unsafe_deserialization"] = True


def enable_interactive_logging():
    """Progress bars and messages go to stdout (the default)."""
    _FLAGS["interactive_logging"] = True


def disable_interactive_logging():
    """Progress bars and messages go to Python's `logging` instead of stdout."""
    _FLAGS["interactive_logging"] = False


def is_interactive_logging_enabled():
    return _FLAGS["interactive_logging"]


def enable_traceback_filtering():
    _FLAGS["traceback_filtering"] = True


def disable_traceback_filtering():
    _FLAGS["traceback_filtering"] = False


def is_traceback_filtering_enabled():
    return _FLAGS["traceback_filtering"]


def _positive_or_none(value, name):
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValueError(f"`{name}` must be a positive integer or None. Received: {name}={value}")
    return value


def max_epochs():
    """The cap on the epochs of any `fit` (None: no cap); also read from `KERAS_MAX_EPOCHS`."""
    if _FLAGS["max_epochs"] is None and os.environ.get("KERAS_MAX_EPOCHS"):
        return int(os.environ["KERAS_MAX_EPOCHS"])
    return _FLAGS["max_epochs"]


def set_max_epochs(max_epochs):
    _FLAGS["max_epochs"] = _positive_or_none(max_epochs, "max_epochs")


def max_steps_per_epoch():
    """The cap on the steps of any epoch (None: no cap); also read from `KERAS_MAX_STEPS_PER_EPOCH`."""
    if _FLAGS["max_steps_per_epoch"] is None and os.environ.get("KERAS_MAX_STEPS_PER_EPOCH"):
        return int(os.environ["KERAS_MAX_STEPS_PER_EPOCH"])
    return _FLAGS["max_steps_per_epoch"]


def set_max_steps_per_epoch(max_steps_per_epoch):
    _FLAGS["max_steps_per_epoch"] = _positive_or_none(max_steps_per_epoch, "max_steps_per_epoch")


def _ckeras_home():
    """The cache root: `$CKERAS_HOME`, else `~/.ckeras`."""
    return os.path.expanduser(os.environ.get("CKERAS_HOME") or os.path.join("~", ".ckeras"))


# --- tf.config ------------------------------------------------------------------------------------

PhysicalDevice = collections.namedtuple("PhysicalDevice", ["name", "device_type"])
LogicalDevice = collections.namedtuple("LogicalDevice", ["name", "device_type"])


def _devices(kind, device_type):
    prefix = "/physical_device:" if kind is PhysicalDevice else "/device:"
    found = [kind(prefix + "CPU:0", "CPU")]
    found += [kind(f"{prefix}GPU:{i}", "GPU") for i in range(_core.cuda_device_count())]
    if device_type is None:
        return found
    wanted = str(device_type).upper()
    return [d for d in found if d.device_type == wanted]


def list_physical_devices(device_type=None):
    """The machine's devices as `PhysicalDevice(name, device_type)`, e.g. `/physical_device:GPU:0`.

    Args:
        device_type: Optional filter, `"CPU"` or `"GPU"` (any case).
    Returns:
        A list: one CPU, then one entry per CUDA device this build can use.
    """
    return _devices(PhysicalDevice, device_type)


def list_logical_devices(device_type=None):
    """As `list_physical_devices`, with TF's logical names (`/device:GPU:0`)."""
    return _devices(LogicalDevice, device_type)


def get_visible_devices(device_type=None):
    """All physical devices are visible; same as `list_physical_devices`."""
    return list_physical_devices(device_type)


def enable_tensor_float_32_execution(enabled):
    """Allows (True, the default) or forbids TF32 math in float32 matmuls on GPUs that have it."""
    _core.set_tensor_float32_enabled(bool(enabled))


def tensor_float_32_execution_enabled():
    return _core.tensor_float32_enabled()


def _set_memory_growth(device, enable):
    if not isinstance(device, PhysicalDevice) or device not in list_physical_devices():
        raise ValueError(f"Unrecognized device: {device}. Pass an entry of "
                         "`tf.config.list_physical_devices()`")
    _MEMORY_GROWTH[device.name] = bool(enable)


def _get_memory_growth(device):
    return _MEMORY_GROWTH.get(getattr(device, "name", device), False)


def _set_intra_op_parallelism_threads(num_threads):
    if num_threads:  # 0 means "let the runtime choose", as in TF
        _core.set_cpu_num_threads(int(num_threads))


experimental = types.SimpleNamespace(
    list_physical_devices=list_physical_devices, list_logical_devices=list_logical_devices,
    set_memory_growth=_set_memory_growth, get_memory_growth=_get_memory_growth,
    enable_tensor_float_32_execution=enable_tensor_float_32_execution,
    tensor_float_32_execution_enabled=tensor_float_32_execution_enabled,
    get_memory_info=lambda device: {k: device_memory_info(device)[k] for k in ("current", "peak")},
    reset_memory_stats=reset_device_memory_peak)

threading = types.SimpleNamespace(
    set_intra_op_parallelism_threads=_set_intra_op_parallelism_threads,
    get_intra_op_parallelism_threads=_core.cpu_num_threads,
    set_inter_op_parallelism_threads=lambda num_threads: None,
    get_inter_op_parallelism_threads=lambda: 0)
