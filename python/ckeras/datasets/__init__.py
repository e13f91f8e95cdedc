"""`ckeras.datasets`: `digits` (shipped, offline), and `mnist` / `fashion_mnist` (downloaded once from
Keras's public mirror, verified, cached under `~/.ckeras/datasets`)."""
from ckeras.datasets import digits, fashion_mnist, mnist

__all__ = ["digits", "mnist", "fashion_mnist"]
