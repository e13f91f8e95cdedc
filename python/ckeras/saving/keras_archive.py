"""The `.keras` zip as Keras 3 writes it: `metadata.json`, `config.json`, `model.weights.h5`, stored
uncompressed, in that order. Written through `atomic_write`; read through `open_archive`, member by exact
name, in memory."""
import datetime
import json
import zipfile

from ckeras.saving import config_guard, object_state
from ckeras.saving.atomic import atomic_write
from ckeras.saving.serialization_lib import SafeModeScope, deserialize_keras_object, serialize_keras_object
from ckeras.saving.zip_guard import open_archive

# The Keras release whose `.keras` layout this writer reproduces (Keras does not check it on load).
KERAS_FORMAT_VERSION = "3.15.1"
METADATA = "metadata.json"
CONFIG = "config.json"
WEIGHTS = "model.weights.h5"
MAX_WEIGHTS_BYTES = 1 << 40


def _check_savable(model):
    from ckeras.models.sequential import Sequential
    if isinstance(model, Sequential) and not model.built:
        raise model._no_input_shape()


def model_json(model):
    """(config.json, metadata.json) texts for `model`."""
    _check_savable(model)
    config = json.dumps(serialize_keras_object(model))
    metadata = json.dumps({"keras_version": KERAS_FORMAT_VERSION,
                           "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")})
    return config, metadata


def save(model, filepath):
    """Writes `model` to a `.keras` file; the previous file stays intact if anything fails."""
    config, metadata = model_json(model)
    weights = object_state.weights_bytes(model)
    with atomic_write(filepath) as f:
        with zipfile.ZipFile(f, "w") as zf:
            with zf.open(METADATA, "w") as member:
                member.write(metadata.encode())
            with zf.open(CONFIG, "w") as member:
                member.write(config.encode())
            zf.writestr(WEIGHTS, weights)


def model_from_config_text(text, custom_objects=None, compile=True, safe_mode=True, what=CONFIG):
    """The model a config.json describes (caps checked, references screened, allowlist only)."""
    tree = config_guard.loads(text, what=what)
    if not isinstance(tree, dict) or "class_name" not in tree:
        raise config_guard.LoadError(f"{what} does not describe a model")
    config_guard.screen(tree, safe_mode=safe_mode)
    from ckeras.layers.layer import Layer
    if not compile:
        tree["compile_config"] = None
    with SafeModeScope(safe_mode):
        try:
            model = deserialize_keras_object(tree, custom_objects=custom_objects, safe_mode=safe_mode)
        except (ValueError, TypeError):
            raise  # LoadError, a refused argument, an unknown class (TypeError, as Keras)
        except Exception as e:  # allowed classes given a config they cannot be built from (a key missing...)
            raise config_guard.LoadError(f"{what} does not describe a model ckeras can build: "
                                         f"{type(e).__name__}: {e}") from e
    if not isinstance(model, Layer):
        raise config_guard.LoadError(f"{what} describes a {type(model).__name__}, not a model")
    return model


def load(filepath, custom_objects=None, compile=True, safe_mode=True):
    """The model in a `.keras` file, with its weights (and optimizer state when `compile`)."""
    from ckeras.backend.allocation_budget import variable_budget
    with open_archive(filepath) as archive:
        if CONFIG not in archive.names():
            raise config_guard.LoadError(f"{filepath}: not a ckeras model file (a zip without {CONFIG}; "
                                         f"its members are {archive.names()[:5]})")
        text = archive.read(CONFIG, max_bytes=config_guard.MAX_CONFIG_BYTES)
        weights = archive.read(WEIGHTS, max_bytes=MAX_WEIGHTS_BYTES)
    # The model's variables can't need more bytes than the weights file stores (HDF5 adds overhead,
    # never removes any), so a config declaring more is refused before it allocates.
    with variable_budget(len(weights), filepath):
        model = model_from_config_text(text, custom_objects, compile, safe_mode)
    object_state.load_weights_from_bytes(model, weights, f"{filepath}: {WEIGHTS}")
    return model


def weights_member(filepath):
    """The `model.weights.h5` bytes of a `.keras` file."""
    with open_archive(filepath) as archive:
        return archive.read(WEIGHTS, max_bytes=MAX_WEIGHTS_BYTES)
