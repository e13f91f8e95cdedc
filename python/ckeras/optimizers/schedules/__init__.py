"""`ckeras.optimizers.schedules`: Keras 3's learning-rate schedules, `serialize` and `deserialize`."""
from ckeras.optimizers.schedules.learning_rate_schedule import (CosineDecay, CosineDecayRestarts,
                                                               ExponentialDecay, InverseTimeDecay,
                                                               LearningRateSchedule, PiecewiseConstantDecay,
                                                               PolynomialDecay)

__all__ = ["LearningRateSchedule", "ExponentialDecay", "PiecewiseConstantDecay", "PolynomialDecay",
           "InverseTimeDecay", "CosineDecay", "CosineDecayRestarts", "serialize", "deserialize"]

_ALL = {cls.__name__: cls for cls in [ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay, InverseTimeDecay,
                                      CosineDecay, CosineDecayRestarts]}


def serialize(learning_rate_schedule):
    """A schedule as a Keras config dict: `{"module", "class_name", "config", "registered_name"}`."""
    return {"module": "keras.optimizers.schedules", "class_name": type(learning_rate_schedule).__name__,
            "config": learning_rate_schedule.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    """Builds a schedule from `serialize()`'s dict."""
    name = config.get("class_name") if isinstance(config, dict) else None
    from ckeras.saving.object_registration import user_objects
    users = user_objects(custom_objects)
    registered = config.get("registered_name") if isinstance(config, dict) else None
    cls = users.get(registered) or users.get(name) or _ALL.get(name)
    if cls is None:
        raise ValueError(f"Could not interpret decay identifier: {name if name is not None else config}")
    return cls.from_config(dict(config.get("config") or {}))
