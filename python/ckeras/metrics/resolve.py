"""How `compile()` turns a loss or metric identifier into an object for one output, given that output's
y_true / y_pred: the shape rule for "accuracy"/"acc" and "crossentropy"/"ce" (KERAS.md 3.5)."""
import numpy as np

from ckeras import losses
from ckeras import metrics
from ckeras.losses.loss import to_snake_case


def _shape(x):
    shape = getattr(x, "shape", None)
    return tuple(np.shape(x) if shape is None else shape)


def is_binary_or_sparse_categorical(y_true, y_pred):
    """`(is_binary, is_sparse_categorical)` from the shapes alone.

    Binary when y_pred's last dim is 1. Sparse when rank(y_true) < rank(y_pred), or when y_true's last dim
    is 1 while y_pred's is larger.
    """
    t, p = _shape(y_true), _shape(y_pred)
    t_last = t[-1] if t else None
    p_last = p[-1] if p else None
    is_binary = p_last == 1
    is_sparse = len(t) < len(p) or (t_last == 1 and p_last is not None and p_last > 1)
    return is_binary, is_sparse


def _object_name(obj):
    if hasattr(obj, "name"):
        return obj.name
    if hasattr(obj, "__name__"):
        return to_snake_case(obj.__name__)
    return to_snake_case(type(obj).__name__)


def resolve_metric(identifier, y_true, y_pred):
    """The `Metric` that `compile(metrics=[identifier])` uses for an output with these y_true / y_pred.

    "accuracy" / "acc" (any case) become BinaryAccuracy, SparseCategoricalAccuracy or CategoricalAccuracy
    by `is_binary_or_sparse_categorical`; other identifiers go through `metrics.get`, and plain functions
    are wrapped in a `MeanMetricWrapper`. A string identifier is kept as the metric's name (so integer
    labels of shape (64,) with a 2-unit softmax give a SparseCategoricalAccuracy named "accuracy").

    Args:
        identifier: A metric name, function, `Metric` instance or config dict (None gives None).
        y_true: The labels (or anything with a `.shape`) of one batch.
        y_pred: The predictions (or anything with a `.shape`) of one batch.
    Returns:
        A `Metric` instance, or None.
    """
    if identifier is None:
        return None
    if str(identifier).lower() in ("accuracy", "acc"):
        is_binary, is_sparse = is_binary_or_sparse_categorical(y_true, y_pred)
        if is_binary:
            metric = metrics.BinaryAccuracy(name=str(identifier))
        elif is_sparse:
            metric = metrics.SparseCategoricalAccuracy(name=str(identifier))
        else:
            metric = metrics.CategoricalAccuracy(name=str(identifier))
    else:
        metric = metrics.get(identifier)
    name = identifier if isinstance(identifier, str) else _object_name(metric)
    if not isinstance(metric, metrics.Metric):
        metric = metrics.MeanMetricWrapper(metric)
    metric.name = name
    return metric


def resolve_loss(identifier, y_true, y_pred):
    """The `Loss` that `compile(loss=identifier)` uses for an output with these y_true / y_pred.

    "crossentropy" / "ce" (any case) become binary, sparse categorical or categorical cross-entropy by
    `is_binary_or_sparse_categorical`; other identifiers go through `losses.get`. Functions are wrapped in a
    `LossFunctionWrapper` named after the string the user gave (or the function's name).

    Args:
        identifier: A loss name, function, `Loss` instance or config dict (None gives None).
        y_true: The labels (or anything with a `.shape`) of one batch.
        y_pred: The predictions (or anything with a `.shape`) of one batch.
    Returns:
        A `Loss` instance, or None.
    """
    if identifier is None:
        return None
    if str(identifier).lower() in ("crossentropy", "ce"):
        is_binary, is_sparse = is_binary_or_sparse_categorical(y_true, y_pred)
        if is_binary:
            loss = losses.binary_crossentropy
        elif is_sparse:
            loss = losses.sparse_categorical_crossentropy
        else:
            loss = losses.categorical_crossentropy
    else:
        loss = losses.get(identifier)
    if not isinstance(loss, losses.Loss):
        name = identifier if isinstance(identifier, str) else _object_name(loss)
        loss = losses.LossFunctionWrapper(loss, name=name)
    return loss
