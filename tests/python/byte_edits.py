"""Random edits of a file's bytes for the fuzz tests: hypothesis draws a short list of (position, kind,
byte) edits and `mutate` applies them (overwrite a byte, flip a bit, insert or delete a byte)."""
from hypothesis import strategies as st

EDITS = st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(["set", "flip", "insert", "delete"]),
                           st.integers(0, 255)), min_size=1, max_size=6)


def mutate(data, edits):
    """Apply (position, kind, byte) edits: overwrite, flip a bit, insert or delete."""
    data = bytearray(data)
    for position, kind, value in edits:
        if not data:
            break
        at = position % len(data)
        if kind == "set":
            data[at] = value
        elif kind == "flip":
            data[at] ^= 1 << (value % 8)
        elif kind == "insert":
            data.insert(at, value)
        else:
            del data[at]
    return bytes(data)
