"""`tf.nn`: activations, dropout and the classic cross-entropy-with-logits functions, with
TensorFlow's names and defaults (e.g. `gelu` is exact by default, `leaky_relu` alpha 0.2)."""
from ckeras import ops, random
from ckeras._tf.math import l2_normalize, log_softmax, softmax  # noqa: F401 (also tf.nn names)
from ckeras.ops.core import _tensor


def relu(features, name=None):
    return ops.relu(features)


def relu6(features, name=None):
    return ops.relu6(features)


def elu(features, name=None):
    return ops.elu(features)


def selu(features, name=None):
    return ops.selu(features)


def gelu(features, approximate=False, name=None):
    return ops.gelu(features, approximate=approximate)


def leaky_relu(features, alpha=0.2, name=None):
    return ops.leaky_relu(features, negative_slope=alpha)


def silu(features, beta=1.0, name=None):
    if beta == 1.0:
        return ops.silu(features)
    return ops.multiply(features, ops.sigmoid(ops.multiply(features, float(beta))))


swish = silu


def sigmoid(x, name=None):
    return ops.sigmoid(x)


def tanh(x, name=None):
    return ops.tanh(x)


def softplus(features, name=None):
    return ops.softplus(features)


def softsign(features, name=None):
    return ops.softsign(features)


def dropout(x, rate, noise_shape=None, seed=None, name=None):
    """Zeroes each element with probability `rate` and scales the rest by `1 / (1 - rate)`; always
    applied (TF's function has no `training` flag)."""
    rate = float(rate)
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"`rate` must be a scalar tensor or a float in the range [0, 1). Received: rate={rate}")
    return random.dropout(x, rate, noise_shape=noise_shape, seed=seed)


def softmax_cross_entropy_with_logits(labels, logits, axis=-1, name=None):
    """Per-example `-sum(labels * log_softmax(logits))` over `axis`."""
    return ops.categorical_crossentropy(labels, logits, from_logits=True, axis=axis)


def sparse_softmax_cross_entropy_with_logits(labels, logits, name=None):
    """Per-example cross-entropy of integer `labels` against `logits` (last axis = classes)."""
    return ops.sparse_categorical_crossentropy(labels, logits, from_logits=True)


def sigmoid_cross_entropy_with_logits(labels=None, logits=None, name=None):
    """Elementwise `max(x, 0) - x * z + log(1 + exp(-|x|))` for logits x and labels z."""
    if labels is None or logits is None:
        raise ValueError("Both `labels` and `logits` must be provided.")
    return ops.binary_crossentropy(labels, logits, from_logits=True)


def l2_loss(t, name=None):
    """`sum(t ** 2) / 2`."""
    return ops.multiply(ops.sum(ops.square(t)), 0.5)


def bias_add(value, bias, data_format=None, name=None):
    """Adds a 1-D `bias` along the channel axis (last, or axis 1 for `data_format="NC..."`)."""
    value = _tensor(value)
    if data_format is not None and str(data_format).startswith("NC") and value.ndim > 2:
        bias = ops.reshape(bias, (-1,) + (1,) * (value.ndim - 2))
    return ops.add(value, bias)


def moments(x, axes, shift=None, keepdims=False, name=None):
    """`(mean, variance)` of `x` over `axes`."""
    axes = tuple(int(a) for a in axes)
    return ops.mean(x, axis=axes, keepdims=keepdims), ops.var(x, axis=axes, keepdims=keepdims)
