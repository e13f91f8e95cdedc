"""What `compile()` builds: the loss tracker, `CompileLoss` and `CompileMetrics` (Keras 3's containers).

Identifiers are resolved once, at the first batch (from the shapes of y_true / y_pred, KERAS.md 3.5),
through `ckeras.metrics.resolve`; the per-batch path then only calls the resolved objects.
"""
from ckeras import ops
from ckeras.trainers import _nest


def _resolvers():
    from ckeras.metrics.resolve import resolve_loss, resolve_metric  # lazy: metrics may import the trainer
    return resolve_loss, resolve_metric


class LossTracker:
    """A running mean weighted by `sample_weight` (the batch size): Keras's `Mean(name="loss")`."""

    _direction = "down"

    def __init__(self, name="loss"):
        self.name = name
        self.reset_state()

    def reset_state(self):
        self._total = 0.0
        self._count = 0.0

    def update_state(self, values, sample_weight=None):
        w = 1.0 if sample_weight is None else float(sample_weight)
        self._total += float(values) * w
        self._count += w

    def result(self):
        return self._total / self._count if self._count else 0.0

    @property
    def variables(self):
        return []


def _output_names(y_pred, output_names):
    if isinstance(y_pred, dict):
        return sorted(y_pred)
    if output_names and isinstance(y_pred, (list, tuple)) and len(output_names) == len(y_pred):
        return list(output_names)
    return None


def model_output_names(model):
    """The names of a model's outputs: `output_names`, else the layers that produce a Functional model's
    list of outputs (as Keras names them); None when unknown."""
    names = getattr(model, "output_names", None)
    if names:
        return list(names)
    outputs = model.__dict__.get("outputs") if hasattr(model, "__dict__") else None
    if outputs is None:
        try:
            outputs = getattr(model, "outputs", None)
        except Exception:  # an unbuilt model may refuse
            outputs = None
    if isinstance(outputs, (list, tuple)) and outputs and all(hasattr(t, "_keras_history") for t in outputs):
        return [t._keras_history[0].name for t in outputs]
    return None


def _flatten_y(y, names):
    """`y` as a list aligned with the outputs (a dict is read by output name)."""
    if isinstance(y, dict) and names:
        return [y.get(name) for name in names]
    if isinstance(y, (list, tuple)):
        return list(y)
    return _nest.flatten(y) if isinstance(y, dict) else [y]


def _per_output(value, names, n, what):
    """A user argument (single, list or dict) spread over `n` outputs."""
    if isinstance(value, dict):
        if not names:
            raise ValueError(f"Argument `{what}` can only be provided as a dict when the model also returns a "
                             f"dict of outputs or has named outputs. Received {what}={value}")
        unknown = [k for k in value if k not in names]
        if unknown:
            raise ValueError(f"In the dict argument `{what}`, key '{unknown[0]}' does not correspond to any "
                             f"model output. Received:\n{what}={value}")
        return [value.get(name) for name in names]
    if isinstance(value, (list, tuple)) and (n > 1 or len(value) == 1):
        if len(value) != n:
            raise ValueError(f"For a model with multiple outputs, when providing the `{what}` argument as a list, "
                             f"it should have as many entries as the model has outputs. Received:\n{what}={value}"
                             f"\nof length {len(value)} whereas the model has {n} outputs.")
        return list(value)
    return [value] * n


class CompileLoss:
    """The compiled loss: one resolved loss per output, summed with `loss_weights`."""

    def __init__(self, loss, loss_weights=None, output_names=None):
        if loss_weights is not None and not isinstance(loss_weights, (list, tuple, dict, float, int)):
            raise ValueError("Expected `loss_weights` argument to be a float (single output case) or a list, "
                             f"tuple, or dict (multiple output case). Received instead: loss_weights={loss_weights} "
                             f"of type {type(loss_weights)}")
        self.name = "compile_loss"
        self._user_loss = loss
        self._user_loss_weights = loss_weights
        self.output_names = output_names
        self.built = False
        self.metrics = []
        self._flat = []  # (output index, loss object, weight)

    def build(self, y_true, y_pred):
        resolve_loss, _ = _resolvers()
        names = _output_names(y_pred, self.output_names)
        flat_pred = _flatten_y(y_pred, names)
        flat_true = _flatten_y(y_true, names)
        n = len(flat_pred)
        losses = _per_output(self._user_loss, names, n, "loss")
        weights = _per_output(self._user_loss_weights, names, n, "loss_weights")
        for i, (loss, w) in enumerate(zip(losses, weights)):
            if loss is None:
                continue
            if i >= len(flat_true) or flat_true[i] is None:
                raise ValueError(f"No target (`y`) was given for the model output {i} that has a loss.")
            obj = resolve_loss(loss, flat_true[i], flat_pred[i])
            label = names[i] if names else getattr(obj, "name", f"output_{i}")
            self._flat.append((i, obj, None if w is None else float(w), label))
        if len(self._flat) > 1:
            self.metrics = [LossTracker(f"{label}_loss") for *_, label in self._flat]
        self._names = names
        self.built = True

    def __call__(self, y_true, y_pred, sample_weight=None):
        if not self.built:
            self.build(y_true, y_pred)
        if len(self._flat) == 1 and not _nest.is_nested(y_pred) and not _nest.is_nested(y_true):
            _, loss_fn, weight, _ = self._flat[0]  # fast path: one output
            value = loss_fn(y_true, y_pred, sample_weight)
            return value if weight is None else ops.multiply(value, weight)
        flat_pred = _flatten_y(y_pred, self._names)
        flat_true = _flatten_y(y_true, self._names)
        nested_sw = _nest.is_nested(sample_weight)
        flat_sw = _flatten_y(sample_weight, self._names) if nested_sw else None
        total = None
        for k, (i, loss_fn, weight, _) in enumerate(self._flat):
            sw = flat_sw[i] if nested_sw else sample_weight
            value = loss_fn(flat_true[i], flat_pred[i], sw)
            if self.metrics:
                self.metrics[k].update_state(value, sample_weight=flat_pred[i].shape[0])
            if weight is not None:
                value = ops.multiply(value, weight)
            total = value if total is None else ops.add(total, value)
        return total


