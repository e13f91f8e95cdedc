"""Adagrad: per-parameter learning rates scaled by the accumulated squared gradients."""
from ckeras import _core
from ckeras.optimizers.base_optimizer import Optimizer


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011): `acc += g^2; w -= lr g / sqrt(acc + epsilon)`.

    Args:
        learning_rate: Defaults to 0.001.
        initial_accumulator_value: Starting value of the accumulators (>= 0). Defaults to 0.1.
        epsilon: Defaults to 1e-7.
        The base `Optimizer` arguments (weight_decay, clipnorm, ...).
    """

    _kind = _core.OptimizerKind.Adagrad

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None, gradient_accumulation_steps=None,
                 name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs)
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def _slot_layout(self):
        return [[("accumulator", float(self.initial_accumulator_value))]]

    def _fill_step(self, step):
        step.epsilon = float(self.epsilon)

    def get_config(self):
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}
