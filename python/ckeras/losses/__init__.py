"""`ckeras.losses`: Keras 3's losses (classes, functions, `get`, `serialize`, `deserialize`)."""
import difflib
import inspect

from ckeras.losses.functions import (binary_crossentropy, categorical_crossentropy, categorical_hinge,
                                     cosine_similarity, hinge, huber, kl_divergence, log_cosh,
                                     mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
                                     mean_squared_logarithmic_error, poisson, sparse_categorical_crossentropy,
                                     squared_hinge)
from ckeras.losses.loss import Loss
from ckeras.losses.losses import (BinaryCrossentropy, CategoricalCrossentropy, CategoricalHinge,
                                  CosineSimilarity, Hinge, Huber, KLDivergence, LogCosh, LossFunctionWrapper,
                                  MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError,
                                  MeanSquaredLogarithmicError, Poisson, SparseCategoricalCrossentropy,
                                  SquaredHinge)

ALL_OBJECTS = [
    Loss, LossFunctionWrapper,
    KLDivergence, Poisson, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
    CosineSimilarity, LogCosh, Huber, Hinge, SquaredHinge, CategoricalHinge,
    kl_divergence, poisson, binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy,
    mean_squared_error, mean_absolute_error, mean_absolute_percentage_error, mean_squared_logarithmic_error,
    cosine_similarity, log_cosh, huber, hinge, squared_hinge, categorical_hinge,
]
ALL_OBJECTS_DICT = {obj.__name__: obj for obj in ALL_OBJECTS}
ALL_OBJECTS_DICT.update({
    "bce": binary_crossentropy, "BCE": binary_crossentropy,
    "kld": kl_divergence, "KLD": kl_divergence,
    "mae": mean_absolute_error, "MAE": mean_absolute_error,
    "mse": mean_squared_error, "MSE": mean_squared_error,
    "mape": mean_absolute_percentage_error, "MAPE": mean_absolute_percentage_error,
    "msle": mean_squared_logarithmic_error, "MSLE": mean_squared_logarithmic_error,
})
# Keras's legacy aliases (keras._legacy.losses), also accepted by `get`.
_LEGACY = {"logcosh": log_cosh, "kullback_leibler_divergence": kl_divergence}

# The lowercase aliases as attributes too: `ckeras.losses.mse`, ...
bce = BCE = binary_crossentropy
kld = KLD = kullback_leibler_divergence = kl_divergence
mae = MAE = mean_absolute_error
mse = MSE = mean_squared_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
logcosh = log_cosh

__all__ = [obj.__name__ for obj in ALL_OBJECTS] + ["get", "serialize", "deserialize", "bce", "kld", "mae",
                                                   "mse", "mape", "msle", "logcosh"]


def serialize(loss):
    """A loss (a `Loss` instance or a loss function) as a Keras config dict."""
    if loss is None:
        return None
    if isinstance(loss, Loss):
        return {"module": "keras.losses", "class_name": type(loss).__name__, "config": loss.get_config(),
                "registered_name": None}
    name = getattr(loss, "__name__", None)
    if name is None:
        raise ValueError(f"Cannot serialize loss {loss!r}: it is neither a `Loss` nor a named function.")
    return {"module": "keras.losses", "class_name": "function", "config": name, "registered_name": "function"}


def deserialize(config, custom_objects=None):
    """Builds a loss from `serialize()`'s dict, or from a bare name."""
    objects = {**ALL_OBJECTS_DICT, **_LEGACY, **(custom_objects or {})}
    if isinstance(config, str):
        obj = objects.get(config)
        if obj is None:
            raise ValueError(_unknown_message(config))
        return obj
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(_unknown_message(config))
    class_name, inner = config["class_name"], config.get("config")
    if class_name == "function":
        return deserialize(inner, custom_objects)
    cls = objects.get(class_name)
    if cls is None or not inspect.isclass(cls):
        raise ValueError(_unknown_message(class_name))
    return cls.from_config(dict(inner or {}))


def _unknown_message(identifier):
    msg = f"Could not interpret loss identifier: {identifier}"
    close = difflib.get_close_matches(str(identifier), list(ALL_OBJECTS_DICT) + list(_LEGACY), n=1)
    if close:
        msg += f". Did you mean '{close[0]}'?"
    return msg


def get(identifier):
    """Resolves a loss identifier.

    Args:
        identifier: None, a loss function or class name (`"mse"`, `"categorical_crossentropy"`,
            `"CategoricalCrossentropy"`), a config dict from `serialize()`, a callable, or a `Loss` instance.
    Returns:
        A loss function or `Loss` instance (a class name gives a default instance), or None for None.
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = ALL_OBJECTS_DICT.get(identifier, _LEGACY.get(identifier))
        if obj is None:
            raise ValueError(_unknown_message(identifier))
    else:
        obj = identifier
    if callable(obj):
        return obj() if inspect.isclass(obj) else obj
    raise ValueError(f"Could not interpret loss identifier: {identifier}")
