"""The epoch loops of `fit`, `evaluate` and `predict` (called by `Trainer`), with their argument checks."""
import contextlib
import math
import warnings

import numpy as np

from ckeras._core import Tensor as _Tensor
from ckeras.callbacks.callback_list import CallbackList, _pythonify_logs
from ckeras.trainers import _nest
from ckeras.trainers.data_adapter import (check_batch_size, convert_leaf, train_validation_split,
                                          unpack_x_y_sample_weight)
from ckeras.trainers.epoch_iterator import EpochIterator

pythonify_logs = _pythonify_logs


def _check_epochs(epochs, initial_epoch):
    for name, value in (("epochs", epochs), ("initial_epoch", initial_epoch)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"`{name}` must be a non-negative integer. Received: {name}={value!r}")


def _check_validation_split(validation_split):
    ok = isinstance(validation_split, (int, float, np.number)) and not isinstance(validation_split, bool)
    if not ok or not 0.0 <= float(validation_split) < 1.0:
        raise ValueError("`validation_split` must be a float in the range [0, 1). "
                         f"Received: validation_split={validation_split!r}")


def _check_not_empty(iterator, method):
    if iterator.num_samples == 0:
        raise ValueError(f"`{method}()` received 0 samples: the input data is empty. Provide at least one "
                         "sample (the first dimension of `x` and `y` is the number of samples).")


def _is_bad_loss(logs):
    loss = logs.get("loss")
    return isinstance(loss, float) and not math.isfinite(loss)


def _warn_bad_loss(step, loss):
    warnings.warn(f"NaN or Inf loss encountered at batch {step} (loss={loss}); training continues. Pass "
                  "`callbacks=[keras.callbacks.TerminateOnNaN()]` to `fit()` to stop training when this happens.",
                  RuntimeWarning, stacklevel=4)


def _should_eval(epoch, validation_freq):
    epoch += 1  # validation_freq counts epochs from 1
    if isinstance(validation_freq, int) and not isinstance(validation_freq, bool):
        return epoch % validation_freq == 0
    if isinstance(validation_freq, (list, tuple)):
        return epoch in validation_freq
    raise ValueError("Expected `validation_freq` to be a list or int. Received: "
                     f"validation_freq={validation_freq} of the type {type(validation_freq)}.")


def flatten_metrics_in_order(model, logs):
    """The logs as a list in `metrics` order (then the other keys, sorted); a scalar if only one."""
    from ckeras.trainers.compile_utils import CompileMetrics
    names = []
    for m in model.metrics:
        names += [sub.name for sub in m.metrics] if isinstance(m, CompileMetrics) else [m.name]
    results = [logs[n] for n in names if n in logs]
    results += [logs[k] for k in sorted(logs) if k not in names]
    return results[0] if len(results) == 1 else results


