"""`InputSpec`: the rank/shape/dtype a layer accepts, checked on the first positional argument of a call
with Keras's messages."""
from ckeras.layers._utils import flatten


class InputSpec:
    """Expected rank, shape, dtype or specific axis sizes of a layer's input.

    Args:
        dtype: Expected dtype.
        shape: Expected shape, including the batch dim (None = any size).
        ndim, max_ndim, min_ndim: Expected rank, or bounds on it.
        axes: Dict mapping axes (may be negative) to their expected size.
        allow_last_axis_squeeze: Accept a rank N+1 input whose last axis is 1 (or rank N-1).
        name: Key of this input when inputs are passed as a dict.
        optional: Whether the input may be None.
    """

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None, axes=None,
                 allow_last_axis_squeeze=False, name=None, optional=False):
        self.dtype = dtype
        self.shape = None if shape is None else tuple(shape)
        self.ndim = len(shape) if shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.name = name
        self.optional = optional
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        try:
            axes = axes or {}
            self.axes = {int(k): axes[k] for k in axes}
        except (ValueError, TypeError):
            raise TypeError(f"Argument `axes` must be a dict with integer keys. Received: axes={axes}") from None

    def __repr__(self):
        parts = [f"{k}={getattr(self, k)}" for k in ("dtype", "shape", "ndim", "max_ndim", "min_ndim", "axes")
                 if getattr(self, k)]
        return f"InputSpec({', '.join(parts)})"

    def get_config(self):
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim, "max_ndim": self.max_ndim,
                "min_ndim": self.min_ndim, "axes": self.axes}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _check(spec, x, index, layer_name):
    if not hasattr(x, "shape"):
        raise ValueError(f"Inputs to a layer should be tensors. Got '{x}' (of type {type(x)}) as input for "
                         f"layer '{layer_name}'.")
    shape = tuple(x.shape)
    ndim = len(shape)
    head = f"Input {index}" + (f" with name '{spec.name}'" if spec.name else "") + \
        f" of layer '{layer_name}' is incompatible with the layer:"
    if spec.ndim is not None and not spec.allow_last_axis_squeeze and ndim != spec.ndim:
        raise ValueError(f"{head} expected ndim={spec.ndim}, found ndim={ndim}. Full shape received: {shape}")
    if spec.max_ndim is not None and ndim > spec.max_ndim:
        raise ValueError(f"{head} expected max_ndim={spec.max_ndim}, found ndim={ndim}")
    if spec.min_ndim is not None and ndim < spec.min_ndim:
        raise ValueError(f"{head} expected min_ndim={spec.min_ndim}, found ndim={ndim}. "
                         f"Full shape received: {shape}")
    if spec.dtype is not None and x.dtype != spec.dtype:
        raise ValueError(f"{head} expected dtype={spec.dtype}, found dtype={x.dtype}")
    for axis, value in spec.axes.items():
        if value is None:
            continue
        if not -ndim <= axis < ndim:
            raise ValueError(f"{head} axis {axis} is out of bounds for an input with ndim={ndim}. "
                             f"Full shape received: {shape}")
        if shape[axis] not in (value, None):
            raise ValueError(f"{head} expected axis {axis} of input shape to have value {value}, "
                             f"but received input with shape {shape}")
    if spec.shape is not None:
        spec_shape = spec.shape
        if spec.allow_last_axis_squeeze:
            if ndim == len(spec_shape) + 1 and shape[-1] == 1:
                shape = shape[:-1]
            elif len(spec_shape) == ndim + 1 and spec_shape[-1] == 1:
                spec_shape = spec_shape[:-1]
        for s, d in zip(spec_shape, shape):
            if s is not None and d is not None and s != d:
                raise ValueError(f"{head} expected shape={spec.shape}, found shape={shape}")


def assert_input_compatibility(input_spec, inputs, layer_name):
    """Raises ValueError when `inputs` (a tensor or structure) does not satisfy `input_spec`."""
    if not input_spec:
        return
    if isinstance(input_spec, InputSpec) and hasattr(inputs, "shape"):
        _check(input_spec, inputs, 0, layer_name)
        return
    specs = flatten(input_spec)
    if isinstance(inputs, dict) and all(s.name for s in specs):
        missing = [s.name for s in specs if s.name not in inputs]
        if missing:
            raise ValueError(f'Missing data for input "{missing[0]}". You passed a data dictionary with keys '
                             f"{list(inputs)}. Expected the following keys: {[s.name for s in specs]}")
        inputs = [inputs[s.name] for s in specs]
    flat = flatten(inputs)
    if len(flat) != len(specs):
        raise ValueError(f'Layer "{layer_name}" expects {len(specs)} input(s), but it received {len(flat)} '
                         f"input tensors. Inputs received: {inputs}")
    for i, (x, spec) in enumerate(zip(flat, specs)):
        if spec is None or (x is None and spec.optional):
            continue
        _check(spec, x, i, layer_name)
