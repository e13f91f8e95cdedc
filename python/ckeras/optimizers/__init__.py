"""`ckeras.optimizers`: Keras 3's optimizers, each step one multi-tensor call into the C++ engine."""
import difflib

from ckeras.optimizers.adagrad import Adagrad
from ckeras.optimizers.adam import Adam, AdamW
from ckeras.optimizers.adamax import Adamax
from ckeras.optimizers.base_optimizer import Optimizer
from ckeras.optimizers.lion import Lion
from ckeras.optimizers.nadam import Nadam
from ckeras.optimizers.rmsprop import RMSprop
from ckeras.optimizers.sgd import SGD
from ckeras.optimizers import experimental  # noqa: F401  (tf.keras.optimizers.experimental names)
from ckeras.optimizers import schedules  # noqa: F401

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax", "Nadam", "Lion", "get",
           "serialize", "deserialize"]

ALL_OBJECTS = [SGD, Adam, AdamW, RMSprop, Adagrad, Adamax, Nadam, Lion]
ALL_OBJECTS_DICT = {cls.__name__.lower(): cls for cls in ALL_OBJECTS}


def serialize(optimizer):
    """The optimizer as a Keras config dict: `{"module", "class_name", "config", "registered_name"}`."""
    return {"module": "keras.optimizers", "class_name": type(optimizer).__name__,
            "config": optimizer.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    """Builds an optimizer from `serialize()`'s dict; class names match case-insensitively."""
    name = config.get("class_name") if isinstance(config, dict) else None
    cls = (custom_objects or {}).get(name) or ALL_OBJECTS_DICT.get(str(name).lower())
    if cls is None:
        raise ValueError(_unknown_message(name if name is not None else config))
    return cls.from_config(dict(config.get("config") or {}))


def _unknown_message(identifier):
    msg = f"Could not interpret optimizer identifier: {identifier}"
    close = difflib.get_close_matches(str(identifier).lower(), list(ALL_OBJECTS_DICT), n=1)
    if close:
        msg += f". Did you mean '{close[0]}'?"
    return msg


def get(identifier):
    """Resolves an optimizer identifier.

    Args:
        identifier: None, an optimizer name (`"adam"`, `"SGD"`, ...), a config dict from `serialize()`,
            or an `Optimizer` instance (returned as is).
    Returns:
        An `Optimizer` instance, or None for None.
    """
    if identifier is None:
        return None
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        cls = ALL_OBJECTS_DICT.get(identifier.lower())
        if cls is None:
            raise ValueError(_unknown_message(identifier))
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise ValueError(f"Could not interpret optimizer identifier: {identifier}")
