"""ERRORS.md rows 13-20 (layers and models): exception type and message fragments, and the model or layer
stays usable afterwards."""
import re

import numpy as np
import pytest

import ckeras
from ckeras import layers, models, ops
from ckeras.layers._utils import reset_uids


@pytest.fixture(autouse=True)
def _fresh_names():
    reset_uids()


def test_row13_wrong_last_dim():
    model = models.Sequential([layers.Input(shape=(784,)), layers.Dense(128), layers.Dense(10)])
    with pytest.raises(ValueError) as info:
        model(np.ones((32, 100), "float32"))
    msg = str(info.value)
    assert "layer 'dense'" in msg
    assert "expected axis -1 of input shape to have value 784" in msg
    assert "(32, 100)" in msg
    assert "matmul" not in msg
    assert model(np.ones((2, 784), "float32")).shape == (2, 10)  # still usable


def test_row13_bare_layer():
    dense = layers.Dense(3)
    dense(np.ones((2, 784), "float32"))
    with pytest.raises(ValueError, match=re.escape("Input 0 of layer 'dense' is incompatible with the layer: "
                                                   "expected axis -1 of input shape to have value 784, but "
                                                   "received input with shape (32, 100)")):
        dense(np.ones((32, 100), "float32"))


@pytest.mark.parametrize("shape,ndim", [((5,), 1), ((), 0)])
def test_row14_low_rank_to_dense(shape, ndim):
    with pytest.raises(ValueError, match=f"expected min_ndim=2, found ndim={ndim}"):
        layers.Dense(3)(np.ones(shape, "float32"))


def test_row14_symbolic_rank():
    with pytest.raises(ValueError, match="expected min_ndim=2, found ndim=1"):
        layers.Dense(3)(layers.Input(batch_shape=(4,)))


def test_row15_before_build():
    dense = layers.Dense(4)
    assert dense.weights == []
    assert dense.get_weights() == []
    with pytest.raises(AttributeError) as info:
        dense.kernel
    assert "not built" in str(info.value) and "call build(input_shape)" in str(info.value)
    with pytest.raises(ValueError, match="isn't built"):
        dense.count_params()
    dense.build((None, 3))
    assert dense.kernel.shape == (3, 4) and dense.count_params() == 16


class MyLayer(layers.Layer):
    def call(self, inputs):
        return ops.matmul(inputs, self.w)


def test_row16_custom_layer_missing_weight():
    with pytest.raises(AttributeError) as info:
        MyLayer()(np.ones((32, 784), "float32"))
    msg = str(info.value)
    assert "'MyLayer' object has no attribute 'w'" in msg
    assert "Exception encountered when calling MyLayer.call()" in msg
    assert "inputs=Tensor(shape=(32, 784), dtype=float32)" in msg


def test_row16_symbolic_and_nested_context_is_innermost():
    with pytest.raises(AttributeError) as info:
        models.Sequential([layers.Input((784,)), MyLayer()])
    msg = str(info.value)
    assert "Exception encountered when calling MyLayer.call()" in msg
    assert "shape=(None, 784)" in msg
    assert msg.count("Exception encountered") == 1


def test_row17_forgot_super_init():
    class NoSuper(layers.Layer):
        def __init__(self, units):
            self.units = units

        def call(self, x):
            return x
    with pytest.raises(RuntimeError, match=re.escape("forgot to call `super().__init__()`")):
        NoSuper(3)(np.ones((2, 2)))


def test_row17_weight_added_in_call_after_build():
    class Late(layers.Layer):
        def call(self, x):
            self.w = self.add_weight(shape=(2,), initializer="zeros")
            return x
    with pytest.raises(ValueError, match="cannot add new elements of state .* already built"):
        Late()(np.ones((2, 2)))


def test_row17_sublayer_assigned_after_build():
    dense = layers.Dense(2)
    dense.build((None, 3))
    with pytest.raises(ValueError, match="cannot add new elements of state"):
        dense.extra = layers.Dense(5)


def test_row18_duplicate_names():
    x = layers.Input((3,))
    y = layers.Dense(2, name="dense")(layers.Dense(2, name="dense")(x))
    with pytest.raises(ValueError, match='The name "dense" is used 2 times in the model. All operation names '
                                         'should be unique.'):
        models.Model(x, y)


def test_row19_graph_disconnected():
    a, b = layers.Input((3,), name="a"), layers.Input((3,), name="b")
    h = layers.Dense(2, name="d1")(a)
    out = layers.Add(name="sum")([h, layers.Dense(2, name="d2")(b)])
    with pytest.raises(ValueError) as info:
        models.Model(a, out)
    msg = str(info.value)
    assert "Graph disconnected" in msg
    assert "name=b" in msg  # the unreachable tensor
    assert "d2" in msg and "['a', 'd1']" in msg  # the operation and the ops visited
    assert models.Model([a, b], out)([np.ones((1, 3))] * 2).shape == (1, 2)


def test_row20_summary_unbuilt_sequential():
    model = models.Sequential([layers.Dense(4), layers.Dense(2)])
    with pytest.raises(ValueError, match="has no defined input shape yet") as info:
        model.summary()
    assert "build" in str(info.value) and "Input" in str(info.value)
    assert model(np.ones((3, 5))).shape == (3, 2)  # calling builds lazily
    lines = []
    model.summary(print_fn=lines.append)
    assert "(None, 4)" in lines[0]


def test_unknown_kwarg():
    with pytest.raises(ValueError, match=re.escape("Unrecognized keyword arguments passed to Dense: "
                                                   "{'foo': 1}")):
        layers.Dense(3, foo=1)


@pytest.mark.parametrize("units", [0, -1, 2.5, None, "8"])
def test_dense_units_validated(units):
    with pytest.raises(ValueError, match="expected a positive integer"):
        layers.Dense(units)


def test_negative_input_dim():
    with pytest.raises(ValueError, match="negative dimension"):
        layers.Input((-1, 3))
