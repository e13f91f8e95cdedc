"""GradientTape (watch, persistent, nested structures, unconnected sources, Variables) and the
Variable API (assign*, numpy, shape, dtype, trainable, name). Gradients are checked against hand
derivatives or central differences."""
import numpy as np
import pytest

import ckeras
from ckeras import ops
from conftest import assert_close, np_of, rand


def _const(values, dtype=np.float32):
    return ops.convert_to_tensor(np.array(values, dtype))


def test_watch_makes_a_constant_differentiable():
    x = _const([1.0, 2.0, 3.0])
    with ckeras.GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(x * x + x)
    assert_close(tape.gradient(y, x), [3.0, 5.0, 7.0])


def test_unwatched_constants_and_unconnected_sources_give_none():
    x, c = _const([1.0, 2.0]), _const([3.0])
    v = ckeras.Variable(np.ones(2, np.float32))
    with ckeras.GradientTape() as tape:
        y = ops.sum(x * v)
    assert tape.gradient(y, [x, c, v])[:2] == [None, None]
    with ckeras.GradientTape() as tape:
        tape.watch(c)
        y = ops.sum(x * v)
    g = tape.gradient(y, [c, v], unconnected_gradients="zero")
    assert_close(g[0], [0.0])
    assert_close(g[1], [1.0, 2.0])


def test_watching_is_per_tape():
    x = _const([2.0])
    with ckeras.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    assert_close(tape.gradient(y, x), [4.0])
    with ckeras.GradientTape() as tape:
        y = x * x
    assert tape.gradient(y, x) is None
    with ckeras.GradientTape() as tape:
        tape.watch(x)
    assert_close(tape.gradient(x, x), [1.0])  # a watched source is its own target


def test_nested_structures_round_trip():
    a, b = ckeras.Variable(np.float32(2.0)), ckeras.Variable(np.array([1.0, -1.0], np.float32))
    c = _const([[1.0, 2.0]])
    with ckeras.GradientTape() as tape:
        tape.watch({"c": [c]})
        y = a * a * ops.sum(b) + ops.sum(c * b)
    g = tape.gradient(y, {"a": a, "bc": (b, [c])})
    assert set(g) == {"a", "bc"} and isinstance(g["bc"], tuple) and isinstance(g["bc"][1], list)
    assert_close(g["a"], 0.0)  # 2 * a * sum(b) = 0
    assert_close(g["bc"][0], [4.0 + 1.0, 4.0 + 2.0])
    assert_close(g["bc"][1][0], [[1.0, -1.0]])


def test_persistent_tape_and_non_persistent_second_call():
    x = ckeras.Variable(np.array([1.0, 2.0], np.float32))
    with ckeras.GradientTape(persistent=True) as tape:
        y = ops.sum(x ** 3.0)
        z = ops.sum(ops.exp(x))
    assert_close(tape.gradient(y, x), [3.0, 12.0])
    assert_close(tape.gradient(z, x), np.exp([1.0, 2.0]))
    assert_close(tape.gradient(y, x), [3.0, 12.0])
    with ckeras.GradientTape() as tape:
        y = ops.sum(x * 2.0)
    tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="non-persistent"):
        tape.gradient(y, x)


def test_targets_lists_non_scalars_and_output_gradients():
    x = ckeras.Variable(np.array([1.0, 2.0, 3.0], np.float32))
    with ckeras.GradientTape(persistent=True) as tape:
        y1 = x * x
        y2 = ops.sum(x)
    assert_close(tape.gradient(y1, x), [2.0, 4.0, 6.0])  # non-scalar targets are summed
    assert_close(tape.gradient([y1, y2], x), [3.0, 5.0, 7.0])
    assert_close(tape.gradient(y1, x, output_gradients=np.array([1.0, 0.0, -1.0], np.float32)), [2.0, 0.0, -6.0])


def test_gradient_with_respect_to_intermediate_tensors():
    x = ckeras.Variable(np.array([1.0, 2.0], np.float32))
    with ckeras.GradientTape() as tape:
        h = x * 3.0
        y = ops.sum(h * h)
    gx, gh = tape.gradient(y, [x, h])
    assert_close(gh, [6.0, 12.0])
    assert_close(gx, [18.0, 36.0])


def test_no_recording_outside_a_tape_and_stop_recording():
    x = ckeras.Variable(np.array([1.0], np.float32))
    assert (x * 2.0).grad_fn is None
    with ckeras.GradientTape() as tape:
        y = x * 2.0
        with tape.stop_recording():
            z = x * 5.0
        w = ops.sum(ops.stop_gradient(y) * x)
    assert y.grad_fn is not None and z.grad_fn is None
    assert_close(tape.gradient(w, x), [2.0])  # only the direct path counts


def test_recording_state_is_restored_after_an_exception():
    x = ckeras.Variable(np.array([1.0], np.float32))
    with pytest.raises(ZeroDivisionError):
        with ckeras.GradientTape():
            1 / 0
    assert (x * 2.0).grad_fn is None


def test_gradient_dtypes_follow_the_sources():
    v32 = ckeras.Variable(np.array([1.5], np.float32))
    v64 = ckeras.Variable(np.array([1.5], np.float64))
    i = ops.convert_to_tensor(np.array([2], np.int32))
    with ckeras.GradientTape() as tape:
        tape.watch(i)
        y = ops.sum(ops.cast(v32, "float64") * v64 * i)
    g32, g64, gi = tape.gradient(y, [v32, v64, i])
    assert np_of(g32).dtype == np.float32 and np_of(g64).dtype == np.float64 and gi is None
    assert_close(g32, [3.0])
    assert_close(g64, [3.0])


