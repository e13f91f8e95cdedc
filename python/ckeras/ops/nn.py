"""Neural-network ops of `keras.ops` (keras.ops.nn): activations, softmax, one_hot and the losses."""
from ckeras import _core
from ckeras.ops.core import _UNARY, _dtype_name, _tensor

__all__ = ["relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "swish", "sigmoid",
           "hard_sigmoid", "softplus", "softsign", "softmax", "log_softmax", "one_hot"]


def relu(x):
    """Rectified linear unit, `max(x, 0)`, elementwise."""
    return _UNARY["relu"](_tensor(x))


def relu6(x):
    """`min(max(x, 0), 6)`, elementwise."""
    return _UNARY["relu6"](_tensor(x))


def leaky_relu(x, negative_slope=0.2):
    """`x` for x >= 0, `negative_slope * x` otherwise."""
    return _UNARY["leaky_relu"](_tensor(x), float(negative_slope))


def elu(x, alpha=1.0):
    """`x` for x > 0, `alpha * (exp(x) - 1)` otherwise."""
    return _UNARY["elu"](_tensor(x), float(alpha))


def selu(x):
    """Scaled ELU with the self-normalising constants (alpha 1.6733, scale 1.0507)."""
    return _UNARY["selu"](_tensor(x))


def gelu(x, approximate=True):
    """Gaussian error linear unit; `approximate=True` uses the tanh form (Keras's default)."""
    return _UNARY["gelu_tanh" if approximate else "gelu"](_tensor(x))


def silu(x):
    """`x * sigmoid(x)` (also called swish)."""
    return _UNARY["silu"](_tensor(x))


swish = silu


def sigmoid(x):
    """`1 / (1 + exp(-x))`, computed without overflow."""
    return _UNARY["sigmoid"](_tensor(x))


def hard_sigmoid(x):
    """Piecewise-linear sigmoid: `clip(x / 6 + 0.5, 0, 1)`."""
    return _UNARY["hard_sigmoid"](_tensor(x))


def softplus(x):
    """`log(1 + exp(x))`, computed stably."""
    return _UNARY["softplus"](_tensor(x))


def softsign(x):
    """`x / (1 + |x|)`."""
    return _UNARY["softsign"](_tensor(x))


def softmax(x, axis=-1):
    """Softmax over `axis`, stable for large logits (a row holding +inf gives NaN)."""
    return _core.softmax(_tensor(x), axis)


def log_softmax(x, axis=-1):
    """Log-softmax over `axis`, computed as `x - logsumexp(x)`."""
    return _core.log_softmax(_tensor(x), axis)


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """One-hot encodes integer `x`; out-of-range indices give all-zero rows."""
    if sparse:
        raise ValueError("sparse one_hot is not supported")
    return _core.one_hot(_tensor(x), int(num_classes), axis, _dtype_name(dtype) or "float32")


# ---- losses (fused C++ ops; the per-sample helpers below serve ckeras.losses) ----

__all__ += ["categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy"]


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Categorical cross-entropy between one-hot (or soft) targets and predictions.

    Probabilities are first renormalised to sum to 1 along `axis` and clipped to
    `[1e-7, 1 - 1e-7]`; with `from_logits=True` a stable log-softmax is used instead.

    Args:
        target: Target distribution, the same shape as `output`.
        output: Predicted probabilities, or logits when `from_logits=True`.
        from_logits: Whether `output` holds logits rather than probabilities.
        axis: The class axis. Defaults to `-1`.
    Returns:
        The loss per sample: `output`'s shape without `axis`.
    """
    return _core.categorical_crossentropy(_tensor(target), _tensor(output), bool(from_logits), int(axis))


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Categorical cross-entropy with integer class indices as targets.

    Args:
        target: Class indices in `[0, num_classes)`, shaped like `output` without `axis`
            (a trailing dimension of 1 is squeezed). Float targets must hold whole numbers.
        output: Predicted probabilities, or logits when `from_logits=True`.
        from_logits: Whether `output` holds logits rather than probabilities.
        axis: The class axis. Defaults to `-1`.
    Returns:
        The loss per sample: `output`'s shape without `axis`.
    """
    return _core.sparse_categorical_crossentropy(_tensor(target), _tensor(output), bool(from_logits), int(axis))


def binary_crossentropy(target, output, from_logits=False):
    """Binary cross-entropy, elementwise.

    Probabilities are clipped to `[1e-7, 1 - 1e-7]`; with `from_logits=True` the stable form
    `max(z, 0) - z * target + log(1 + exp(-|z|))` is used.

    Args:
        target: Binary (or soft) targets, the same shape as `output`.
        output: Predicted probabilities, or logits when `from_logits=True`.
        from_logits: Whether `output` holds logits rather than probabilities.
    Returns:
        A tensor with `output`'s shape.
    """
    t, o = _tensor(target), _tensor(output)
    if tuple(t.shape) != tuple(o.shape):
        raise ValueError("Arguments `target` and `output` must have the same shape. Received: "
                         f"target.shape={tuple(t.shape)}, output.shape={tuple(o.shape)}")
    # The fused op averages over the last axis; over a new axis of size 1 that is the identity.
    return _core.binary_crossentropy(_core.expand_dims(t, -1), _core.expand_dims(o, -1), bool(from_logits))


def _binary_crossentropy_mean(target, output, from_logits=False):
    """Per-sample binary cross-entropy: the elementwise loss averaged over the last axis."""
    return _core.binary_crossentropy(_tensor(target), _tensor(output), bool(from_logits))


def _mean_squared_error(target, output):
    """Per-sample mean of `(output - target) ** 2` over the last axis (Keras's rank fix, then broadcasting)."""
    return _core.mean_squared_error(_tensor(target), _tensor(output))


def _mean_absolute_error(target, output):
    """Per-sample mean of `|output - target|` over the last axis (Keras's rank fix, then broadcasting)."""
    return _core.mean_absolute_error(_tensor(target), _tensor(output))
