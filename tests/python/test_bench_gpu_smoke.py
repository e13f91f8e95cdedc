"""Smoke test of benchmarks/bench_gpu.py at --quick size: on the test stand-in (CKERAS_TEST_FAKE_GPU=1)
its ckeras half runs every case and writes the JSON; without a GPU it explains and exits 0. Times nothing."""
import json
import os
import subprocess
import sys

import pytest

import ckeras

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks", "bench_gpu.py")


def _run(tmp_path, fake):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CKERAS_TEST_FAKE_GPU")}
    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(os.path.abspath(ckeras.__file__)))
    if fake:
        env["CKERAS_TEST_FAKE_GPU"] = "1"
    return subprocess.run([sys.executable, SCRIPT, "--quick", "--out", str(tmp_path / "gpu")], env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.smoke
def test_quick_run_on_the_stand_in_writes_every_case(tmp_path):
    if not os.path.exists(SCRIPT):
        pytest.skip("benchmarks/ is not beside the tests")
    proc = _run(tmp_path, fake=True)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads((tmp_path / "gpu.json").read_text())
    assert set(report["bandwidth_gbs"]) == {"add", "relu", "exp", "sigmoid", "sum", "column sum", "softmax rows"}
    assert all(v["ckeras"] > 0 for v in report["bandwidth_gbs"].values())
    assert set(report["train_samples_per_s"]) == {f"{m} b{b}" for m in ("E1", "E2", "E3") for b in (32, 256)}
    assert all(v["ckeras"] > 0 for v in report["train_samples_per_s"].values())


@pytest.mark.smoke
def test_without_a_gpu_it_says_why(tmp_path):
    if not os.path.exists(SCRIPT):
        pytest.skip("benchmarks/ is not beside the tests")
    if ckeras._core.cuda_device_count() > 0:
        pytest.skip("a GPU is present")
    proc = _run(tmp_path, fake=False)
    assert proc.returncode == 0 and "no usable GPU" in proc.stdout, proc.stdout + proc.stderr
