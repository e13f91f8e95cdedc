"""Lion: sign of an interpolated momentum (Chen et al., 2023)."""
from ckeras import _core
from ckeras.optimizers.base_optimizer import Optimizer


class Lion(Optimizer):
    """Lion: `w -= lr sign(beta_1 m + (1 - beta_1) g)`, then `m = beta_2 m + (1 - beta_2) g`.

    Args:
        learning_rate: Defaults to 0.001.
        beta_1: Interpolation between momentum and gradient, in (0, 1]. Defaults to 0.9.
        beta_2: Decay rate of the momentum. Defaults to 0.99.
        The base `Optimizer` arguments (weight_decay, clipnorm, ...).
    """

    _kind = _core.OptimizerKind.Lion

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None, gradient_accumulation_steps=None,
                 name="lion", **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs)
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError("Argument `beta_1` must be in (0, 1]; otherwise Lion degenerates to SignSGD. "
                             f"Received: beta_1={beta_1}.")
        self.beta_1 = beta_1
        self.beta_2 = beta_2

    def _slot_layout(self):
        return [[("momentum", 0.0)]]

    def _fill_step(self, step):
        step.beta_1, step.beta_2 = float(self.beta_1), float(self.beta_2)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}
