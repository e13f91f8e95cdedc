"""Adam and AdamW (Adam with decoupled weight decay, 0.004 by default)."""
from ckeras import _core
from ckeras.optimizers.base_optimizer import Optimizer


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2014), with Keras's "epsilon hat" placement.

    `m += (g - m)(1 - beta_1); v += (g^2 - v)(1 - beta_2);
    w -= lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)`.

    Args:
        learning_rate: Defaults to 0.001.
        beta_1, beta_2: Decay rates of the first and second moments. Default 0.9 and 0.999.
        epsilon: Defaults to 1e-7.
        amsgrad: Use the running maximum of `v` (AMSGrad). Defaults to False.
        The base `Optimizer` arguments (weight_decay, clipnorm, ...).
    """

    _kind = _core.OptimizerKind.Adam

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name="adam", **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsgrad = amsgrad

    def _slot_layout(self):
        layout = [[("momentum", 0.0), ("velocity", 0.0)]]
        return layout + [[("velocity_hat", 0.0)]] if self.amsgrad else layout

    def _fill_step(self, step):
        step.beta_1, step.beta_2, step.epsilon = float(self.beta_1), float(self.beta_2), float(self.epsilon)
        step.amsgrad = bool(self.amsgrad)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019): `w -= w * weight_decay * lr` before
    each Adam step. Arguments as `Adam`, with `weight_decay` defaulting to 0.004 (None is an error)."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name="adamw", **kwargs):
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         amsgrad=amsgrad, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency, loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs)
        if self.weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
