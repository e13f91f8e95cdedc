"""What `_core.TrainPlan` needs from a compiled model, or why it cannot train it.

`describe(model, x_shape, y)` walks the model as a chain of supported layers and reads the compiled loss, the
accuracy metrics and the optimizer; every check that fails raises `Ineligible` with the reason, and the trainer
then keeps its eager step. Checks are strict on purpose: a model the plan accepts trains bitwise as it would
eagerly (same kernels, same order), so anything whose eager numbers the plan does not reproduce is refused.
"""
import math

from ckeras import _core, activations, metrics as _metrics
from ckeras.backend.variables import Variable
from ckeras.layers.core.dense import Dense
from ckeras.layers.core.input_layer import InputLayer
from ckeras.layers.regularization.dropout import Dropout
from ckeras.layers.reshaping.flatten import Flatten
from ckeras.layers.reshaping.reshape import Reshape
from ckeras.losses import functions as F
from ckeras.losses.loss import Loss
from ckeras.losses.losses import LossFunctionWrapper
from ckeras.ops.core import _tensor
from ckeras.optimizers.base_optimizer import Optimizer
from ckeras.trainers.traced_stage import NotTraceable, traced_stage

# The activation functions a Dense stage fuses (also used by models/_inference_fast.py).
ACTIVATIONS = _ACT = {activations.linear: _core.PlanActivation.Linear, activations.relu: _core.PlanActivation.Relu,
        activations.sigmoid: _core.PlanActivation.Sigmoid, activations.tanh: _core.PlanActivation.Tanh,
        activations.softmax: _core.PlanActivation.Softmax}
_LOSS = {F.categorical_crossentropy: _core.PlanLoss.CategoricalCrossentropy,
         F.sparse_categorical_crossentropy: _core.PlanLoss.SparseCategoricalCrossentropy,
         F.binary_crossentropy: _core.PlanLoss.BinaryCrossentropy,
         F.mean_squared_error: _core.PlanLoss.MeanSquaredError}
# Loss keyword arguments the plan honours, with the only values it supports (from_logits is checked apart).
_LOSS_KWARGS = {"from_logits": None, "label_smoothing": 0.0, "axis": -1, "ignore_class": None}
_METRIC = {_metrics.CategoricalAccuracy: _core.PlanMetric.CategoricalAccuracy,
           _metrics.SparseCategoricalAccuracy: _core.PlanMetric.SparseCategoricalAccuracy,
           _metrics.BinaryAccuracy: _core.PlanMetric.BinaryAccuracy}


class Ineligible(Exception):
    """The model or its compile configuration is not one the plan trains; the message says why."""


class _Shape:
    """Stands in for y_pred when the compile containers resolve identifiers from shapes."""

    def __init__(self, shape):
        self.shape = tuple(shape)


def _require(condition, reason):
    if not condition:
        raise Ineligible(reason)


def _chain(model, training=True):
    """The model's layers as a chain (input layers left out); for training, also the default step methods."""
    from ckeras.models.functional import Functional
    from ckeras.models.sequential import Sequential
    from ckeras.trainers.trainer import Trainer
    kind = Sequential if isinstance(model, Sequential) else Functional if isinstance(model, Functional) else None
    _require(kind is not None, "not a Sequential or Functional model")
    for name in ("train_step", "compute_loss", "compute_metrics", "_compute_loss") if training else ():
        _require(getattr(type(model), name) is getattr(Trainer, name), f"`{name}` is overridden")
    _require(type(model).call is kind.call and type(model).__call__ is kind.__call__, "`call` is overridden")
    if kind is Sequential:
        return list(model._call_layers)
    layers = functional_chain(model)
    _require(layers is not None, "not a single chain of one input and one output")
    return layers


