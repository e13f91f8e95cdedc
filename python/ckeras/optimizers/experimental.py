"""`ckeras.optimizers.experimental`: the TensorFlow 2.9-2.15 names of the Keras 3 optimizers (code written
for `tf.keras.optimizers.experimental.AdamW` runs unchanged)."""
from ckeras.optimizers.adagrad import Adagrad
from ckeras.optimizers.adam import Adam, AdamW
from ckeras.optimizers.adamax import Adamax
from ckeras.optimizers.base_optimizer import Optimizer
from ckeras.optimizers.lion import Lion
from ckeras.optimizers.nadam import Nadam
from ckeras.optimizers.rmsprop import RMSprop
from ckeras.optimizers.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax", "Nadam", "Lion"]
