"""Build facts, devices, allocator, DLPack, interrupts and the GIL (ERRORS.md rows 10, 41, 42)."""
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import ckeras
from ckeras import _core, ops


def test_build_info_keys():
    info = ckeras.sysconfig.get_build_info()
    assert set(info) >= {"is_cuda_build", "cuda_version", "cuda_compute_capabilities", "cpu_simd"}
    assert info["cpu_simd"] in ("avx512", "avx2", "generic")
    if info["is_cuda_build"]:
        assert info["cuda_version"].count(".") == 1
        assert any(a.startswith("80") for a in info["cuda_compute_capabilities"])


@pytest.mark.skipif(os.environ.get("CKERAS_EXPECT_CUDA_BUILD") != "1", reason="only where the build had nvcc")
def test_cuda_build_imports_without_a_gpu():
    # CI builds with nvcc but has no GPU or driver: the CUDA build must import and report zero devices.
    assert ckeras.sysconfig.get_build_info()["is_cuda_build"]
    if _core.cuda_device_count() == 0:
        assert _core.cuda_unavailable_reason()
        with pytest.raises(RuntimeError, match="cuda:0"):
            _core.check_device("gpu:0")


def test_cpu_only_build_explains_missing_gpu():
    if _core.cuda_device_count() > 0:
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="cannot use cuda:0"):
        _core.check_device("cuda:0")
    with pytest.raises(ValueError, match="invalid device"):
        _core.check_device("tpu")


def test_huge_allocation_is_memory_error_and_process_survives():
    with pytest.raises(MemoryError, match="4398046511104 bytes"):
        ops.zeros((2**20, 2**20))
    assert float(ops.sum(ops.ones((10, 10)))) == 100.0


@pytest.mark.cpu_placement
def test_allocator_cache_reuses_and_releases():
    _core.cpu_cache_release()
    for _ in range(3):
        ops.ones((512, 512))
    assert _core.cpu_cache_bytes() > 0
    _core.cpu_cache_release()
    assert _core.cpu_cache_bytes() == 0


@pytest.mark.cpu_placement
def test_dlpack_round_trip_shares_memory():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    t = ckeras.from_dlpack(a)
    np.testing.assert_array_equal(np.asarray(t), a)
    a[0, 0] = 42.0  # shared, not copied
    assert float(t[0, 0]) == 42.0
    b = np.from_dlpack(ops.multiply(t, 2.0))
    np.testing.assert_array_equal(b, a * 2)
    strided = ckeras.from_dlpack(a[:, ::-2])
    np.testing.assert_array_equal(np.asarray(strided), a[:, ::-2])
    with pytest.raises(TypeError, match="__dlpack__"):
        ckeras.from_dlpack([1, 2, 3])


def test_dlpack_bool_and_int():
    for arr in (np.array([True, False]), np.arange(5, dtype=np.int64), np.arange(5, dtype=np.int32)):
        t = ckeras.from_dlpack(arr)
        assert t.dtype == arr.dtype.name
        np.testing.assert_array_equal(np.from_dlpack(t), arr)


def test_gil_is_released_during_kernels():
    # A spinning Python thread keeps counting while a long matmul runs in the main thread.
    a = ops.ones((1024, 1024))
    count = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            count[0] += 1
    th = threading.Thread(target=spin)
    th.start()
    time.sleep(0.05)
    before = count[0]
    for _ in range(4):
        ops.matmul(a, a)
    during = count[0] - before
    stop.set()
    th.join()
    assert during > 1000


def test_threads_get_identical_results():
    x = ops.convert_to_tensor(np.random.default_rng(0).standard_normal((64, 64)).astype(np.float32))
    ref = np.asarray(ops.softmax(ops.matmul(x, x)))
    results = []

    def work():
        for _ in range(50):
            results.append(np.array_equal(np.asarray(ops.softmax(ops.matmul(x, x))), ref))
    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results) and len(results) == 100


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_interrupts_a_long_matmul():
    code = textwrap.dedent("""
        import os, signal, threading, time
        from ckeras import ops
        a = ops.ones((2048, 2048))
        threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        t0 = time.time()
        try:
            for _ in range(200):
                ops.matmul(a, a)
            print("NOT INTERRUPTED")
        except KeyboardInterrupt:
            print("INTERRUPTED", time.time() - t0)
        print("SUM", float(ops.sum(ops.matmul(a[:2], a[:, :2]))))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "INTERRUPTED" in out.stdout, out.stdout + out.stderr
    assert float(out.stdout.split("INTERRUPTED")[1].split()[0]) < 5.0
    assert "SUM 8192.0" in out.stdout
