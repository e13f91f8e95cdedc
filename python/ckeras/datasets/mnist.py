"""MNIST handwritten digits (keras.datasets.mnist): 60,000 + 10,000 grey 28×28 images of the digits
0–9, downloaded once from Keras's public mirror, checked against its SHA-256 and cached under
`~/.ckeras/datasets` (or `$CKERAS_HOME/datasets`).

MNIST is by Yann LeCun and Corinna Cortes, a derivative of NIST's data, available under CC BY-SA 3.0.
For an offline alternative shipped with ckeras see `ckeras.datasets.digits`.
"""
import numpy as np

from ckeras.datasets import _remote
from ckeras.utils.file_utils import get_file

__all__ = ["load_data"]

# SHA-256 of mnist.npz as Keras publishes it.
_FILE_HASH = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def load_data(path="mnist.npz"):
    """Loads the MNIST data set, downloading it on first use.

    Args:
        path: File name of the cached copy under `~/.ckeras/datasets`.
    Returns:
        Tuple of NumPy arrays `(x_train, y_train), (x_test, y_test)`: uint8 images with values
        0–255 of shapes `(60000, 28, 28)` and `(10000, 28, 28)`, and uint8 labels 0–9 of shapes
        `(60000,)` and `(10000,)`.
    Raises:
        ConnectionError: when the file is not cached and cannot be downloaded.
        ValueError: when the download does not match the published SHA-256 (it is deleted).
    """
    local = get_file(fname=path, origin=_remote.origin("mnist.npz"), file_hash=_FILE_HASH)
    with np.load(local, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
