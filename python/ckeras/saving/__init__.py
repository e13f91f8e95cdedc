"""`ckeras.saving`: Keras 3's saving API (`keras.saving`)."""
from ckeras.saving.errors import LoadError

__all__ = ["LoadError"]
