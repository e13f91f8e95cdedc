"""Every built-in layer through `run_layer_test` (build, shapes, weights, config, one training step)."""
import numpy as np
import pytest

import ckeras
from ckeras import layers
from layer_contract import run_layer_test


def test_dense():
    run_layer_test(layers.Dense, {"units": 5, "activation": "relu"}, (4, 3), (4, 5),
                   expected_num_trainable_weights=2)


def test_dense_no_bias_rank3():
    run_layer_test(layers.Dense, {"units": 2, "use_bias": False}, (4, 3, 6), (4, 3, 2),
                   expected_num_trainable_weights=1)


def test_dense_regularized_and_constrained():
    run_layer_test(layers.Dense, {"units": 3, "kernel_regularizer": "l2", "bias_regularizer": "l1",
                                  "kernel_constraint": "max_norm", "bias_constraint": "non_neg"},
                   (4, 3), (4, 3), expected_num_trainable_weights=2, expected_num_losses=2)


def test_dense_activity_regularizer():
    run_layer_test(layers.Dense, {"units": 3, "activity_regularizer": "l2"}, (4, 3), (4, 3),
                   expected_num_trainable_weights=2, expected_num_losses=1)


def test_dropout():
    run_layer_test(layers.Dropout, {"rate": 0.5, "seed": 3}, (4, 6), (4, 6), expected_num_seed_generators=1)


def test_dropout_noise_shape():
    run_layer_test(layers.Dropout, {"rate": 0.2, "noise_shape": (None, 1, 5)}, (2, 3, 5), (2, 3, 5),
                   expected_num_seed_generators=1)


def test_activation():
    run_layer_test(layers.Activation, {"activation": "tanh"}, (2, 3), (2, 3))


def test_flatten():
    run_layer_test(layers.Flatten, {}, (2, 3, 4), (2, 12))


def test_flatten_channels_first():
    run_layer_test(layers.Flatten, {"data_format": "channels_first"}, (2, 3, 4), (2, 12))


def test_reshape():
    run_layer_test(layers.Reshape, {"target_shape": (2, 6)}, (3, 12), (3, 2, 6))
    run_layer_test(layers.Reshape, {"target_shape": (-1, 4)}, (3, 12), (3, 3, 4))


def test_identity():
    run_layer_test(layers.Identity, {}, (2, 3), (2, 3))


@pytest.mark.parametrize("cls", [layers.Add, layers.Multiply, layers.Average, layers.Maximum, layers.Minimum])
def test_elementwise_merges(cls):
    run_layer_test(cls, {}, [(2, 3), (2, 3), (2, 3)], (2, 3))


def test_subtract():
    run_layer_test(layers.Subtract, {}, [(2, 3), (2, 3)], (2, 3))


def test_concatenate():
    run_layer_test(layers.Concatenate, {"axis": -1}, [(2, 3), (2, 4)], (2, 7))
    run_layer_test(layers.Concatenate, {"axis": 1}, [(2, 3, 4), (2, 1, 4)], (2, 4, 4))


def test_lambda():
    run_layer_test(layers.Lambda, {"function": lambda x: ckeras.ops.multiply(x, 2.0)}, (2, 3), (2, 3))
    run_layer_test(layers.Lambda, {"function": lambda x: x[:, :2], "output_shape": (2,)}, (2, 3), (2, 2))


def test_merge_values():
    a, b = np.arange(6.0).reshape(2, 3).astype("float32"), np.ones((2, 3), "float32")
    np.testing.assert_allclose(np.asarray(layers.Add()([a, b])), a + b)
    np.testing.assert_allclose(np.asarray(layers.Subtract()([a, b])), a - b)
    np.testing.assert_allclose(np.asarray(layers.Multiply()([a, b])), a * b)
    np.testing.assert_allclose(np.asarray(layers.Average()([a, b])), (a + b) / 2)
    np.testing.assert_allclose(np.asarray(layers.Maximum()([a, b])), np.maximum(a, b))
    np.testing.assert_allclose(np.asarray(layers.Minimum()([a, b])), np.minimum(a, b))
    np.testing.assert_allclose(np.asarray(layers.Concatenate()([a, b])), np.concatenate([a, b], -1))


def test_merge_errors():
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        layers.Subtract()([np.ones((2, 3))] * 3)
    with pytest.raises(ValueError, match="should be called on a list of inputs"):
        layers.Add()(np.ones((2, 3)))
    with pytest.raises(ValueError, match="incompatible shapes"):
        layers.Add()([np.ones((2, 3)), np.ones((2, 4))])
    with pytest.raises(ValueError, match="matching shapes except for the concatenation axis"):
        layers.Concatenate(axis=1)([np.ones((2, 3, 4)), np.ones((2, 3, 5))])
