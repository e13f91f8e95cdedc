"""Stand-in models for the trainer tests: small classes inheriting `Trainer`, holding Variables.

They play the part of `keras.Model` (call with `training`, `trainable_variables`, `losses`, `get_weights`)
until the layers branch provides the real one.
"""
import numpy as np

import ckeras
from ckeras import ops
from ckeras.trainers import Trainer


class StandIn(Trainer):
    built = True

    def __init__(self):
        super().__init__()
        self.regularization = None  # a callable returning a scalar tensor, added to `losses`

    @property
    def losses(self):
        return [] if self.regularization is None else [self.regularization()]

    @property
    def non_trainable_variables(self):
        return []

    @property
    def weights(self):
        return self.trainable_variables + self.non_trainable_variables

    def get_weights(self):
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights):
        for v, w in zip(self.weights, weights):
            v.assign(w)


def _act(z, activation):
    if activation == "softmax":
        return ops.softmax(z)
    if activation == "sigmoid":
        return ops.sigmoid(z)
    return z


class Linear(StandIn):
    """`activation(x @ w + b)`."""

    def __init__(self, din, dout, activation=None, seed=0, w=None, b=None):
        super().__init__()
        r = np.random.default_rng(seed)
        w = r.normal(0, 0.3, (din, dout)) if w is None else w
        self.w = ckeras.Variable(np.asarray(w, "float32"))
        self.b = ckeras.Variable(np.zeros(dout, "float32") if b is None else np.asarray(b, "float32"))
        self.activation = activation
        self.calls = []  # (batch shape, training) of every call

    @property
    def trainable_variables(self):
        return [self.w, self.b]

    def __call__(self, x, training=False):
        self.calls.append((tuple(x.shape), training))
        return _act(ops.matmul(x, self.w) + self.b, self.activation)


class MLP(StandIn):
    """`activation(relu(x @ w1 + b1) @ w2 + b2)`."""

    def __init__(self, din, dh, dout, activation="softmax", seed=0):
        super().__init__()
        r = np.random.default_rng(seed)
        lim1, lim2 = np.sqrt(6 / (din + dh)), np.sqrt(6 / (dh + dout))
        self.w1 = ckeras.Variable(r.uniform(-lim1, lim1, (din, dh)).astype("float32"))
        self.b1 = ckeras.Variable(np.zeros(dh, "float32"))
        self.w2 = ckeras.Variable(r.uniform(-lim2, lim2, (dh, dout)).astype("float32"))
        self.b2 = ckeras.Variable(np.zeros(dout, "float32"))
        self.activation = activation

    @property
    def trainable_variables(self):
        return [self.w1, self.b1, self.w2, self.b2]

    def __call__(self, x, training=False):
        h = ops.relu(ops.matmul(x, self.w1) + self.b1)
        return _act(ops.matmul(h, self.w2) + self.b2, self.activation)


class TwoInputs(StandIn):
    """Inputs {"a": (n, da), "b": (n, db)} -> sigmoid(a @ wa + b @ wb + c)."""

    def __init__(self, da, db, seed=0):
        super().__init__()
        r = np.random.default_rng(seed)
        self.wa = ckeras.Variable(r.normal(0, 0.3, (da, 1)).astype("float32"))
        self.wb = ckeras.Variable(r.normal(0, 0.3, (db, 1)).astype("float32"))
        self.c = ckeras.Variable(np.zeros(1, "float32"))

    @property
    def trainable_variables(self):
        return [self.wa, self.wb, self.c]

    def __call__(self, x, training=False):
        return ops.sigmoid(ops.matmul(x["a"], self.wa) + ops.matmul(x["b"], self.wb) + self.c)


class TwoOutputs(StandIn):
    """x -> {"reg": x @ wr, "cls": softmax(x @ wc)}, or a list [reg, cls] with `as_list=True`."""

    output_names = None

    def __init__(self, din, classes, as_list=False, seed=0):
        super().__init__()
        r = np.random.default_rng(seed)
        self.wr = ckeras.Variable(r.normal(0, 0.3, (din, 1)).astype("float32"))
        self.wc = ckeras.Variable(r.normal(0, 0.3, (din, classes)).astype("float32"))
        self.as_list = as_list
        if as_list:
            self.output_names = ["reg", "cls"]

    @property
    def trainable_variables(self):
        return [self.wr, self.wc]

    def __call__(self, x, training=False):
        reg, cls = ops.matmul(x, self.wr), ops.softmax(ops.matmul(x, self.wc))
        return [reg, cls] if self.as_list else {"reg": reg, "cls": cls}


def blobs(n=400, d=4, classes=2, seed=0):
    """Linearly separable classes: integer labels, float64 features."""
    r = np.random.default_rng(seed)
    centers = r.normal(0, 3, (classes, d))
    y = r.integers(0, classes, n)
    x = centers[y] + r.normal(0, 0.5, (n, d))
    return x, y
