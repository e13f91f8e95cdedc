"""`save_model`, `load_model`, `save_weights`, `load_weights`: the file-extension dispatch of Keras 3's
`saving_api.py`, with its messages. `.keras` is the model format, `.weights.h5` the weights format;
`.safetensors` weights go to `saving/safetensors_io.py` when that module provides them."""
import os
import warnings

from ckeras.saving import keras_archive, object_state
from ckeras.saving.atomic import atomic_write
from ckeras.saving.errors import LoadError


def _path(filepath):
    return os.fspath(filepath)


def save_model(model, filepath, overwrite=True, zipped=None, **kwargs):
    """Saves `model` (config, weights, optimizer state) to a `.keras` file, atomically.

    Args:
        model: The model.
        filepath: Path ending in `.keras`.
        overwrite: When False and the file exists, ask before overwriting.
    """
    include_optimizer = kwargs.pop("include_optimizer", True)
    if kwargs:
        raise ValueError(f"The following argument(s) are not supported: {list(kwargs.keys())}")
    if zipped is False:
        raise ValueError("ckeras only saves zipped `.keras` files (`zipped=True`).")
    path = _path(filepath)
    if path.endswith((".h5", ".hdf5")):
        raise ValueError("ckeras does not write the legacy HDF5 model format: only the native `.keras` format "
                         f"is supported, e.g. `model.save('my_model.keras')`. Received: filepath={path}")
    if not path.endswith(".keras"):
        raise ValueError("Invalid filepath extension for saving. Please add a `.keras` extension for the native "
                         f"Keras format. Received: filepath={path}.")
    if not include_optimizer:
        warnings.warn("`include_optimizer=False` is ignored by the `.keras` format.")
    if os.path.exists(path) and not overwrite and not _ask_to_proceed(path):
        return
    keras_archive.save(model, path)


def _ask_to_proceed(path):
    answer = input(f"[WARNING] {path} already exists - overwrite? [y/n]").strip().lower()
    while answer not in ("y", "n"):
        answer = input('Enter "y" (overwrite) or "n" (cancel).').strip().lower()
    return answer == "y"


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Loads a model saved with `model.save("....keras")` (by ckeras or Keras 3).

    Args:
        filepath: Path to a `.keras` file.
        custom_objects: Dict of `{name: class or function}` for custom layers, losses, ...
        compile: Also compile the model and restore the optimizer state, as saved.
        safe_mode: Refuse Python code (lambdas) stored in the file. Only the caller can turn it off.
    Returns:
        The model.
    """
    path = _path(filepath)
    if path.endswith((".h5", ".hdf5")):
        raise ValueError("ckeras does not read the legacy HDF5 model format: only the native `.keras` format "
                         f"is supported. Received: filepath={path}")
    if not path.endswith(".keras"):
        raise ValueError(f"File format not supported: filepath={path}. ckeras supports `.keras` model files.")
    if not os.path.exists(path):
        raise ValueError(f"File not found: filepath={path}. Please ensure the file is an accessible `.keras` "
                         "zip file.")
    return keras_archive.load(path, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)


def _safetensors():
    from ckeras.saving import safetensors_weights
    return safetensors_weights


def save_weights(model, filepath, overwrite=True, **kwargs):
    """Saves the weights (and optimizer state) in Keras 3's `.weights.h5` layout, atomically."""
    if kwargs:
        raise ValueError(f"Invalid keyword arguments: {kwargs}")
    path = _path(filepath)
    if path.endswith(".safetensors"):
        return _safetensors().save_weights(model, path)
    if not path.endswith(".weights.h5"):
        raise ValueError(f"The filename must end in `.weights.h5`. Received: filepath={path}")
    if os.path.exists(path) and not overwrite and not _ask_to_proceed(path):
        return
    data = object_state.weights_bytes(model)
    with atomic_write(path) as f:
        f.write(data)


def load_weights(model, filepath, skip_mismatch=False, **kwargs):
    """Loads weights from a `.weights.h5` or `.keras` file into `model`; every stored variable's shape and
    dtype is checked before any is assigned."""
    if kwargs:
        raise ValueError(f"Invalid keyword arguments: {kwargs}")
    path = _path(filepath)
    if path.endswith(".safetensors"):
        return _safetensors().load_weights(model, path)
    if path.endswith(".keras"):
        data, source = keras_archive.weights_member(path), f"{path}: {keras_archive.WEIGHTS}"
    elif path.endswith(".weights.h5"):
        try:
            with open(path, "rb") as f:
                data = f.read()
        except IsADirectoryError as e:
            raise LoadError(f"{path}: {e}") from None
        source = path
    else:
        raise ValueError(f"File format not supported: filepath={path}. ckeras supports `.weights.h5` and "
                         "`.keras` files.")
    object_state.load_weights_from_bytes(model, data, source, skip_mismatch=skip_mismatch)