def fit(model, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
        validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
        steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1):
    model._assert_compile_called("fit")
    batch_size = check_batch_size(batch_size)
    validation_batch_size = check_batch_size(validation_batch_size, "validation_batch_size")
    _check_epochs(epochs, initial_epoch)
    _check_validation_split(validation_split)
    if validation_split and validation_data is None:
        (x, y, sample_weight), validation_data = train_validation_split((x, y, sample_weight), validation_split)
    if validation_data is not None:
        val_x, val_y, val_sample_weight = unpack_x_y_sample_weight(validation_data)
    iterator = EpochIterator(x, y, sample_weight, batch_size=batch_size, steps_per_epoch=steps_per_epoch,
                             shuffle=shuffle, class_weight=class_weight, steps_per_execution=model.steps_per_execution)
    _check_not_empty(iterator, "fit")
    if not isinstance(callbacks, CallbackList):
        callbacks = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, verbose=verbose,
                                 epochs=epochs, steps=iterator.num_batches, model=model)
    model.stop_training = False
    object.__setattr__(model, "_step_variables_cache", None)  # layers may have been (un)frozen since the last fit
    eval_iterator = None
    training_logs = {}
    nan_warned = False
    callbacks.on_train_begin()
    initial_epoch = model._initial_epoch or initial_epoch  # set by a callback (BackupAndRestore) in on_train_begin
    object.__setattr__(model, "_initial_epoch", None)  # ...for this fit only
    # The captured C++ step when the model allows it (train_plan.py), else the eager train_step.
    from ckeras.trainers import train_plan  # lazy: it imports the layers, which import ckeras.utils
    plan = train_plan.prepare(model, iterator, callbacks) if epochs > initial_epoch else None
    train_function = plan.train_function if plan is not None else model.make_train_function()
    for epoch in range(initial_epoch, epochs):
        model.reset_metrics()
        callbacks.on_epoch_begin(epoch)
        logs = {}
        if plan is not None and plan.whole_epoch:
            logs, bad_step, bad_loss = plan.run_epoch(callbacks)
            if not nan_warned and bad_step >= 0:
                nan_warned = True
                _warn_bad_loss(bad_step, bad_loss)
        else:
            hooks = not callbacks.batch_hooks_are_noops()
            with contextlib.closing(iterator.enumerate_epoch()) as batches:
                for step, data in batches:
                    if hooks:
                        callbacks.on_train_batch_begin(step)
                    logs = _pythonify_logs(train_function(data))
                    if hooks:
                        callbacks.on_train_batch_end(step, logs)
                    if not nan_warned and _is_bad_loss(logs):
                        nan_warned = True
                        _warn_bad_loss(step, logs["loss"])
                    if model.stop_training:
                        break
        if iterator.ran_out:
            break  # the source was already exhausted: no epoch to report
        epoch_logs = _pythonify_logs(model._get_metrics_result_or_logs(logs))
        if validation_data is not None and _should_eval(epoch, validation_freq):
            if eval_iterator is None:
                eval_iterator = EpochIterator(val_x, val_y, val_sample_weight,
                                              batch_size=validation_batch_size or batch_size,
                                              steps_per_epoch=validation_steps, shuffle=False)
            eval_iterator.reset()  # each validation starts from the beginning of the data
            val_logs = evaluate(model, callbacks=callbacks, return_dict=True, _epoch_iterator=eval_iterator)
            epoch_logs.update({f"val_{name}": value for name, value in val_logs.items()})
        callbacks.on_epoch_end(epoch, epoch_logs)
        training_logs = epoch_logs
        if model.stop_training:
            break
    if epochs > 0 and model.optimizer is not None and model._step_variables_cache is not None:
        model.optimizer.finalize_variable_values(model._step_variables_cache)
    callbacks.on_train_end(logs=training_logs)
    return model.history


def evaluate(model, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
             callbacks=None, return_dict=False, _epoch_iterator=None, **kwargs):
    if kwargs:
        raise ValueError(f"Arguments not recognized: {kwargs}")
    model._assert_compile_called("evaluate")
    batch_size = check_batch_size(batch_size)
    iterator = _epoch_iterator
    if iterator is None:
        iterator = EpochIterator(x, y, sample_weight, batch_size=batch_size, steps_per_epoch=steps, shuffle=False,
                                 steps_per_execution=model.steps_per_execution)
    _check_not_empty(iterator, "evaluate")
    if not isinstance(callbacks, CallbackList):
        callbacks = CallbackList(callbacks, add_progbar=verbose != 0, verbose=verbose, epochs=1,
                                 steps=iterator.num_batches, model=model)
    test_function = model.make_test_function()
    model.stop_evaluating = False
    callbacks.on_test_begin()
    logs = {}
    model.reset_metrics()
    with contextlib.closing(iterator.enumerate_epoch()) as batches:
        for step, data in batches:
            callbacks.on_test_batch_begin(step)
            logs = _pythonify_logs(test_function(data))
            callbacks.on_test_batch_end(step, logs)
            if model.stop_evaluating:
                break
    logs = _pythonify_logs(model._get_metrics_result_or_logs(logs))
    callbacks.on_test_end(logs)
    return logs if return_dict else flatten_metrics_in_order(model, logs)


def _lone_batch(x, batch_size, verbose, steps, callbacks):
    """The batch `(x,)` when `predict` needs no loop: one array or Tensor that fits in one batch, and no
    `steps`, callbacks or progress bar to drive; else None (the general loop then handles `x`)."""
    if verbose != 0 or callbacks or steps is not None:
        return None
    if type(x) is np.ndarray:
        if x.dtype.kind not in "biuf":
            return None  # the adapter raises its dtype error
    elif type(x) is not _Tensor:
        return None
    shape = x.shape
    if not shape or not 0 < shape[0] <= (batch_size or 32):
        return None  # scalars, 0 rows and several batches
    return (convert_leaf(x, "x"),)


