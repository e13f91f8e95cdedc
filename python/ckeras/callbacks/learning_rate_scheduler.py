"""`LearningRateScheduler`: sets the learning rate from `schedule(epoch, lr)` at each epoch start."""
import numpy as np

from ckeras.callbacks.callback import Callback


class LearningRateScheduler(Callback):
    """Learning rate scheduler.

    Args:
        schedule: A function `(epoch, lr) -> new_lr` (epoch indexed from 0); `(epoch) -> new_lr` is
            accepted too. It must return a float.
        verbose: 0 (quiet) or 1 (log update messages).
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        try:
            learning_rate = self.schedule(epoch, float(np.asarray(optimizer.learning_rate)))
        except TypeError:  # the one-argument form
            learning_rate = self.schedule(epoch)
        if not isinstance(learning_rate, (float, np.float32, np.float64)):
            raise ValueError(f"The output of the `schedule` function should be a float. Got: {learning_rate}")
        optimizer.learning_rate = learning_rate
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {learning_rate}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(np.asarray(self.model.optimizer.learning_rate))