class CompileMetrics:
    """The compiled metrics; `result()` is a dict (`accuracy`, `<output>_accuracy`, `weighted_...`)."""

    def __init__(self, metrics, weighted_metrics, output_names=None):
        for what, value in (("metrics", metrics), ("weighted_metrics", weighted_metrics)):
            if value and not isinstance(value, (list, tuple, dict)):
                raise ValueError(f"Expected `{what}` argument to be a list, tuple, or dict. Received instead: "
                                 f"{what}={value} of type {type(value)}")
        self.name = "compile_metrics"
        self._user_metrics = metrics
        self._user_weighted_metrics = weighted_metrics
        self.output_names = output_names
        self.built = False

    @property
    def metrics(self):
        if not self.built:
            return []
        return [m for _, ms in self._flat_metrics + self._flat_weighted for m in ms]

    @property
    def variables(self):
        return [v for m in self.metrics for v in getattr(m, "variables", [])]

    def _build_set(self, metrics, names, flat_true, flat_pred, what):
        _, resolve_metric = _resolvers()
        n = len(flat_pred)
        if not metrics:
            return []
        if n == 1:
            items = _nest.flatten(metrics) if isinstance(metrics, dict) else metrics
            items = [items] if not isinstance(items, (list, tuple)) else items
            return [(None, [resolve_metric(m, flat_true[0], flat_pred[0]) for m in items if m is not None])]
        if isinstance(metrics, (list, tuple)) and len(metrics) != n and not isinstance(metrics, dict):
            # Keras: a flat list of metrics is applied to every output.
            if all(not isinstance(m, (list, tuple)) for m in metrics):
                metrics = [list(metrics)] * n
        per = _per_output(metrics, names, n, what)
        out = []
        for i, ms in enumerate(per):
            if ms is None:
                continue
            ms = ms if isinstance(ms, (list, tuple)) else [ms]
            name = names[i] if names else None
            out.append((i if name is None else name, [resolve_metric(m, flat_true[i], flat_pred[i])
                                                      for m in ms if m is not None]))
        return out

    def build(self, y_true, y_pred):
        names = _output_names(y_pred, self.output_names)
        flat_pred, flat_true = _flatten_y(y_pred, names), _flatten_y(y_true, names)
        self._names = names
        self._flat_metrics = self._build_set(self._user_metrics, names, flat_true, flat_pred, "metrics")
        self._flat_weighted = self._build_set(self._user_weighted_metrics, names, flat_true, flat_pred,
                                              "weighted_metrics")
        self._index = {name: i for i, name in enumerate(names)} if names else None
        self.built = True

    def _position(self, key):
        if key is None:
            return 0
        return self._index[key] if self._index is not None and isinstance(key, str) else key

    def update_state(self, y_true, y_pred, sample_weight=None):
        if not self.built:
            self.build(y_true, y_pred)
        flat_pred, flat_true = _flatten_y(y_pred, self._names), _flatten_y(y_true, self._names)
        for key, ms in self._flat_metrics:
            i = self._position(key)
            for m in ms:
                m.update_state(flat_true[i], flat_pred[i])
        if not self._flat_weighted:
            return
        nested_sw = _nest.is_nested(sample_weight)
        flat_sw = _flatten_y(sample_weight, self._names) if nested_sw else None
        for key, ms in self._flat_weighted:
            i = self._position(key)
            sw = flat_sw[i] if nested_sw else sample_weight
            for m in ms:
                m.update_state(flat_true[i], flat_pred[i], sample_weight=sw)

    def reset_state(self):
        for m in self.metrics:
            m.reset_state()

    def result(self):
        if not self.built:
            raise ValueError("Cannot get result() since the metric has not yet been built.")
        results, seen = {}, {}
        for weighted, group in ((False, self._flat_metrics), (True, self._flat_weighted)):
            for key, ms in group:
                prefix = f"{key}_" if isinstance(key, str) else ""
                for m in ms:
                    name = prefix + m.name
                    if name in seen and weighted:
                        name = prefix + "weighted_" + m.name
                    if name in seen:
                        seen[name] += 1
                        name = f"{name}_{seen[name] - 1}"
                    else:
                        seen[name] = 1
                    results[name] = m.result()
        return results
