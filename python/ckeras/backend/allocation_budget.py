"""A cap on the variable memory a model may create while it is being rebuilt from a file's config.

`load_model` knows how many weight bytes the file stores before it builds the model, so a config that
declares a layer far larger than those bytes (`Dense(units=10**9)`) is refused before the allocation,
instead of exhausting memory while building what the weights could never fill. `add_weight` charges
each new variable; outside a budget it costs one attribute lookup."""
import contextlib
import math
import threading

import numpy as np

_local = threading.local()


@contextlib.contextmanager
def variable_budget(nbytes, source):
    """Variables created inside the block may total at most `nbytes` (a LoadError past it)."""
    outer = getattr(_local, "budget", None)
    _local.budget = [int(nbytes), source]
    try:
        yield
    finally:
        _local.budget = outer


def charge(shape, dtype, owner):
    """Counts a variable of `shape`/`dtype` that `owner` (a layer name) is about to create."""
    budget = getattr(_local, "budget", None)
    if budget is None:
        return
    size = math.prod(int(d) for d in shape) * np.dtype(dtype).itemsize  # Python ints: no overflow
    if size > budget[0]:
        from ckeras.saving.errors import LoadError
        raise LoadError(f"{budget[1]}: layer '{owner}' declares a variable of shape {tuple(shape)} ({size} bytes), "
                        f"more than the {budget[0]} bytes of weights the file still holds; refusing to allocate it")
    budget[0] -= size
