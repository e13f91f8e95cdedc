"""`InputLayer` and `Input(shape)`: the entry points of a Functional graph."""
from ckeras.backend.keras_tensor import KerasTensor
from ckeras.layers.layer import Layer
from ckeras.layers.node import Node


def _standardize_shape(shape, arg):
    if isinstance(shape, int):
        shape = (shape,)
    try:
        shape = tuple(None if d is None else int(d) for d in shape)
    except (TypeError, ValueError):
        raise ValueError(f"Cannot convert '{shape}' to a shape: `{arg}` must be a tuple of integers or None."
                         ) from None
    if any(d is not None and d < 0 for d in shape):
        raise ValueError(f"Negative dimensions are not allowed in `{arg}`: negative dimension in shape "
                         f"{shape}.")
    return shape


class InputLayer(Layer):
    """The layer behind `Input()`: it holds the input's batch shape and produces its KerasTensor.

    Args:
        shape: Shape without the batch dim, e.g. `(784,)`.
        batch_size: Optional fixed batch size.
        dtype: Input dtype ("float32" default).
        batch_shape: Full shape including the batch dim (instead of `shape`/`batch_size`).
        name: Layer name (`input_layer`, `input_layer_1`, ... by default).
    """

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None,
                 input_tensor=None, optional=False, name=None, ragged=None, **kwargs):
        super().__init__(name=name, dtype=dtype, **kwargs)
        if sparse or ragged:
            raise ValueError("Sparse and ragged inputs are not supported by ckeras.")
        if shape is not None and batch_shape is not None:
            raise ValueError("You cannot pass both `shape` and `batch_shape` at the same time.")
        if batch_size is not None and batch_shape is not None:
            raise ValueError("You cannot pass both `batch_size` and `batch_shape` at the same time.")
        if shape is None and batch_shape is None and input_tensor is None:
            raise ValueError("You must pass a `shape` argument.")
        if input_tensor is not None:
            if not isinstance(input_tensor, KerasTensor):
                raise ValueError(f"Argument `input_tensor` must be a KerasTensor. Received invalid type: "
                                 f"input_tensor={input_tensor} (of type {type(input_tensor)})")
            batch_shape = input_tensor.shape
        elif shape is not None:
            batch_shape = (batch_size,) + _standardize_shape(shape, "shape")
        else:
            batch_shape = _standardize_shape(batch_shape, "batch_shape")
        self._batch_shape = tuple(batch_shape)
        self.sparse = False
        self.optional = optional
        if input_tensor is None:
            input_tensor = KerasTensor(self._batch_shape, dtype=self.dtype, name=self.name)
        Node(self, (), {}, input_tensor)
        self._input_tensor = input_tensor
        self.built = True

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def output(self):
        return self._input_tensor

    def call(self):
        return

    def get_config(self):
        return {"batch_shape": self._batch_shape, "dtype": self.dtype, "sparse": False, "ragged": False,
                "name": self.name, "optional": self.optional}


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None, tensor=None,
          optional=False):
    """A symbolic input tensor for building a Functional model.

    Args:
        shape: Shape without the batch dim, e.g. `(784,)`; None entries are any size.
        batch_size: Optional fixed batch size.
        dtype: Input dtype ("float32" default).
        batch_shape: Full shape including the batch dim.
        name: Name of the input layer.
    Returns:
        A `KerasTensor`.
    """
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse, batch_shape=batch_shape,
                       name=name, input_tensor=tensor, optional=optional)
    return layer.output
