"""`ckeras.initializers`: Keras 3's weight initializers, by class, alias or name (`get("glorot_uniform")`)."""
from ckeras.initializers.constant_initializers import Constant, Identity, Ones, Zeros
from ckeras.initializers.initializer import Initializer
from ckeras.initializers.random_initializers import (GlorotNormal, GlorotUniform, HeNormal, HeUniform,
                                                     LecunNormal, LecunUniform, Orthogonal, RandomNormal,
                                                     RandomUniform, TruncatedNormal, VarianceScaling)
from ckeras.layers._serialization import get_object, serialize as _serialize

_CLASSES = [Constant, Identity, Ones, Zeros, GlorotNormal, GlorotUniform, HeNormal, HeUniform, LecunNormal,
            LecunUniform, Orthogonal, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling]
_ALL = {c.__name__: c for c in _CLASSES}
_ALL.update({"constant": Constant, "identity": Identity, "ones": Ones, "zeros": Zeros,
             "glorot_normal": GlorotNormal, "glorot_uniform": GlorotUniform, "he_normal": HeNormal,
             "he_uniform": HeUniform, "lecun_normal": LecunNormal, "lecun_uniform": LecunUniform,
             "orthogonal": Orthogonal, "random_normal": RandomNormal, "random_uniform": RandomUniform,
             "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
             "normal": RandomNormal, "uniform": RandomUniform, "IdentityInitializer": Identity,
             "OrthogonalInitializer": Orthogonal})
# Keras's lower-case aliases of the classes.
constant, identity, ones, zeros = Constant, Identity, Ones, Zeros
glorot_normal, glorot_uniform, he_normal, he_uniform = GlorotNormal, GlorotUniform, HeNormal, HeUniform
lecun_normal, lecun_uniform, orthogonal = LecunNormal, LecunUniform, Orthogonal
random_normal, random_uniform, truncated_normal, variance_scaling = (RandomNormal, RandomUniform,
                                                                     TruncatedNormal, VarianceScaling)


def serialize(initializer):
    """Keras's config dict of an initializer."""
    return _serialize(initializer, "keras.initializers")


def deserialize(config, custom_objects=None):
    """The initializer described by a config dict."""
    return get_object(config, "initializer", {**_ALL, **(custom_objects or {})}, "keras.initializers")


def get(identifier):
    """An initializer from None, an instance, a callable, a name ("glorot_uniform") or a config dict.

    Unknown names raise ValueError with the closest known name.
    """
    if identifier is None:
        return None
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    return get_object(identifier, "initializer", _ALL, "keras.initializers")


__all__ = [c.__name__ for c in _CLASSES] + ["Initializer", "get", "serialize", "deserialize"]