def functional_chain(model):
    """A Functional model's layers in call order when they form one chain from its one input to its one
    output (each layer called once, on the previous one's output, without keyword arguments), else None."""
    d = model.__dict__
    if len(d["_flat_inputs"]) != 1 or len(d["_flat_outputs"]) != 1:
        return None
    current, layers = id(d["_flat_inputs"][0]), []
    for layer, in_id, _, kwargs, out_ids, single_out in d["_plan"]:
        if in_id != current or kwargs or not single_out or len(out_ids) != 1:
            return None
        layers.append(layer)
        current = out_ids[0]
    return layers if current == id(d["_flat_outputs"][0]) else None


def reshaped_features(layer, shape):
    """The feature shape after a Flatten or Reshape layer (row-major reshapes of contiguous data, so they
    change nothing but the shape), or None when the layer cannot take this shape (a channels_first Flatten
    of several axes, a Reshape whose size differs)."""
    if type(layer) is Flatten:
        return (math.prod(shape),) if layer.data_format == "channels_last" or len(shape) <= 1 else None
    target = list(layer.target_shape)
    if -1 in target:
        known = math.prod(d for d in target if d != -1)
        target[target.index(-1)] = math.prod(shape) // known if known else 0
    return tuple(target) if math.prod(target) == math.prod(shape) else None


def _dense_stage(layer, trainable_ids):
    _require(type(layer) is Dense, f"layer {layer.name} is a subclass of Dense")
    _require(layer.compute_dtype == "float32" and layer.kernel.dtype == "float32", f"{layer.name} is not float32")
    _require(layer.activity_regularizer is None and layer.kernel_regularizer is None and
             layer.bias_regularizer is None, f"{layer.name} has a regularizer")
    _require(layer.kernel_constraint is None and layer.bias_constraint is None, f"{layer.name} has a constraint")
    act = next((v for k, v in _ACT.items() if layer.activation is k), None)
    _require(act is not None, f"{layer.name} has an activation the plan does not fuse")
    bias = layer.bias
    return _core.PlanStage.dense(_tensor(layer.kernel), None if bias is None else _tensor(bias), act,
                                 id(layer.kernel) in trainable_ids, bias is not None and id(bias) in trainable_ids)


def _stages(layers, feature_shape, trainable_ids, run_eagerly=False):
    """`(stages, last activation, classes, the stages' variables in order)`. Flatten/Reshape are row-major
    reshapes of contiguous data, so they only change the feature shape the next Dense must see as one axis.
    Other layers become Dense stages when their call traces as one (traced_stage.py)."""
    stages, shape, plan_vars, act = [], tuple(feature_shape), [], None
    for layer in layers:
        _require(not layer.losses, f"layer {layer.name} adds losses (a regularizer or add_loss)")
        if type(layer) is InputLayer:
            continue
        if type(layer) in (Flatten, Reshape):
            shape = reshaped_features(layer, shape)
            _require(shape is not None, "Flatten with channels_first" if type(layer) is Flatten
                     else f"{layer.name} does not fit its input")
        elif type(layer) is Dropout:
            _require(layer.noise_shape is None, f"{layer.name} has a noise_shape")
            if layer.rate > 0:  # rate 0 is the identity, and draws nothing
                stages.append(_core.PlanStage.dropout(float(layer.rate), _tensor(layer.seed_generator.state)))
        elif type(layer) is Dense:
            _require(len(shape) == 1, f"{layer.name} receives a {len(shape) + 1}-D input")
            _require(layer.kernel.shape[0] == shape[0], f"{layer.name} expects {layer.kernel.shape[0]} features")
            stages.append(_dense_stage(layer, trainable_ids))
            plan_vars += [v for v in (layer.kernel, layer.bias) if v is not None]
            act = _ACT[next(k for k in _ACT if layer.activation is k)]
            shape = (layer.units,)
        else:
            _require(len(shape) == 1 and not run_eagerly,
                     f"layer {layer.name} ({type(layer).__name__}) has no plan stage")
            try:
                stage, variables, act, units = traced_stage(layer, shape[0], trainable_ids)
            except NotTraceable as e:
                raise Ineligible(f"layer {layer.name} ({type(layer).__name__}): {e}") from None
            stages.append(stage)
            plan_vars += variables
            shape = (units,)
            continue
        if type(layer) is not Dense:
            act = None  # the model must end with a Dense stage
    _require(stages and layers and act is not None, "the model does not end with a Dense layer")
    return stages, act, shape[0], plan_vars


