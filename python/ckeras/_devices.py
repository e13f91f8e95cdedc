"""Device placement: `ckeras.device(...)` (TF's `tf.device`, Keras 3's `keras.device`),
`ckeras.config.set_device` / `get_device`, and the GPU memory figures of the caching allocator.

Tensors made from host data (NumPy arrays, Python values, creation ops, initializers) land on the
current device: the innermost `with ckeras.device(...)` block of this thread, else the one
`set_device` chose, else the first GPU when one is usable, else the CPU. Ops run where their inputs
are; a Python scalar follows the tensor it meets. Nothing here touches a GPU until it is asked.
"""
import contextlib

from ckeras import _core

__all__ = ["device", "set_device", "get_device", "device_memory_info", "reset_device_memory_peak",
           "release_device_memory"]

_DEVICE_HELP = "expected 'cpu', 'gpu', 'gpu:N', 'cuda:N' or a TF name such as '/GPU:0'"


def _device_string(device_name):
    """TF device names (`/GPU:0`, `/device:CPU:0`, `/job:x/replica:0/task:0/device:GPU:1`) and Keras
    ones (`cpu`, `gpu:0`, `cuda:0`) to the engine's spelling (`cpu`, `gpu:N`)."""
    if not isinstance(device_name, str):
        raise TypeError(f"a device name must be a string ({_DEVICE_HELP}), got {type(device_name).__name__}")
    s = device_name.strip()
    s = s.rsplit("device:", 1)[-1] if "device:" in s else s.rsplit("/", 1)[-1]
    kind, _, index = s.lower().partition(":")
    if kind == "cpu":
        if index not in ("", "0"):
            raise ValueError(f"invalid device '{device_name}': ckeras has one CPU device, CPU:0")
        return "cpu"
    if kind not in ("gpu", "cuda") or (index and not index.isdigit()):
        raise ValueError(f"invalid device '{device_name}'; {_DEVICE_HELP}")
    return f"gpu:{index or 0}"


def _checked(device_name):
    name = _device_string(device_name)
    try:
        _core.check_device(name)
    except RuntimeError as e:
        raise RuntimeError(f"Cannot place ops on device '{device_name}': {e}") from None
    return name


@contextlib.contextmanager
def device(device_name):
    """`with ckeras.device("gpu:0"):` (or `tf.device("/GPU:0")`): tensors made from host data inside the
    block land on that device. Raises a RuntimeError that says why when the device cannot be used."""
    _core.push_device_scope(_checked(device_name))
    try:
        yield
    finally:
        _core.pop_device_scope()


@contextlib.contextmanager
def on_cpu():
    """Internal: tensors made in the block live on the host (scalars the Python side reads every step)."""
    _core.push_device_scope("cpu")
    try:
        yield
    finally:
        _core.pop_device_scope()


def set_device(device_name):
    """Makes `device_name` the default device of the process (outside any `ckeras.device` block)."""
    _core.set_default_device(_checked(device_name))


def get_device():
    """The device new tensors land on here: `"cpu"` or `"cuda:N"`."""
    return _core.current_device()


def _gpu(device_name):
    name = _checked(device_name)
    if name == "cpu":
        raise ValueError("memory figures are kept for GPUs only; pass 'gpu:N'")
    return name


def device_memory_info(device_name="gpu:0"):
    """The caching allocator's figures for a GPU, in bytes: `current` and `peak` (held by live tensors,
    as TF's `get_memory_info` reports them), `cached` (freed blocks kept for reuse), `reserved` (what
    ckeras holds from the GPU) and `num_raw_allocs` (device allocations made so far)."""
    stats = _core.device_memory_stats(_gpu(device_name))
    return {"current": stats["in_use"], "peak": stats["peak_in_use"], "cached": stats["cached"],
            "reserved": stats["reserved"], "num_raw_allocs": stats["num_raw_allocs"]}


def reset_device_memory_peak(device_name="gpu:0"):
    """Restarts the `peak` figure from the current use."""
    _core.reset_peak_device_memory(_gpu(device_name))


def release_device_memory(device_name="gpu:0"):
    """Gives every cached (freed) block back to the GPU; live tensors are untouched."""
    _core.release_device_cache(_gpu(device_name))
