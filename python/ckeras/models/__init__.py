"""`ckeras.models`: `Model` (subclassing or Functional), `Sequential`, `Functional`, and loading/saving."""
from ckeras.models.model import Model
from ckeras.models.functional import Functional
from ckeras.models.sequential import Sequential
from ckeras.saving.saving_api import load_model, save_model


def model_from_json(json_string, custom_objects=None):
    """The model described by `model.to_json()`'s text, freshly initialized (compiled if it was)."""
    from ckeras.saving.keras_archive import model_from_config_text
    return model_from_config_text(json_string, custom_objects=custom_objects, what="JSON config")


__all__ = ["Model", "Functional", "Sequential", "load_model", "save_model", "model_from_json"]
