"""Keras 3's object config format: `serialize_keras_object` writes `{"module", "class_name", "config",
"registered_name"}` (plus `build_config` / `compile_config`), `deserialize_keras_object` reads it back.

Deserialization is safe: a class or function resolves only from ckeras's built-ins (`builtin_objects`),
the registry and `custom_objects`; the `module` string is never imported; a Python lambda is refused
unless the caller (never the file) passes `safe_mode=False`."""
import base64
import inspect
import marshal
import threading
import types
import warnings

import numpy as np

from ckeras.saving import builtin_objects, object_registration
from ckeras.saving.config_guard import check_name, lambda_refused
from ckeras.saving.errors import LoadError

PLAIN_TYPES = (str, int, float, bool)
_NUMPY_DTYPES = {"float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"}
_state = threading.local()


def in_safe_mode():
    """The `safe_mode` of the innermost `SafeModeScope`, or None outside one."""
    return getattr(_state, "safe_mode", None)


class SafeModeScope:
    """Propagates the caller's `safe_mode` to nested `from_config` calls (e.g. `Lambda`)."""

    def __init__(self, safe_mode=True):
        self.safe_mode = safe_mode

    def __enter__(self):
        self.previous = in_safe_mode()
        _state.safe_mode = self.safe_mode
        return self

    def __exit__(self, *exc):
        _state.safe_mode = self.previous


# ---- functions ----
def func_dump(fn):
    """(code, defaults, closure) of a Python function, as Keras's `python_utils.func_dump`."""
    code = base64.encodebytes(marshal.dumps(fn.__code__)).decode("ascii")
    closure = tuple(c.cell_contents for c in fn.__closure__) if fn.__closure__ else None
    return code, fn.__defaults__, closure


def func_load(config):
    """Rebuilds a function from `func_dump` output; only reachable with `safe_mode=False`."""
    if in_safe_mode() is not False:
        raise lambda_refused()
    if "value" in config:  # the generic `__lambda__` form
        code, defaults, closure = config["value"]
    else:
        code, defaults, closure = config["code"], config.get("defaults"), config.get("closure")
    cells = None
    if closure is not None:
        cells = tuple(types.CellType(v) for v in closure)
    fn_code = marshal.loads(base64.decodebytes(code.encode("ascii")))
    return types.FunctionType(fn_code, globals(), name=fn_code.co_name,
                              argdefs=tuple(defaults) if defaults is not None else None, closure=cells)


def serialize_function(fn):
    """A lambda as `__lambda__` (its bytecode), any other function by its registered or public name."""
    if isinstance(fn, types.LambdaType) and fn.__name__ == "<lambda>":
        warnings.warn("The object being serialized includes a `lambda`. Reloading it needs "
                      "`safe_mode=False`; prefer a named function registered with "
                      "`keras.saving.register_keras_serializable()`.", stacklevel=3)
        code, defaults, closure = func_dump(fn)
        return {"class_name": "__lambda__", "config": {"code": code, "defaults": defaults, "closure": closure}}
    public = builtin_objects.public_name(fn)
    if public is not None:
        return {"module": public[0], "class_name": "function", "config": fn.__name__,
                "registered_name": fn.__name__}
    name = object_registration.get_registered_name(fn)
    module = fn.__module__ if fn.__module__ != "__main__" else None
    return {"module": module, "class_name": "function", "config": name, "registered_name": name}


# ---- serialize ----
def serialize_keras_object(obj):
    """The config dict of a ckeras object (recursively for lists, tuples and dicts)."""
    from ckeras import _core
    from ckeras.backend.keras_tensor import KerasTensor
    if obj is None or isinstance(obj, PLAIN_TYPES):
        return obj
    if isinstance(obj, (list, tuple)):
        out = [serialize_keras_object(x) for x in obj]
        return tuple(out) if isinstance(obj, tuple) else out
    if isinstance(obj, dict):
        return {k: serialize_keras_object(v) for k, v in obj.items()}
    if isinstance(obj, bytes):
        return {"class_name": "__bytes__", "config": {"value": obj.decode("utf-8")}}
    if isinstance(obj, slice):
        return {"class_name": "__slice__", "config": {k: serialize_keras_object(getattr(obj, k))
                                                     for k in ("start", "stop", "step")}}
    if obj is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if isinstance(obj, KerasTensor):
        history = obj._keras_history
        history = [history[0].name, history[1], history[2]] if history else None
        return {"class_name": "__keras_tensor__",
                "config": {"shape": obj.shape, "dtype": obj.dtype, "keras_history": history}}
    if isinstance(obj, _core.Tensor):
        a = np.asarray(obj)
        return {"class_name": "__tensor__", "config": {"value": a.tolist(), "dtype": str(a.dtype)}}
    if isinstance(obj, (np.ndarray, np.generic)):
        if isinstance(obj, np.ndarray) and obj.ndim > 0:
            return {"class_name": "__numpy__", "config": {"value": obj.tolist(), "dtype": str(obj.dtype)}}
        return obj.item()
    if isinstance(obj, types.FunctionType) or (callable(obj) and not hasattr(obj, "get_config")
                                               and hasattr(obj, "__name__")):
        return serialize_function(obj)
    if not hasattr(obj, "get_config"):
        raise TypeError(f"Cannot serialize object {obj} of type {type(obj)}. To be serializable, a class must "
                        "implement the `get_config()` method.")
    config = obj.get_config()
    if not isinstance(config, dict):
        raise TypeError(f"The `get_config()` method of {obj} should return a dict. It returned: {config}")
    cls = type(obj)
    public = builtin_objects.public_name(cls)
    if public is not None:
        module, registered = public
    else:
        module = cls.__module__ if cls.__module__ != "__main__" else None
        registered = object_registration.get_registered_name(cls)
    out = {"module": module, "class_name": cls.__name__, "config": serialize_keras_object(config),
           "registered_name": registered}
    if hasattr(obj, "get_build_config"):
        build = obj.get_build_config()
        if build is not None:
            out["build_config"] = serialize_keras_object(build)
    if hasattr(obj, "get_compile_config"):
        compile_config = obj.get_compile_config()
        if compile_config is not None:
            out["compile_config"] = serialize_keras_object(compile_config)
    return out


