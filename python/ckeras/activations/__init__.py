"""`ckeras.activations`: Keras 3's activation functions, by name or as callables."""
from ckeras import ops as _ops
from ckeras.ops.core import _tensor

__all__ = ["relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "swish", "sigmoid",
           "hard_sigmoid", "tanh", "softplus", "softsign", "exponential", "linear", "softmax",
           "log_softmax", "get", "serialize", "deserialize"]


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Keras's relu: `max(x, 0)`, with optional leaky slope, cap and threshold."""
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return _ops.relu(x)
    t = _tensor(x)
    pos = _ops.where(_ops.greater(t, threshold), t, 0.0) if threshold else _ops.relu(t)
    if max_value is not None:
        pos = _ops.minimum(pos, float(max_value))
    if negative_slope:
        neg = _ops.multiply(_ops.minimum(_ops.subtract(t, threshold), 0.0), float(negative_slope))
        return _ops.add(pos, neg)
    return pos


relu6 = _ops.relu6
leaky_relu = _ops.leaky_relu
selu = _ops.selu
silu = _ops.silu
swish = _ops.silu


def sigmoid(x):
    """`1 / (1 + exp(-x))`. The result carries `x` as `_keras_logits`, so that a binary cross-entropy
    on it computes from the logits, as Keras (TensorFlow backend) does."""
    out = _ops.sigmoid(x)
    _attach_logits(out, x)
    return out


hard_sigmoid = _ops.hard_sigmoid
tanh = _ops.tanh
softplus = _ops.softplus
softsign = _ops.softsign


def elu(x, alpha=1.0):
    """`x` for x > 0, `alpha * (exp(x) - 1)` otherwise."""
    return _ops.elu(x, alpha)


def gelu(x, approximate=False):
    """GELU; Keras's activation defaults to the exact (erf) form."""
    return _ops.gelu(x, approximate)


def exponential(x):
    """`exp(x)`."""
    return _ops.exp(x)


def linear(x):
    """The identity."""
    return _tensor(x)


def softmax(x, axis=-1):
    """Softmax over `axis`. The result carries `x` as `_keras_logits`, so that a cross-entropy on it
    computes from the logits (stable, and the numbers Keras gives with the TensorFlow backend)."""
    out = _ops.softmax(x, axis)
    if axis == -1:
        _attach_logits(out, x)
    return out


def _attach_logits(out, x):
    try:
        out._keras_logits = _tensor(x)
    except AttributeError:
        pass


def log_softmax(x, axis=-1):
    """Log-softmax over `axis`."""
    return _ops.log_softmax(x, axis)


_ALL = {name: globals()[name] for name in __all__[:-3]}


def serialize(activation):
    """The name of a built-in activation; any other function as Keras's function config (its registered
    name, see `ckeras.saving.register_keras_serializable`)."""
    for name, fn in _ALL.items():
        if fn is activation:
            return name
    if not callable(activation):
        raise ValueError(f"Unknown activation function: {activation}")
    from ckeras.saving.serialization_lib import serialize_function
    return serialize_function(activation)


def deserialize(name):
    """The activation function registered under `name`."""
    return get(name)


def get(identifier):
    """Resolves an activation from a name, None (linear) or a callable."""
    if identifier is None:
        return linear
    if callable(identifier):
        return identifier
    if isinstance(identifier, dict):  # a function config: resolved from the allowlist only
        from ckeras.saving.serialization_lib import deserialize_keras_object
        fn = deserialize_keras_object(identifier)
        if callable(fn):
            return fn
    if isinstance(identifier, str):
        fn = _ALL.get(identifier)
        if fn is None:
            import difflib
            close = difflib.get_close_matches(identifier, list(_ALL), n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ValueError(f"Could not interpret activation function identifier: {identifier}.{hint}")
        return fn
    raise ValueError(f"Could not interpret activation function identifier: {identifier!r}")
