"""Tests for ckeras.random: the Philox mapping against a pure-Python Philox4x32-10, determinism,
SeedGenerator advancing, the global seed, moments, truncation, and dropout (scaling, noise_shape, gradient)."""
import numpy as np
import pytest

import ckeras
from ckeras import random as kr

M32 = 0xFFFFFFFF


def philox(ctr, key):
    """Philox4x32-10 on Python ints (Salmon et al. 2011): 4-word counter, 2-word key."""
    c0, c1, c2, c3 = ctr
    k0, k1 = key
    for r in range(10):
        if r:
            k0, k1 = (k0 + 0x9E3779B9) & M32, (k1 + 0xBB67AE85) & M32
        p0, p1 = 0xD2511F53 * c0, 0xCD9E8D57 * c2
        c0, c1, c2, c3 = (p1 >> 32) ^ c1 ^ k0, p1 & M32, (p0 >> 32) ^ c3 ^ k1, p0 & M32
    return c0, c1, c2, c3


def unit_f32(seed, index):
    """The float32 uniform of element `index` of stream `seed` (word 0, top 24 bits)."""
    w0 = philox((index & M32, index >> 32, 0, 0), (seed & M32, seed >> 32))[0]
    return np.float32((w0 >> 8) / 16777216.0)


def dropout_unit(seed, index):
    """The dropout coin of element `index`: word index % 4 of draw index // 4, top 24 bits."""
    d = index >> 2
    w = philox((d & M32, d >> 32, 0, 0), (seed & M32, seed >> 32))[index & 3]
    return np.float32((w >> 8) / 16777216.0)


def test_reference_philox_known_answers():
    assert philox((0, 0, 0, 0), (0, 0)) == (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)
    assert philox((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0)) == (
        0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)


def test_uniform_follows_the_philox_mapping():
    # The same numbers on every machine: element i of an int-seeded draw is unit(seed, i) scaled.
    x = np.asarray(kr.uniform((2, 3), minval=-1.0, maxval=3.0, seed=2**40 + 7))
    want = [np.float32(-1.0) + np.float32(4.0) * unit_f32(2**40 + 7, i) for i in range(6)]
    np.testing.assert_array_equal(x.ravel(), np.array(want, np.float32))
    assert x.dtype == np.float32 and x.shape == (2, 3)


def test_int_seed_is_stateless_and_seeds_differ():
    a = np.asarray(kr.normal((50,), seed=3))
    np.testing.assert_array_equal(a, np.asarray(kr.normal((50,), seed=3)))
    assert not np.array_equal(a, np.asarray(kr.normal((50,), seed=4)))
    np.testing.assert_array_equal(np.asarray(kr.uniform(5, seed=np.int64(9))), np.asarray(kr.uniform(5, seed=9)))


def test_seed_generator_advances_and_replays():
    g1, g2 = kr.SeedGenerator(123), kr.SeedGenerator(123)
    first, second = np.asarray(kr.uniform((4,), seed=g1)), np.asarray(kr.uniform((6,), seed=g1))
    assert not np.array_equal(first, second[:4])
    # Each draw consumes the next counter range: the two draws continue one stream of 10 values.
    np.testing.assert_array_equal(np.concatenate([first, second]), np.asarray(kr.uniform((10,), seed=123)))
    np.testing.assert_array_equal(np.asarray(kr.uniform((4,), seed=g2)), first)
    assert kr.SeedGenerator(5).get_config() == {"seed": 5}
    assert int(np.asarray(g1.state)[1]) == 10


def test_seed_argument_errors():
    with pytest.raises(ValueError, match="seed"):
        kr.uniform((2,), seed=1.5)
    with pytest.raises(ValueError, match="seed"):
        kr.SeedGenerator("abc")
    with pytest.raises(ValueError, match="floating point"):
        kr.uniform((2,), dtype="int32")
    with pytest.raises(ValueError, match="shape"):
        kr.normal((2, -1))


