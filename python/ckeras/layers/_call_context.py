"""Keras's error context for exceptions raised inside `Layer.call`: the same exception type, its message
prefixed with "Exception encountered when calling X.call()" and followed by the received arguments (tensors
shown by shape and dtype). Only the innermost failing call adds it."""
from ckeras import _core

_Tensor = _core.Tensor


def _format_arg(value):
    if isinstance(value, _Tensor):
        return f"Tensor(shape={tuple(value.shape)}, dtype={value.dtype})"
    if isinstance(value, (list, tuple)):
        items = ", ".join(_format_arg(v) for v in value)
        return f"[{items}]" if isinstance(value, list) else f"({items}{',' if len(value) == 1 else ''})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_format_arg(v)}" for k, v in value.items()) + "}"
    return repr(value)


def with_call_context(e, layer, args, kwargs):
    """The exception `e` (same type) with Keras's "Exception encountered when calling X.call()" context and
    the received arguments; only the innermost failing call adds it."""
    if getattr(e, "_keras_call_info_injected", False):
        return e
    params = list(type(layer)._call_signature())[1:]
    lines = []
    for i, a in enumerate(args):
        name = params[i] if i < len(params) else f"args_{i}"
        lines.append(f"  • {name}={_format_arg(a)}")
    seen = {params[i] for i in range(min(len(args), len(params)))}
    for k, v in kwargs.items():
        lines.append(f"  • {k}={_format_arg(v)}")
        seen.add(k)
    for p in params:
        if p not in seen and p not in ("args", "kwargs"):
            lines.append(f"  • {p}={type(layer)._call_signature()[p]!r}")
    original = e.args[0] if e.args else ""
    if isinstance(e, KeyError):
        original = repr(original)
    display = f"{type(layer).__name__}.call()"
    message = (f"Exception encountered when calling {display}.\n\n{original}\n\n"
               f"Arguments received by {display}:\n" + "\n".join(lines))
    try:
        new = type(e)(message)
    except Exception:
        new = RuntimeError(message)
    new._keras_call_info_injected = True
    return new.with_traceback(e.__traceback__)
