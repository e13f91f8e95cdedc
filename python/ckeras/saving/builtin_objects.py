"""ckeras's side of the allowlist: every built-in class and function a config may name, by family, and the
Keras module string each one is written under.

A config's `module` only picks the family ("keras.losses" -> losses); it is never imported. Keras's own
files name backend-private modules too ("keras.src.backend.torch.optimizers.torch_adam"), so a module
is mapped to its family by prefix, and an unknown module falls back to searching every family."""
import re

# family -> the module Keras writes for it (its public API path)
PUBLIC_MODULES = {
    "layers": "keras.layers", "models": "keras", "optimizers": "keras.optimizers",
    "schedules": "keras.optimizers.schedules", "losses": "keras.losses", "metrics": "keras.metrics",
    "initializers": "keras.initializers", "regularizers": "keras.regularizers",
    "constraints": "keras.constraints", "activations": "keras.activations",
}
# Searched in this order when the module does not name the family.
FAMILY_ORDER = ["layers", "models", "optimizers", "schedules", "losses", "metrics", "initializers",
                "regularizers", "constraints", "activations"]
# Keras writes these classes under a module of their own (observed in Keras 3.15 files).
_SPECIAL = {"Functional": ("keras.src.models.functional", "Functional"), "OpLayer": ("ckeras.layers", None)}

_cache = {}


def families():
    """{family: {name: class or function}}; built once, on first use."""
    if not _cache:
        _cache.update(_build())
    return _cache


def _build():
    from ckeras import activations, constraints, initializers, layers, losses, metrics, models, optimizers
    from ckeras import regularizers
    from ckeras.optimizers import schedules
    layer_classes = {n: c for n, c in vars(layers).items() if isinstance(c, type) and issubclass(c, layers.Layer)}
    optimizer_classes = {c.__name__: c for c in optimizers.ALL_OBJECTS}
    return {
        "layers": layer_classes,
        "models": {"Sequential": models.Sequential, "Functional": models.Functional, "Model": models.Model},
        "optimizers": {**optimizer_classes, **{n.lower(): c for n, c in optimizer_classes.items()}},
        "schedules": dict(schedules._ALL),
        "losses": {**losses.ALL_OBJECTS_DICT, **losses._LEGACY},
        "metrics": {**metrics.ALL_OBJECTS_DICT, **metrics._FUNCTIONS},
        "initializers": dict(initializers._ALL),
        "regularizers": dict(regularizers._ALL),
        "constraints": dict(constraints._ALL),
        "activations": dict(activations._ALL),
    }


def family_of_module(module):
    """The family a module string names, or None ("keras.src.losses.losses" -> "losses")."""
    if not isinstance(module, str):
        return None
    parts = module.split(".")
    if parts[0] not in ("keras", "ckeras", "tf_keras"):
        return None
    if module.endswith("schedules") or ".schedules." in module or "learning_rate_schedule" in module:
        return "schedules"
    if "optimizers" in parts:
        return "optimizers"
    for part in parts[1:]:
        if part in PUBLIC_MODULES:
            return part
    if len(parts) == 1 or "models" in parts:
        return "models"
    return None


def lookup(name, module=None, want_function=False):
    """The built-in object called `name`, searching the module's family first; None if there is none."""
    if not isinstance(name, str):
        return None
    fams = families()
    first = family_of_module(module)
    order = ([first] if first else []) + [f for f in FAMILY_ORDER if f != first]
    for fam in order:
        obj = fams[fam].get(name)
        if obj is not None and isinstance(obj, type) != want_function:
            return obj
    return None


def public_name(obj):
    """(module, registered_name) Keras writes for a built-in class or function; None if `obj` is not one."""
    special = _SPECIAL.get(getattr(obj, "__name__", None))
    fams = families()
    for fam in FAMILY_ORDER:
        if any(v is obj for v in fams[fam].values()):
            if special and fams[fam].get(obj.__name__) is obj:
                return special
            return PUBLIC_MODULES[fam], None
    return None


def to_snake_case(name):
    """Keras's `naming.to_snake_case` (the object-path names in weights files)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
