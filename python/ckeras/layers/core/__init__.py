"""Layers of this family; exported by `ckeras.layers`."""
