"""Checks on a model config before anything is built from it: a size cap before parsing, a nesting-depth
cap measured before parsing, and a screen of every object reference in the parsed tree (no modules of
the standard library, no paths or URLs, no Python lambdas in safe mode, no layer names that would turn
into file paths). Every refusal is a LoadError."""
import json
import re

import numpy as np

from ckeras.saving.errors import LoadError

MAX_CONFIG_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 100

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_REGISTERED = re.compile(r"^[A-Za-z_][\w.]*(>[A-Za-z_][\w.]*)?$")
SPECIAL_CLASS_NAMES = {"__keras_tensor__", "__tensor__", "__numpy__", "__bytes__", "__ellipsis__", "__slice__",
                       "__lambda__", "function"}
# Top-level packages a model config never has a reason to name (code execution, files, network).
_FORBIDDEN_PACKAGES = {
    "os", "posix", "nt", "sys", "subprocess", "builtins", "__builtin__", "shutil", "importlib", "pickle",
    "marshal", "socket", "ctypes", "runpy", "code", "codeop", "pty", "io", "pathlib", "tempfile", "webbrowser",
    "urllib", "http", "requests", "multiprocessing", "threading", "signal", "types", "inspect", "gc", "zipfile",
    "tarfile", "shelve", "dill", "cloudpickle", "numpy", "torch", "functools", "operator", "platform",
}
_NON_MODELING = {"saving", "utils", "config", "backend", "preprocessing", "callbacks", "datasets"}


def lambda_refused(what="a Python lambda"):
    return LoadError(f"Requested the deserialization of {what}: running code stored in a model file is not "
                     "allowed in safe mode. If you trust the source of the file, pass `safe_mode=False` to "
                     "the loading function.")


def _max_depth(data):
    """The deepest nesting of [ and { in JSON bytes (strings removed), counted in chunks."""
    stripped = np.frombuffer(_STRING.sub(b'""', data), dtype=np.uint8)
    depth, deepest, chunk = 0, 0, 1 << 22
    for start in range(0, len(stripped), chunk):
        part = stripped[start:start + chunk]
        delta = ((part == ord("[")) | (part == ord("{"))).astype(np.int32) - \
            ((part == ord("]")) | (part == ord("}"))).astype(np.int32)
        if not delta.any():
            continue
        running = np.cumsum(delta) + depth
        deepest = max(deepest, int(running.max()))
        depth = int(running[-1])
    return deepest


def loads(data, what="config.json", max_bytes=MAX_CONFIG_BYTES, max_depth=MAX_DEPTH):
    """Parses JSON text or bytes after checking its size and nesting depth."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"Expected a JSON string. Received: {type(data).__name__}")
    if len(data) > max_bytes:
        raise LoadError(f"{what} is {len(data)} bytes, more than the {max_bytes} allowed")
    depth = _max_depth(bytes(data))
    if depth > max_depth:
        raise LoadError(f"{what} is nested {depth} levels deep, more than the {max_depth} allowed")
    try:
        return json.loads(bytes(data).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise LoadError(f"{what} is not valid UTF-8 JSON: {e}") from None


def _check_reference(node):
    class_name, module = node.get("class_name"), node.get("module")
    registered = node.get("registered_name")
    if not isinstance(class_name, str) or not (_IDENTIFIER.match(class_name) or class_name in SPECIAL_CLASS_NAMES):
        raise LoadError(f"Class name {class_name!r} is not allowed in a model config: only class names are.")
    if module is not None:
        if not isinstance(module, str) or not _MODULE.match(module):
            raise LoadError(f"Module {module!r} is not allowed in a model config (a path, URL or code?).")
        parts = module.split(".")
        if parts[0] in _FORBIDDEN_PACKAGES or (parts[0] == "keras" and len(parts) > 1 and parts[1] in _NON_MODELING):
            raise LoadError(f"A reference to '{module}.{class_name}' is not allowed in a model config: classes "
                            "resolve only from ckeras's built-ins and registered custom objects.")
    if registered is not None and (not isinstance(registered, str) or not _REGISTERED.match(registered)):
        raise LoadError(f"Registered name {registered!r} is not allowed in a model config.")
    if class_name == "function":
        fn = node.get("config")
        if not isinstance(fn, str) or not _REGISTERED.match(fn):
            raise LoadError(f"Function reference {fn!r} is not allowed in a model config.")


def check_name(name, what="Layer"):
    """Refuses object names that would become unsafe paths inside a weights file."""
    if not isinstance(name, str) or any(c in name for c in ("/", "\\", "\x00")) or ".." in name:
        raise LoadError(f"{what} name {name!r} is not allowed: names may not contain '/', '\\', NUL or '..'.")


def screen(tree, safe_mode=True):
    """Walks a parsed config (iteratively) and refuses forbidden references; returns `tree`."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        if "class_name" in node:
            _check_reference(node)
            if node["class_name"] == "__lambda__" and safe_mode:
                raise lambda_refused()
            inner = node.get("config")
            if isinstance(inner, dict) and "name" in inner and node["class_name"] not in SPECIAL_CLASS_NAMES:
                check_name(inner["name"], node["class_name"])
        if "inbound_nodes" in node and "name" in node:  # a layer entry of a Functional config
            check_name(node["name"])
        stack.extend(node.values())
    return tree
