"""`ckeras.utils`: to_categorical, normalize, set_random_seed, and the guarded re-exports."""
import random

import numpy as np
import pytest

import ckeras
from ckeras import ops, utils


def test_to_categorical_matches_keras_example():
    out = utils.to_categorical([0, 1, 2, 3], num_classes=4)
    np.testing.assert_array_equal(out, np.eye(4))
    assert isinstance(out, np.ndarray) and out.dtype == np.float64  # Keras returns np.zeros' float64


def test_to_categorical_shapes_and_inferred_classes():
    assert utils.to_categorical(np.array([[1], [2], [0]])).shape == (3, 3)  # trailing 1 squeezed
    out = utils.to_categorical(np.array([[0, 2], [1, 1]]), num_classes=5)
    assert out.shape == (2, 2, 5)
    np.testing.assert_array_equal(out.argmax(-1), [[0, 2], [1, 1]])
    assert utils.to_categorical(np.array([3.0, 1.0])).shape == (2, 4)  # integral floats are fine
    assert utils.to_categorical(np.zeros((0,), np.int64), num_classes=3).shape == (0, 3)
    assert utils.to_categorical(np.uint8(4), num_classes=6).shape == (6,)


@pytest.mark.parametrize("labels", [[0, 10], [-1, 2]])
def test_to_categorical_rejects_out_of_range_labels(labels):
    with pytest.raises(ValueError, match=r"label value of -?1?0?.*valid range of \[0, 10\)"):
        utils.to_categorical(labels, num_classes=10)


def test_to_categorical_rejects_non_integers():
    with pytest.raises(ValueError, match="integer class indices"):
        utils.to_categorical([0.5, 1.0])


def test_to_categorical_on_a_tensor_gives_a_tensor():
    out = utils.to_categorical(ops.convert_to_tensor(np.array([2, 0], np.int32)), num_classes=3)
    assert isinstance(out, ckeras.Tensor)
    np.testing.assert_array_equal(np.asarray(out), [[0, 0, 1], [1, 0, 0]])


def test_normalize_numpy_l2_and_l1():
    x = np.array([[3.0, 4.0], [0.0, 0.0], [1.0, -1.0]])
    np.testing.assert_allclose(utils.normalize(x), [[0.6, 0.8], [0, 0], [2 ** -0.5, -(2 ** -0.5)]])
    np.testing.assert_allclose(utils.normalize(x, order=1)[0], [3 / 7, 4 / 7])
    np.testing.assert_allclose(utils.normalize(x, axis=0)[:, 0], x[:, 0] / np.sqrt(10))


@pytest.mark.parametrize("order", [1, 2, 3])
def test_normalize_tensor_matches_numpy(order, rng):
    x = rng.standard_normal((4, 5)).astype(np.float32)
    x[1] = 0
    out = utils.normalize(ops.convert_to_tensor(x), axis=-1, order=order)
    assert isinstance(out, ckeras.Tensor)
    np.testing.assert_allclose(np.asarray(out), utils.normalize(x.astype(np.float64), order=order),
                               rtol=1e-5, atol=1e-6)


def test_set_random_seed_seeds_python_numpy_and_ckeras():
    utils.set_random_seed(1234)
    a = (random.random(), np.random.rand(), np.asarray(ckeras.random.normal((4,))))
    utils.set_random_seed(1234)
    b = (random.random(), np.random.rand(), np.asarray(ckeras.random.normal((4,))))
    assert a[0] == b[0] and a[1] == b[1]
    np.testing.assert_array_equal(a[2], b[2])
    utils.set_random_seed(1235)
    assert not np.array_equal(a[2], np.asarray(ckeras.random.normal((4,))))
    utils.set_random_seed(2 ** 40)  # larger than NumPy's legacy 32-bit seeds: still accepted


@pytest.mark.parametrize("bad", [1.5, "3", None, True, -1])
def test_set_random_seed_rejects_non_integers(bad):
    with pytest.raises(ValueError, match="seed"):
        utils.set_random_seed(bad)


def test_utils_exports():
    for name in ["get_file", "to_categorical", "normalize", "set_random_seed"]:
        assert callable(getattr(utils, name)) and name in utils.__all__
    import importlib.util
    if importlib.util.find_spec("ckeras.utils.progbar") is not None:
        assert "Progbar" in utils.__all__
    if importlib.util.find_spec("ckeras.trainers") is not None and \
            importlib.util.find_spec("ckeras.trainers.py_dataset") is not None:
        assert "PyDataset" in utils.__all__


def test_clear_session_restarts_layer_names():
    import ckeras
    ckeras.layers.Dense(2)
    ckeras.utils.clear_session()
    assert ckeras.layers.Dense(2).name == "dense"
    ckeras.backend.clear_session()
    assert ckeras.layers.Dense(2).name == "dense"
