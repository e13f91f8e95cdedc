"""Turns what `fit`/`evaluate`/`predict` receive into batches of Tensors.

Arrays are converted to Tensors once (float64 -> float32; integer and bool inputs -> float32; integer
labels kept); each batch is then one slice view (no shuffle) or one gather (shuffle) per array, with the
epoch's permutation itself a Tensor, so no NumPy -> Tensor copy happens per batch. Generators, other
iterables and `PyDataset`s are converted batch by batch.
"""
import collections
import concurrent.futures
import itertools
import math

import numpy as np

from ckeras import _core
from ckeras.ops.core import _tensor
from ckeras.trainers import _nest
from ckeras.trainers.py_dataset import PyDataset

_SMALL_INTS = ("int8", "int16", "uint8", "uint16")
_DTYPE_NAMES = {}  # np.dtype -> its name


def unpack_x_y_sample_weight(data):
    """Unpacks `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)` into a 3-tuple padded with None."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) in (1, 2, 3):
        return tuple(data) + (None,) * (3 - len(data))
    raise ValueError("Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, "
                     f"found: {data}")


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """The inverse of `unpack_x_y_sample_weight`: `(x,)`, `(x, y)` or `(x, y, sample_weight)`."""
    if y is None:
        return (x,)
    return (x, y) if sample_weight is None else (x, y, sample_weight)


def check_batch_size(batch_size, name="batch_size"):
    """None is allowed (the default applies); anything but a positive int raises (ERRORS row 26)."""
    if batch_size is None:
        return None
    if isinstance(batch_size, (bool, np.bool_)) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size <= 0:
        raise ValueError(f"{name} must be a positive integer. Received: {name}={batch_size!r}")
    return int(batch_size)


def _target_dtype(dtype, role):
    """The dtype an array of `dtype` is fed as: role "x" (inputs), "y" (targets) or "sw" (weights)."""
    if dtype in ("float64", "float16") or role == "sw":
        return "float32"
    if role == "x" and dtype != "float32":
        return "float32"  # ERRORS row 7: integer and bool inputs are cast to the compute dtype
    if dtype == "bool":
        return "float32"
    if dtype in _SMALL_INTS:
        return "int32"  # integer labels stay integers
    if dtype in ("uint32", "uint64"):
        return "int64"
    return dtype


def convert_leaf(v, role):
    """One array-like as a Tensor in the dtype `role` calls for."""
    if isinstance(v, _core.Tensor) or hasattr(v, "_ckeras_tensor"):
        t = _tensor(v)
        target = _target_dtype(t.dtype, role)
        return t if target == t.dtype else _core.cast(t, target)
    a = np.asarray(v)
    if a.dtype.kind in "USOcVMm":
        return _tensor(a)  # raises the "unsupported dtype" ValueError (ERRORS row 8)
    return _core.convert_to_tensor(np.ascontiguousarray(a, dtype=_target_dtype(_dtype_name(a.dtype), role)))


def _dtype_name(dtype):
    """`dtype.name`, memoized: NumPy builds the name in Python at each access (about 6 us). Only numeric
    dtypes get here, so the table stays small."""
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES[dtype] = dtype.name
    return name


def convert_batch(data, class_weight=None):
    """A batch `(x[, y[, sw]])` (or a bare x) with every leaf converted; class weights become weights."""
    x, y, sw = unpack_x_y_sample_weight(data)
    if class_weight is not None and y is not None:
        if sw is not None:
            raise ValueError("You cannot specify `class_weight` and `sample_weight` at the same time.")
        sw = class_weight_to_sample_weights(y, class_weight)
    return pack_x_y_sample_weight(_nest.map_structure(lambda v: convert_leaf(v, "x"), x),
                                  _nest.map_structure(lambda v: convert_leaf(v, "y"), y),
                                  _nest.map_structure(lambda v: convert_leaf(v, "sw"), sw))


def class_weight_to_sample_weights(y, class_weight):
    """Per-sample weights `class_weight[label]` (1.0 for classes not in the dict)."""
    if not hasattr(class_weight, "items"):
        raise ValueError("`class_weight` must be a dict-like mapping of class indices to weights. Received: "
                         f"class_weight={class_weight} of type {type(class_weight)}.")
    if _nest.is_nested(y):
        raise ValueError("`class_weight` is only supported for Models with a single output.")
    weights = {}
    for key, value in class_weight.items():
        try:
            weights[int(key)] = float(value)
        except (TypeError, ValueError):
            raise ValueError("`class_weight` must be a dictionary with integer keys representing class "
                             f"indices. Received an invalid key: {key!r} of type {type(key)}.") from None
    labels = np.asarray(y)
    if labels.ndim > 1:  # one-hot rows -> class index; a trailing dim of 1 holds sparse labels
        labels = np.argmax(labels, axis=-1) if labels.shape[-1] != 1 else np.squeeze(labels, axis=-1)
    labels = np.round(labels).astype(np.int64)
    return np.array([weights.get(int(c), 1.0) for c in labels], dtype=np.float32)


def _num_rows(v):
    shape = getattr(v, "shape", None)
    if shape is None:
        shape = np.shape(v)
    if len(shape) == 0:
        raise ValueError(f"Expected arrays with a batch dimension; received a scalar: {v!r}")
    return int(shape[0])


def check_data_cardinality(data):
    """All arrays of `(x, y, sample_weight)` must have the same number of rows (ERRORS row 22)."""
    sizes = {_num_rows(v) for v in _nest.flatten(data)}
    if len(sizes) > 1:
        msg = "Data cardinality is ambiguous. Make sure all arrays contain the same number of samples.\n"
        for label, part in zip(("x", "y", "sample_weight"), data):
            if part is not None:
                msg += f"'{label}' sizes: {', '.join(str(_num_rows(v)) for v in _nest.flatten(part))}\n"
        raise ValueError(msg)


def _is_array_like(v):
    return isinstance(v, (np.ndarray, _core.Tensor)) or hasattr(v, "_ckeras_tensor") \
        or (hasattr(v, "__array__") and hasattr(v, "shape"))


def is_array_data(x):
    leaves = _nest.flatten(x)
    return bool(leaves) and all(_is_array_like(v) or isinstance(v, (list, tuple)) for v in leaves)


def train_validation_split(arrays, validation_split):
    """Splits `(x, y, sample_weight)` into the first and the last `validation_split` of the rows."""
    leaves = _nest.flatten(arrays)
    bad = [type(t) for t in leaves if not _is_array_like(t)]
    if bad or not leaves:
        raise ValueError("`validation_split` is only supported for Tensors or NumPy arrays, found following "
                         f"types in the input: {bad}")
    n = _num_rows(leaves[0])
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(f"Training data contains {n} samples, which is not sufficient to split it into a "
                         f"validation and training set as specified by `validation_split={validation_split}`. "
                         "Either provide more data, or a different value for the `validation_split` argument.")

    def cut(start, stop):
        return _nest.map_structure(lambda t: np.asarray(t)[start:stop] if not isinstance(t, _core.Tensor)
                                   else _core.slice(t, [(start, stop, 1)]), arrays)
    return cut(0, split_at), cut(split_at, n)


class ArrayDataAdapter:
    """Batches of in-memory arrays; the last partial batch is kept."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=None, steps=None, shuffle=False,
                 class_weight=None):
        check_data_cardinality((x, y, sample_weight))
        if class_weight is not None:
            if sample_weight is not None:
                raise ValueError("You cannot `class_weight` and `sample_weight` at the same time.")
            if y is not None:
                sample_weight = class_weight_to_sample_weights(y, class_weight)
        self.num_samples = _num_rows(_nest.flatten(x)[0])
        if batch_size is None:
            batch_size = math.ceil(self.num_samples / steps) if steps else 32
        self.batch_size = max(int(batch_size), 1)
        # 0 rows (only `predict` accepts them) still make one empty batch.
        self.num_batches = max(math.ceil(self.num_samples / self.batch_size), 1)
        self.shuffle = shuffle
        self._data = convert_batch(pack_x_y_sample_weight(x, y, sample_weight))

    def get_iterator(self):
        n, bs = self.num_samples, self.batch_size
        if n == 0:  # predict on 0 rows: one empty batch, so the outputs get their shape
            yield self._data
            return
        perm = None
        if self.shuffle == "batch":
            blocks = np.random.permutation(self.num_batches)
            order = [np.random.permutation(np.arange(b * bs, min(b * bs + bs, n))) for b in blocks]
            perm = _core.convert_to_tensor(np.concatenate(order).astype(np.int64))
        elif self.shuffle:
            perm = _core.convert_to_tensor(np.random.permutation(n).astype(np.int64))
        for i in range(self.num_batches):
            spec = [(i * bs, min(i * bs + bs, n), 1)]
            if perm is None:
                yield _nest.map_structure(lambda t: _core.slice(t, spec), self._data)
            else:
                idx = _core.slice(perm, spec)
                yield _nest.map_structure(lambda t: _core.take(t, idx, 0), self._data)

    def on_epoch_begin(self):
        pass

    def on_epoch_end(self):
        pass


