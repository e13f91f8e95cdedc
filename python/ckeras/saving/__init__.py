"""`ckeras.saving`: Keras 3's saving API (`keras.saving`): the `.keras` model file, `.weights.h5` weights,
the object config format and the registry of custom objects; `.safetensors` weights
(`ckeras.saving.safetensors.save_file` / `load_file` for plain dicts of arrays)."""
from ckeras.saving.errors import LoadError
from ckeras.saving.object_registration import (CustomObjectScope, custom_object_scope, get_custom_objects,
                                               get_registered_name, get_registered_object,
                                               register_keras_serializable)
from ckeras.saving.serialization_lib import SafeModeScope, deserialize_keras_object, serialize_keras_object
from ckeras.saving.saving_api import load_model, load_weights, save_model, save_weights
from ckeras.saving.atomic import atomic_write
from ckeras.saving.zip_guard import SafeArchive, open_archive
from ckeras.saving import safetensors_io as safetensors

__all__ = ["LoadError", "CustomObjectScope", "custom_object_scope", "get_custom_objects", "get_registered_name",
           "get_registered_object", "register_keras_serializable", "serialize_keras_object",
           "deserialize_keras_object", "SafeModeScope", "save_model", "load_model", "save_weights",
           "load_weights", "atomic_write", "SafeArchive", "open_archive", "safetensors"]