def test_trainable_and_non_trainable_variables():
    w = ckeras.Variable(np.array([2.0], np.float32))
    frozen = ckeras.Variable(np.array([3.0], np.float32), trainable=False)
    with ckeras.GradientTape() as tape:
        y = ops.sum(w * frozen)
    assert tape.gradient(y, frozen) is None
    with ckeras.GradientTape() as tape:
        tape.watch(frozen)
        y = ops.sum(w * frozen)
    assert_close(tape.gradient(y, [w, frozen])[1], [2.0])
    w.trainable = False
    with ckeras.GradientTape() as tape:
        y = ops.sum(w * w)
    assert tape.gradient(y, w) is None and not w.trainable


def test_nested_tapes_each_see_first_order_gradients():
    x = ckeras.Variable(np.array([3.0], np.float32))
    with ckeras.GradientTape() as outer:
        with ckeras.GradientTape() as inner:
            y = x * x
        z = y * 2.0
    assert_close(inner.gradient(y, x), [6.0])
    assert_close(outer.gradient(z, x), [12.0])


def test_variable_attributes():
    v = ckeras.Variable(np.arange(6, dtype=np.float32).reshape(2, 3), name="kernel")
    assert v.shape == (2, 3) and v.ndim == 2 and v.dtype == "float32"
    assert v.name == "kernel" and v.trainable
    assert ckeras.Variable(1.0).name != ckeras.Variable(1.0).name  # unique made-up names
    assert ckeras.Variable(np.zeros(2), dtype="float64").dtype == "float64"
    assert ckeras.Variable(np.zeros(2, np.float32), dtype="int32").dtype == "int32"
    init = ckeras.Variable(lambda shape, dtype: np.full(shape, 0.5, dtype), shape=(2,), dtype="float32")
    assert_close(init.numpy(), [0.5, 0.5])
    with pytest.raises(ValueError, match="shape"):
        ckeras.Variable(lambda shape, dtype: np.zeros(shape))
    with pytest.raises(ValueError, match="name"):
        ckeras.Variable(1.0, name="a/b")


def test_variable_numpy_is_a_private_copy():
    src = np.array([1.0, 2.0], np.float32)
    v = ckeras.Variable(src)
    src[0] = 100.0  # the variable copied its initial value
    a = v.numpy()
    a[1] = -5.0
    assert a.flags.writeable
    assert_close(v.numpy(), [1.0, 2.0])
    assert_close(np.asarray(v), [1.0, 2.0])


def test_assign_assign_add_assign_sub():
    v = ckeras.Variable(np.zeros((2, 3), np.float32))
    v.assign(np.arange(6, dtype=np.float32).reshape(2, 3))
    assert_close(v.numpy(), np.arange(6).reshape(2, 3))
    v.assign_add(np.ones(3, np.float32))  # broadcast
    v.assign_sub(0.5)
    assert_close(v.numpy(), np.arange(6).reshape(2, 3) + 0.5)
    v.assign(np.asfortranarray(np.ones((2, 3))) * 2)  # float64, Fortran order: cast and copied
    assert_close(v.numpy(), np.full((2, 3), 2.0), dtype=np.float32)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)|\(3, 2\).*\(2, 3\)"):
        v.assign(np.zeros((3, 2)))
    iv = ckeras.Variable(np.array([1, 2], np.int32))
    iv.assign_add(1.7)
    assert_close(iv.numpy(), [2, 3], dtype=np.int32)


def test_assign_from_an_overlapping_view_of_itself():
    v = ckeras.Variable(np.arange(6, dtype=np.float32).reshape(2, 3))
    v.assign(v.value[::-1, ::-1])
    assert_close(v.numpy(), np.arange(6).reshape(2, 3)[::-1, ::-1])
    v.assign(np.asarray(v)[:, ::-1])  # the same memory, seen through NumPy
    assert_close(v.numpy(), np.arange(6).reshape(2, 3)[::-1])


def test_gradients_see_assigned_values():
    v = ckeras.Variable(np.array([1.0, 2.0], np.float32))
    v.assign([3.0, 4.0])
    with ckeras.GradientTape() as tape:
        y = ops.sum(v * v)
    assert_close(tape.gradient(y, v), [6.0, 8.0])


def test_variable_operators():
    a = rand((2, 2), seed=3)
    v = ckeras.Variable(a)
    for got, want in [(v + 1.0, a + 1), (2.0 * v, 2 * a), (v - v, 0 * a), (v @ v, a @ a), (-v, -a),
                      (v / 2.0, a / 2), (v ** 2.0, a ** 2), (abs(v), abs(a)), (v[0], a[0])]:
        assert_close(got, want)
    assert_close(v > 0, a > 0, dtype=bool)
    assert len(v) == 2


def test_tapes_are_isolated_like_tensorflow():
    # A tape differentiates only through what it recorded itself.
    x = ckeras.Variable(np.float32(2.0))
    with ckeras.GradientTape() as t1:
        y = x * x
    assert float(t1.gradient(y, x)) == 4.0
    with ckeras.GradientTape() as t2:
        z = y * 3.0
    assert t2.gradient(z, x) is None  # y's history belongs to t1 (and was freed by it)
    with ckeras.GradientTape() as t3:
        t3.watch(y)
        z = y * 3.0
    assert float(t3.gradient(z, y)) == 3.0


def test_ops_after_a_tape_closes_are_not_on_it():
    x = ckeras.Variable(np.float32(3.0))
    with ckeras.GradientTape(persistent=True) as outer:
        with ckeras.GradientTape() as inner:
            y = x * x
        z = y * 2.0  # recorded by the outer tape only
    assert inner.gradient(z, x) is None
    assert float(outer.gradient(z, x)) == 12.0
    assert float(outer.gradient(y, x)) == 6.0
