"""Device placement, copies, the caching allocator, out-of-memory and fork behaviour.

Each case runs in a fresh interpreter, because the accelerator backend is chosen once per process. On
machines without a GPU the cases run against the test stand-in (CKERAS_TEST_FAKE_GPU=1: a "gpu:0"
whose memory is host memory and whose kernels are the CPU's), which exercises everything around the
kernels; where a real GPU is usable they run against it too.
"""
import os
import subprocess
import sys
import textwrap

import pytest

import ckeras
from ckeras import _core

_PYTHONPATH = os.path.dirname(os.path.dirname(os.path.abspath(ckeras.__file__)))


def _real_gpu():
    code = "from ckeras import _core; print(_core.cuda_device_count())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(fake=False))
    return out.returncode == 0 and out.stdout.strip() not in ("", "0")


def _env(fake=True, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CKERAS_TEST_FAKE_GPU")}
    env["PYTHONPATH"] = _PYTHONPATH + os.pathsep + env.get("PYTHONPATH", "")
    if fake:
        env["CKERAS_TEST_FAKE_GPU"] = "1"
    env.update(extra)
    return env


BACKENDS = ["fake"] + (["cuda"] if _real_gpu() else [])


def run(code, backend="fake", **extra_env):
    """Runs `code` in a fresh interpreter; returns its stdout, failing with its stderr."""
    prelude = "import numpy as np\nimport ckeras\nfrom ckeras import _core, ops\n"
    out = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], capture_output=True, text=True,
                         timeout=300, env=_env(fake=backend == "fake", **extra_env))
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


