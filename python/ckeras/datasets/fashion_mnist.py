"""Fashion-MNIST (keras.datasets.fashion_mnist): 60,000 + 10,000 grey 28×28 images of 10 kinds of
clothing, downloaded once from Keras's public mirror as four gzipped IDX files, each checked against
its SHA-256 and cached under `~/.ckeras/datasets/fashion-mnist`.

Fashion-MNIST is by Zalando SE, under the MIT licence. Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover,
3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot.
"""
import gzip
import os

import numpy as np

from ckeras.datasets import _remote
from ckeras.utils.file_utils import get_file

__all__ = ["load_data"]

# SHA-256 of each archive as Keras publishes them.
_FILE_HASHES = {
    "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
}


def _read_idx(path, ndim):
    """Reads a gzipped IDX file of uint8 values: magic (0, 0, 8, ndim), ndim big-endian int32 dims."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    header = 4 + 4 * ndim
    if len(data) < header or data[:4] != bytes([0, 0, 8, ndim]):
        raise ValueError(f"{path} is not an IDX file of uint8 values with {ndim} dimension(s)")
    dims = tuple(int(d) for d in np.frombuffer(data, ">i4", count=ndim, offset=4))
    if len(data) - header != int(np.prod(dims)):
        raise ValueError(f"{path} is truncated: header says shape {dims}, holds {len(data) - header} bytes")
    return np.frombuffer(data, np.uint8, offset=header).reshape(dims)


def load_data():
    """Loads the Fashion-MNIST data set, downloading it on first use.

    Returns:
        Tuple of NumPy arrays `(x_train, y_train), (x_test, y_test)`: uint8 images of shapes
        `(60000, 28, 28)` and `(10000, 28, 28)`, and uint8 labels 0–9.
    Raises:
        ConnectionError: when a file is not cached and cannot be downloaded.
        ValueError: when a download does not match its published SHA-256 (it is deleted).
    """
    subdir = os.path.join("datasets", "fashion-mnist")
    paths = {name: get_file(name, origin=_remote.origin(name), cache_subdir=subdir, file_hash=digest)
             for name, digest in _FILE_HASHES.items()}
    y_train = _read_idx(paths["train-labels-idx1-ubyte.gz"], 1)
    x_train = _read_idx(paths["train-images-idx3-ubyte.gz"], 3)
    y_test = _read_idx(paths["t10k-labels-idx1-ubyte.gz"], 1)
    x_test = _read_idx(paths["t10k-images-idx3-ubyte.gz"], 3)
    return (x_train, y_train), (x_test, y_test)
