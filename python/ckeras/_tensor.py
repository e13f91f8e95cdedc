"""Python-level methods of `ckeras.Tensor`: arithmetic operators, comparisons, indexing and repr.

The class itself is `ckeras._core.Tensor`; these are attached once at import.
"""
import numpy as np

from ckeras import _core
from ckeras.ops import numpy as _np_ops

Tensor = _core.Tensor


def _binop(fn, swap=False):
    def method(self, other):
        try:
            return fn(other, self) if swap else fn(self, other)
        except TypeError:
            return NotImplemented
    return method


def _normalize_index(key, ndim):
    """Splits an index into (slice specs per dim, int selections, None positions, tensor index)."""
    if not isinstance(key, tuple):
        key = (key,)
    n_real = sum(1 for k in key if k is not None and k is not Ellipsis)
    if sum(1 for k in key if k is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    expanded = []
    for k in key:
        if k is Ellipsis:
            expanded.extend([slice(None)] * (ndim - n_real))
        else:
            expanded.append(k)
    if sum(1 for k in expanded if k is not None) > ndim:
        raise IndexError(f"too many indices for tensor: tensor is {ndim}-dimensional, but "
                         f"{sum(1 for k in expanded if k is not None)} were indexed")
    return expanded


def _getitem(self, key):
    ndim = self.ndim
    items = _normalize_index(key, ndim)
    shape = self.shape
    specs, selects, advanced = [], [], None
    adv_items = []  # positions in `items` of the integer-array index and of integer indices
    new_axes = []  # positions (in the result) of None
    new_axes_moved = []  # the same when the array index's dims are moved to the front (see below)
    d = 0
    out_pos = 0  # dims of the result so far
    rest_pos = 0  # dims of the result so far, leaving out those of the array index
    for pos, k in enumerate(items):
        if k is None:
            new_axes.append(out_pos)
            new_axes_moved.append(rest_pos)
            out_pos += 1
            rest_pos += 1
            continue
        size = shape[d]
        if isinstance(k, slice):
            specs.append(k.indices(size))
            out_pos += 1
            rest_pos += 1
        elif isinstance(k, (bool, np.bool_)):
            raise IndexError("boolean scalar indices are not supported")
        elif isinstance(k, (int, np.integer)):
            i = int(k)
            if i < -size or i >= size:
                raise IndexError(f"index {i} is out of bounds for axis {d} with size {size}")
            specs.append((i % size, i % size + 1, 1))
            selects.append(d)
            adv_items.append(pos)
        else:
            if advanced is not None:
                raise IndexError("only one integer-array index is supported")
            idx = _core.convert_to_tensor(k)
            if idx.dtype == "bool":
                raise IndexError("boolean mask indexing is not supported; use ops.where")
            advanced = (d, idx)
            specs.append((0, size, 1))
            out_pos += idx.ndim
            adv_items.append(pos)
        d += 1
    out = _core.slice(self, specs) if specs else self
    # NumPy: integers next to an array index are advanced indices too; when they are not all adjacent
    # (a slice, `...` or None between them), the array index's dims go first in the result.
    moved = advanced is not None and max(adv_items) - min(adv_items) + 1 != len(adv_items)
    if advanced is not None:
        axis, idx = advanced
        out = _core.take(out, idx, axis)
        first = axis - sum(1 for s in selects if s < axis)  # where idx's dims land after squeezing
        shift = idx.ndim - 1
        selects = [s + shift if s > axis else s for s in selects]
    for s in sorted(selects, reverse=True):
        out = _core.squeeze(out, s)
    if moved:
        adv = list(range(first, first + idx.ndim))
        out = _core.transpose(out, adv + [i for i in range(out.ndim) if i not in adv])
    for p in (new_axes_moved if moved else new_axes):
        out = _core.expand_dims(out, p + idx.ndim if moved else p)
    return out


def _repr(self):
    body = np.array2string(self.numpy(), separator=", ", prefix="Tensor(")  # a GPU tensor: a host copy
    where = "" if self.device == "cpu" else f", device={self.device}"
    return f"Tensor({body}, shape={self.shape}, dtype={self.dtype}{where})"


def _bool(self):
    if self.size != 1:
        raise ValueError("The truth value of a tensor with more than one element is ambiguous. "
                         "Use ops.any() or ops.all().")
    return bool(self.item())


def _install():
    T = Tensor
    T.__add__ = _binop(_np_ops.add)
    T.__radd__ = _binop(_np_ops.add, swap=True)
    T.__sub__ = _binop(_np_ops.subtract)
    T.__rsub__ = _binop(_np_ops.subtract, swap=True)
    T.__mul__ = _binop(_np_ops.multiply)
    T.__rmul__ = _binop(_np_ops.multiply, swap=True)
    T.__truediv__ = _binop(_np_ops.divide)
    T.__rtruediv__ = _binop(_np_ops.divide, swap=True)
    T.__pow__ = _binop(_np_ops.power)
    T.__rpow__ = _binop(_np_ops.power, swap=True)
    T.__matmul__ = _binop(_np_ops.matmul)
    T.__rmatmul__ = _binop(_np_ops.matmul, swap=True)
    T.__eq__ = _binop(_np_ops.equal)
    T.__ne__ = _binop(_np_ops.not_equal)
    T.__lt__ = _binop(_np_ops.less)
    T.__le__ = _binop(_np_ops.less_equal)
    T.__gt__ = _binop(_np_ops.greater)
    T.__ge__ = _binop(_np_ops.greater_equal)
    T.__and__ = _binop(_np_ops.logical_and)
    T.__or__ = _binop(_np_ops.logical_or)
    T.__invert__ = lambda self: _np_ops.logical_not(self)
    T.__neg__ = lambda self: _np_ops.negative(self)
    T.__pos__ = lambda self: self
    T.__abs__ = lambda self: _np_ops.absolute(self)
    T.__hash__ = lambda self: id(self)
    T.__getitem__ = _getitem
    T.__repr__ = _repr
    T.__str__ = _repr
    T.__bool__ = _bool
    T.__float__ = lambda self: float(self.item())
    T.__int__ = lambda self: int(self.item())
    T.__index__ = lambda self: int(self.item()) if self.dtype in ("int32", "int64") else _no_index(self)
    T.__iter__ = lambda self: (self[i] for i in range(len(self)))
    T.T = property(lambda self: _np_ops.transpose(self))
    T.astype = lambda self, dtype: _np_ops.cast(self, dtype)
    T.reshape = lambda self, *shape: _np_ops.reshape(self, shape[0] if len(shape) == 1 else shape)
    T.__array_ufunc__ = None  # NumPy defers `ndarray + Tensor` to our reflected operators


def _no_index(self):
    raise TypeError(f"only integer tensors can be used as an index, got dtype {self.dtype}")


_install()
