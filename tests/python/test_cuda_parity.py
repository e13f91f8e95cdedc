"""Every public op on the GPU against the same op on the CPU: forward values and gradients, odd sizes,
zero-size, broadcasting and strided (transposed, sliced) inputs.

Runs wherever this process has a GPU: a real one, or the test stand-in (CKERAS_TEST_FAKE_GPU=1, where it
checks the placement plumbing of every op, since the stand-in runs the CPU kernels). Skipped otherwise.
Tolerances: bitwise for data movement, integer and comparison results; a few float32 ulp for
transcendental functions (CUDA's and glibc's libm differ by up to 2 ulp); sums, matmuls and softmax
relative 1e-5 (summation order) and 2e-3 for matmul under TF32 (10-bit mantissas).
"""
import numpy as np
import pytest

import ckeras
from ckeras import _core, ops

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(_core.cuda_device_count() == 0, reason="no GPU in this process")]

RNG = np.random.default_rng(0)
SIZES = [(1,), (7,), (33, 5), (127, 9), (0, 3), (1025,), (3, 1, 4)]


def _both(fn, *arrays):
    """fn on CPU copies and on GPU copies of `arrays`; returns the two results as NumPy arrays."""
    with ckeras.device("cpu"):
        c = fn(*[ops.convert_to_tensor(a) for a in arrays])
    with ckeras.device("gpu:0"):
        g = fn(*[ops.convert_to_tensor(a) for a in arrays])
    assert getattr(g, "device", "cuda:0").startswith("cuda"), g.device
    return np.asarray(c), np.asarray(g)


def _close(c, g, rtol, atol=0.0):
    assert c.shape == g.shape and c.dtype == g.dtype
    if rtol == 0 and atol == 0:
        np.testing.assert_array_equal(g, c)
    else:
        np.testing.assert_allclose(g, c, rtol=rtol, atol=atol, equal_nan=True)


UNARY = {"abs": 0, "negative": 0, "square": 1e-7, "sqrt": 1e-7, "exp": 3e-7, "log": 3e-7, "log1p": 3e-7,
         "sign": 0, "relu": 0, "relu6": 0, "sigmoid": 3e-7, "tanh": 3e-7, "softplus": 3e-7, "softsign": 3e-7,
         "silu": 3e-7, "gelu": 3e-7, "elu": 3e-7, "selu": 3e-7, "hard_sigmoid": 1e-7, "leaky_relu": 0}


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("shape", SIZES)
def test_unary(name, shape):
    fn = getattr(ops, name, None) or getattr(ckeras.activations, name)
    x = RNG.uniform(0.1 if name in ("sqrt", "log") else -4, 4, size=shape).astype(np.float32)
    c, g = _both(fn, x)
    _close(c, g, UNARY[name], 1e-7 if UNARY[name] else 0)


BINARY = ["add", "subtract", "multiply", "divide", "maximum", "minimum", "power", "equal", "less", "greater_equal"]


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("shapes", [((33, 5), (33, 5)), ((33, 5), (5,)), ((7, 1, 4), (1, 3, 1)), ((0, 3), (3,)),
                                    ((1025,), ())])
def test_binary_broadcasting(name, shapes):
    a = RNG.uniform(0.5, 2, size=shapes[0]).astype(np.float32)
    b = RNG.uniform(0.5, 2, size=shapes[1]).astype(np.float32)
    c, g = _both(getattr(ops, name), a, b)
    _close(c, g, 3e-7 if name == "power" else 0)


def test_integer_and_strided_inputs():
    a = RNG.integers(-50, 50, size=(31, 17)).astype(np.int64)
    c, g = _both(lambda x: ops.transpose(x)[::2, 3:] * 3 - 1, a)
    _close(c, g, 0)
    c, g = _both(lambda x: ops.cast(ops.transpose(x)[1::3], "float32"), a)
    _close(c, g, 0)
    c, g = _both(lambda x: ops.where(x > 0, x, -x), a)
    _close(c, g, 0)


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "prod", "var", "std", "logsumexp", "argmax", "argmin"])
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 2)])
def test_reductions(name, axis):
    if name in ("argmax", "argmin") and isinstance(axis, tuple):
        pytest.skip("argmax takes one axis")
    x = RNG.uniform(0.5, 1.5, size=(37, 65, 3)).astype(np.float32)
    c, g = _both(lambda t: getattr(ops, name)(t, axis=axis), x)
    _close(c, g, 0 if name in ("max", "min", "argmax", "argmin") else 1e-5, 0)


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax_and_log_softmax(axis):
    x = RNG.normal(size=(65, 33, 4)).astype(np.float32) * 5
    for fn in (ops.softmax, ops.log_softmax):
        c, g = _both(lambda t: fn(t, axis=axis), x)
        _close(c, g, 1e-5, 1e-7)


