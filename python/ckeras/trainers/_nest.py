"""Tiny helpers for nested data (tuples, lists, dicts of arrays): flatten and map, as `keras.tree` does.

Dicts flatten in sorted-key order; `None` is kept as a leaf by `map_structure` and skipped by `flatten`.
"""


def flatten(s):
    """The non-None leaves of `s`, depth first (dict values in sorted-key order)."""
    if isinstance(s, dict):
        return [v for k in sorted(s) for v in flatten(s[k])]
    if isinstance(s, (list, tuple)):
        return [v for item in s for v in flatten(item)]
    return [] if s is None else [s]


def map_structure(fn, s):
    """`s` with `fn` applied to every non-None leaf; containers keep their type."""
    if isinstance(s, dict):
        return {k: map_structure(fn, v) for k, v in s.items()}
    if isinstance(s, list):
        return [map_structure(fn, v) for v in s]
    if isinstance(s, tuple):
        return tuple(map_structure(fn, v) for v in s)
    return None if s is None else fn(s)


def map_structure2(fn, a, b):
    """Like `map_structure` over two structures of the same shape (`b` may hold None leaves)."""
    if isinstance(a, dict):
        return {k: map_structure2(fn, a[k], b[k]) for k in a}
    if isinstance(a, (list, tuple)):
        out = [map_structure2(fn, x, y) for x, y in zip(a, b)]
        return out if isinstance(a, list) else tuple(out)
    return fn(a, b)


def is_nested(s):
    return isinstance(s, (list, tuple, dict))


def pack_sequence_as(structure, flat):
    """`structure` with its non-None leaves replaced, in `flatten` order, by the items of `flat`."""
    it = iter(flat)

    def build(s):
        if isinstance(s, dict):
            built = {k: build(s[k]) for k in sorted(s)}
            return {k: built[k] for k in s}
        if isinstance(s, (list, tuple)):
            items = [build(v) for v in s]
            return items if isinstance(s, list) else tuple(items)
        return None if s is None else next(it)
    return build(structure)
