"""Optical handwritten digits, shipped inside ckeras: loads offline, no download.

1,797 handwritten digits as 8×8 grey levels 0–16 with labels 0–9, the test part of the "Optical
Recognition of Handwritten Digits" data set by E. Alpaydin and C. Kaynak (1998), UCI Machine Learning
Repository, https://doi.org/10.24432/C50P49, licensed CC BY 4.0
(https://creativecommons.org/licenses/by/4.0/). See `data/README.md` and `data/DATA_LICENSE`.

`to_mnist_shape` blows the images up to MNIST's 28×28, 0–255 layout so that code written for
`mnist.load_data()` (e.g. a 784-wide Dense model after `reshape(-1, 784)`) runs on them unchanged.
"""
import os

import numpy as np

__all__ = ["load_data", "to_mnist_shape"]

_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "optdigits_8x8.npz")
NUM_SAMPLES = 1797


def to_mnist_shape(x):
    """Turns 8×8 digits with grey levels 0–16 into 28×28 images with levels 0–255, like MNIST's.

    Each pixel becomes a 3×3 block (24×24), and a 2-pixel black border is added on every side,
    much as MNIST centres its digits in a 20×20 box inside 28×28. Levels are scaled by 255/16 and
    rounded, so 16 becomes 255.

    Args:
        x: uint8 array of shape `(n, 8, 8)` (or one image `(8, 8)`) with values in `[0, 16]`.
    Returns:
        A uint8 array of shape `(n, 28, 28)` (or `(28, 28)`).
    """
    x = np.asarray(x)
    if x.shape[-2:] != (8, 8) or x.ndim not in (2, 3):
        raise ValueError(f"Expected 8x8 images of shape (n, 8, 8) or (8, 8). Received: shape={x.shape}")
    if x.size and (x.min() < 0 or x.max() > 16):
        raise ValueError(f"Expected grey levels in [0, 16]. Received values in [{x.min()}, {x.max()}]")
    scaled = (x.astype(np.uint16) * 255 + 8) // 16  # rounds half up: 16 -> 255, 8 -> 128
    big = scaled.repeat(3, axis=-2).repeat(3, axis=-1)  # (..., 24, 24)
    pad = [(0, 0)] * (x.ndim - 2) + [(2, 2), (2, 2)]
    return np.pad(big, pad).astype(np.uint8)


def load_data(test_split=0.2, seed=113, upscale=False):
    """Loads the optical digits data set shipped with ckeras (no network needed).

    The 1,797 samples are shuffled with `np.random.RandomState(seed)` (a stream NumPy keeps stable
    across versions), then the last `test_split` fraction becomes the test set, so the split is the
    same on every machine.

    Args:
        test_split: Fraction of the samples kept for the test set, in `[0, 1)`.
        seed: Seed of the shuffle before the split.
        upscale: False gives the original 8×8 images with grey levels 0–16; True gives them in
            MNIST's shape, 28×28 with levels 0–255 (see `to_mnist_shape`).
    Returns:
        Tuple of NumPy arrays `(x_train, y_train), (x_test, y_test)`: uint8 images of shape
        `(n, 8, 8)` (or `(n, 28, 28)`) and uint8 labels 0–9 of shape `(n,)`. With the defaults
        n is 1,437 for training and 360 for the test set.
    """
    test_split = float(test_split)
    if not 0.0 <= test_split < 1.0:
        raise ValueError(f"`test_split` must be a float in [0, 1). Received: test_split={test_split}")
    with np.load(_PATH, allow_pickle=False) as f:
        x, y = f["images"], f["labels"]
    order = np.arange(len(x))
    np.random.RandomState(seed).shuffle(order)
    x, y = x[order], y[order]
    if upscale:
        x = to_mnist_shape(x)
    n_train = int(len(x) * (1 - test_split))
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])
