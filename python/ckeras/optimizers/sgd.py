"""SGD: gradient descent with optional (Nesterov) momentum."""
from ckeras import _core
from ckeras.optimizers._util import _check_momentum
from ckeras.optimizers.base_optimizer import Optimizer


class SGD(Optimizer):
    """Gradient descent, with momentum when `momentum > 0`.

    `velocity = momentum * velocity - lr * g; w += velocity` (Nesterov: `w += momentum * velocity - lr * g`);
    plain `w -= lr * g` when momentum is 0.

    Args:
        learning_rate: Defaults to 0.01.
        momentum: Float in [0, 1]; 0 is vanilla gradient descent. Defaults to 0.0.
        nesterov: Whether to use Nesterov momentum. Defaults to False.
        The base `Optimizer` arguments (weight_decay, clipnorm, ...).
    """

    _kind = _core.OptimizerKind.SGD

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None, gradient_accumulation_steps=None,
                 name="SGD", **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs)
        _check_momentum(momentum)
        self.momentum = momentum
        self.nesterov = nesterov

    def _slot_layout(self):
        return [[("momentum", 0.0)]] if self.momentum != 0 else []

    def _fill_step(self, step):
        step.momentum = float(self.momentum)
        step.nesterov = bool(self.nesterov)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
