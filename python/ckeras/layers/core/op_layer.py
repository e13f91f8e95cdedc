"""`OpLayer`: what Python operators on KerasTensors (`x + y`, `2 * x`, `x[:, :3]`, `x @ w`) record in a
Functional graph: a layer named after the op ("add", "multiply_1", ...) that applies the `ckeras.ops`
function. Keras 3 records an op node here; ckeras records a layer, so these show up in `model.layers`."""
from ckeras import ops
from ckeras.layers._utils import get_uid
from ckeras.layers.layer import Layer

_UNARY = {"negative", "absolute"}


class OpLayer(Layer):
    """Applies `ops.<op>` to the input (and a second operand, for binary ops).

    Args:
        op: Name of the op ("add", "subtract", "multiply", "divide", "power", "matmul", "negative",
            "absolute", "get_item").
        reverse: Apply as `op(other, x)` (reflected operators such as `2 - x`).
    """

    def __init__(self, op, reverse=False, **kwargs):
        kwargs.setdefault("name", get_uid(op))
        super().__init__(**kwargs)
        self.op = op
        self.reverse = reverse
        self.built = True

    def call(self, x, other=None):
        if self.op == "get_item":
            return x[other]
        fn = getattr(ops, self.op)
        if self.op in _UNARY:
            return fn(x)
        return fn(other, x) if self.reverse else fn(x, other)

    def get_config(self):
        config = super().get_config()
        config.update({"op": self.op, "reverse": self.reverse})
        return config


def _binary(op, reverse=False):
    def method(self, other):
        return OpLayer(op, reverse=reverse)(self, other)
    return method


def install_operators(cls):
    """Adds the arithmetic operators and indexing to the KerasTensor class."""
    for name, op in [("add", "add"), ("sub", "subtract"), ("mul", "multiply"), ("truediv", "divide"),
                     ("pow", "power"), ("matmul", "matmul")]:
        setattr(cls, f"__{name}__", _binary(op))
        setattr(cls, f"__r{name}__", _binary(op, reverse=True))
    cls.__neg__ = lambda self: OpLayer("negative")(self)
    cls.__abs__ = lambda self: OpLayer("absolute")(self)
    cls.__getitem__ = lambda self, key: OpLayer("get_item")(self, key)