def _loss(model, y, classes):
    compile_loss = model._compile_loss
    _require(compile_loss is not None, "no compiled loss")
    if not compile_loss.built:
        compile_loss.build(y, _Shape((y.shape[0], classes)))
    _require(len(compile_loss._flat) == 1 and not compile_loss.metrics, "several losses")
    _, obj, weight, _ = compile_loss._flat[0]
    _require(weight is None, "a loss weight")
    _require(isinstance(obj, LossFunctionWrapper) and type(obj).call is LossFunctionWrapper.call and
             type(obj).__call__ is Loss.__call__, "a custom loss")
    _require(obj.reduction == "sum_over_batch_size" and obj.dtype == "float32", "a loss reduction or dtype")
    kind = next((v for k, v in _LOSS.items() if obj.fn is k), None)
    _require(kind is not None, f"the loss {obj.name}")
    for key, value in obj._fn_kwargs.items():
        _require(key in _LOSS_KWARGS and (key == "from_logits" or value == _LOSS_KWARGS[key]),
                 f"loss argument {key}={value!r}")
    return kind, bool(obj._fn_kwargs.get("from_logits", False))


def _check_logits(kind, from_logits, act):
    """Softmax/sigmoid outputs carry their logits (`_keras_logits`), which every cross-entropy takes: the plan
    reproduces the intended pairs only, without the warning from_logits=True gives on them."""
    categorical = kind in (_core.PlanLoss.CategoricalCrossentropy, _core.PlanLoss.SparseCategoricalCrossentropy)
    if categorical:
        _require(act != _core.PlanActivation.Sigmoid, "a categorical loss on a sigmoid output")
        _require(not (from_logits and act == _core.PlanActivation.Softmax), "from_logits=True on a softmax")
    if kind == _core.PlanLoss.BinaryCrossentropy:
        _require(act != _core.PlanActivation.Softmax, "a binary loss on a softmax output")
        _require(not (from_logits and act == _core.PlanActivation.Sigmoid), "from_logits=True on a sigmoid")


def _metric_specs(model, y, classes, sparse):
    _require(not (getattr(model, "_metrics", None) or []), "metrics added to the model")
    compile_metrics = model._compile_metrics
    if compile_metrics is None:
        return []
    if not compile_metrics.built:
        compile_metrics.build(y, _Shape((y.shape[0], classes)))
    _require(not compile_metrics._flat_weighted, "weighted metrics")
    specs = []
    for _, group in compile_metrics._flat_metrics:
        for m in group:
            kind = _METRIC.get(type(m))
            _require(kind is not None and m.dtype == "float32", f"the metric {m.name}")
            _require((kind == _core.PlanMetric.SparseCategoricalAccuracy) == sparse, f"{m.name} for these labels")
            _require(kind != _core.PlanMetric.CategoricalAccuracy or len(y.shape) == 2, f"{m.name} on 1-D labels")
            threshold = float(m._fn_kwargs.get("threshold", 0.5))
            specs.append(_core.PlanMetricSpec(kind, _tensor(m.total), _tensor(m.count), threshold))
    return specs


