"""`ckeras.metrics`: Keras 3's stateful metrics, their per-sample functions, `get`, `serialize`,
`deserialize`; `resolve.py` holds the shape-based resolution of "accuracy" used by `compile()`."""
import difflib
import inspect

from ckeras.losses.functions import (binary_crossentropy, categorical_crossentropy, categorical_hinge, hinge,
                                     huber, kl_divergence, log_cosh, mean_absolute_error,
                                     mean_absolute_percentage_error, mean_squared_error,
                                     mean_squared_logarithmic_error, poisson, sparse_categorical_crossentropy,
                                     squared_hinge)
from ckeras.losses.loss import to_snake_case
from ckeras.metrics.accuracy_metrics import (Accuracy, BinaryAccuracy, CategoricalAccuracy,
                                             SparseCategoricalAccuracy, SparseTopKCategoricalAccuracy,
                                             TopKCategoricalAccuracy, binary_accuracy, categorical_accuracy,
                                             sparse_categorical_accuracy, sparse_top_k_categorical_accuracy,
                                             top_k_categorical_accuracy)
from ckeras.metrics.confusion_metrics import (AUC, FalseNegatives, FalsePositives, Precision, Recall,
                                              TrueNegatives, TruePositives)
from ckeras.metrics.metric import Metric
from ckeras.metrics.reduction_metrics import Mean, MeanMetricWrapper, Sum
from ckeras.metrics.regression_metrics import (BinaryCrossentropy, CategoricalCrossentropy, CategoricalHinge,
                                               CosineSimilarity, Hinge, KLDivergence, LogCoshError,
                                               MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError,
                                               MeanSquaredLogarithmicError, Poisson, RootMeanSquaredError,
                                               SparseCategoricalCrossentropy, SquaredHinge)

ALL_OBJECTS = [
    Metric, Mean, Sum, MeanMetricWrapper,
    MeanSquaredError, RootMeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, CosineSimilarity, LogCoshError,
    AUC, FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives, TruePositives,
    Hinge, SquaredHinge, CategoricalHinge,
    KLDivergence, Poisson, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
]
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in ALL_OBJECTS}
ALL_OBJECTS_DICT.update({to_snake_case(cls.__name__): cls for cls in ALL_OBJECTS})
ALL_OBJECTS_DICT.update({
    "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy,
    "mse": MeanSquaredError, "MSE": MeanSquaredError,
    "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
})

# The per-sample functions exported by keras.metrics (for MeanMetricWrapper configs).
_FUNCTIONS = {f.__name__: f for f in [
    binary_accuracy, categorical_accuracy, sparse_categorical_accuracy, top_k_categorical_accuracy,
    sparse_top_k_categorical_accuracy, binary_crossentropy, categorical_crossentropy,
    sparse_categorical_crossentropy, categorical_hinge, hinge, squared_hinge, huber, kl_divergence, log_cosh,
    mean_absolute_error, mean_absolute_percentage_error, mean_squared_error, mean_squared_logarithmic_error,
    poisson]}

__all__ = sorted(set(cls.__name__ for cls in ALL_OBJECTS) | set(_FUNCTIONS)) + ["get", "serialize",
                                                                                 "deserialize"]


def _function_by_name(fn):
    """A per-sample function from its name (or a loss from its serialized dict)."""
    if isinstance(fn, dict):
        from ckeras import losses
        return losses.deserialize(fn)
    if fn in _FUNCTIONS:
        return _FUNCTIONS[fn]
    from ckeras import losses
    return losses.deserialize(fn)


def serialize(metric):
    """A `Metric` instance (or a metric function) as a Keras config dict."""
    if isinstance(metric, Metric):
        return {"module": "keras.metrics", "class_name": type(metric).__name__, "config": metric.get_config(),
                "registered_name": None}
    return {"module": "keras.metrics", "class_name": "function", "config": metric.__name__,
            "registered_name": "function"}


def deserialize(config, custom_objects=None):
    """Builds a metric from `serialize()`'s dict (or a name)."""
    objects = {**ALL_OBJECTS_DICT, **(custom_objects or {})}
    if isinstance(config, str):
        obj = objects.get(config) or _FUNCTIONS.get(config)
        if obj is None:
            raise ValueError(_unknown_message(config))
        return obj
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(_unknown_message(config))
    if config["class_name"] == "function":
        return deserialize(config.get("config"), custom_objects)
    cls = objects.get(config["class_name"])
    if cls is None or not inspect.isclass(cls):
        raise ValueError(_unknown_message(config["class_name"]))
    return cls.from_config(dict(config.get("config") or {}))


def _unknown_message(identifier):
    msg = f"Could not interpret metric identifier: {identifier}"
    close = difflib.get_close_matches(str(identifier), list(ALL_OBJECTS_DICT), n=1)
    if close:
        msg += f". Did you mean '{close[0]}'?"
    return msg


def get(identifier):
    """Resolves a metric identifier.

    Args:
        identifier: None, a metric class name or its snake_case form (`"AUC"`, `"mean_squared_error"`,
            `"mse"`), a config dict from `serialize()`, a callable, or a `Metric` instance. (The
            shape-dependent `"accuracy"` of `compile()` is resolved by `resolve.resolve_metric`.)
    Returns:
        A `Metric` instance (a class name gives a default instance) or a function; None for None.
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = ALL_OBJECTS_DICT.get(identifier)
        if obj is None:
            raise ValueError(_unknown_message(identifier))
    else:
        obj = identifier
    if callable(obj):
        return obj() if inspect.isclass(obj) else obj
    raise ValueError(f"Could not interpret metric identifier: {identifier}")
