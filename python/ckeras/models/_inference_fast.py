"""`model(x)` for chains of Dense layers in one C++ call (issue 5, "Speed": single-sample latency).

A top-level inference call of a Sequential or single-chain Functional model made of Dense, Dropout, Flatten,
Reshape and Input layers, on one float32 array, runs `_core.plan_forward`: the kernels of the eager Dense call
in its order, so the output has the eager bits, and a softmax/sigmoid output carries `_keras_logits` as
eagerly. A chain whose head holds other layers (a custom layer, as the article's third model has) calls those
the general way, as the model's own call would, and runs the Dense tail as a plan ("mixed"). Anything else
(training, a call under a recording GradientTape, a nested call, no Dense tail, float64 input, a shape the
model does not expect) returns None and the general `Layer.__call__` runs, with its checks and messages.
A plan call on a 2-D input is remembered (`_memo`): the next call with the same input shape runs the plan from C++
(`ForwardPlan.call_guarded`) while every object the checks read is unchanged, skipping about 5 us of Python checks.
`predict` on several batches uses the same memo (`predict_batches`). Set CKERAS_FAST_CALL=0 to always take the
general path. `model._call_path` says which path the last top-level
call took ("plan", "mixed" or "layers").
"""
import os

import numpy as np

from ckeras import _core
from ckeras.layers import _utils
from ckeras.layers._call_context import with_call_context
from ckeras.layers.input_spec import assert_input_compatibility

_CTX = _utils.CALL_CONTEXT
_F32 = np.dtype(np.float32)
_ENABLED = os.environ.get("CKERAS_FAST_CALL", "1").strip() != "0"
_ACT = None  # activation function -> _core.PlanActivation, filled on first use
_KINDS = None  # (Sequential, Functional, Dense, Dropout, Flatten, Reshape, InputLayer)
_spec = None  # trainers.train_plan_spec, imported on first use (it imports the layers and losses)


def _load():
    global _ACT, _KINDS, _spec
    from ckeras.layers.core.dense import Dense
    from ckeras.layers.core.input_layer import InputLayer
    from ckeras.layers.regularization.dropout import Dropout
    from ckeras.layers.reshaping.flatten import Flatten
    from ckeras.layers.reshaping.reshape import Reshape
    from ckeras.models.functional import Functional
    from ckeras.models.sequential import Sequential
    from ckeras.trainers import train_plan_spec
    _spec = train_plan_spec
    _ACT = train_plan_spec.ACTIVATIONS
    _KINDS = (Sequential, Functional, Dense, Dropout, Flatten, Reshape, InputLayer)


def _layers(model, kinds):
    """(key, source, chain): the model's layers as a chain (None for a Functional graph that is not one), derived
    from model.__dict__[key], the object `source` (a Sequential's layer list is the chain itself; a Functional
    chain follows its graph's call plan); or None."""
    Sequential, Functional = kinds[0], kinds[1]
    cls = type(model)
    d = model.__dict__
    if cls.call is Sequential.call:
        layers = d["_call_layers"]
        return "_call_layers", layers, layers
    if cls.call is not Functional.call:
        return None
    if isinstance(d["_inputs_struct"], (list, dict)) or isinstance(d["_outputs_struct"], (list, dict)):
        return None  # its call packs the output as [y] or {name: y}, and checks the input structure
    cached = d.get("_fast_chain")  # (the graph's call plan, its chain): the walk costs 1.7 us per call
    if cached is None or cached[0] is not d["_plan"]:
        cached = d["_fast_chain"] = (d["_plan"], _spec.functional_chain(model))
    return "_plan", cached[0], cached[1]


def _split(d, layers, kinds):
    """(head, tail): tail = layers[len(head):] is the longest tail of plan layers ending in a Dense layer; None
    when there is no such tail. Cached while the layer list is the same object."""
    cached = d.get("_fast_split")
    if cached is not None and cached[0] is layers:
        return cached[1]
    k = len(layers)
    while k and type(layers[k - 1]) in kinds[2:]:
        k -= 1
    found = (layers[:k], layers[k:]) if layers and type(layers[-1]) is kinds[2] else None
    d["_fast_split"] = (layers, found)
    return found


