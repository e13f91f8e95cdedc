"""`Dropout`: inverted dropout in training, the identity otherwise (Keras 3 semantics, KERAS.md 3.7)."""
from ckeras import random
from ckeras.backend.keras_tensor import KerasTensor
from ckeras.layers.layer import Layer


class Dropout(Layer):
    """Zeroes each input element with probability `rate` while training; survivors are scaled by
    `1 / (1 - rate)`. At inference (the default for a bare call) it returns the input.

    Args:
        rate: Float in [0, 1], the fraction to drop.
        noise_shape: Optional mask shape broadcast to the input (None entries take the input's size).
        seed: Optional int seed for the layer's SeedGenerator.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 <= rate <= 1:
            raise ValueError("Invalid value received for argument `rate`. Expected a float value between 0 "
                             f"and 1. Received: rate={rate}")
        self.rate = rate
        self.seed = seed
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        if rate > 0:
            self.seed_generator = random.SeedGenerator(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if training and self.rate > 0:
            return random.dropout(inputs, self.rate, noise_shape=self.noise_shape, seed=self.seed_generator)
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_output_spec(self, inputs, training=False):
        return KerasTensor(inputs.shape, dtype=inputs.dtype)

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed, "noise_shape": self.noise_shape})
        return config
