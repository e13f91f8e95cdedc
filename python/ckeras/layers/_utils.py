"""Helpers shared by layers and models: nested structures, unique names, and the call context.

The call context carries `training` from an outer `Layer.__call__` to the layers it calls, and an id per
top-level call so that `losses` can report only the last forward pass.
"""
import re

_uids = {}


def get_uid(prefix):
    """`prefix`, then `prefix_1`, `prefix_2`, ... (Keras's automatic layer names)."""
    n = _uids.get(prefix, 0)
    _uids[prefix] = n + 1
    return prefix if n == 0 else f"{prefix}_{n}"


def reset_uids():
    """Forgets the automatic names handed out so far (`keras.backend.clear_session()` does this)."""
    _uids.clear()


def to_snake_case(name):
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()
    return s if s[0] != "_" else "private" + s


def flatten(structure):
    """Leaves of nested lists/tuples/dicts (dicts in sorted key order), as Keras's `tree.flatten`."""
    if isinstance(structure, dict):
        return [v for k in sorted(structure) for v in flatten(structure[k])]
    if isinstance(structure, (list, tuple)):
        return [v for s in structure for v in flatten(s)]
    return [structure]


def pack_sequence_as(structure, flat):
    it = iter(flat)

    def build(s):
        if isinstance(s, dict):
            return type(s)((k, build(s[k])) for k in sorted(s))
        if isinstance(s, (list, tuple)):
            items = [build(v) for v in s]
            return items if isinstance(s, list) else tuple(items)
        return next(it)
    return build(structure)


def map_structure(fn, structure):
    if isinstance(structure, dict):
        return {k: map_structure(fn, v) for k, v in structure.items()}
    if isinstance(structure, list):
        return [map_structure(fn, v) for v in structure]
    if isinstance(structure, tuple):
        return tuple(map_structure(fn, v) for v in structure)
    return fn(structure)


def is_shape(x):
    """True for one shape: a tuple/list of ints and Nones (not a structure of shapes)."""
    return isinstance(x, (tuple, list)) and all(d is None or isinstance(d, int) for d in x)


class CallContext:
    """State of the `Layer.__call__` stack: depth, the inherited `training` flag, the top-level call id."""
    __slots__ = ("depth", "training", "call_id")

    def __init__(self):
        self.depth = 0
        self.training = None
        self.call_id = 0


CALL_CONTEXT = CallContext()