# ---- deserialize ----
def _not_found(kind, name, config):
    return TypeError(f"Could not locate {kind} '{name}'. Make sure custom classes and functions are decorated "
                     "with `@keras.saving.register_keras_serializable()` and imported before loading: register "
                     f"it or pass custom_objects={{'{name}': {name}}} to the loading function. Full object "
                     f"config: {config}")


def resolve(config, custom_objects=None, module_objects=None):
    """The class (or function) a config dict names, from the allowlist only."""
    class_name, module = config.get("class_name"), config.get("module")
    registered = config.get("registered_name")
    want_function = class_name == "function"
    name = config.get("config") if want_function else class_name
    users = object_registration.user_objects(custom_objects)
    for key in (registered, name):
        if isinstance(key, str) and key in users:
            return users[key]
    if module_objects and name in module_objects:
        return module_objects[name]
    obj = builtin_objects.lookup(name, module, want_function=want_function)
    if obj is not None:
        return obj
    raise _not_found("function" if want_function else "class", name, config)


def _special(class_name, inner, custom_objects, safe_mode):
    if class_name == "__numpy__" or class_name == "__tensor__":
        if inner.get("dtype") not in _NUMPY_DTYPES:
            raise LoadError(f"Array dtype {inner.get('dtype')!r} is not allowed in a model config.")
        value = np.array(inner["value"], dtype=inner["dtype"])
        if class_name == "__numpy__":
            return value
        from ckeras.ops.core import convert_to_tensor
        return convert_to_tensor(value)
    if class_name == "__bytes__":
        return inner["value"].encode("utf-8")
    if class_name == "__ellipsis__":
        return Ellipsis
    if class_name == "__slice__":
        return slice(*(deserialize_keras_object(inner.get(k), custom_objects, safe_mode)
                       for k in ("start", "stop", "step")))
    if class_name == "__lambda__":
        if safe_mode:
            raise lambda_refused()
        with SafeModeScope(False):
            return func_load(inner)
    raise LoadError(f"'{class_name}' is only allowed inside a Functional model's config.")


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """The object a config from `serialize_keras_object` describes.

    Args:
        config: A config dict (or a plain value, list or dict of them).
        custom_objects: Dict of `{name: class or function}` for the user's own objects.
        safe_mode: When True (default), a Python lambda in the config is refused.
    """
    scope = in_safe_mode()
    safe_mode = scope if scope is not None else safe_mode
    module_objects = kwargs.pop("module_objects", None)
    if kwargs:
        raise ValueError(f"Argument(s) not recognized: {kwargs}")
    if config is None or isinstance(config, PLAIN_TYPES):
        if isinstance(config, str) and module_objects and config in module_objects:
            return module_objects[config]
        return config
    if isinstance(config, (list, tuple)):
        return [deserialize_keras_object(x, custom_objects, safe_mode, module_objects=module_objects)
                for x in config]
    if not isinstance(config, dict):
        raise TypeError(f"Could not parse config: {config}")
    if "class_name" not in config or "config" not in config:
        return {k: deserialize_keras_object(v, custom_objects, safe_mode) for k, v in config.items()}
    from ckeras.saving.config_guard import screen
    screen(config, safe_mode=safe_mode)
    class_name = config["class_name"]
    inner = config["config"] if config["config"] is not None else {}
    if class_name.startswith("__") and class_name.endswith("__"):
        return _special(class_name, inner, custom_objects, safe_mode)
    obj = resolve(config, custom_objects, module_objects)
    if class_name == "function" or not inspect.isclass(obj):
        return obj
    if not isinstance(inner, dict):
        raise TypeError(f"Expected 'config' to be a dict for {class_name}, instead got {type(inner)}. "
                        f"Full config: {config}")
    if not hasattr(obj, "from_config"):
        raise TypeError(f"Unable to reconstruct an instance of '{class_name}' because the class is missing a "
                        f"`from_config()` method. Full object config: {config}")
    if "name" in inner:
        check_name(inner["name"], class_name)
    with object_registration.CustomObjectScope(custom_objects), SafeModeScope(safe_mode):
        params = inspect.signature(obj.from_config).parameters
        instance = (obj.from_config(inner, custom_objects=custom_objects) if "custom_objects" in params
                    else obj.from_config(inner))
        build_config = config.get("build_config")
        if build_config and not getattr(instance, "built", True):
            instance.build_from_config(build_config)
        compile_config = config.get("compile_config")
        if compile_config and hasattr(instance, "compile_from_config"):
            instance.compile_from_config(compile_config)
    return instance
