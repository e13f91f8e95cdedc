"""`EarlyStopping`: stops training when a monitored quantity has stopped improving."""
import warnings

from ckeras.callbacks.callback import Callback


def _less(a, b):
    return a < b


def _greater(a, b):
    return a > b


class EarlyStopping(Callback):
    """Stop training when a monitored metric has stopped improving.

    Args:
        monitor: Quantity to be monitored. Defaults to `"val_loss"`.
        min_delta: Minimum change that counts as an improvement. Defaults to `0`.
        patience: Number of epochs with no improvement after which training is stopped.
        verbose: 0 (silent) or 1 (print a message when the callback acts).
        mode: `"auto"`, `"min"` or `"max"`; `"auto"` infers the direction from the metric.
        baseline: Value the monitored quantity must beat; training stops if it does not within
            `patience` epochs.
        restore_best_weights: Restore the weights of the best epoch at the end of training.
        start_from_epoch: Number of warm-up epochs before monitoring starts.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        self.monitor = monitor
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.min_delta = abs(min_delta)
        self.wait = 0
        self.stopped_epoch = 0
        self.restore_best_weights = restore_best_weights
        self.best_weights = None
        self.best_epoch = 0
        self.start_from_epoch = start_from_epoch
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"EarlyStopping mode {mode} is unknown, fallback to auto mode.", stacklevel=2)
            mode = "auto"
        self.mode = mode
        self.monitor_op = None

    def _set_monitor_op(self):
        if self.mode == "min":
            self.monitor_op = _less
        elif self.mode == "max":
            self.monitor_op = _greater
        else:
            name = self.monitor[4:] if self.monitor.startswith("val_") else self.monitor
            if name == "loss":
                self.monitor_op = _less
            for m in _compiled_metrics(self.model):
                if m.name == name and getattr(m, "_direction", None) in ("up", "down"):
                    self.monitor_op = _greater if m._direction == "up" else _less
        if self.monitor_op is None:
            raise ValueError(f"EarlyStopping callback received monitor={self.monitor} but Keras isn't able to "
                             "automatically determine whether that metric should be maximized or minimized. "
                             "Pass `mode='max'` in order to do early stopping based on the highest metric value, "
                             "or pass `mode='min'` in order to use the lowest value.")
        if self.monitor_op is _less:
            self.min_delta *= -1
        self.best = float("inf") if self.monitor_op is _less else -float("inf")

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()  # delayed until the compiled metrics exist
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)

    def get_monitor_value(self, logs):
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(f"Early stopping conditioned on metric `{self.monitor}` which is not available. "
                          f"Available metrics are: {','.join(list(logs.keys()))}", stacklevel=2)
        return value

    def _is_improvement(self, value, reference):
        return self.monitor_op(value - self.min_delta, reference)


def _compiled_metrics(model):
    """The metrics the model was compiled with (inside its CompileMetrics container)."""
    out = []
    for m in getattr(model, "metrics", []) or []:
        out.extend(getattr(m, "metrics", None) or [m])
    return out
