"""`fit` through the captured training step, `_core.TrainPlan` (issue 5, "Speed").

When the model is a chain of Dense/Dropout layers (see `train_plan_spec`) trained on in-memory arrays without
sample weights, `fit` hands each batch to the plan: one C++ call per step (forward, loss, metrics, backward,
one optimizer update), with the existing loop and callbacks around it. When only the default callbacks listen
(History and the progress bar), a whole epoch (batch gather, steps, running loss) is one C++ call, which reports
to the progress bar every 0.05 s.

The plan trains the model's own variables, optimizer slots, iteration counter and metric state, with the eager
step's kernels in the eager step's order: weights, optimizer state and History match eager training bitwise.
Set the environment variable CKERAS_TRAIN_PLAN=0 to train eagerly (for A/B comparisons and debugging).
`model._train_plan_status` says which path the last `fit` took ("epoch", "step", or "eager: <reason>").
"""
import os

import numpy as np

from ckeras import _core
from ckeras.callbacks.history import History
from ckeras.callbacks.progbar_logger import ProgbarLogger
from ckeras.trainers import _nest
from ckeras.trainers.data_adapter import ArrayDataAdapter
from ckeras.trainers.train_plan_spec import Ineligible, describe


def enabled():
    """False when the environment variable CKERAS_TRAIN_PLAN is "0"."""
    return os.environ.get("CKERAS_TRAIN_PLAN", "1").strip() != "0"


def _set_status(model, status):
    object.__setattr__(model, "_train_plan_status", status)


def _default_callbacks(callbacks):
    """Only History and the progress bar, which needs no more than a report every few hundredths of a second
    (it redraws at most every 0.05 s): a whole epoch can run in C++ with periodic progress calls."""
    return all(type(c) in (History, ProgbarLogger) for c in callbacks.callbacks)


def _shows_progress(callbacks):
    verbose = (getattr(callbacks, "params", None) or {}).get("verbose", 1)
    return verbose != 0 and any(type(c) is ProgbarLogger for c in callbacks.callbacks)


class FitPlan:
    """A TrainPlan bound to one `fit` call: its converted data and whether whole epochs run in C++.

    Args:
        model: The compiled model the plan trains.
        plan: The `_core.TrainPlan`.
        x, y: The training data as the plan reads it (float32 (n, features); targets from `describe`).
        adapter: The ArrayDataAdapter of the fit (batch size, shuffle mode).
        whole_epoch: Whether `run_epoch` may replace the batch loop.
    """

    def __init__(self, model, plan, x, y, adapter, whole_epoch):
        self.model, self.plan, self.x, self.y = model, plan, x, y
        self.batch_size, self.shuffle = adapter.batch_size, adapter.shuffle
        self.whole_epoch = whole_epoch

    def train_function(self, data):
        """The per-batch path: what `train_step` returns, computed by one `TrainPlan.step` call."""
        x, y = data[0], data[1]
        loss = self.plan.step(x, y)
        self.model._loss_tracker.update_state(loss, sample_weight=x.shape[0])
        return self.model.get_metrics_result()

    def run_epoch(self, callbacks):
        """One epoch in C++: batches in the order the array adapter would draw them (the same NumPy
        permutation call when shuffling). The progress bar gets `on_train_batch_end` with the running logs
        after the first step and then every 0.05 s (History needs no batch hooks). Returns
        `(logs, first_bad_step, first_bad_loss)`."""
        n = self.x.shape[0]
        perm = _core.convert_to_tensor(np.random.permutation(n).astype(np.int64)) if self.shuffle else None
        tracker = self.model._loss_tracker
        progress = None
        if _shows_progress(callbacks):
            def progress(steps):
                r = self.plan.epoch_progress()
                tracker._total, tracker._count = r.loss_total, r.loss_count
                callbacks.on_train_batch_end(steps - 1, self.model.get_metrics_result())
        try:
            r = self.plan.run_epoch(self.x, self.y, self.batch_size, perm, tracker._total, tracker._count,
                                    progress)
        except BaseException:  # Ctrl-C, a bad label: the finished steps stay applied and counted, as eagerly
            r = self.plan.epoch_progress()
            tracker._total, tracker._count = r.loss_total, r.loss_count
            raise
        tracker._total, tracker._count = r.loss_total, r.loss_count
        return self.model.get_metrics_result(), r.first_bad_step, r.first_bad_loss


def _off_cpu(model, x):
    """What is not on the CPU ("data is", "model's variables are"), or None."""
    if getattr(x, "device", "cpu") != "cpu":
        return "data is"
    if any(v.device != "cpu" for v in model.weights):
        return "model's variables are"
    return None


def prepare(model, iterator, callbacks):
    """A FitPlan for this `fit`, or None when the eager step must run (the reason is kept in
    `model._train_plan_status`). Builds what the first eager step would build (model, compiled loss and
    metrics, optimizer slots) and converts the adapter's arrays once (inputs flattened, targets cast)."""
    if not enabled():
        _set_status(model, "eager: CKERAS_TRAIN_PLAN=0")
        return None
    try:
        adapter = iterator.data_adapter
        if type(adapter) is not ArrayDataAdapter:
            raise Ineligible("the data is not in-memory arrays")
        data = adapter._data
        if len(data) != 2 or _nest.is_nested(data[0]) or _nest.is_nested(data[1]):
            raise Ineligible("sample weights, class weights, or several inputs or targets")
        x, y = data
        if x.dtype != "float32" or x.ndim < 2:
            raise Ineligible(f"inputs of dtype {x.dtype} and rank {x.ndim}")
        off_cpu = _off_cpu(model, x)
        if off_cpu:
            raise Ineligible(f"the {off_cpu} on a GPU; the captured step runs on the CPU")
        stages, loss, metric_specs, optimizer, targets = describe(model, tuple(x.shape), y)
        x2 = _core.contiguous(_core.reshape(x, [x.shape[0], -1]))
        try:
            plan = _core.TrainPlan(stages, loss, metric_specs, optimizer, max(1, min(adapter.batch_size, len(x2))))
        except ValueError as e:  # a case describe() let through; the eager step handles it
            raise Ineligible(f"TrainPlan refused it: {e}") from None
    except Ineligible as e:
        _set_status(model, f"eager: {e}")
        return None
    adapter._data = (x2, targets)  # the per-batch path slices these
    whole_epoch = (adapter.shuffle in (True, False) and iterator.steps_per_epoch is None
                   and _default_callbacks(callbacks))
    _set_status(model, "epoch" if whole_epoch else "step")
    return FitPlan(model, plan, x2, targets, adapter, whole_epoch)
