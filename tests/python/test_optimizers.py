"""ckeras.optimizers against a float64 NumPy reference of the Keras 3 updates written here: every optimizer
and option, 6 steps over several variables of different shapes in one apply(), variables in Keras's order."""
import math
import re
import zlib

import numpy as np
import pytest

import ckeras
from ckeras import optimizers

# Keras 3 defaults (keras/src/optimizers/*.py), used by the reference only.
DEFAULTS = {
    "SGD": dict(learning_rate=0.01, momentum=0.0, nesterov=False),
    "Adam": dict(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False),
    "AdamW": dict(learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False),
    "RMSprop": dict(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False),
    "Adagrad": dict(learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7),
    "Adamax": dict(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7),
    "Nadam": dict(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7),
    "Lion": dict(learning_rate=0.001, beta_1=0.9, beta_2=0.99),
}
# Variables of different shapes (a scalar included) and how large their gradients are.
SHAPES = {"kernel": ((3, 4), 3.0), "bias": ((4,), 0.05), "gamma": ((2, 3, 2), 1.0), "scalar": ((), 2.0)}


def keras_slot_order(name, c):
    """[(slot, variable index)] in the order Keras 3 creates optimizer variables."""
    n = len(SHAPES)
    if name == "SGD":
        groups = [["momentum"]] if c["momentum"] else []
    elif name in ("Adam", "AdamW"):
        groups = [["momentum", "velocity"]] + ([["velocity_hat"]] if c["amsgrad"] else [])
    elif name == "RMSprop":
        groups = [["velocity"]] + ([["momentum"]] if c["momentum"] > 0 else []) + (
            [["average_gradient"]] if c["centered"] else [])
    else:
        groups = {"Adagrad": [["accumulator"]], "Adamax": [["momentum", "norm"]],
                  "Nadam": [["momentum", "velocity"]], "Lion": [["momentum"]]}[name]
    return [(slot, i) for group in groups for i in range(n) for slot in group]


class Reference:
    """One Keras 3 optimizer on float64 arrays: clip, decoupled decay, then the update."""

    def __init__(self, name, c, weights, decay):
        self.name, self.c, self.decay, self.t, self.u_product = name, c, decay, 0, 1.0
        self.w = [np.array(w, np.float64) for w in weights]
        init = c.get("initial_accumulator_value", 0.0)
        self.s = {slot: [np.full_like(w, init) for w in self.w] for slot, _ in keras_slot_order(name, c)}

    def step(self, grads, lr):
        c = self.c
        self.t += 1
        t = self.t
        g = [np.array(x, np.float64) for x in grads]
        if c.get("clipnorm"):
            g = [x * c["clipnorm"] / max(np.sqrt((x * x).sum()), c["clipnorm"]) for x in g]
        elif c.get("global_clipnorm"):
            norm = np.sqrt(sum((x * x).sum() for x in g))
            g = [x * c["global_clipnorm"] / max(norm, c["global_clipnorm"]) for x in g]
        elif c.get("clipvalue"):
            g = [np.clip(x, -c["clipvalue"], c["clipvalue"]) for x in g]
        for i, w in enumerate(self.w):
            if c.get("weight_decay") and self.decay[i]:
                w -= w * c["weight_decay"] * lr
        if self.name == "Nadam":
            self.u_t = c["beta_1"] * (1 - 0.5 * 0.96 ** t)
            self.u_t1 = c["beta_1"] * (1 - 0.5 * 0.96 ** (t + 1))
            self.prod = self.u_product * self.u_t
            self.u_product = self.prod
        for i, (w, x) in enumerate(zip(self.w, g)):
            getattr(self, "_" + self.name.replace("AdamW", "Adam"))(i, w, x, lr, t)

    def _SGD(self, i, w, g, lr, t):
        mu = self.c["momentum"]
        if not mu:
            w -= lr * g
            return
        m = self.s["momentum"][i]
        m[...] = mu * m - lr * g
        w += mu * m - lr * g if self.c["nesterov"] else m

    def _Adam(self, i, w, g, lr, t):
        b1, b2 = self.c["beta_1"], self.c["beta_2"]
        m, v = self.s["momentum"][i], self.s["velocity"][i]
        m += (g - m) * (1 - b1)
        v += (g * g - v) * (1 - b2)
        vv = v
        if self.c["amsgrad"]:
            vh = self.s["velocity_hat"][i]
            vh[...] = np.maximum(vh, v)
            vv = vh
        w -= lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (np.sqrt(vv) + self.c["epsilon"])

    def _RMSprop(self, i, w, g, lr, t):
        rho, c = self.c["rho"], self.c
        v = self.s["velocity"][i]
        v[...] = rho * v + (1 - rho) * g * g
        if c["centered"]:
            a = self.s["average_gradient"][i]
            a[...] = rho * a + (1 - rho) * g
            d = v - a * a + c["epsilon"]
        else:
            d = v + c["epsilon"]
        inc = lr * g / np.sqrt(d)
        if c["momentum"] > 0:
            mom = self.s["momentum"][i]
            mom[...] = c["momentum"] * mom + inc
            inc = mom
        w -= inc

    def _Adagrad(self, i, w, g, lr, t):
        acc = self.s["accumulator"][i]
        acc += g * g
        w -= lr * g / np.sqrt(acc + self.c["epsilon"])

    def _Adamax(self, i, w, g, lr, t):
        b1, b2 = self.c["beta_1"], self.c["beta_2"]
        m, u = self.s["momentum"][i], self.s["norm"][i]
        m += (g - m) * (1 - b1)
        u[...] = np.maximum(b2 * u, np.abs(g))
        w -= lr * m / ((1 - b1 ** t) * (u + self.c["epsilon"]))

    def _Nadam(self, i, w, g, lr, t):
        b1, b2 = self.c["beta_1"], self.c["beta_2"]
        m, v = self.s["momentum"][i], self.s["velocity"][i]
        m += (g - m) * (1 - b1)
        v += (g * g - v) * (1 - b2)
        m_hat = self.u_t1 * m / (1 - self.prod * self.u_t1) + (1 - self.u_t) * g / (1 - self.prod)
        w -= lr * m_hat / (np.sqrt(v / (1 - b2 ** t)) + self.c["epsilon"])

    def _Lion(self, i, w, g, lr, t):
        b1, b2 = self.c["beta_1"], self.c["beta_2"]
        m = self.s["momentum"][i]
        w -= lr * np.sign(b1 * m + (1 - b1) * g)
        m[...] = b2 * m + (1 - b2) * g