def _stages(layers, feature_shape, kinds):
    """(stages, input width) of the chain for inputs of this feature shape, or None."""
    _, _, Dense, Dropout, Flatten, Reshape, InputLayer = kinds
    stages, shape, width = [], tuple(feature_shape), None
    for layer in layers:
        cls = type(layer)
        if layer.activity_regularizer is not None:  # its penalty: the layers add it
            return None
        if cls is InputLayer or cls is Dropout:  # Dropout: the identity at inference
            continue
        if cls is Flatten or cls is Reshape:
            shape = _spec.reshaped_features(layer, shape)
            if shape is None:
                return None
        elif cls is Dense:
            act = _ACT.get(layer.activation)
            if act is None or len(shape) != 1 or layer.compute_dtype != "float32":
                return None
            kernel, bias = layer.kernel, layer.bias
            if kernel.dtype != "float32" or kernel.shape[0] != shape[0]:
                return None
            if width is None:
                width = shape[0]
            stages.append(_core.PlanStage.dense(kernel._ckeras_tensor, None if bias is None else bias._ckeras_tensor,
                                                act))
            shape = (layer.units,)
        else:
            return None
    if not stages or type(layers[-1]) is not Dense:
        return None
    return stages, width


# What a stage is built from, read from each chain layer's __dict__ (a Variable's Tensor never changes: assign()
# writes into it, and the stage sees the new values). An activity regularizer, or a Dense dtype other than
# float32, makes _stages refuse the layer.
_DENSE_STATE = ("activation", "kernel", "bias", "activity_regularizer", "_dtype")
_OTHER_STATE = ("activity_regularizer",)


def _chain_state(layers, kinds):
    """[(layer.__dict__, keys, the objects under those keys)] for the chain's layers."""
    Dense = kinds[2]
    out = []
    for layer in layers:
        ld, keys = layer.__dict__, _DENSE_STATE if type(layer) is Dense else _OTHER_STATE
        out.append((ld, keys, [ld.get(k) for k in keys]))
    return out


def _cached_plan(d, layers, feature_shape):
    """The cache entry (feature shape, layers, _chain_state, (ForwardPlan, width) or None) for these layers and
    feature shape; reused while the layers, the feature shape and every object of the chain state are unchanged."""
    cache = d.get("_fast_call_cache")
    # The layer list is compared by identity: a Sequential replaces its list when it changes, and a Functional
    # model's chain never changes (both are kept alive by the cache, so an id cannot be reused).
    if cache is not None and cache[1] is layers and cache[0] == feature_shape:
        if all(ld.get(k) is v for ld, keys, values in cache[2] for k, v in zip(keys, values)):
            return cache
    found = _stages(layers, feature_shape, _KINDS)
    on_cpu = all(v.device == "cpu" for layer in layers if type(layer) is _KINDS[2]
                 for v in (layer.kernel, layer.bias) if v is not None)
    plan = None if found is None or not on_cpu else (_core.ForwardPlan(found[0]), found[1])
    cache = d["_fast_call_cache"] = (feature_shape, layers, _chain_state(layers, _KINDS), plan)
    return cache


def call(model, args, kwargs):
    """The output of `model(*args, **kwargs)` through `_core.plan_forward`, or None (see the module)."""
    d = model.__dict__
    memo = d.get("_fast_memo")  # the last plan call's: see _memo
    if (memo is not None and memo[4] and not kwargs and len(args) == 1 and not _CTX.depth and _ENABLED
            and memo[2][0] is d and type(model) is memo[5]):  # (a shallow copy shares the memo, not the dict)
        out = memo[0].call_guarded(args[0], memo[1], memo[2])
        if out is not None:
            return _plan_call_done(d, out)
    if not _ENABLED or len(args) != 1 or _CTX.depth or _core.grad_enabled():  # a GradientTape records: layers
        return None
    if kwargs and (kwargs.keys() != {"training"} or kwargs["training"] not in (None, False)):
        return None
    x = args[0]
    cls = type(x)
    if cls is np.ndarray:
        if (x.dtype is not _F32 and x.dtype != _F32) or x.ndim < 2:  # `is`: NumPy's float32 is one object
            return None
    elif cls is not _core.Tensor or x.dtype != "float32" or x.ndim < 2:
        return None
    if not d.get("built"):
        return None
    if _KINDS is None:
        _load()
    found = _layers(model, _KINDS)
    if found is None or found[2] is None:  # (a Functional graph that is not a chain)
        return None
    layers = found[2]
    shape = x.shape
    spec = d["_input_spec"]
    if spec is not None and shape != d.get("_spec_ok_shape"):
        try:
            assert_input_compatibility(spec, x, model.name)
        except Exception:  # the general path raises it, with the call context
            return None
        d["_spec_ok_shape"] = shape
    split = _split(d, layers, _KINDS)
    if split is None or d["activity_regularizer"] is not None:  # the model's own penalty: the layers add it
        return None
    checked = (found[0], found[1], spec)  # what the memo's guards hold to: the objects checked here
    if split[0]:
        return _call_mixed(model, d, split[0], split[1], x, kwargs, checked)
    out = _run_plan(model, d, layers, x, checked, True)
    return None if out is None else _plan_call_done(d, out)


