"""ckeras: a Keras-compatible deep-learning library with a C++ engine.

`import ckeras as keras` gives Keras 3's names; the C++ extension `ckeras._core` does the work.
"""
from ckeras import _core

_core.set_default_grad_enabled(False)  # only a GradientTape records gradients, as in TensorFlow
from ckeras import _tensor  # noqa: F401  (installs operators and indexing on Tensor)
from ckeras._core import OutOfMemoryError, Tensor, from_dlpack
from ckeras import ops
from ckeras import activations
from ckeras import random
from ckeras import optimizers
from ckeras import losses
from ckeras import metrics
from ckeras import initializers
from ckeras import regularizers
from ckeras import constraints
from ckeras import layers
from ckeras import models
from ckeras import callbacks
from ckeras import saving
from ckeras.saving import LoadError
from ckeras.layers import Input, Layer, InputSpec
from ckeras.models import Model, Sequential
from ckeras.backend.keras_tensor import KerasTensor
from ckeras.losses import Loss
from ckeras.metrics import Metric
from ckeras import sysconfig
from ckeras.backend.variables import Variable
from ckeras.backend.gradient_tape import GradientTape
from ckeras.ops.core import convert_to_tensor

import sys as _sys
from ckeras import _compat

_compat.install(_sys.modules[__name__])  # config, utils, datasets, device, and the tf.* names

# `import ckeras.keras`, `from ckeras.keras.layers import Dense`: the tf.keras module paths, as aliases.
_sys.modules[__name__ + ".keras"] = _sys.modules[__name__]
for _name in ("layers", "models", "ops", "activations", "initializers", "regularizers", "constraints", "losses",
              "metrics", "optimizers", "callbacks", "saving", "utils", "datasets", "config", "random", "backend"):
    _mod = _sys.modules.get(f"{__name__}.{_name}")
    if _mod is not None:
        _sys.modules[f"{__name__}.keras.{_name}"] = _mod
del _name, _mod

__version__ = "0.1.0"

__all__ = ["Tensor", "OutOfMemoryError", "Variable", "GradientTape", "ops", "activations", "random", "optimizers", "sysconfig",
           "convert_to_tensor", "from_dlpack", "config", "utils", "datasets",
           "device", "keras", "losses", "metrics", "Loss", "Metric", "initializers", "regularizers", "constraints",
           "layers", "models", "Input", "Layer", "InputSpec", "Model", "Sequential", "KerasTensor", "callbacks",
           "saving", "LoadError"]