CASES = [
    ("SGD", {}), ("SGD", {"momentum": 0.9}), ("SGD", {"momentum": 0.9, "nesterov": True}),
    ("SGD", {"weight_decay": 1e-4}),  # ERRORS.md row 33
    ("SGD", {"learning_rate": 0.05, "momentum": 0.5, "weight_decay": 0.1, "clipvalue": 0.5}),
    ("Adam", {}), ("Adam", {"learning_rate": 0.05, "amsgrad": True}),
    ("Adam", {"learning_rate": 0.05, "clipnorm": 1.0}), ("Adam", {"learning_rate": 0.05, "global_clipnorm": 2.0}),
    ("AdamW", {}), ("AdamW", {"learning_rate": 0.05, "weight_decay": 0.1, "amsgrad": True}),
    ("RMSprop", {}), ("RMSprop", {"learning_rate": 0.01, "momentum": 0.5}),
    ("RMSprop", {"learning_rate": 0.01, "centered": True}),
    ("RMSprop", {"learning_rate": 0.01, "rho": 0.8, "momentum": 0.3, "centered": True, "global_clipnorm": 1.5}),
    ("Adagrad", {}), ("Adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.5, "epsilon": 1e-3}),
    ("Adamax", {}), ("Adamax", {"learning_rate": 0.05, "beta_2": 0.9, "weight_decay": 0.05}),
    ("Nadam", {}), ("Nadam", {"learning_rate": 0.05, "beta_1": 0.8, "clipnorm": 0.5}),
    ("Lion", {}), ("Lion", {"learning_rate": 0.01, "beta_1": 0.7, "weight_decay": 0.2}),
]


def run(name, kwargs, steps=6, exclude=None, lr_of=None):
    """Runs the optimizer and the reference side by side; returns (optimizer, variables, reference)."""
    rng = np.random.default_rng(zlib.crc32(f"{name}{sorted(kwargs.items())}".encode()))
    variables = [ckeras.Variable(rng.normal(size=shape).astype(np.float32), name=n) for n, (shape, _) in SHAPES.items()]
    opt = getattr(optimizers, name)(**kwargs)
    if exclude:
        opt.exclude_from_weight_decay(**exclude)
    patterns = (exclude or {}).get("var_names", [])
    decay = [not any(re.search(p, n) for p in patterns) for n in SHAPES]
    ref = Reference(name, {**DEFAULTS[name], **kwargs}, [np.asarray(v) for v in variables], decay)
    ref.w0 = [w.copy() for w in ref.w]
    lr = kwargs.get("learning_rate", DEFAULTS[name]["learning_rate"])
    for t in range(steps):
        grads = [(rng.normal(size=shape) * scale).astype(np.float32) for shape, scale in SHAPES.values()]
        opt.apply(grads, variables)
        ref.step(grads, lr_of(t) if lr_of else lr)
    return opt, variables, ref


def check(opt, variables, ref):
    # Compare the change of each variable, so that a small learning rate cannot hide a wrong update.
    for v, w_ref, w0 in zip(variables, ref.w, ref.w0):
        np.testing.assert_allclose(np.asarray(v).astype(np.float64) - w0, w_ref - w0, rtol=1e-4, atol=1e-6,
                                   err_msg=v.name)


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_matches_keras_reference(name, kwargs):
    opt, variables, ref = run(name, kwargs)
    check(opt, variables, ref)
    assert int(opt.iterations) == 6
    # Optimizer variables: iteration, learning_rate, then the slots in Keras's order (+ Nadam's u_product).
    c = {**DEFAULTS[name], **kwargs}
    order = keras_slot_order(name, c)
    names = [v.name for v in opt.variables]
    assert names[:2] == ["iteration", "learning_rate"]
    slot_vars = opt.variables[2:2 + len(order)]
    assert [v.name for v in slot_vars] == [f"{list(SHAPES)[i]}_{slot}" for slot, i in order]
    for v, (slot, i) in zip(slot_vars, order):
        np.testing.assert_allclose(np.asarray(v), ref.s[slot][i], rtol=1e-4, atol=1e-7, err_msg=v.name)
    if name == "Nadam":
        assert names[-1] == "u_product" and len(names) == 2 + len(order) + 1
        np.testing.assert_allclose(float(np.asarray(opt.variables[-1])), ref.u_product, rtol=1e-6)
    else:
        assert len(names) == 2 + len(order)


@pytest.mark.parametrize("exclude", [{"var_names": ["bias", "scal"]}])
@pytest.mark.parametrize("name", ["AdamW", "SGD"])
def test_weight_decay_exclusion_by_name(name, exclude):
    kwargs = {"learning_rate": 0.05, "weight_decay": 0.2}
    opt, variables, ref = run(name, kwargs, exclude=exclude)
    check(opt, variables, ref)


def test_weight_decay_exclusion_by_variable():
    a = ckeras.Variable(np.ones(3, np.float32), name="a")
    b = ckeras.Variable(np.ones(3, np.float32), name="b")
    opt = optimizers.SGD(learning_rate=0.5, weight_decay=0.1)
    opt.exclude_from_weight_decay(var_list=[b])
    zero = np.zeros(3, np.float32)
    opt.apply([zero, zero], [a, b])
    np.testing.assert_allclose(np.asarray(a), 1 - 0.1 * 0.5)
    np.testing.assert_array_equal(np.asarray(b), np.ones(3))
    with pytest.raises(ValueError, match="before the optimizer is built"):
        opt.exclude_from_weight_decay(var_names=["a"])


@pytest.mark.parametrize("name,kwargs", [("SGD", {"momentum": 0.9}), ("AdamW", {"weight_decay": 0.1}),
                                         ("Nadam", {})])
def test_learning_rate_schedule_callable(name, kwargs):
    schedule = lambda iteration: 0.1 * 0.5 ** iteration  # noqa: E731  (called with the iteration)
    opt, variables, ref = run(name, {**kwargs, "learning_rate": schedule}, lr_of=schedule)
    check(opt, variables, ref)
    assert "learning_rate" not in [v.name for v in opt.variables]
    assert opt.learning_rate == pytest.approx(0.1 * 0.5 ** 6)


def test_zero_argument_learning_rate_callable():
    opt, variables, ref = run("Adam", {"learning_rate": lambda: 0.02}, lr_of=lambda t: 0.02)
    check(opt, variables, ref)


def test_one_engine_call_per_apply(monkeypatch):
    from ckeras import _core
    calls = []
    real = _core.optimizer_apply

    def spy(step, clip, params, grads, slots, decay):
        calls.append(len(params))
        return real(step, clip, params, grads, slots, decay)
    monkeypatch.setattr(_core, "optimizer_apply", spy)
    opt, _, _ = run("Adam", {"amsgrad": True}, steps=3)
    assert calls == [len(SHAPES)] * 3


def test_gradient_tape_training_loop():
    # Fit y = 3x - 1 with a Dense-like pair of variables: loss must fall below 1e-3.
    x = np.linspace(-1, 1, 32, dtype=np.float32).reshape(-1, 1)
    y = 3 * x - 1
    w = ckeras.Variable(np.zeros((1, 1), np.float32), name="w")
    b = ckeras.Variable(np.zeros((1,), np.float32), name="b")
    opt = optimizers.get("adam")
    opt.learning_rate = 0.1
    for _ in range(200):
        with ckeras.GradientTape() as tape:
            loss = ckeras.ops.mean(ckeras.ops.square(ckeras.ops.matmul(x, w) + b - y))
        opt.apply_gradients(zip(tape.gradient(loss, [w, b]), [w, b]))
    assert float(loss) < 1e-3
    assert int(opt.iterations) == 200
