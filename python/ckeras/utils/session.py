"""`clear_session()`: forget the global state Keras code expects to reset between models."""


def clear_session(free_memory=True):
    """Restarts automatic layer names (`dense`, `dense_1`, ...) and, with `free_memory`, returns the
    CPU allocator's cached blocks to the system."""
    from ckeras import _core
    from ckeras.layers import _utils

    _utils.reset_uids()
    if free_memory:
        _core.cpu_cache_release()
