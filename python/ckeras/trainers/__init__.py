"""Keras 3's training machinery: the `Trainer` mixin of `Model`, data adapters, epoch iteration."""
from ckeras.trainers.data_adapter import pack_x_y_sample_weight, unpack_x_y_sample_weight
from ckeras.trainers.py_dataset import PyDataset
from ckeras.trainers.trainer import Trainer

__all__ = ["Trainer", "PyDataset", "pack_x_y_sample_weight", "unpack_x_y_sample_weight"]
