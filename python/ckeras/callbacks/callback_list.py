"""`CallbackList`: calls every callback's hook, adding `History` and `ProgbarLogger` for `fit`."""
from ckeras.callbacks.callback import Callback
from ckeras.callbacks.history import History
from ckeras.callbacks.progbar_logger import ProgbarLogger


def _pythonify_logs(logs):
    """Flattens nested dicts, turns scalars into Python floats and sorts the keys (as Keras does)."""
    result = {}
    for key, value in sorted(logs.items()):
        if isinstance(value, dict):
            result.update(_pythonify_logs(value))
            continue
        try:
            value = float(value)
        except (TypeError, ValueError):
            pass
        result[key] = value
    return result


class CallbackList(Callback):
    """Container abstracting a list of callbacks.

    Args:
        callbacks: List of `Callback` instances.
        add_history: Add a `History` callback if the list holds none.
        add_progbar: Add a `ProgbarLogger` callback if the list holds none.
        model: The model these callbacks are used with.
        **params: Passed to each callback's `set_params` (`verbose`, `epochs`, `steps`).
    """

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None, **params):
        super().__init__()
        self.callbacks = _flatten(callbacks) if callbacks else []
        self._history = next((c for c in self.callbacks if isinstance(c, History)), None)
        self._progbar = next((c for c in self.callbacks if isinstance(c, ProgbarLogger)), None)
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)
        self.set_model(model)
        self.set_params(params)

    def append(self, callback):
        self.callbacks.append(callback)

    def set_params(self, params):
        self.params = params
        if params:
            for callback in self.callbacks:
                callback.set_params(params)

    def set_model(self, model):
        if not model:
            return
        super().set_model(model)
        if self._history:
            model.history = self._history
        for callback in self.callbacks:
            callback.set_model(model)

    def batch_hooks_are_noops(self):
        """True when calling the train-batch hooks would only run `Callback`'s empty methods (e.g. only
        `History` listens), so that `fit` may skip the calls; read once per epoch."""
        cls = type(self)
        if any(getattr(cls, name) is not getattr(CallbackList, name) for name in _TRAIN_BATCH_HOOKS[:2]):
            return False
        return not any(_may_act(c, _TRAIN_BATCH_HOOKS) for c in self.callbacks)

    def _call(self, hook, *args):
        for callback in self.callbacks:
            getattr(callback, hook)(*args)

    def on_batch_begin(self, batch, logs=None):
        self._call("on_batch_begin", batch, logs or {})

    def on_batch_end(self, batch, logs=None):
        self._call("on_batch_end", batch, _pythonify_logs(logs or {}))

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs or {})

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs if logs is not None else {})

    def on_train_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin", batch, logs or {})

    def on_train_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end", batch, _pythonify_logs(logs or {}))

    def on_test_batch_begin(self, batch, logs=None):
        self._call("on_test_batch_begin", batch, logs or {})

    def on_test_batch_end(self, batch, logs=None):
        self._call("on_test_batch_end", batch, _pythonify_logs(logs or {}))

    def on_predict_batch_begin(self, batch, logs=None):
        self._call("on_predict_batch_begin", batch, logs or {})

    def on_predict_batch_end(self, batch, logs=None):
        self._call("on_predict_batch_end", batch, logs or {})

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs or {})

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs or {})

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", logs or {})

    def on_test_end(self, logs=None):
        self._call("on_test_end", logs or {})

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", logs or {})

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", logs or {})


# Callback.on_train_batch_begin/end call on_batch_begin/end: all four must be the base class's no-ops.
_TRAIN_BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end")


def _may_act(callback, hooks):
    """False only if every hook in `hooks` is `Callback`'s own empty method, found the ordinary way."""
    cls = type(callback)
    if cls.__getattribute__ is not object.__getattribute__:
        return True
    own = getattr(callback, "__dict__", {})
    return any(name in own or getattr(cls, name, None) is not getattr(Callback, name) for name in hooks)


def _flatten(callbacks):
    out = []
    for c in callbacks:
        out.extend(_flatten(c) if isinstance(c, (list, tuple)) else [c])
    return out
