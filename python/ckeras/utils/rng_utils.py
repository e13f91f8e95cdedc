"""`set_random_seed` (keras.utils): one call seeds every random source a ckeras program uses."""
import random

import numpy as np

__all__ = ["set_random_seed"]


def set_random_seed(seed):
    """Seeds Python's `random`, NumPy's global generator and ckeras's global generator.

    Afterwards weight initializers, dropout and shuffling in `fit` repeat from run to run.

    Args:
        seed: A non-negative integer.
    """
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"Expected `seed` argument to be an integer. Received: seed={seed} "
                         f"(of type {type(seed)})")
    seed = int(seed)
    if seed < 0:
        raise ValueError(f"Expected `seed` argument to be a non-negative integer. Received: seed={seed}")
    random.seed(seed)
    np.random.seed(seed % 2 ** 32)
    from ckeras.random import _set_global_seed
    _set_global_seed(seed)
