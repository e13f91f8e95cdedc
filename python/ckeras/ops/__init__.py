"""`ckeras.ops`: Keras 3's op library (`keras.ops`), every op running in the C++ engine."""
from ckeras.ops.core import *  # noqa: F401,F403
from ckeras.ops.numpy import *  # noqa: F401,F403
from ckeras.ops.math import *  # noqa: F401,F403
from ckeras.ops.nn import *  # noqa: F401,F403
