"""`Trainer`: the mixin behind `Model.compile/fit/evaluate/predict` (Keras 3's trainer API).

This file holds compile, the metrics, the overridable steps and the `*_on_batch` methods; the epoch
loops of fit/evaluate/predict live in `loops.py`. Every attribute has a class-level default, so a class
that inherits `Trainer` works even if its `__init__` does not call `Trainer.__init__`.
"""
import inspect
import warnings

from ckeras import ops
from ckeras.backend.gradient_tape import GradientTape
from ckeras.trainers import _nest, loops
from ckeras.trainers.compile_utils import CompileLoss, CompileMetrics, LossTracker, model_output_names
from ckeras.trainers.data_adapter import class_weight_to_sample_weights, convert_batch, unpack_x_y_sample_weight


def _set(obj, name, value):
    # Bypasses attribute tracking a Layer subclass may do (Keras compiles in a no-tracking scope).
    object.__setattr__(obj, name, value)


def _batch_size(x):
    return next(iter(_nest.flatten(x))).shape[0]


class Trainer:
    compiled = False
    optimizer = None
    loss = None
    stop_training = False
    stop_evaluating = False
    stop_predicting = False
    history = None
    steps_per_execution = 1
    train_function = None
    test_function = None
    predict_function = None
    _run_eagerly = False
    _jit_compile = False
    _initial_epoch = None
    _loss_tracker = None
    _compile_loss = None
    _compile_metrics = None
    _compile_config = None
    _compute_loss_has_training_arg = None
    _step_variables_cache = None
    _has_extra_losses = None

    def __init__(self):
        self.compiled = False
        self.loss = None
        self.steps_per_execution = 1
        _set(self, "_loss_tracker", None)
        _set(self, "_compile_loss", None)
        _set(self, "_compile_metrics", None)

    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, weighted_metrics=None,
                run_eagerly=False, steps_per_execution=1, jit_compile="auto", auto_scale_loss=True):
        """Configures the model for training.

        Args:
            optimizer: Name of an optimizer or an optimizer instance.
            loss: A loss name, `Loss` instance or function `fn(y_true, y_pred)`; a list or dict for models
                with several outputs.
            loss_weights: Scalar weights of the per-output losses (list or dict), summed into the total.
            metrics: Metrics evaluated without sample weights (`["accuracy"]`; list/dict per output).
            weighted_metrics: Metrics weighted by `sample_weight` or `class_weight`.
            run_eagerly, steps_per_execution, jit_compile, auto_scale_loss: Accepted and recorded; ckeras
                always runs eagerly, one step per call, without a JIT.
        """
        from ckeras import optimizers
        self.optimizer = optimizers.get(optimizer)
        output_names = model_output_names(self)
        _set(self, "_compile_loss", CompileLoss(loss, loss_weights, output_names) if loss is not None else None)
        self.loss = loss
        has_metrics = metrics is not None or weighted_metrics is not None
        _set(self, "_compile_metrics",
             CompileMetrics(metrics, weighted_metrics, output_names) if has_metrics else None)
        if jit_compile == "auto" or run_eagerly:
            jit_compile = False
        self.jit_compile = jit_compile
        self.run_eagerly = run_eagerly
        self.stop_training = False
        self.compiled = True
        _set(self, "_loss_tracker", LossTracker(name="loss"))
        self.steps_per_execution = steps_per_execution
        self.train_function = self.test_function = self.predict_function = None
        _set(self, "_step_variables_cache", None)
        _set(self, "_has_extra_losses", None)
        _set(self, "_compute_loss_has_training_arg",
             "training" in inspect.signature(self.compute_loss).parameters)
        _set(self, "_compile_config", {"optimizer": optimizer, "loss": loss, "loss_weights": loss_weights,
                                "metrics": metrics, "weighted_metrics": weighted_metrics, "run_eagerly": run_eagerly,
                                "steps_per_execution": steps_per_execution, "jit_compile": jit_compile})

    def get_compile_config(self):
        """The arguments `compile()` was called with, serialized (the optimizer as its config); `{}` when
        the model is not compiled, as Keras returns."""
        if not self.compiled or self._compile_config is None:
            return {}
        from ckeras.saving.serialization_lib import serialize_keras_object
        return serialize_keras_object({**self._compile_config, "optimizer": self.optimizer})

    def compile_from_config(self, config):
        """Calls `compile()` with a config from `get_compile_config()`, then builds the optimizer (so that
        a loaded optimizer state has variables to go into)."""
        if type(self).compile is not Trainer.compile:
            warnings.warn("`compile()` was not called as part of model loading because the model's `compile()` "
                          "method is custom. All subclassed Models that have `compile()` overridden should also "
                          "override `get_compile_config()` and `compile_from_config(config)`. Alternatively, "
                          "you can call `compile()` manually after loading.", stacklevel=2)
            return
        from ckeras.saving.serialization_lib import deserialize_keras_object
        self.compile(**deserialize_keras_object(config))
        if self.optimizer is not None and self.built:
            self.optimizer.build(self.trainable_variables)

    @property
    def run_eagerly(self):
        return self._run_eagerly

    @run_eagerly.setter
    def run_eagerly(self, value):
        _set(self, "_run_eagerly", bool(value))

    @property
    def jit_compile(self):
        return self._jit_compile

    @jit_compile.setter
    def jit_compile(self, value):
        if value:
            warnings.warn("Model doesn't support `jit_compile=True`. Proceeding with `jit_compile=False`.")
        _set(self, "_jit_compile", False)

    # ---- metrics ----
    @property
    def metrics(self):
        """The loss tracker, the compiled metrics container, per-output loss trackers, then own metrics."""
        out = []
        if self.compiled:
            if self._loss_tracker is not None:
                out.append(self._loss_tracker)
            if self._compile_metrics is not None:
                out.append(self._compile_metrics)
            if self._compile_loss is not None:
                out.extend(self._compile_loss.metrics)
        out.extend(getattr(self, "_metrics", None) or [])
        return out

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    def reset_metrics(self):
        for m in self.metrics:
            m.reset_state()

    def get_metrics_result(self):
        """The current value of every metric in `self.metrics`, as a dict."""
        results = {}
        for m in self.metrics:
            if isinstance(m, CompileMetrics) and not m.built:
                continue
            r = m.result()
            if isinstance(r, dict):
                results.update(r)
            else:
                results[m.name] = r
        return results

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Updates the compiled metrics and returns `get_metrics_result()`."""
        if self._compile_metrics is not None and y is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The compiled loss plus the model's regularization losses (`self.losses`), as a scalar."""
        losses = []
        if self._compile_loss is not None:
            loss = self._compile_loss(y, y_pred, sample_weight)
            if loss is not None:
                losses.append(loss)
        # As Keras, whether the model has extra (regularization) losses is checked once per compile, so
        # models without any skip walking their layers at every step.
        extra = [] if self._has_extra_losses is False else (getattr(self, "losses", None) or [])
        if self._has_extra_losses is None:
            _set(self, "_has_extra_losses", bool(extra))
        for value in extra:
            t = ops.convert_to_tensor(value)
            losses.append(ops.sum(t if t.dtype in ("float32", "float64") else ops.cast(t, "float32")))
        if not losses:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        total = losses[0]
        for extra in losses[1:]:
            total = ops.add(total, extra)
        return total

    def _compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if self._compute_loss_has_training_arg is None:
            _set(self, "_compute_loss_has_training_arg",
                 "training" in inspect.signature(self.compute_loss).parameters)
        if self._compute_loss_has_training_arg:
            return self.compute_loss(x, y, y_pred, sample_weight, training=training)
        return self.compute_loss(x, y, y_pred, sample_weight)

    # ---- steps (override these to customise training) ----
    def _step_variables(self):
        if self._step_variables_cache is None:
            _set(self, "_step_variables_cache", list(self.trainable_variables))
        return self._step_variables_cache

    def train_step(self, data):
        """One optimisation step on a batch `(x, y[, sample_weight])`; returns the metric logs."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self._compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
            self._loss_tracker.update_state(loss, sample_weight=_batch_size(x))
            if self.optimizer is not None:
                loss = self.optimizer.scale_loss(loss)
        trainable = self._step_variables()
        if trainable:
            self.optimizer.apply(tape.gradient(loss, trainable), trainable)
        else:
            warnings.warn("The model does not have any trainable weights.")
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def test_step(self, data):
        """One evaluation step (model called with training=False); returns the metric logs."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self._compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=False)
        self._loss_tracker.update_state(loss, sample_weight=_batch_size(x))
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def predict_step(self, data):
        """The model's outputs for a batch (training=False)."""
        x, _, _ = unpack_x_y_sample_weight(data)
        return self(x, training=False)

    def make_train_function(self, force=False):
        if self.train_function is None or force:
            self.train_function = lambda data: self.train_step(data)
        return self.train_function

    def make_test_function(self, force=False):
        if self.test_function is None or force:
            self.test_function = lambda data: self.test_step(data)
        return self.test_function

    def make_predict_function(self, force=False):
        if self.predict_function is None or force:
            self.predict_function = lambda data: self.predict_step(data)
            self.predict_function._ckeras_default = True  # predict may then run its batches in C++ (loops.py)
        return self.predict_function

    # ---- the public loops ----
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1):
        """Trains the model for `epochs` epochs; returns the `History` callback (see Keras's `Model.fit`)."""
        return loops.fit(self, x=x, y=y, batch_size=batch_size, epochs=epochs, verbose=verbose, callbacks=callbacks,
                         validation_split=validation_split, validation_data=validation_data, shuffle=shuffle,
                         class_weight=class_weight, sample_weight=sample_weight, initial_epoch=initial_epoch,
                         steps_per_epoch=steps_per_epoch, validation_steps=validation_steps,
                         validation_batch_size=validation_batch_size, validation_freq=validation_freq)

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False, **kwargs):
        """Returns the loss and metrics on the data: a list in `metrics_names` order (a scalar when there
        is only the loss), or a dict with `return_dict=True`."""
        return loops.evaluate(self, x=x, y=y, batch_size=batch_size, verbose=verbose, sample_weight=sample_weight,
                              steps=steps, callbacks=callbacks, return_dict=return_dict, **kwargs)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs on `x` as NumPy arrays, batch by batch; works without `compile()`."""
        return loops.predict(self, x, batch_size=batch_size, verbose=verbose, steps=steps, callbacks=callbacks)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One training step on one batch; returns the loss and metrics (list, scalar or dict)."""
        self._assert_compile_called("train_on_batch")
        if class_weight is not None:
            if sample_weight is not None:
                raise ValueError("Arguments `sample_weight` and `class_weight` cannot be specified at the same "
                                 f"time. Received: sample_weight={sample_weight}, class_weight={class_weight}")
            sample_weight = class_weight_to_sample_weights(y, class_weight)
        data = convert_batch((x, y, sample_weight))
        self.reset_metrics()
        logs = loops.pythonify_logs(self.make_train_function()(data))
        return logs if return_dict else loops.flatten_metrics_in_order(self, logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """One evaluation step on one batch; returns the loss and metrics (list, scalar or dict)."""
        self._assert_compile_called("test_on_batch")
        data = convert_batch((x, y, sample_weight))
        self.reset_metrics()
        logs = loops.pythonify_logs(self.make_test_function()(data))
        return logs if return_dict else loops.flatten_metrics_in_order(self, logs)

    def predict_on_batch(self, x):
        """The model's outputs on one batch, as NumPy arrays."""
        outputs = self.make_predict_function()(convert_batch((x,)))
        return _nest.map_structure(ops.convert_to_numpy, outputs)

    # ---- helpers shared with loops.py ----
    def _assert_compile_called(self, method_name=None):
        if not self.compiled:
            raise ValueError(f"You must call `compile()` before calling `{method_name}()`.")

    def _get_metrics_result_or_logs(self, logs):
        # A custom step may return other keys than the metrics: then its last logs are the result.
        metric_logs = self.get_metrics_result()
        if isinstance(logs, dict) and set(logs) == set(metric_logs):
            return metric_logs
        return logs
