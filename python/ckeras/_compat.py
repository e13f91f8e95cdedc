"""Attaches the top-level names: Keras 3's `config`, `utils`, `datasets`, `device`, and the TensorFlow
look-alike namespace, so that both `import ckeras as keras` and `import ckeras as tf` work
(`tf.keras.layers.Dense`, `tf.matmul`, `tf.reduce_sum`, `tf.math.log`, `tf.nn.relu`, `tf.float32`...).

`ckeras/__init__.py` calls `install(sys.modules[__name__])` once, after its own imports.
"""
import sys
import types

_BINARY_TOP = ["add", "subtract", "multiply", "divide", "truediv", "pow", "maximum", "minimum", "equal",
               "not_equal", "greater", "greater_equal", "less", "less_equal", "logical_and", "logical_or"]
_UNARY_TOP = ["abs", "negative", "sign", "square", "sqrt", "exp", "sigmoid", "tanh", "logical_not"]
_REDUCE_TOP = ["reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod", "reduce_std",
               "reduce_variance", "reduce_logsumexp", "reduce_all", "reduce_any", "argmax", "argmin",
               "add_n", "is_nan"]
_BACKEND_NAMES = ["floatx", "set_floatx", "epsilon", "set_epsilon", "image_data_format",
                  "set_image_data_format", "backend"]


def _alias_module(ck, short, module):
    """`ck.<short>` is `module`, and `import ckeras.<short>` finds it too."""
    setattr(ck, short, module)
    sys.modules.setdefault(f"{ck.__name__}.{short}", module)


def install(ck):
    """Attaches config, utils, datasets and the TF compatibility names to the `ckeras` module `ck`.

    Safe to call more than once. Names the package already defines (`Variable`, `GradientTape`,
    `random`, `ops`, ...) are kept; `ckeras.random` gains TF's `set_seed` and extra arguments.
    """
    from ckeras import config, datasets, utils
    from ckeras import _tf
    from ckeras._tf import dtypes as tf_dtypes
    from ckeras._tf import math as tf_math
    from ckeras._tf import nn as tf_nn
    from ckeras._tf import random as tf_random

    ck.config, ck.utils, ck.datasets = config, utils, datasets
    ck.keras = ck  # tf.keras.layers.Dense, tf.keras.Sequential, ...

    for name in _tf.__all__:
        setattr(ck, name, getattr(_tf, name))
    for name in _BINARY_TOP + _UNARY_TOP + _REDUCE_TOP:
        setattr(ck, name, getattr(tf_math, name))
    for name in tf_dtypes.__all__:
        setattr(ck, name, getattr(tf_dtypes, name))
    if not hasattr(ck, "Tensor"):
        from ckeras._core import Tensor
        ck.Tensor = Tensor
    _alias_module(ck, "math", tf_math)
    _alias_module(ck, "nn", tf_nn)
    _alias_module(ck, "dtypes", tf_dtypes)

    for name in ("uniform", "normal", "truncated_normal", "set_seed"):
        setattr(ck.random, name, getattr(tf_random, name))

    backend = getattr(ck, "backend", None)
    if isinstance(backend, types.ModuleType):  # keras.backend.floatx() and friends
        for name in _BACKEND_NAMES:
            if not hasattr(backend, name):
                setattr(backend, name, getattr(config, name))
    return ck
