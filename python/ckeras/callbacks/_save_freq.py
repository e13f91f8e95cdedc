"""`save_freq` for the callbacks that save during training: `"epoch"`, or a positive number of batches,
counted across epochs as Keras 3 counts them."""


def check_save_freq(save_freq, message):
    """`save_freq` if it is `"epoch"` or a positive int; else ValueError(message)."""
    ok = save_freq == "epoch" or (isinstance(save_freq, int) and not isinstance(save_freq, bool) and save_freq > 0)
    if not ok:
        raise ValueError(message)
    return save_freq


class BatchCounter:
    """Counts training batches and says when `save_freq` of them have run since the last save.

    The batch index restarts at 0 each epoch; a batch index at or below the last one seen means a new
    epoch began, so its batches count from 1 again.
    """

    def __init__(self, save_freq):
        self.save_freq = save_freq
        self.since_last_save = 0
        self.last_batch = 0

    def new_epoch(self):
        self.last_batch = 0

    def should_save(self, batch):
        if self.save_freq == "epoch":
            return False
        self.since_last_save += batch + 1 if batch <= self.last_batch else batch - self.last_batch
        self.last_batch = batch
        if self.since_last_save >= self.save_freq:
            self.since_last_save = 0
            return True
        return False
