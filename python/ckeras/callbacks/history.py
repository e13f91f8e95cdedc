"""`History`: records every epoch's logs; `fit` adds one and returns it."""
from ckeras.callbacks.callback import Callback


class History(Callback):
    """Records the logs of each epoch in `history` (`{"loss": [...], "val_loss": [...], ...}`)."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        self.model.history = self
