"""`import ckeras as tf`: TensorFlow's top-level functions, `tf.math`, `tf.nn`, `tf.random`, dtypes,
`tf.keras`, with TF's argument names and defaults, checked against NumPy."""
import numpy as np
import pytest

import ckeras
from ckeras import _compat

tf = _compat.install(ckeras)


def np_of(t):
    return np.asarray(t)


A = np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]], np.float32)


def test_keras_alias_and_namespaces():
    assert tf.keras is tf and tf.keras.ops is ckeras.ops
    assert tf.keras.utils.to_categorical is ckeras.utils.to_categorical
    assert tf.keras.datasets.digits is ckeras.datasets.digits
    import importlib
    assert importlib.import_module("ckeras.math").reduce_sum is tf.reduce_sum
    assert importlib.import_module("ckeras.nn").relu is tf.nn.relu
    assert tf.Variable is ckeras.Variable and tf.GradientTape is ckeras.GradientTape


def test_dtype_names():
    assert tf.float32 == "float32" and tf.int64 == "int64" and tf.bool == "bool"
    assert tf.float64.as_numpy_dtype is np.float64 and tf.int32.is_integer and tf.float32.is_floating
    assert repr(tf.float32) == "tf.float32" and tf.float32.name == "float32"
    assert tf.constant([1.0]).dtype == tf.float32
    assert tf.dtypes.as_dtype(np.int32) == tf.int32
    with pytest.raises(ValueError, match="unsupported dtype 'complex64'"):
        tf.dtypes.as_dtype(np.complex64)


def test_constant_dtypes_and_shapes():
    assert tf.constant(1.5).dtype == "float32" and tf.constant(2).dtype == "int32"
    assert tf.constant(np.zeros(2)).dtype == "float64"
    assert tf.constant([1, 2], dtype=tf.float32).dtype == "float32"
    np.testing.assert_array_equal(np_of(tf.constant(7.0, shape=(2, 3))), np.full((2, 3), 7.0))
    np.testing.assert_array_equal(np_of(tf.constant([1, 2, 3, 4], shape=[2, 2])), [[1, 2], [3, 4]])
    with pytest.raises(TypeError, match="unsupported shape"):
        tf.constant([1, 2, 3], shape=(2, 2))
    assert tf.convert_to_tensor([1, 2], dtype_hint=tf.float32).dtype == "float32"
    assert tf.convert_to_tensor(np.array([1, 2]), dtype_hint=tf.float32).dtype == "int64"


def test_matmul_with_transposes():
    b = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_allclose(np_of(tf.matmul(A, b, transpose_b=True)), A @ b.T)
    np.testing.assert_allclose(np_of(tf.matmul(A, b, transpose_a=True)), A.T @ b)
    batch = np.ones((4, 2, 3), np.float32)
    assert np_of(tf.matmul(batch, batch, adjoint_b=True)).shape == (4, 2, 2)


@pytest.mark.parametrize("tf_name,np_fn", [("reduce_sum", np.sum), ("reduce_mean", np.mean),
                                           ("reduce_max", np.max), ("reduce_min", np.min),
                                           ("reduce_prod", np.prod), ("reduce_std", np.std),
                                           ("reduce_variance", np.var)])
@pytest.mark.parametrize("axis", [None, 0, 1, -1, [0, 1]])
def test_reductions_match_numpy(tf_name, np_fn, axis):
    fn = getattr(tf, tf_name)
    np_axis = tuple(axis) if isinstance(axis, list) else axis
    np.testing.assert_allclose(np_of(fn(A, axis=axis)), np_fn(A, axis=np_axis), rtol=1e-6)
    np.testing.assert_allclose(np_of(fn(A, axis=axis, keepdims=True, name="r")),
                               np_fn(A, axis=np_axis, keepdims=True), rtol=1e-6)
    assert getattr(tf.math, tf_name) is fn


def test_reduce_mean_of_ints_truncates_like_tf():
    out = tf.reduce_mean(tf.constant([1, 0, 1, 0]))
    assert out.dtype == "int32" and int(np_of(out)) == 0
    assert np_of(tf.reduce_mean(tf.constant([[3, 4], [-3, -4]]), axis=1)).tolist() == [3, -3]


