"""`to_categorical` and `normalize` (keras.utils), for NumPy arrays and ckeras tensors."""
import numpy as np

from ckeras import _core

__all__ = ["to_categorical", "normalize"]


def to_categorical(x, num_classes=None):
    """Converts a vector of class indices to a one-hot (binary class) matrix.

    A trailing axis of size 1 is dropped first, so `(n, 1)` labels give `(n, num_classes)`.

    Args:
        x: Array-like of integer class indices in `[0, num_classes)`, or a ckeras tensor.
        num_classes: Number of classes; None infers `max(x) + 1`.
    Returns:
        For array-like input, a float64 NumPy array of shape `x.shape + (num_classes,)` (as Keras
        returns); for a tensor, a float32 tensor.
    """
    if isinstance(x, _core.Tensor):
        from ckeras import ops
        if num_classes is None:
            num_classes = int(np.max(np.asarray(x))) + 1 if x.size else 0
        return ops.one_hot(x, num_classes)
    values = np.asarray(x)
    if values.dtype.kind not in "biuf" or (values.dtype.kind == "f" and np.any(values != np.round(values))):
        raise ValueError(f"`to_categorical` expects integer class indices. Received an array of dtype "
                         f"{values.dtype}")
    values = values.astype(np.int64)
    shape = values.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    values = values.reshape(-1)
    if num_classes is None:
        num_classes = int(values.max()) + 1 if values.size else 0
    num_classes = int(num_classes)
    bad = values[(values < 0) | (values >= num_classes)]
    if bad.size:
        raise ValueError(f"Received a label value of {bad[0]} which is outside the valid range of "
                         f"[0, {num_classes}) for `num_classes={num_classes}`")
    out = np.zeros((values.size, num_classes))
    out[np.arange(values.size), values] = 1.0
    return out.reshape(shape + (num_classes,))


def normalize(x, axis=-1, order=2):
    """Divides `x` by its `order`-norm along `axis` (rows with norm 0 are left as they are).

    Args:
        x: A NumPy array (a NumPy array is returned) or a ckeras tensor (a tensor is returned).
        axis: Axis along which to normalize.
        order: Norm order, e.g. 2 for the L2 norm, 1 for L1.
    Returns:
        A normalized copy of `x`.
    """
    if not isinstance(x, _core.Tensor):
        x = np.asarray(x)
        norm = np.atleast_1d(np.linalg.norm(x, order, axis))
        norm[norm == 0] = 1
        return x / np.expand_dims(norm, axis if axis is not None else -1)
    from ckeras import ops
    if order == 2:
        norm = ops.sqrt(ops.sum(ops.square(x), axis=axis, keepdims=True))
    elif order == 1:
        norm = ops.sum(ops.abs(x), axis=axis, keepdims=True)
    else:
        norm = ops.power(ops.sum(ops.power(ops.abs(x), float(order)), axis=axis, keepdims=True),
                         1.0 / float(order))
    return ops.divide(x, ops.where(ops.equal(norm, 0.0), ops.ones_like(norm), norm))
