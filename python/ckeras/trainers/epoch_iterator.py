"""`EpochIterator`: yields `(step, batch)` for one epoch at a time from a data adapter.

With `steps_per_epoch`, the underlying iterator carries over from one epoch to the next (as in Keras), and
a source that runs dry ends the epoch early with Keras's "ran out of data" warning.
"""
import warnings

from ckeras.trainers.data_adapter import get_data_adapter

_RAN_OUT = ("Your input ran out of data; interrupting training. Make sure that your dataset or generator can "
            "generate at least `steps_per_epoch * epochs` batches. You may need to use the `.repeat()` function "
            "when building your dataset.")


class EpochIterator:
    """Batches for `fit`/`evaluate`/`predict`; `num_batches` is None when the length is unknown."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=None, steps_per_epoch=None, shuffle=False,
                 class_weight=None, steps_per_execution=1):
        if steps_per_epoch is not None and (isinstance(steps_per_epoch, bool) or int(steps_per_epoch) != steps_per_epoch
                                            or steps_per_epoch <= 0):
            raise ValueError(f"`steps_per_epoch` must be a positive integer. Received: steps_per_epoch={steps_per_epoch}")
        self.steps_per_epoch = None if steps_per_epoch is None else int(steps_per_epoch)
        self.steps_per_execution = steps_per_execution
        self.data_adapter = get_data_adapter(x, y, sample_weight, batch_size=batch_size,
                                             steps_per_epoch=self.steps_per_epoch, shuffle=shuffle,
                                             class_weight=class_weight)
        self._num_batches = self.data_adapter.num_batches
        self._current_iterator = None
        self._steps_seen = 0
        self.ran_out = False  # the last epoch found the source exhausted before its first step

    @property
    def num_batches(self):
        return self.steps_per_epoch or self._num_batches

    @property
    def num_samples(self):
        return getattr(self.data_adapter, "num_samples", None)

    def reset(self):
        self._current_iterator = None
        self._steps_seen = 0

    def enumerate_epoch(self):
        """Yields `(step, batch)` for one epoch."""
        self.data_adapter.on_epoch_begin()
        self.ran_out = False
        steps = self.steps_per_epoch or self._num_batches
        try:
            if steps:
                if self._current_iterator is None or self.steps_per_epoch is None:
                    self._current_iterator = iter(self.data_adapter.get_iterator())
                    self._steps_seen = 0
                for step in range(steps):
                    if self._num_batches and self._steps_seen >= self._num_batches:
                        self._warn_ran_out(step)
                        break
                    try:
                        batch = next(self._current_iterator)
                    except StopIteration:
                        self._current_iterator = None
                        self._warn_ran_out(step)
                        break
                    self._steps_seen += 1
                    yield step, batch
                if self._num_batches and self._steps_seen >= self._num_batches:
                    self._current_iterator = None  # start over at the next epoch
            else:
                step = -1
                for step, batch in enumerate(self.data_adapter.get_iterator()):
                    yield step, batch
                if step < 0:
                    self._warn_ran_out(0)
        finally:
            self.data_adapter.on_epoch_end()

    def _warn_ran_out(self, step):
        if step == 0:
            self.ran_out = True
        if self.steps_per_epoch or step == 0:
            warnings.warn(_RAN_OUT, stacklevel=2)
