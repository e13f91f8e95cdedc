"""Keras 3's config dicts for objects (initializers, regularizers, constraints, layers) and the reverse
lookup by class name. In-memory only: a Python callable stays a Python object."""


def serialize(obj, module):
    """`{"module", "class_name", "config", "registered_name"}` for an object with `get_config`."""
    if obj is None:
        return None
    return {"module": module, "class_name": type(obj).__name__, "config": obj.get_config(),
            "registered_name": None}


def did_you_mean(name, candidates):
    import difflib
    close = difflib.get_close_matches(str(name), list(candidates), n=1)
    return f" Did you mean '{close[0]}'?" if close else ""


def get_object(identifier, kind, table, module):
    """Resolves `identifier` (None, instance, class name, snake_case alias, or config dict) against
    `table` (name -> class), then against the user's registered and `custom_objects` classes. `kind`
    names the family in error messages ("initializer", ...)."""
    from ckeras.saving.object_registration import user_objects
    table = {**table, **user_objects()}
    if isinstance(identifier, dict):
        name = identifier.get("class_name")
        cls = table.get(identifier.get("registered_name")) or table.get(name)
        if cls is None:
            raise ValueError(f"Could not interpret {kind} identifier: {identifier}."
                             + did_you_mean(name, table))
        return cls.from_config(identifier.get("config") or {})
    if isinstance(identifier, str):
        cls = table.get(identifier)
        if cls is None:
            raise ValueError(f"Could not interpret {kind} identifier: {identifier}."
                             + did_you_mean(identifier, table))
        return cls()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret {kind} identifier: {identifier}")