class GeneratorDataAdapter:
    """A Python generator or another iterable of batches; its length is unknown."""

    num_batches = None
    batch_size = None

    def __init__(self, generator, class_weight=None):
        self.generator = generator
        self.class_weight = class_weight

    def get_iterator(self):
        for batch in self.generator:  # a generator resumes where it stopped; an iterable restarts
            yield convert_batch(batch, self.class_weight)

    def on_epoch_begin(self):
        pass

    def on_epoch_end(self):
        pass


class PyDatasetAdapter:
    """A `PyDataset`: `num_batches` batches per epoch, in shuffled order when `shuffle` is set."""

    batch_size = None

    def __init__(self, dataset, class_weight=None, shuffle=False):
        self.dataset = dataset
        self.class_weight = class_weight
        self.shuffle = shuffle
        self.num_batches = dataset.num_batches
        self.workers = dataset.workers  # (reading these warns if the subclass skipped super().__init__)
        self.max_queue_size = dataset.max_queue_size
        dataset.use_multiprocessing  # noqa: B018  threads are used either way

    def get_iterator(self):
        n = self.dataset.num_batches
        indices = range(n) if n is not None else _count()
        if self.shuffle and n is not None:
            indices = np.random.permutation(n)
        if self.workers > 1:
            yield from self._prefetching(iter(indices))
            return
        for i in indices:
            yield convert_batch(_standardize_py_batch(self.dataset[int(i)]), self.class_weight)

    def _prefetching(self, indices):
        """Reads up to `max_queue_size` batches ahead on `workers` threads, keeping the order."""
        with concurrent.futures.ThreadPoolExecutor(self.workers) as pool:
            pending = collections.deque(pool.submit(self.dataset.__getitem__, int(i))
                                        for i in itertools.islice(indices, max(self.max_queue_size, 1)))
            while pending:
                batch = pending.popleft().result()
                for i in itertools.islice(indices, 1):
                    pending.append(pool.submit(self.dataset.__getitem__, int(i)))
                yield convert_batch(_standardize_py_batch(batch), self.class_weight)

    def on_epoch_begin(self):
        self.dataset.on_epoch_begin()

    def on_epoch_end(self):
        self.dataset.on_epoch_end()