def _plan_batches(model, x, batch_size, verbose, steps, callbacks):
    """All of `predict` in one C++ call, or None: when nothing runs between batches (no `steps`, callbacks or
    progress bar), x is a 2-D float32 ndarray and each batch's `predict_function` would only call the model; the
    plan is the one the model's last call remembered for its whole chain (models/_inference_fast.py), else one
    built for this call (_traced_batches). The Python loop costs about 0.1 ms a batch, 8-10% of a 1024-row
    batch of the article's models."""
    if (verbose != 0 or callbacks or steps is not None or type(x) is not np.ndarray or x.dtype != np.float32
            or x.ndim != 2 or not x.shape[0]):
        return None
    from ckeras import _core
    from ckeras.models import _inference_fast
    from ckeras.models.model import Model
    from ckeras.trainers.trainer import Trainer
    if not _inference_fast._ENABLED or _core.grad_enabled() or _inference_fast._CTX.depth:  # the plans refuse these
        return None
    cls = type(model)
    if (cls.predict_step is not Trainer.predict_step or cls.__call__ is not Model.__call__
            or not getattr(model.make_predict_function(), "_ckeras_default", False)):
        return None
    model.stop_predicting = False
    out = _inference_fast.predict_batches(model, x, batch_size)
    return _traced_batches(model, x, batch_size) if out is None else out


def _traced_batches(model, x, batch_size):
    """The batches through a plan built for this call, when the model's last call left none to reuse (a first
    `predict`) or it covered only a Dense tail (a custom layer first, as in the article's E3): its chain with
    custom layers traced, as a traced predict function runs them (train_plan_spec.inference_stages); or None."""
    from ckeras import _core
    from ckeras.models import _inference_fast
    from ckeras.trainers import train_plan_spec
    try:
        stages = train_plan_spec.inference_stages(model, x)
    except train_plan_spec.Ineligible:
        return None
    out = _core.ForwardPlan(stages).predict_guarded(x, x.shape[1], batch_size, ())
    return None if out is None else _inference_fast._plan_call_done(model.__dict__, out)


def _stack(structure, collected):
    """The outputs of every batch, `collected` per leaf, concatenated into `structure`."""
    return _nest.pack_sequence_as(structure, [np.concatenate(bucket, axis=0) for bucket in collected])


def predict(model, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
    batch_size = check_batch_size(batch_size)
    batch = _lone_batch(x, batch_size, verbose, steps, callbacks)
    if batch is not None:  # what the loop below does for one batch with nobody listening
        predict_function = model.make_predict_function()
        model.stop_predicting = False
        outputs = predict_function(batch)
        if type(outputs) is _Tensor and outputs.ndim:
            return np.asarray(outputs).copy()  # as np.concatenate of one batch: an owned C-order copy
        return _stack(outputs, [[np.asarray(t)] for t in _nest.flatten(outputs)])
    out = _plan_batches(model, x, batch_size or 32, verbose, steps, callbacks)
    if out is not None:
        return out
    iterator = EpochIterator(x, batch_size=batch_size, steps_per_epoch=steps, shuffle=False,
                             steps_per_execution=model.steps_per_execution)
    if not isinstance(callbacks, CallbackList):
        callbacks = CallbackList(callbacks, add_progbar=verbose != 0, verbose=verbose, epochs=1,
                                 steps=iterator.num_batches, model=model)
    predict_function = model.make_predict_function()
    model.stop_predicting = False
    callbacks.on_predict_begin()
    structure, collected = None, None
    with contextlib.closing(iterator.enumerate_epoch()) as batches:
        for step, data in batches:
            callbacks.on_predict_batch_begin(step)
            batch_outputs = predict_function(data)
            flat = [np.asarray(t) for t in _nest.flatten(batch_outputs)]
            if collected is None:
                structure, collected = batch_outputs, [[a] for a in flat]
            else:
                for bucket, a in zip(collected, flat):
                    bucket.append(a)
            callbacks.on_predict_batch_end(step, {"outputs": batch_outputs})
            if model.stop_predicting:
                break
    callbacks.on_predict_end()
    if collected is None:
        raise ValueError("Unexpected result of `predict_function` (Empty batch_outputs). Please use "
                         "`Model.compile(..., run_eagerly=True)`, or `tf.config.run_functions_eagerly(True)` for "
                         "more information of where went wrong, or file a issue/bug to `keras`.")
    return _stack(structure, collected)
