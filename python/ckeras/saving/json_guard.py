"""Parsing untrusted JSON from model files (safetensors headers, configs): size and nesting depth are
capped before the parser runs, and the text must be strict UTF-8 JSON without duplicate keys or the
non-standard NaN/Infinity constants. Every refusal is a LoadError."""
import json
import re

import numpy as np

from ckeras.saving.errors import LoadError

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def nesting_depth(text):
    """An upper bound on the nesting depth of JSON text (bytes): its brackets outside strings, counted
    in C (regex, bytes.translate, NumPy), so a deep or huge document costs no Python recursion."""
    brackets = np.frombuffer(_STRING.sub(b"", text).translate(None, _NOT_BRACKETS), np.uint8)
    if brackets.size == 0:
        return 0
    steps = np.where((brackets == ord("[")) | (brackets == ord("{")), 1, -1)
    return int(np.cumsum(steps).max())


def parse_json(data, source, what, max_bytes, max_depth):
    """The JSON value in `data` (bytes), or LoadError "{source}: {what} ..." saying what is wrong."""
    if len(data) > max_bytes:
        raise LoadError(f"{source}: {what} is {len(data)} bytes, more than the {max_bytes} allowed")
    data = bytes(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise LoadError(f"{source}: {what} is not valid UTF-8 ({e})") from None
    depth = nesting_depth(data)
    if depth > max_depth:
        raise LoadError(f"{source}: {what} is nested {depth} levels deep, more than the {max_depth} allowed")

    def unique(pairs):
        result = {}
        for key, value in pairs:
            if key in result:
                raise LoadError(f"{source}: {what} has a duplicate key {key!r}")
            result[key] = value
        return result

    def no_constants(name):
        raise LoadError(f"{source}: {what} is not valid JSON ({name} is not a JSON value)")

    try:
        return json.loads(text, object_pairs_hook=unique, parse_constant=no_constants)
    except (ValueError, RecursionError) as e:  # JSONDecodeError, and ints past the digit limit
        if isinstance(e, LoadError):
            raise
        raise LoadError(f"{source}: {what} is not valid JSON ({e})") from None
