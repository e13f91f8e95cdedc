"""`model.weights.h5` as Keras 3 writes it: one group per saveable at its object path, holding a `vars`
group (attribute `name`) with datasets "0", "1", ... (uncompressed, contiguous), written with h5py.

Reading works on bytes in memory: the HDF5 signature and the superblock's end-of-file address are checked
before h5py sees the data, then only hard-linked plain datasets are accepted, and a dataset's shape and
dtype can be inspected before its data is read. h5py and OS errors surface as LoadError."""
import contextlib
import io
import struct

import numpy as np

from ckeras.saving.errors import LoadError

SIGNATURE = b"\x89HDF\r\n\x1a\n"
_DTYPES = {"float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"}
_MAX_OBJECTS = 1_000_000


def _h5py():
    try:
        import h5py
    except ImportError:  # pragma: no cover - h5py is a dependency
        raise ImportError("h5py must be installed to save or load `.keras` and `.weights.h5` files: "
                          "`pip install h5py`") from None
    return h5py


def write(groups):
    """HDF5 bytes for `groups`: a list of (path, name, [arrays]) in write order; path "" is the root."""
    h5py = _h5py()
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        for path, name, arrays in groups:
            group = f.create_group("vars") if not path else f.create_group(path).create_group("vars")
            if isinstance(name, str):
                group.attrs["name"] = name
            for i, value in enumerate(arrays):
                group[str(i)] = np.asarray(value)
    return buffer.getvalue()


def check_superblock(data, source):
    """Checks the signature and that the end-of-file address in the superblock equals len(data)."""
    if len(data) < len(SIGNATURE) or data[:8] != SIGNATURE:
        raise LoadError(f"{source}: not a ckeras model file (no HDF5 signature)")
    if len(data) < 16:
        raise LoadError(f"{source}: truncated: the HDF5 superblock needs at least 16 bytes, got {len(data)}")
    version = data[8]
    if version in (0, 1):
        offset_size, start = data[13], 24 + (4 if version == 1 else 0)
    elif version in (2, 3):
        offset_size, start = data[9], 12
    else:
        raise LoadError(f"{source}: unsupported format version {version} (HDF5 superblock)")
    if offset_size not in (2, 4, 8):
        raise LoadError(f"{source}: not a ckeras model file (HDF5 offset size {offset_size})")
    need = start + 3 * offset_size
    if len(data) < need:
        raise LoadError(f"{source}: truncated: the HDF5 superblock needs {need} bytes, got {len(data)}")
    fmt = {2: "<H", 4: "<I", 8: "<Q"}[offset_size]
    base = struct.unpack_from(fmt, data, start)[0]
    eof = struct.unpack_from(fmt, data, start + 2 * offset_size)[0]
    expected = base + eof
    if len(data) < expected:
        raise LoadError(f"{source}: truncated: the HDF5 superblock expects {expected} bytes, but only "
                        f"{len(data)} bytes are present")
    if len(data) > expected:
        raise LoadError(f"{source}: {len(data) - expected} unexpected bytes after the end of the HDF5 data "
                        f"(expected {expected} bytes, found {len(data)})")


@contextlib.contextmanager
def _wrapped(source):
    try:
        yield
    except LoadError:
        raise
    except (OSError, RuntimeError, KeyError, TypeError, ValueError) as e:
        raise LoadError(f"{source}: unreadable HDF5 weights: {e}") from None


class Reader:
    """Read access to weights HDF5 bytes: `vars(path)` -> {key: dataset}, `dataset_paths()`."""

    def __init__(self, data, source="model.weights.h5"):
        h5py = _h5py()
        self.source = source
        check_superblock(data, source)
        with _wrapped(source):
            self._file = h5py.File(io.BytesIO(data), "r")

    def close(self):
        with contextlib.suppress(Exception):
            self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _child(self, group, key, kind):
        h5py = _h5py()
        link = group.get(key, getlink=True)
        if link is None:
            return None
        if not isinstance(link, h5py.HardLink):
            raise LoadError(f"{self.source}: '{group.name}/{key}' is a {type(link).__name__}; only plain "
                            "groups and datasets are allowed")
        obj = group[key]
        if not isinstance(obj, kind):
            raise LoadError(f"{self.source}: '{obj.name}' is not a {kind.__name__}")
        return obj

    def vars(self, path):
        """{key: h5py.Dataset} of the `vars` group at `path`, or None when the file has no such group."""
        h5py = _h5py()
        with _wrapped(self.source):
            group = self._file
            for part in [p for p in path.split("/") if p] + ["vars"]:
                group = self._child(group, part, h5py.Group)
                if group is None:
                    return None
            return {key: self._child(group, key, h5py.Dataset) for key in group.keys()}

    def dataset_paths(self):
        """Every dataset's path in the file (links checked, a cap on the number of objects)."""
        h5py = _h5py()
        out, stack, seen = [], [(self._file, "")], 0
        with _wrapped(self.source):
            while stack:
                group, prefix = stack.pop()
                for key in group.keys():
                    seen += 1
                    if seen > _MAX_OBJECTS:
                        raise LoadError(f"{self.source}: more than {_MAX_OBJECTS} objects in the weights file")
                    link = group.get(key, getlink=True)
                    if not isinstance(link, h5py.HardLink):
                        raise LoadError(f"{self.source}: '{prefix}{key}' is a {type(link).__name__}; only "
                                        "plain groups and datasets are allowed")
                    obj = group[key]
                    if isinstance(obj, h5py.Group):
                        stack.append((obj, f"{prefix}{key}/"))
                    else:
                        out.append(f"{prefix}{key}")
        return out

    def describe(self, dataset):
        """(shape, dtype name) of a dataset, without reading its data."""
        with _wrapped(self.source):
            if dataset.is_virtual or dataset.external:
                raise LoadError(f"{self.source}: '{dataset.name}' stores its data outside the file; not allowed")
            dtype = dataset.dtype
            name = "bool" if dtype.kind == "b" else dtype.name
            if dtype.names is not None or name not in _DTYPES:
                raise LoadError(f"{self.source}: '{dataset.name}' has unsupported dtype {dtype}")
            return tuple(int(d) for d in dataset.shape), name

    def read(self, dataset):
        with _wrapped(self.source):
            return np.asarray(dataset[()])
