"""Smoke test of benchmarks/bench_training.py: its ckeras part at --quick size, in a subprocess, and the
JSON it writes. Times nothing; torch and TensorFlow are left out, so it needs neither."""
import json
import os
import subprocess
import sys

import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks", "bench_training.py")


@pytest.mark.smoke
def test_quick_ckeras_run_writes_every_figure(tmp_path):
    if not os.path.exists(SCRIPT):
        pytest.skip("benchmarks/ is not beside the tests")
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, SCRIPT, "--quick", "--frameworks", "ckeras", "--json", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["errors"] == [] and report["meta"]["quick"] is True
    assert set(report["frameworks"]["ckeras"]) >= {"version", "file", "simd", "threads"}
    figures = report["figures"]["ckeras"]
    for model in ("E1", "E2", "E3"):
        for figure in ("train_b32_samples_per_s", "train_b256_samples_per_s", "predict_b1024_samples_per_s",
                       "call_1_us", "predict_1_us", "train_b32_accuracy"):
            assert figures[f"{model}.{figure}"] > 0, (model, figure)
    for figure in ("import_s", "peak_rss_mb", "package_mb"):
        assert figures[figure] > 0, figure
    assert "E1.train_b32_samples_per_s" in report["targets"]
    assert "E1 train b32 samples/s" in proc.stdout