def test_global_seed_makes_unseeded_draws_reproducible():
    kr._set_global_seed(77)
    a, b = np.asarray(kr.uniform((8,))), np.asarray(kr.uniform((8,)))
    gen = kr.SeedGenerator()
    c = np.asarray(kr.normal((8,), seed=gen))
    assert not np.array_equal(a, b)
    kr._set_global_seed(77)
    np.testing.assert_array_equal(np.asarray(kr.uniform((8,))), a)
    np.testing.assert_array_equal(np.asarray(kr.uniform((8,))), b)
    np.testing.assert_array_equal(np.asarray(kr.normal((8,), seed=kr.SeedGenerator())), c)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_moments(dtype):
    n = 200_000
    u = np.asarray(kr.uniform((n,), minval=2.0, maxval=5.0, dtype=dtype, seed=1)).astype(np.float64)
    assert str(kr.uniform((1,), dtype=dtype, seed=1).dtype) == dtype
    assert u.min() >= 2.0 and u.max() < 5.0
    assert abs(u.mean() - 3.5) < 0.01 and abs(u.var() - 9 / 12) < 0.01
    z = np.asarray(kr.normal((n,), mean=-1.0, stddev=2.0, dtype=dtype, seed=2)).astype(np.float64)
    assert abs(z.mean() + 1.0) < 0.02 and abs(z.std() - 2.0) < 0.02
    assert abs(np.mean(((z + 1) / 2) ** 4) - 3.0) < 0.1  # Gaussian kurtosis


def test_truncated_normal_range_and_spread():
    t = np.asarray(kr.truncated_normal((100_000,), mean=1.0, stddev=0.5, seed=3)).astype(np.float64)
    assert t.min() >= 0.0 - 1e-6 and t.max() <= 2.0 + 1e-6
    assert abs(t.mean() - 1.0) < 0.01
    # A standard normal truncated to [-2, 2] has standard deviation 0.8796.
    assert abs(t.std() / 0.5 - 0.8796) < 0.01


def test_dropout_scaling_and_rate():
    x = np.arange(1, 20001, dtype=np.float32).reshape(100, 200)
    y = np.asarray(kr.dropout(x, 0.3, seed=11))
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y[kept], x[kept] / np.float32(0.7), rtol=1e-6)
    # The mask is the Philox coin: element i is kept when its unit (dropout_unit) >= rate.
    coins = np.array([dropout_unit(11, i) for i in range(50)])
    np.testing.assert_array_equal(kept.ravel()[:50], coins >= 0.3)


def test_dropout_edge_rates_and_errors():
    x = np.random.default_rng(0).normal(size=(4, 5)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(kr.dropout(x, 0.0, seed=1)), x)  # rate 0: the identity
    np.testing.assert_array_equal(np.asarray(kr.dropout(x, 1.0, seed=1)), np.zeros_like(x))
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="rate"):
            kr.dropout(x, bad)
    with pytest.raises(ValueError):
        kr.dropout(np.ones(3, np.int32), 0.5, seed=1)
    with pytest.raises(ValueError, match="noise_shape"):
        kr.dropout(x, 0.5, noise_shape=(4, 3))
    with pytest.raises(ValueError, match="noise_shape"):
        kr.dropout(x, 0.5, noise_shape=(4,))


def test_dropout_seed_generator_gives_fresh_masks():
    g = kr.SeedGenerator(0)
    x = np.ones((64,), np.float32)
    assert not np.array_equal(np.asarray(kr.dropout(x, 0.5, seed=g)), np.asarray(kr.dropout(x, 0.5, seed=g)))


def test_dropout_noise_shape_broadcasts_one_mask():
    x = np.ones((8, 5, 6), np.float32)
    y = np.asarray(kr.dropout(x, 0.5, noise_shape=(None, 1, 6), seed=4))
    assert y.shape == x.shape
    np.testing.assert_array_equal(y, np.broadcast_to(y[:, :1, :], y.shape))  # same mask at every step
    assert set(np.unique(y)) <= {0.0, 2.0}
    assert 0.3 < (y[:, 0, :] != 0).mean() < 0.7


def test_dropout_gradient_is_the_scaled_mask():
    x = ckeras.Variable(np.random.default_rng(1).normal(size=(6, 7)).astype(np.float32))
    w = np.random.default_rng(2).normal(size=(6, 7)).astype(np.float32)
    for noise_shape in (None, (6, 1)):
        with ckeras.GradientTape() as tape:
            y = kr.dropout(x, 0.25, noise_shape=noise_shape, seed=7)  # a seed that keeps some and drops some
            loss = ckeras.ops.sum(y * w)
        grad = np.asarray(tape.gradient(loss, x))
        mask = (np.asarray(y) != 0) / np.float32(0.75)
        np.testing.assert_allclose(grad, w * mask, rtol=1e-6)
        assert 0 < (mask == 0).sum() < mask.size
