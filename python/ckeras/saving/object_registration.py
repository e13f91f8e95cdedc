"""The user's side of the allowlist: classes and functions registered with `register_keras_serializable`
("Package>Name", as Keras names them) and the `custom_objects` made visible by `CustomObjectScope`.

Nothing here imports or looks up a module by name: an object is found only if the user handed it over."""
import inspect
import threading

GLOBAL_CUSTOM_OBJECTS = {}  # "Package>Name" -> class or function
GLOBAL_CUSTOM_NAMES = {}    # class or function -> "Package>Name"

_scope = threading.local()


def _scope_objects():
    return getattr(_scope, "objects", {})


class CustomObjectScope:
    """`with CustomObjectScope({"MyLayer": MyLayer}):` makes the objects visible to deserialization
    (`load_model`, `from_config`, `model_from_json`) inside the block; scopes nest.

    Args:
        custom_objects: Dict of `{name: class or function}`.
    """

    def __init__(self, custom_objects):
        self.custom_objects = dict(custom_objects or {})
        self.backup = None

    def __enter__(self):
        self.backup = _scope_objects()
        _scope.objects = {**self.backup, **self.custom_objects}
        return self

    def __exit__(self, *exc):
        _scope.objects = self.backup


custom_object_scope = CustomObjectScope


def get_custom_objects():
    """The live global dict of registered objects ("Package>Name" -> object)."""
    return GLOBAL_CUSTOM_OBJECTS


def register_keras_serializable(package="Custom", name=None):
    """Decorator that registers a class or function under `"package>name"` (name defaults to its
    `__name__`), so that configs naming it deserialize without `custom_objects`.

    Args:
        package: The package part of the key. Defaults to "Custom".
        name: The name part of the key; the object's `__name__` by default.
    Returns:
        A decorator returning the object unchanged.
    """
    if not isinstance(package, str) or ">" in package or not package:
        raise ValueError(f"Argument `package` must be a non-empty string without '>'. Received: package={package}")

    def decorator(arg):
        class_name = name if name is not None else getattr(arg, "__name__", None)
        if not isinstance(class_name, str) or not class_name:
            raise ValueError(f"Cannot register {arg!r}: pass a `name`.")
        registered_name = f"{package}>{class_name}"
        if inspect.isclass(arg) and not hasattr(arg, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() method.")
        previous = GLOBAL_CUSTOM_NAMES.get(arg)
        if previous is not None and previous != registered_name:
            raise ValueError(f"{arg!r} is already registered as '{previous}'; one object cannot be registered "
                             f"under two names (received '{registered_name}').")
        GLOBAL_CUSTOM_OBJECTS[registered_name] = arg
        GLOBAL_CUSTOM_NAMES[arg] = registered_name
        return arg

    return decorator


def get_registered_name(obj):
    """The "Package>Name" `obj` was registered under, or its `__name__` when it is not registered."""
    try:
        registered = GLOBAL_CUSTOM_NAMES.get(obj)
    except TypeError:  # unhashable
        registered = None
    return registered if registered is not None else obj.__name__


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The object known as `name`: from the active `CustomObjectScope`, the registry, `custom_objects`
    or `module_objects`, in that order; None when nobody handed it over."""
    if not isinstance(name, str):
        return None
    for table in (_scope_objects(), GLOBAL_CUSTOM_OBJECTS, custom_objects or {}, module_objects or {}):
        if name in table:
            return table[name]
    return None


def user_objects(custom_objects=None):
    """Everything the user made visible: `custom_objects`, the active scope, the registry."""
    return {**(custom_objects or {}), **_scope_objects(), **GLOBAL_CUSTOM_OBJECTS}