def test_reduce_all_any_logsumexp():
    b = np.array([[True, False], [True, True]])
    assert np_of(tf.reduce_all(b, axis=1)).tolist() == [False, True]
    assert np_of(tf.reduce_any(b, axis=0)).tolist() == [True, True]
    np.testing.assert_allclose(np_of(tf.reduce_logsumexp(A, axis=1)),
                               np.log(np.exp(A.astype(np.float64)).sum(1)), rtol=1e-6)


def test_argmax_defaults_to_axis_0_and_int64():
    out = tf.argmax(A)
    assert out.dtype == "int64" and np_of(out).tolist() == [0, 1, 0]
    assert np_of(tf.math.argmax(A, axis=1, output_type=tf.int32)).tolist() == [2, 1]
    assert tf.math.argmax(A, axis=1, output_type=tf.int32).dtype == "int32"
    assert np_of(tf.argmin(A, axis=-1)).tolist() == [1, 2]


def test_elementwise_top_level_and_math():
    np.testing.assert_allclose(np_of(tf.add(A, 1.0)), A + 1)
    np.testing.assert_allclose(np_of(tf.subtract(x=A, y=A)), 0 * A)
    np.testing.assert_allclose(np_of(tf.multiply(A, 2)), A * 2)
    np.testing.assert_allclose(np_of(tf.divide(A, 2.0)), A / 2)
    np.testing.assert_allclose(np_of(tf.square(A)), A ** 2)
    np.testing.assert_allclose(np_of(tf.sqrt(np.abs(A))), np.sqrt(np.abs(A)), rtol=1e-6)
    np.testing.assert_allclose(np_of(tf.exp(A)), np.exp(A), rtol=1e-6)
    np.testing.assert_allclose(np_of(tf.math.log(np.abs(A))), np.log(np.abs(A)), rtol=1e-6)
    np.testing.assert_allclose(np_of(tf.math.pow(np.abs(A), 2.0)), np.abs(A) ** 2, rtol=1e-6)
    np.testing.assert_array_equal(np_of(tf.math.is_nan(np.array([1.0, np.nan]))), [False, True])
    np.testing.assert_allclose(np_of(tf.add_n([A, A, A])), 3 * A)


def test_shape_functions():
    np.testing.assert_array_equal(np_of(tf.reshape(A, [3, 2])), A.reshape(3, 2))
    np.testing.assert_array_equal(np_of(tf.reshape(A, tf.constant([-1]))), A.reshape(-1))
    np.testing.assert_array_equal(np_of(tf.transpose(A)), A.T)
    x3 = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    np.testing.assert_array_equal(np_of(tf.transpose(x3, perm=[2, 0, 1])), x3.transpose(2, 0, 1))
    np.testing.assert_array_equal(np_of(tf.concat([A, A], axis=0)), np.concatenate([A, A]))
    np.testing.assert_array_equal(np_of(tf.stack([A, A], axis=1)), np.stack([A, A], axis=1))
    assert [np_of(p).shape for p in tf.split(x3, [1, -1], axis=2)] == [(2, 3, 1), (2, 3, 3)]
    assert [np_of(p).shape for p in tf.split(x3, 2, axis=2)] == [(2, 3, 2), (2, 3, 2)]
    with pytest.raises(ValueError, match="do not add up"):
        tf.split(x3, [1, 1], axis=2)
    assert np_of(tf.expand_dims(A, 0)).shape == (1, 2, 3)
    assert np_of(tf.squeeze(np.ones((1, 3, 1)), axis=[0])).shape == (3, 1)
    assert np_of(tf.shape(A)).tolist() == [2, 3] and tf.shape(A).dtype == "int32"
    assert int(np_of(tf.size(A))) == 6 and int(np_of(tf.rank(A))) == 2
    np.testing.assert_array_equal(np_of(tf.gather(A, [1, 0])), A[[1, 0]])
    np.testing.assert_array_equal(np_of(tf.gather(A, [2], axis=1)), A[:, [2]])


