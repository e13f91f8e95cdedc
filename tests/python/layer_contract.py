"""`run_layer_test`: the contract every layer meets, in the spirit of Keras's `testing/test_case.py`.

Checks, in order: get_config/from_config round trip; an eager call (output shape, weight counts); a
symbolic call on `Input` tensors (output shape with a None batch dim); one training step with GradientTape
and SGD that lowers an MSE loss (when the layer has trainable weights); a clone from config with the
trained weights reproduces the output.
"""
import numpy as np

import ckeras
from ckeras import layers, ops


def _make_inputs(input_shape, dtype, seed):
    rng = np.random.default_rng(seed)
    if isinstance(input_shape, list):
        return [rng.standard_normal(s).astype(dtype) for s in input_shape]
    return rng.standard_normal(input_shape).astype(dtype)


def _symbolic_inputs(input_shape, dtype):
    if isinstance(input_shape, list):
        return [layers.Input(shape=s[1:], dtype=dtype) for s in input_shape]
    return layers.Input(shape=input_shape[1:], dtype=dtype)


def run_layer_test(layer_cls, init_kwargs, input_shape, expected_output_shape,
                   expected_num_trainable_weights=0, expected_num_non_trainable_weights=0,
                   expected_num_seed_generators=0, expected_num_losses=0, input_dtype="float32",
                   run_training_check=True, custom_objects=None):
    """Builds, calls (eagerly and symbolically), round-trips the config and trains one step."""
    layer = layer_cls(**init_kwargs)
    config = layer.get_config()
    clone = layer_cls.from_config(config)
    assert clone.get_config() == config, (clone.get_config(), config)

    x = _make_inputs(input_shape, input_dtype, 0)
    y = layer(x)
    assert tuple(y.shape) == tuple(expected_output_shape), (y.shape, expected_output_shape)
    assert layer.built
    assert len(layer.trainable_weights) == expected_num_trainable_weights
    assert len(layer.non_trainable_weights) == expected_num_non_trainable_weights
    assert len(layer.weights) == expected_num_trainable_weights + expected_num_non_trainable_weights
    assert len(layer._seed_generators) == expected_num_seed_generators
    assert len(layer.losses) == expected_num_losses
    assert layer.count_params() == sum(int(np.prod(v.shape)) for v in layer.weights)

    # Symbolic call on a fresh layer: shape with an unknown batch dim, and a graph node.
    sym_layer = layer_cls.from_config(config)
    kt = sym_layer(_symbolic_inputs(input_shape, input_dtype))
    assert tuple(kt.shape) == (None,) + tuple(expected_output_shape[1:]), kt.shape
    assert kt._keras_history[0] is sym_layer

    if run_training_check and expected_num_trainable_weights:
        target = np.zeros(tuple(expected_output_shape), dtype="float32")
        opt = ckeras.optimizers.SGD(learning_rate=0.01)

        def loss_value():
            out = layer(x, training=True)
            return ops.mean(ops.square(ops.subtract(out, target)))
        before = float(loss_value())
        with ckeras.GradientTape() as tape:
            loss = loss_value()
            for extra in layer.losses:
                loss = ops.add(loss, extra)
        grads = tape.gradient(loss, layer.trainable_variables)
        assert all(g is not None for g in grads)
        opt.apply_gradients(zip(grads, layer.trainable_variables))
        after = float(loss_value())
        assert after < before, (before, after)

    # A clone from config, given the same weights, computes the same (inference) output.
    twin = layer_cls.from_config(config)
    twin(x)
    twin.set_weights(layer.get_weights())
    np.testing.assert_allclose(np.asarray(twin(x)), np.asarray(layer(x)), rtol=1e-6, atol=1e-6)
    return layer
