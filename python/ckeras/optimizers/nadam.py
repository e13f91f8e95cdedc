"""Nadam: Adam with Nesterov momentum (Dozat, 2015), with Keras's momentum schedule."""
import numpy as np

from ckeras import _core
from ckeras.backend.variables import Variable
from ckeras.optimizers.base_optimizer import Optimizer


class Nadam(Optimizer):
    """Nadam. With `u_t = beta_1 (1 - 0.5 * 0.96^t)` and `P_t = u_1 ... u_t`:
    `m_hat = u_{t+1} m / (1 - P_{t+1}) + (1 - u_t) g / (1 - P_t)`,
    `w -= lr m_hat / (sqrt(v / (1 - beta_2^t)) + epsilon)`, with m, v updated as in Adam.

    Args:
        learning_rate: Defaults to 0.001.
        beta_1, beta_2: Default 0.9 and 0.999.
        epsilon: Defaults to 1e-7.
        The base `Optimizer` arguments (weight_decay, clipnorm, ...).
    """

    _kind = _core.OptimizerKind.Nadam

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None, gradient_accumulation_steps=None,
                 name="nadam", **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def _slot_layout(self):
        return [[("momentum", 0.0), ("velocity", 0.0)]]

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        # P_{t-1}, kept in float32 as Keras keeps `_u_product`; tracked after the slots, as in Keras.
        self._u_product = Variable(np.float32(1.0), dtype="float32", trainable=False, name="u_product")
        self._u_product.path = f"{self.name}/u_product"
        self._variables.append(self._u_product)

    def _fill_step(self, step):
        step.beta_1, step.beta_2, step.epsilon = float(self.beta_1), float(self.beta_2), float(self.epsilon)
        step.nadam_u_product = float(np.asarray(self._u_product))

    def _after_step(self, step):
        # P_t = P_{t-1} * beta_1 * (1 - 0.5 * 0.96^t), evaluated in float32 left to right, as Keras does.
        f = np.float32
        u = f(np.asarray(self._u_product)) * f(self.beta_1) * (f(1.0) - f(0.5) * f(0.96) ** f(step.step))
        self._u_product.assign(np.float32(u))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}