def test_creation_functions():
    assert tf.zeros((2, 3)).dtype == "float32" and np_of(tf.ones([2], dtype=tf.int32)).tolist() == [1, 1]
    assert tf.zeros_like(A, dtype=tf.int64).dtype == "int64"
    np.testing.assert_array_equal(np_of(tf.fill([2, 2], 9)), np.full((2, 2), 9))
    assert tf.range(5).dtype == "int32" and np_of(tf.range(1, 7, 2)).tolist() == [1, 3, 5]
    assert tf.range(0.0, 1.0, 0.25).dtype == "float32"
    oh = tf.one_hot([0, 2], depth=3, on_value=5.0, off_value=-1.0)
    np.testing.assert_array_equal(np_of(oh), [[5, -1, -1], [-1, -1, 5]])
    np.testing.assert_array_equal(np_of(tf.clip_by_value(A, -1.0, 1.0)), np.clip(A, -1, 1))
    np.testing.assert_array_equal(np_of(tf.where(A > 0, A, 0.0)), np.where(A > 0, A, 0))
    np.testing.assert_array_equal(np_of(tf.where([True, False, True])), [[0], [2]])
    assert tf.cast(A, tf.int32).dtype == "int32" and np_of(tf.cast(A, "int32"))[0, 1] == -2


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_nn_activations():
    np.testing.assert_allclose(np_of(tf.nn.relu(A)), np.maximum(A, 0))
    np.testing.assert_allclose(np_of(tf.nn.sigmoid(A)), 1 / (1 + np.exp(-A)), rtol=1e-6)
    np.testing.assert_allclose(np_of(tf.nn.tanh(A)), np.tanh(A), rtol=1e-6)
    np.testing.assert_allclose(np_of(tf.nn.softmax(A)), _softmax(A), rtol=1e-6)
    np.testing.assert_allclose(np_of(tf.nn.log_softmax(A, axis=0)), np.log(_softmax(A.T)).T, rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(np_of(tf.nn.leaky_relu(A)), np.where(A > 0, A, 0.2 * A), rtol=1e-6)
    from math import erf
    exact = np.array([[0.5 * v * (1 + erf(v / 2 ** 0.5)) for v in row] for row in A])
    np.testing.assert_allclose(np_of(tf.nn.gelu(A)), exact, rtol=1e-5, atol=1e-6)  # TF: exact default
    np.testing.assert_allclose(np_of(tf.nn.silu(A, beta=2.0)), A / (1 + np.exp(-2 * A)), rtol=1e-5)


def test_nn_losses_match_formulas():
    labels = np.array([[0, 1, 0], [1, 0, 0]], np.float32)
    expected = -(labels * np.log(_softmax(A))).sum(-1)
    np.testing.assert_allclose(np_of(tf.nn.softmax_cross_entropy_with_logits(labels, A)), expected, rtol=1e-5)
    np.testing.assert_allclose(
        np_of(tf.nn.sparse_softmax_cross_entropy_with_logits(np.array([1, 0]), A)), expected, rtol=1e-5)
    z = (A > 0).astype(np.float32)
    bce = np.maximum(A, 0) - A * z + np.log1p(np.exp(-np.abs(A)))
    np.testing.assert_allclose(np_of(tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=A)), bce,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(float(np_of(tf.nn.l2_loss(A))), (A ** 2).sum() / 2, rtol=1e-6)
    n = np_of(tf.nn.l2_normalize(A, axis=1))
    np.testing.assert_allclose(n, A / np.linalg.norm(A, axis=1, keepdims=True), rtol=1e-5)
    mean, var = tf.nn.moments(A, axes=[0])
    np.testing.assert_allclose(np_of(mean), A.mean(0), rtol=1e-6)
    np.testing.assert_allclose(np_of(var), A.var(0), rtol=1e-5)
    np.testing.assert_allclose(np_of(tf.nn.bias_add(A, [1.0, 2.0, 3.0])), A + [1, 2, 3])


def test_nn_dropout_always_applies():
    x = np.ones((1000,), np.float32)
    out = np_of(tf.nn.dropout(x, rate=0.5, seed=1))
    assert set(np.unique(out)) <= {0.0, 2.0} and 300 < (out == 0).sum() < 700
    with pytest.raises(ValueError, match="rate"):
        tf.nn.dropout(x, rate=1.0)


def test_random_tf_signatures():
    a = tf.random.normal((3,), 0.0, 1.0, tf.float32, 5, name="n")
    np.testing.assert_array_equal(np_of(a), np_of(ckeras.random.normal((3,), seed=5)))
    u = np_of(tf.random.uniform((1000,), seed=2))
    assert u.dtype == np.float32 and 0 <= u.min() and u.max() < 1
    ints = np_of(tf.random.uniform((2000,), minval=-3, maxval=4, dtype=tf.int32, seed=3))
    assert ints.dtype == np.int32 and set(np.unique(ints)) == set(range(-3, 4))
    with pytest.raises(ValueError, match="maxval"):
        tf.random.uniform((2,), dtype=tf.int64)
    assert np_of(tf.random.truncated_normal((100,), stddev=0.5, seed=1)).max() <= 1.0
    tf.random.set_seed(11)
    first = np_of(tf.random.normal((4,)))
    tf.random.set_seed(11)
    np.testing.assert_array_equal(first, np_of(tf.random.normal((4,))))


def test_keras_random_calls_unchanged():
    np.testing.assert_array_equal(np_of(ckeras.random.uniform((5,), 0.0, 2.0, "float64", 9)),
                                  np_of(ckeras.random.uniform((5,), minval=0.0, maxval=2.0, dtype="float64",
                                                              seed=9)))


def test_function_and_eager_helpers(capsys):
    @tf.function
    def f(x):
        return x * 2

    @tf.function(jit_compile=True)
    def g(x):
        return x + 1

    assert f(3) == 6 and g(3) == 4 and tf.executing_eagerly() and tf.newaxis is None
    tf.print(tf.constant([1, 2]), "done")
    assert capsys.readouterr().out == "[1 2] done\n"


def test_variable_and_gradient_tape_tf_style():
    w = tf.Variable(tf.constant([[1.0], [2.0]]))
    x = tf.constant([[3.0, 4.0]])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.square(tf.matmul(x, w)))
    grad = tape.gradient(y, w)
    np.testing.assert_allclose(np_of(grad), [[66.0], [88.0]])  # 2 * (x @ w) * x.T, x @ w = 11