def predict_batches(model, x, batch_size):
    """`predict`'s outputs on x (a float32 ndarray) in batches of batch_size, every batch through the plan that
    the model's last call ran for its whole chain (`ForwardPlan.predict_guarded`: one C++ call for all the
    batches, the guards of `_memo` holding); None when there is no such plan or x does not fit it. (The caller,
    trainers/loops.py, has checked CKERAS_FAST_CALL, gradient recording and the call depth.)"""
    d = model.__dict__
    memo = d.get("_fast_memo")
    if memo is None or not memo[4] or memo[2][0] is not d or type(model) is not memo[5]:
        return None
    out = memo[0].predict_guarded(x, memo[1][1], batch_size, memo[2])
    return None if out is None else _plan_call_done(d, out)


def _plan_call_done(d, out):
    """Records a top-level plan call as Layer.__call__ would (its call id, for `model.losses`); returns out."""
    ctx = _CTX
    ctx.call_id += 1
    d["_last_call"] = ctx.call_id
    d["_call_path"] = "plan"
    return out


def _memo(model, d, checked, state, plan, shape, layers, whole):
    """Remembers a plan call on 2-D x of this shape: `ForwardPlan.call_guarded` then runs the plan in C++ while
    every object the checks read is still the one they read, with no Python checks (5 us a call): the model is
    built, has no activity regularizer, its layer list (or graph) and input spec are `checked`'s, and the chain
    `state` the plan was built from holds. `whole`: the plan is the model's whole chain (the head of `call` takes
    the memo before any other check), not the tail of a mixed call."""
    key, source, spec = checked
    guards = [d, "_input_spec", spec, d, key, source, d, "built", True, d, "activity_regularizer", None]
    for ld, keys, values in state:
        for k, v in zip(keys, values):
            guards += (ld, k, v)
    d["_fast_memo"] = (plan, shape, tuple(guards), layers, whole, type(model))


def _run_plan(model, d, layers, x, checked, whole):
    """plan(x) for these plan layers, or None (no plan for them, or x on another device than the weights)."""
    memo = d.get("_fast_memo")
    if memo is not None and memo[3] is layers and memo[2][0] is d:
        out = memo[0].call_guarded(x, memo[1], memo[2])
        if out is not None:
            return out
    shape = x.shape
    entry = _cached_plan(d, layers, shape[1:])
    if entry[3] is None:
        return None
    plan, width = entry[3]
    if x.ndim != 2:
        return plan(_core.reshape(_core.convert_to_tensor(x), [shape[0], width]))
    out = plan(x)  # logits attached
    if out is not None:
        _memo(model, d, checked, entry[2], plan, shape, layers, whole)
    return out


def _call_mixed(model, d, head, tail, x, kwargs, checked):
    """What Layer.__call__ does for the model at the top level, with the tail's Dense layers as one plan: the
    head's layers are called one by one, in inference mode, inside the model's call context."""
    ndims = d.get("_input_ndims")  # a Functional model adds or drops a trailing axis of size 1 first: its call does
    if ndims is not None and x.ndim != ndims[0]:
        return None
    x = inputs = model._convert(x)
    ctx = _CTX
    ctx.call_id += 1
    training = kwargs.get("training")
    if training is None:
        training = d["_training_default"]
    ctx.training = training
    ctx.depth += 1
    d["_last_call"] = ctx.call_id
    path = "layers"
    try:
        for layer in head:
            x = layer(x)
        out = None
        if type(x) is _core.Tensor and x.dtype == "float32" and x.ndim >= 2:
            out = _run_plan(model, d, tail, x, checked, False)
        if out is None:
            for layer in tail:
                x = layer(x)
            out = x
        else:
            path = "mixed"
    except Exception as e:
        call_kwargs = {"training": training} if d["_call_has_training_arg"] and training is not None else {}
        raise with_call_context(e, model, (inputs,), call_kwargs) from None
    finally:
        ctx.depth -= 1
        ctx.training = None
    d["_call_path"] = path
    return out