def _count():
    i = 0
    while True:
        yield i
        i += 1


def _standardize_py_batch(batch):
    if isinstance(batch, dict) or isinstance(batch, np.ndarray):
        return (batch,)
    if isinstance(batch, list):
        batch = tuple(batch)
    if not isinstance(batch, tuple) or len(batch) not in (1, 2, 3):
        raise ValueError("PyDataset.__getitem__() must return a tuple or a dict. If a tuple, it must be ordered "
                         "either (input,) or (inputs, targets) or (inputs, targets, sample_weights). Received: "
                         f"{str(batch)[:100]}... of type {type(batch)}")
    return batch


def get_data_adapter(x, y=None, sample_weight=None, batch_size=None, steps_per_epoch=None, shuffle=False,
                     class_weight=None):
    """The adapter for `x`: arrays (and lists/dicts of them), a PyDataset, or a generator/iterable."""
    if isinstance(x, PyDataset) or _is_iterable_source(x):
        kind = "`keras.utils.PyDataset`" if isinstance(x, PyDataset) else "a Python generator"
        for name, value in (("y", y), ("sample_weight", sample_weight)):
            if value is not None:
                raise ValueError(f"`{name}` argument is not supported when using {kind} as input.")
        if isinstance(x, PyDataset):
            return PyDatasetAdapter(x, class_weight=class_weight, shuffle=shuffle)
        return GeneratorDataAdapter(x, class_weight=class_weight)
    x, y, sample_weight = (_scalar_list_to_array(v) for v in (x, y, sample_weight))
    if x is None or not is_array_data(x):
        raise ValueError(f"Unrecognized data type: x={x!r} (of type {type(x)})")
    return ArrayDataAdapter(x, y, sample_weight, batch_size=batch_size, steps=steps_per_epoch,
                            shuffle=shuffle, class_weight=class_weight)


def _scalar_list_to_array(v):
    """A flat list of Python numbers (e.g. `y=[0, 1, 1]`) is one array, not a list of inputs."""
    if isinstance(v, (list, tuple)) and v and all(isinstance(e, (int, float, np.number)) for e in v):
        return np.asarray(v)
    return v


def _is_iterable_source(x):
    if isinstance(x, (np.ndarray, _core.Tensor, list, tuple, dict, str, bytes)) or hasattr(x, "_ckeras_tensor"):
        return False
    return hasattr(x, "__next__") or (hasattr(x, "__iter__") and not hasattr(x, "__array__"))
