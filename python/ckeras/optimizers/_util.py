"""Argument checks and small helpers shared by the optimizer classes."""
import inspect
import math
import re

import numpy as np

_name_counts = {}


def _auto_name(class_name):
    base = re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", class_name).lower()
    n = _name_counts.get(base, 0)
    _name_counts[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def _is_number(x):
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))


def _check_learning_rate(learning_rate):
    if callable(learning_rate):
        return
    if not _is_number(learning_rate):
        raise ValueError("Argument `learning_rate` should be a float, a LearningRateSchedule or a callable "
                         "taking the iteration and returning the learning rate. "
                         f"Received instead: learning_rate={learning_rate}")
    if learning_rate < 0 or math.isnan(learning_rate):
        raise ValueError(f"Invalid learning rate: {learning_rate}")


def _check_momentum(momentum):
    if not _is_number(momentum) or not 0 <= momentum <= 1:
        raise ValueError(f"`momentum` must be a float between [0, 1]. Received: momentum={momentum}")


def _positive(x):
    return float(x) if x is not None and x > 0 else 0.0


def _takes_argument(fn):
    """True when `fn` can be called with one positional argument (the iteration)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL) for p in params)
