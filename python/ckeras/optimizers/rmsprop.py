"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""
from ckeras import _core
from ckeras.optimizers._util import _check_momentum
from ckeras.optimizers.base_optimizer import Optimizer


class RMSprop(Optimizer):
    """RMSprop (Hinton, 2012), optionally centered and with plain momentum.

    `v = rho v + (1 - rho) g^2`; centered: `a = rho a + (1 - rho) g`, `d = v - a^2 + epsilon`, else
    `d = v + epsilon`; `inc = lr g / sqrt(d)`; with momentum `mom = momentum mom + inc; w -= mom`, else
    `w -= inc`.

    Args:
        learning_rate: Defaults to 0.001.
        rho: Discount of the old squared gradients. Defaults to 0.9.
        momentum: Float in [0, 1]. Defaults to 0.0.
        epsilon: Defaults to 1e-7.
        centered: Normalise by the estimated variance instead of the second moment. Defaults to False.
        The base `Optimizer` arguments (weight_decay, clipnorm, ...).
    """

    _kind = _core.OptimizerKind.RMSprop

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name="rmsprop", **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs)
        _check_momentum(momentum)
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered

    def _slot_layout(self):
        # Keras creates all velocities, then all momentums, then all average gradients.
        layout = [[("velocity", 0.0)]]
        if self.momentum > 0:
            layout.append([("momentum", 0.0)])
        if self.centered:
            layout.append([("average_gradient", 0.0)])
        return layout

    def _fill_step(self, step):
        step.rho, step.momentum, step.epsilon = float(self.rho), float(self.momentum), float(self.epsilon)
        step.centered = bool(self.centered)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                "centered": self.centered}
