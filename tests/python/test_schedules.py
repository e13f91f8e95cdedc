"""`ckeras.optimizers.schedules` against closed-form values of Keras 3's formulas at several steps, config
round trips, argument checks, and use as an optimizer's `learning_rate`."""
import math

import numpy as np
import pytest

import ckeras
from ckeras.optimizers import schedules

STEPS = [0, 1, 7, 10, 15, 99, 100, 101, 250, 1000]


def _close(schedule, step, expected):  # float32 arithmetic, as Keras (cancellation near cos(pi))
    value = schedule(step)
    assert isinstance(value, ckeras.Tensor) and value.dtype == "float32" and value.shape == ()
    np.testing.assert_allclose(float(value), expected, rtol=2e-6, atol=5e-8, err_msg=f"step {step}")


@pytest.mark.parametrize("staircase", [False, True])
def test_exponential_decay(staircase):
    s = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.9, staircase=staircase)
    for step in STEPS:
        p = step // 10 if staircase else step / 10
        _close(s, step, 0.1 * 0.9 ** p)


@pytest.mark.parametrize("staircase", [False, True])
def test_inverse_time_decay(staircase):
    s = schedules.InverseTimeDecay(0.5, decay_steps=4, decay_rate=0.3, staircase=staircase)
    for step in STEPS:
        p = step // 4 if staircase else step / 4
        _close(s, step, 0.5 / (1 + 0.3 * p))


def test_piecewise_constant_decay():
    s = schedules.PiecewiseConstantDecay([10, 100], [1.0, 0.5, 0.1])
    for step in STEPS:
        _close(s, step, 1.0 if step <= 10 else 0.5 if step <= 100 else 0.1)
    with pytest.raises(ValueError, match="1 less than the length of values"):
        schedules.PiecewiseConstantDecay([10], [1.0])


@pytest.mark.parametrize("power", [1.0, 0.5, 2.0])
@pytest.mark.parametrize("cycle", [False, True])
def test_polynomial_decay(power, cycle):
    s = schedules.PolynomialDecay(0.1, decay_steps=100, end_learning_rate=0.01, power=power, cycle=cycle)
    for step in STEPS:
        if cycle:
            decay_steps = 100 * (1 if step == 0 else math.ceil(step / 100))
            t = step
        else:
            decay_steps, t = 100, min(step, 100)
        _close(s, step, (0.1 - 0.01) * (1 - t / decay_steps) ** power + 0.01)
    assert schedules.PolynomialDecay(0.1, 10).end_learning_rate == 0.0001


@pytest.mark.parametrize("alpha", [0.0, 0.1])
def test_cosine_decay(alpha):
    s = schedules.CosineDecay(0.2, decay_steps=100, alpha=alpha)
    for step in STEPS:
        frac = min(step, 100) / 100
        _close(s, step, 0.2 * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * frac)) + alpha))


def test_cosine_decay_with_warmup():
    s = schedules.CosineDecay(0.0, decay_steps=100, alpha=0.05, warmup_target=0.4, warmup_steps=20)
    for step in STEPS:
        if step < 20:
            expected = 0.4 * step / 20
        else:
            frac = (min(step, 120) - 20) / 100
            expected = 0.4 * (0.95 * 0.5 * (1 + math.cos(math.pi * frac)) + 0.05)
        _close(s, step, expected)


def _sgdr(step, first, t_mul, m_mul, alpha, lr):
    """SGDR by walking the periods (independent of Keras's closed form)."""
    start, length, i = 0.0, float(first), 0
    while step >= start + length:
        start += length
        length *= t_mul
        i += 1
    frac = (step - start) / length
    return lr * ((1 - alpha) * 0.5 * m_mul ** i * (1 + math.cos(math.pi * frac)) + alpha)


@pytest.mark.parametrize("t_mul,m_mul,alpha", [(2.0, 1.0, 0.0), (1.0, 0.5, 0.1), (1.5, 0.8, 0.0)])
def test_cosine_decay_restarts(t_mul, m_mul, alpha):
    s = schedules.CosineDecayRestarts(0.3, first_decay_steps=10, t_mul=t_mul, m_mul=m_mul, alpha=alpha)
    for step in [0, 3, 9, 11, 20, 29, 31, 70, 149, 151]:
        value = float(s(step))
        expected = _sgdr(step, 10, t_mul, m_mul, alpha, 0.3)
        np.testing.assert_allclose(value, expected, rtol=1e-4, atol=1e-6, err_msg=f"step {step}")


ALL = [schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True), schedules.PiecewiseConstantDecay([5], [0.1, 0.01]),
       schedules.PolynomialDecay(0.1, 10, power=2.0, cycle=True), schedules.InverseTimeDecay(0.1, 3, 0.2),
       schedules.CosineDecay(0.1, 50, alpha=0.1, warmup_target=0.2, warmup_steps=5),
       schedules.CosineDecayRestarts(0.1, 7, t_mul=1.5, m_mul=0.9, alpha=0.01)]


@pytest.mark.parametrize("schedule", ALL, ids=[type(s).__name__ for s in ALL])
def test_config_round_trip(schedule):
    clone = type(schedule).from_config(schedule.get_config())
    assert clone.get_config() == schedule.get_config()
    config = schedules.serialize(schedule)
    assert config["class_name"] == type(schedule).__name__ and config["module"] == "keras.optimizers.schedules"
    rebuilt = schedules.deserialize(config)
    for step in (0, 3, 12, 60):
        assert float(rebuilt(step)) == float(schedule(step))
    assert isinstance(schedule, schedules.LearningRateSchedule)


def test_argument_checks_and_base_class():
    for cls in (schedules.ExponentialDecay, schedules.InverseTimeDecay):
        with pytest.raises(ValueError, match="`decay_steps` must be > 0"):
            cls(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="`first_decay_steps` must be > 0"):
        schedules.CosineDecayRestarts(0.1, 0)
    with pytest.raises(NotImplementedError):
        schedules.LearningRateSchedule()(1)
    with pytest.raises(ValueError, match="Could not interpret decay identifier"):
        schedules.deserialize({"class_name": "Nope", "config": {}})
    s = schedules.ExponentialDecay(0.1, 10, 0.5)
    assert float(s(np.int64(10))) == float(s(10)) == float(s(ckeras.ops.convert_to_tensor(10)))


def test_schedule_drives_an_optimizer():
    schedule = schedules.PiecewiseConstantDecay([1, 2], [0.5, 0.25, 0.125])
    opt = ckeras.optimizers.SGD(learning_rate=schedule)
    v = ckeras.Variable(np.zeros(3, np.float32))
    expected = np.zeros(3)
    for step in range(5):
        assert abs(float(opt.learning_rate) - float(schedule(step))) < 1e-9
        opt.apply_gradients([(np.ones(3, np.float32), v)])
        expected -= float(schedule(step))  # the optimizer calls the schedule with its iteration count
    np.testing.assert_allclose(v.numpy(), expected, rtol=1e-6)
    assert int(opt.iterations) == 5

    class Custom(schedules.LearningRateSchedule):
        def __call__(self, step):
            return 0.1 / (step + 1)

    opt = ckeras.optimizers.Adam(learning_rate=Custom())
    opt.apply_gradients([(np.ones(3, np.float32), v)])
    assert abs(float(opt.learning_rate) - 0.05) < 1e-9