@pytest.mark.parametrize("backend", BACKENDS)
def test_import_leaves_the_gpu_untouched(backend):
    out = run("""
        print(_core.accelerator_initialized())
        x = ops.convert_to_tensor([1.0, 2.0])
        print(_core.accelerator_initialized(), x.device)
    """, backend)
    assert out.split() == ["False", "True", "cuda:0"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_host_data_lands_on_the_current_device(backend):
    run("""
        import threading
        assert ckeras.config.get_device() == "cuda:0"  # the first GPU by default, as in TensorFlow
        made = [ops.convert_to_tensor(np.ones(3)), ops.zeros((2,)), ops.arange(4), ckeras.random.uniform((2,)),
                ckeras.Variable(np.ones(2, np.float32)), ops.convert_to_tensor(1.5)]
        assert all(t.device == "cuda:0" for t in made), [t.device for t in made]
        with ckeras.device("cpu"):
            assert ops.ones((2,)).device == "cpu" and ckeras.config.get_device() == "cpu"
            with ckeras.device("/GPU:0"):
                assert ops.ones((2,)).device == "cuda:0"
            assert ops.ones((2,)).device == "cpu"
            seen = []
            t = threading.Thread(target=lambda: seen.append(ops.ones((1,)).device))  # scopes are per thread
            t.start(); t.join()
            assert seen == ["cuda:0"], seen
        with ckeras.device("/job:localhost/replica:0/task:0/device:CPU:0"):
            assert ops.ones((1,)).device == "cpu"
        ckeras.config.set_device("cpu")
        assert ops.ones((1,)).device == "cpu"
        with ckeras.device("gpu"):
            assert ops.ones((1,)).device == "cuda:0"
    """, backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_copies_between_devices_keep_values_and_gradients(backend):
    run("""
        a = np.arange(12, dtype=np.float32).reshape(3, 4)
        with ckeras.device("cpu"):
            c = ops.convert_to_tensor(a)
        g = c.to("gpu:0")
        assert g.device == "cuda:0" and _core._storage_id(g.to("gpu:0")) == _core._storage_id(g)
        h = np.asarray(g)  # a host copy
        np.testing.assert_array_equal(h, a)
        assert not np.shares_memory(h, np.asarray(c))
        np.testing.assert_array_equal(np.asarray(ops.transpose(g)[1:, ::-1].to("cpu")), a.T[1:, ::-1])
        assert "device=cuda:0" in repr(g) and "11." in repr(g)
        assert float(ops.sum(g)) == 66.0 and g[2, 3].item() == 11.0
        assert g.__dlpack_device__() == (2, 0) and c.__dlpack_device__() == (1, 0)  # kDLCUDA, kDLCPU
        g.__dlpack__()  # waits for the queued work before a consumer reads it
        try:
            ckeras.from_dlpack(g)
        except ValueError as e:
            assert "copy a GPU tensor to the host first" in str(e)
        else:
            raise AssertionError("no error")
        v = ckeras.Variable(a, name="w")  # on the GPU
        with ckeras.GradientTape() as tape:
            with ckeras.device("cpu"):
                x = ops.convert_to_tensor(np.ones((3, 4), np.float32))
            tape.watch(x)
            loss = ops.sum(x.to("gpu:0") * v * 2.0)
        gx, gv = tape.gradient(loss, [x, v])
        assert gx.device == "cpu" and gv.device == "cuda:0"
        np.testing.assert_array_equal(np.asarray(gx), 2 * a)
        np.testing.assert_array_equal(np.asarray(gv), np.full((3, 4), 2.0))
    """, backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_mixed_devices_name_both_and_scalars_follow(backend):
    run("""
        g = ops.ones((2, 3))
        with ckeras.device("cpu"):
            c = ops.ones((2, 3))
            cs = ops.convert_to_tensor(2.0)
        gs = ops.convert_to_tensor(3.0)
        for fn in (ops.add, ops.matmul, lambda a, b: ops.where(a > 0, a, b)):
            try:
                fn(g, ops.transpose(c) if fn is ops.matmul else c)
            except ValueError as e:
                assert "cuda:0" in str(e) and "cpu" in str(e), e
            else:
                raise AssertionError("no error")
        assert (g * cs).device == "cuda:0" and (c * gs).device == "cpu"
        np.testing.assert_array_equal(np.asarray(c * gs), np.full((2, 3), 3.0))
        np.testing.assert_array_equal(np.asarray(cs + g), np.full((2, 3), 3.0))
    """, backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_allocator_reuses_blocks_and_releases_its_cache(backend):
    run("""
        cfg = ckeras.config
        x = ops.ones((256, 256))
        for _ in range(3):
            y = ops.matmul(x, x) + ops.exp(x)
        steady = cfg.device_memory_info("gpu:0")["num_raw_allocs"]
        for _ in range(20):  # same shapes every step: no new device allocation
            y = ops.matmul(x, x) + ops.exp(x)
        info = cfg.device_memory_info("gpu:0")
        assert info["num_raw_allocs"] == steady, (steady, info)
        assert info["current"] >= 2 * 256 * 256 * 4 and info["peak"] >= info["current"]
        assert info["reserved"] == info["current"] + info["cached"]
        assert cfg.experimental.get_memory_info("GPU:0")["current"] == info["current"]
        del y
        assert cfg.device_memory_info()["cached"] > 0
        cfg.release_device_memory("gpu:0")
        after = cfg.device_memory_info()
        assert after["cached"] == 0 and after["reserved"] == after["current"]
        cfg.reset_device_memory_peak()
        assert cfg.device_memory_info()["peak"] == after["current"]
        try:
            cfg.device_memory_info("cpu")
        except ValueError as e:
            assert "GPUs only" in str(e)
        else:
            raise AssertionError("no error")
    """, backend)


def test_out_of_memory_names_the_bytes_and_the_model_stays_usable():
    out = run("""
        model = ckeras.Sequential([ckeras.Input((64,)), ckeras.layers.Dense(32, activation="relu"),
                                   ckeras.layers.Dense(4)])
        before = [np.asarray(w).copy() for w in model.weights]
        small = np.random.default_rng(0).normal(size=(8, 64)).astype(np.float32)
        expected = model.predict(small, verbose=0)
        try:
            ops.ones((1 << 16, 1 << 10))  # 256 MiB on a 64 MiB device
        except ckeras.OutOfMemoryError as e:
            assert isinstance(e, MemoryError)
            assert "tried to allocate 268435456 bytes" in str(e) and "bytes free" in str(e), e
            print("oom ok")
        try:
            model.predict(np.zeros((300_000, 64), np.float32), batch_size=300_000, verbose=0)
        except MemoryError as e:
            print("predict oom ok")
        np.testing.assert_array_equal(model.predict(small, verbose=0), expected)
        assert all(np.array_equal(np.asarray(w), b) for w, b in zip(model.weights, before))
    """, CKERAS_TEST_FAKE_GPU_MEMORY=str(64 << 20))
    assert out.split("\n")[:2] == ["oom ok", "predict oom ok"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_child_forked_after_gpu_use_gets_a_clear_error_and_keeps_the_cpu(backend):
    out = run("""
        import os
        g = ops.ones((4,)) * 2.0  # the parent uses the GPU
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                with ckeras.device("gpu:0"):
                    pass
                code = 3
            except RuntimeError as e:
                code = 0 if "forked" in str(e) and "spawn" in str(e) else 4
            with ckeras.device("cpu"):
                if float(ops.sum(ops.ones((3,)) * 2.0)) != 6.0:
                    code = 5
            assert _core.cuda_device_count() == 0
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status), float(ops.sum(g)))
    """, backend)
    assert out.split() == ["0", "8.0"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_dropout_masks_match_across_devices(backend):
    run("""
        x = np.ones((1000, 37), np.float32)
        with ckeras.device("cpu"):
            c = np.asarray(ckeras.random.dropout(ops.convert_to_tensor(x), 0.3, seed=1234))
        g = ckeras.random.dropout(ops.convert_to_tensor(x), 0.3, seed=1234)
        assert g.device == "cuda:0"
        np.testing.assert_array_equal(np.asarray(g) == 0, c == 0)
        np.testing.assert_allclose(np.asarray(g), c, rtol=1e-6)
    """, backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_articles_first_model_trains_on_the_gpu_as_on_the_cpu(backend):
    out = run("""
        from ckeras import layers
        rng = np.random.default_rng(0)
        x = rng.normal(size=(600, 784)).astype(np.float32)
        y = np.eye(10, dtype=np.float32)[np.argmax(x[:, :10], axis=1)]
        def train(device):
            with ckeras.device(device):
                ckeras.utils.set_random_seed(7)
                model = ckeras.Sequential([layers.Input((784,)), layers.Dense(128, activation="relu"),
                                           layers.Dense(10, activation="softmax")])
                model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
                model.fit(x, y, epochs=3, batch_size=32, verbose=0)
                assert model.weights[0].device == ("cpu" if device == "cpu" else "cuda:0")
                return model.evaluate(x, y, verbose=0)[1], model
        cpu_acc, _ = train("cpu")
        gpu_acc, model = train("gpu:0")
        print(cpu_acc, gpu_acc, model._train_plan_status)
    """, backend)
    cpu_acc, gpu_acc, *status = out.split()
    assert abs(float(cpu_acc) - float(gpu_acc)) <= 0.02 and float(cpu_acc) > 0.5, out
    assert status[0] == "eager:", out  # the captured C++ step is CPU-only; the GPU takes the eager step


def test_tf32_is_on_by_default_and_the_switch_reaches_the_engine():
    assert run("print(ckeras.config.tensor_float_32_execution_enabled())").split() == ["True"]  # as in TF
    before = ckeras.config.tensor_float_32_execution_enabled()
    try:
        ckeras.config.enable_tensor_float_32_execution(False)
        assert not _core.tensor_float32_enabled()
        ckeras.config.enable_tensor_float_32_execution(True)
        assert _core.tensor_float32_enabled()
    finally:
        ckeras.config.enable_tensor_float_32_execution(before)


def test_bad_device_names_are_value_errors():
    for bad in ("tpu:0", "gpu:x", "cpu:1"):
        with pytest.raises(ValueError, match="device"):
            with ckeras.device(bad):
                pass
    with pytest.raises(TypeError, match="device name"):
        ckeras.config.set_device(0)
