"""`ckeras.utils`: keras.utils helpers: `to_categorical`, `normalize`, `set_random_seed`, `get_file`, the
serialization names Keras also exports here (`register_keras_serializable`, ...), and (when their modules are present) `Progbar` and `PyDataset`."""
from ckeras.utils.file_utils import get_file, hash_file, validate_file
from ckeras.utils.numerical_utils import normalize, to_categorical
from ckeras.utils.rng_utils import set_random_seed
from ckeras.utils.session import clear_session
from ckeras.saving import (CustomObjectScope, custom_object_scope, deserialize_keras_object, get_custom_objects,
                           get_registered_name, get_registered_object, register_keras_serializable,
                           serialize_keras_object)

__all__ = ["get_file", "to_categorical", "normalize", "set_random_seed", "clear_session", "CustomObjectScope",
           "custom_object_scope", "deserialize_keras_object", "get_custom_objects", "get_registered_name",
           "get_registered_object", "register_keras_serializable", "serialize_keras_object"]

try:
    from ckeras.utils.progbar import Progbar  # noqa: F401
    __all__.append("Progbar")
except ImportError:
    pass

try:
    from ckeras.trainers.py_dataset import PyDataset  # noqa: F401
    Sequence = PyDataset  # Keras keeps the old name as an alias
    __all__ += ["PyDataset", "Sequence"]
except ImportError:
    pass