def test_backend_module_gets_keras_config_names():
    assert ckeras.backend.floatx() == "float32" and ckeras.backend.epsilon() == 1e-7


def test_tf_style_training_on_upscaled_digits():
    """The article's 784-wide softmax layer, written in TF style, learns the shipped digits offline."""
    (x, y), (x_test, y_test) = tf.keras.datasets.digits.load_data(upscale=True)
    x = x.reshape(-1, 784).astype("float32") / 255
    x_test = x_test.reshape(-1, 784).astype("float32") / 255
    labels = tf.keras.utils.to_categorical(y, 10).astype("float32")
    tf.keras.utils.set_random_seed(0)
    w = tf.Variable(tf.random.normal((784, 10), stddev=0.01))
    b = tf.Variable(tf.zeros((10,)))
    for _ in range(60):
        with tf.GradientTape() as tape:
            logits = tf.matmul(x, w) + b
            loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels, logits))
        grad_w, grad_b = tape.gradient(loss, [w, b])
        w.assign(w - 0.5 * grad_w)
        b.assign(b - 0.5 * grad_b)
    accuracy = (np_of(tf.argmax(tf.matmul(x_test, w) + b, axis=1)) == y_test).mean()
    assert float(np_of(loss)) < 0.3 and accuracy > 0.9


def test_tf_keras_module_paths_import():
    import importlib
    keras = importlib.import_module("ckeras.keras")
    import ckeras
    assert keras is ckeras
    from ckeras.keras.layers import Dense
    from ckeras.keras import optimizers
    from ckeras.keras.models import Sequential
    assert Dense is ckeras.layers.Dense and optimizers is ckeras.optimizers
    assert Sequential is ckeras.Sequential
