"""Adamax: Adam with the infinity norm in place of the second moment."""
from ckeras import _core
from ckeras.optimizers.base_optimizer import Optimizer


class Adamax(Optimizer):
    """Adamax (Kingma & Ba, 2014, section 7).

    `m += (g - m)(1 - beta_1); u = max(beta_2 u, |g|); w -= lr m / ((1 - beta_1^t)(u + epsilon))`.

    Args:
        learning_rate: Defaults to 0.001.
        beta_1, beta_2: Decay rates of the first moment and of the infinity norm. Default 0.9 and 0.999.
        epsilon: Defaults to 1e-7.
        The base `Optimizer` arguments (weight_decay, clipnorm, ...).
    """

    _kind = _core.OptimizerKind.Adamax

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None, gradient_accumulation_steps=None,
                 name="adamax", **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def _slot_layout(self):
        return [[("momentum", 0.0), ("norm", 0.0)]]

    def _fill_step(self, step):
        step.beta_1, step.beta_2, step.epsilon = float(self.beta_1), float(self.beta_2), float(self.epsilon)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}
