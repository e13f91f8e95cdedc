"""`ckeras.models`: `Model` (subclassing or Functional), `Sequential`, `Functional`."""
from ckeras.models.model import Model
from ckeras.models.functional import Functional
from ckeras.models.sequential import Sequential

__all__ = ["Model", "Functional", "Sequential"]
