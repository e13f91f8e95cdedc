"""`ModelCheckpoint`: saves the model (`.keras`) or its weights (`.weights.h5`, `.safetensors`) during
training, every epoch or every N batches, optionally only when a monitored quantity improves."""
import os
import warnings

import numpy as np

from ckeras.callbacks._save_freq import BatchCounter, check_save_freq
from ckeras.callbacks.callback import Callback
from ckeras.callbacks.early_stopping import _compiled_metrics

_WEIGHTS_EXTENSIONS = (".weights.h5", ".safetensors")


def _maximises(model, monitor):
    """Whether `monitor` should go up: the compiled metric's direction when it has one ("loss" goes
    down), else by name as Keras's auto mode used to: accuracy, AUC and f-measure names go up."""
    name = monitor[4:] if monitor.startswith("val_") else monitor
    if name == "loss":
        return False
    for m in _compiled_metrics(model):
        if m.name == name and getattr(m, "_direction", None) in ("up", "down"):
            return m._direction == "up"
    return "acc" in name or "auc" in name or name.startswith("fmeasure")


class ModelCheckpoint(Callback):
    """Callback to save the model or its weights at some frequency.

    Args:
        filepath: Path of the file to write. It may hold formatting options filled from `epoch` (from 1),
            `batch` (from 1, when saving every N batches) and the keys of the logs, e.g.
            `"ckpt/{epoch:02d}-{val_loss:.2f}.keras"`. Missing directories are created. Must end in
            `.keras` (whole model) or, with `save_weights_only=True`, in `.weights.h5` or `.safetensors`.
        monitor: The metric name to monitor (`"val_"` prefix for validation metrics).
        verbose: 0 (silent) or 1 (a message each time the callback acts).
        save_best_only: Only save when the monitored quantity improves on the best seen so far.
        save_weights_only: Save `model.save_weights(filepath)` instead of `model.save(filepath)`.
        mode: `"auto"`, `"min"` or `"max"`: the direction in which `monitor` improves.
        save_freq: `"epoch"`, or an integer: save every this many batches.
        initial_value_threshold: The initial "best" value for `save_best_only`.

    Every file is written atomically: a reader never sees a partial checkpoint.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"ModelCheckpoint mode '{mode}' is unknown, fallback to auto mode.", stacklevel=2)
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.verbose = verbose
        self.filepath = os.fspath(filepath)
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = check_save_freq(save_freq, f"Unrecognized save_freq: {save_freq}. Expected save_freq are "
                                                    "'epoch' or integer values")
        self.best = initial_value_threshold
        self.monitor_op = None
        self._batches = BatchCounter(save_freq)
        self._current_epoch = 0
        if save_weights_only:
            if not self.filepath.endswith(_WEIGHTS_EXTENSIONS):
                raise ValueError("When using `save_weights_only=True` in `ModelCheckpoint`, the filepath provided "
                                 "must end in `.weights.h5` (Keras weights format) or `.safetensors`. Received: "
                                 f"filepath={self.filepath}")
        elif not self.filepath.endswith(".keras"):
            raise ValueError("The filepath provided must end in `.keras` (Keras model format). Received: "
                             f"filepath={self.filepath}")

    def _set_monitor_op(self):
        up = self.mode == "max" or (self.mode == "auto" and _maximises(self.model, self.monitor))
        self.monitor_op = np.greater if up else np.less
        if self.best is None:
            self.best = -np.inf if up else np.inf

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._batches.should_save(batch):
            self._save_model(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save_model(epoch, None, logs)

    def _should_save(self, epoch, logs, filepath):
        if not self.save_best_only:
            self._say(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        if self.monitor_op is None:
            self._set_monitor_op()  # delayed until the compiled metrics exist
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.", stacklevel=3)
            return True
        if np.ndim(current) > 0:
            warnings.warn("Can save best model only when `monitor` is a scalar value. Received: "
                          f"{current}. Falling back to `save_best_only=False`.", stacklevel=3)
            return True
        best = f"{self.best:.5f}"
        if self.monitor_op(current, self.best):
            self._say(f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} to {current:.5f}, "
                      f"saving model to {filepath}")
            self.best = current
            return True
        self._say(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best}")
        return False

    def _save_model(self, epoch, batch, logs):
        logs = logs or {}
        filepath = self._get_file_path(epoch, batch, logs)
        if not self._should_save(epoch, logs, filepath):
            return
        directory = os.path.dirname(filepath)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if os.path.isdir(filepath):
            raise IOError("Please specify a non-directory filepath for ModelCheckpoint. Filepath used is an "
                          f"existing directory: {filepath}")
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)
        self._say(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")

    def _get_file_path(self, epoch, batch, logs):
        values = dict(logs)
        values["epoch"] = epoch + 1
        if batch is not None and "batch" not in logs:
            values["batch"] = batch + 1
        try:
            return self.filepath.format(**values)
        except KeyError as e:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". Reason: {e}. '
                           f"Available keys: {', '.join(sorted(values))}") from None

    def _say(self, message):
        if self.verbose > 0:
            print(message)