def _optimizer(model, trainable):
    opt = model.optimizer
    _require(isinstance(opt, Optimizer) and opt._kind is not None, "not an engine optimizer")
    _require(type(opt).apply is Optimizer.apply and type(opt)._after_step is Optimizer._after_step,
             f"{type(opt).__name__} keeps per-step state in Python")
    _require(opt.loss_scale_factor is None and not opt.use_ema and not opt.gradient_accumulation_steps,
             "loss scaling, EMA or gradient accumulation")
    _require(isinstance(opt._learning_rate, Variable), "a learning-rate schedule")
    _require(all(getattr(v, "constraint", None) is None for v in trainable), "a variable constraint")
    if not opt.built:
        opt.build(trainable)
    _require(all(id(v) in opt._index for v in trainable), "the optimizer was built for other variables")
    step, clip = opt._step_config()
    slots = [[_tensor(opt._slots[name][opt._index[id(v)]]) for name in opt._slot_names] for v in trainable]
    decay = [bool(opt._use_weight_decay(v)) for v in trainable]
    return _core.PlanOptimizer(step, clip, _tensor(opt.iterations), _tensor(opt._learning_rate), slots, decay)


def _targets(y, kind, classes):
    """y as the plan reads it: int64 (n,) labels for the sparse loss, else float32 (n, classes), the shapes the
    eager losses accept without broadcasting."""
    shape, n = tuple(y.shape), y.shape[0]
    if kind == _core.PlanLoss.SparseCategoricalCrossentropy:
        _require(y.dtype in ("int32", "int64") and shape[1:] in ((), (1,)), "labels that are not integer (n,)")
        return _core.reshape(_core.cast(y, "int64"), [n])
    _require(shape[1:] == (classes,) or (classes == 1 and len(shape) == 1), f"targets of shape {shape}")
    _require(kind != _core.PlanLoss.CategoricalCrossentropy or len(shape) == 2, "1-D categorical targets")
    return _core.contiguous(_core.reshape(_core.cast(y, "float32"), [n, classes]))


def _build(model, layers, x_shape):
    """Builds an unbuilt Sequential as its first eager call would (the eager step raises its own error if it fails)."""
    if model.built:
        return
    try:
        model.build((None,) + tuple(x_shape[1:]))
    except Exception as e:  # the eager step raises its own error on these shapes
        raise Ineligible(f"cannot build the model: {e}") from None


def describe(model, x_shape, y):
    """`(stages, loss spec, metric specs, optimizer, targets)` for a TrainPlan, or raises Ineligible.

    Args:
        model: A compiled model.
        x_shape: The shape of the training inputs (samples first).
        y: The training targets as a Tensor (samples first).
    Returns:
        The arguments of `_core.TrainPlan` but the batch size, and `y` converted for the plan.
    """
    layers = _chain(model)
    _build(model, layers, x_shape)
    trainable = model._step_variables()
    _require(trainable, "no trainable weights")
    stages, act, classes, plan_vars = _stages(layers, x_shape[1:], {id(v) for v in trainable},
                                              bool(getattr(model, "run_eagerly", False)))
    plan_ids = [id(v) for v in plan_vars if any(v is t for t in trainable)]
    _require(plan_ids == [id(v) for v in trainable], "trainable variables outside the chain's Dense layers")
    kind, from_logits = _loss(model, y, classes)
    _check_logits(kind, from_logits, act)
    targets = _targets(y, kind, classes)
    specs = _metric_specs(model, y, classes, kind == _core.PlanLoss.SparseCategoricalCrossentropy)
    return stages, _core.PlanLossSpec(kind, from_logits), specs, _optimizer(model, trainable), targets


def inference_stages(model, x):
    """The stages of a `_core.ForwardPlan` that computes the model's output on x (an array the model accepts): its
    chain as `describe` makes it (custom layers traced: like a traced predict function, the plan does not rerun
    their Python; `run_eagerly=True` refuses them), or raises Ineligible."""
    from ckeras.layers.input_spec import assert_input_compatibility
    layers = _chain(model, training=False)
    _require(model.built and model.activity_regularizer is None, "unbuilt, or with an activity regularizer")
    try:
        assert_input_compatibility(model.input_spec, x, model.name)
    except Exception as e:  # the model's call raises it, with its context
        raise Ineligible(f"the input does not fit: {e}") from None
    _require(all(v.device == "cpu" for v in model.weights), "variables on a GPU")
    return _stages(layers, x.shape[1:], set(), bool(getattr(model, "run_eagerly", False)))[0]