@pytest.mark.parametrize("tf32", [False, True])
@pytest.mark.parametrize("shapes", [((32, 784), (784, 128)), ((7, 33), (33, 127)), ((2, 5, 9), (9, 4)),
                                    ((1, 1), (1, 1)), ((0, 5), (5, 3))])
def test_matmul(shapes, tf32):
    a, b = (RNG.normal(size=s).astype(np.float32) for s in shapes)
    before = ckeras.config.tensor_float_32_execution_enabled()
    ckeras.config.enable_tensor_float_32_execution(tf32)
    try:
        c, g = _both(ops.matmul, a, b)
    finally:
        ckeras.config.enable_tensor_float_32_execution(before)
    scale = np.abs(a).max(initial=0) * np.abs(b).max(initial=0) * shapes[0][-1]
    _close(c, g, 0, (2e-3 if tf32 else 1e-5) * max(scale, 1.0))


def test_shape_ops_and_gather():
    x = RNG.normal(size=(6, 5, 4)).astype(np.float32)
    idx = np.array([3, 0, -1, 2])
    for fn in (lambda t: ops.concatenate([t, t[:, :2]], axis=1), lambda t: ops.stack([t, t], axis=2),
               lambda t: ops.take(t, ops.convert_to_tensor(idx), axis=1), lambda t: ops.reshape(t, (-1, 4))[::3],
               lambda t: ops.one_hot(ops.argmax(t, axis=-1), 4), lambda t: ops.split(t, [1, 3], axis=2)[1]):
        c, g = _both(fn, x)
        _close(c, g, 0)


@pytest.mark.parametrize("loss", ["categorical_crossentropy", "sparse_categorical_crossentropy",
                                  "binary_crossentropy", "mean_squared_error", "mean_absolute_error"])
@pytest.mark.parametrize("from_logits", [False, True])
def test_losses_and_their_gradients(loss, from_logits):
    if loss.startswith("mean") and from_logits:
        pytest.skip("no logits form")
    z = RNG.normal(size=(33, 10)).astype(np.float32)
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True) if not from_logits else z
    if loss == "binary_crossentropy" and not from_logits:
        p = 1 / (1 + np.exp(-z))
    y = (RNG.integers(0, 10, 33) if loss.startswith("sparse") else
         (RNG.random((33, 10)) > 0.5).astype(np.float32) if loss.startswith("binary") else
         np.eye(10, dtype=np.float32)[RNG.integers(0, 10, 33)])
    kwargs = {"from_logits": from_logits} if not loss.startswith("mean") else {}
    fn = getattr(ckeras.losses, loss)

    def value_and_grad(yt, pt):
        with ckeras.GradientTape() as tape:
            tape.watch(pt)
            out = ops.sum(fn(yt, pt, **kwargs))
        return ops.stack([ops.reshape(out, (1,))[0]] + [ops.sum(tape.gradient(out, pt))])

    c, g = _both(value_and_grad, y, p)
    _close(c, g, 1e-5, 1e-6)


def test_dropout_and_random_are_the_same_stream():
    x = np.ones((513, 7), np.float32)
    c, g = _both(lambda t: ckeras.random.dropout(t, 0.4, seed=99), x)
    _close(c == 0, g == 0, 0)
    c, g = _both(lambda t: ckeras.random.uniform((1000,), seed=5) + t[0, 0] * 0, x)
    _close(c, g, 0)


@pytest.mark.parametrize("name", ["adam", "adamw", "sgd", "rmsprop", "adagrad", "adamax", "nadam", "lion"])
def test_optimizer_steps(name):
    w0 = RNG.normal(size=(37, 5)).astype(np.float32)
    grads = [RNG.normal(size=(37, 5)).astype(np.float32) for _ in range(3)]

    def run(_):
        v = ckeras.Variable(w0)
        opt = ckeras.optimizers.get(name)
        for gr in grads:
            opt.apply_gradients([(ops.convert_to_tensor(gr), v)])
        return v.value

    c, g = _both(run, w0)
    _close(c, g, 1e-6, 1e-7)
