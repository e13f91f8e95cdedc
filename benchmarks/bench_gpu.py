"""GPU benchmark: ckeras against PyTorch on the same GPU, in one run, ratios printed.

    python benchmarks/bench_gpu.py [--quick] [--out benchmarks/results/bench_gpu]

Cases: elementwise and reduction bandwidth (GB/s), row softmax, and one training epoch of the article's
three models (E1, E2, E3) at batch 32 and 256 (samples/s). Ratios are ckeras / PyTorch (> 1: ckeras
ahead). GEMM has its own script (bench_gpu_gemm.py). On a machine without a usable GPU it says why and
exits 0. Under the test stand-in (CKERAS_TEST_FAKE_GPU=1) only the ckeras half runs, to test the script.
"""
import argparse
import json
import os
import platform
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ckeras  # noqa: E402
from ckeras import _core, ops  # noqa: E402
from _training_models import MODELS, keras_model, torch_fit, torch_model  # noqa: E402


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def _median_s(fn, sync, repeat):
    fn()
    sync()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def bandwidth_cases(torch, n, repeat):
    """(name, bytes moved, ckeras fn, torch fn) for the memory-bound ops."""
    rng = np.random.default_rng(0)
    a_host = rng.standard_normal(n).astype(np.float32)
    b_host = rng.standard_normal(n).astype(np.float32)
    rows = (n // 1024, 1024)
    a, b = ops.convert_to_tensor(a_host), ops.convert_to_tensor(b_host)
    s = ops.reshape(a, rows)
    ta = tb = ts = None
    if torch is not None:
        ta, tb = torch.from_numpy(a_host).cuda(), torch.from_numpy(b_host).cuda()
        ts = ta.reshape(rows)
    f = 4
    return [
        ("add", 3 * n * f, lambda: ops.add(a, b), lambda: ta + tb),
        ("relu", 2 * n * f, lambda: ops.relu(a), lambda: torch.relu(ta)),
        ("exp", 2 * n * f, lambda: ops.exp(a), lambda: torch.exp(ta)),
        ("sigmoid", 2 * n * f, lambda: ops.sigmoid(a), lambda: torch.sigmoid(ta)),
        ("sum", n * f, lambda: ops.sum(a), lambda: ta.sum()),
        ("column sum", n * f, lambda: ops.sum(s, axis=0), lambda: ts.sum(0)),
        ("softmax rows", 2 * n * f, lambda: ops.softmax(s, axis=-1), lambda: torch.softmax(ts, -1)),
    ]


def train_epoch_ckeras(name, x, y, batch):
    ckeras.utils.set_random_seed(0)
    model = keras_model(ckeras, name)
    model.fit(x[:batch * 4], y[:batch * 4], batch_size=batch, epochs=1, verbose=0)  # build, warm the cache
    t0 = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
    _core.device_synchronize("gpu:0")
    return len(x) / (time.perf_counter() - t0)


def train_epoch_torch(torch, name, x, y, batch):
    """PyTorch's samples/s for one epoch on the GPU: `torch_fit`, the CPU benchmark's loop, with the data, the
    permutation and the running sums on the device (one read of the sums at the end, as fit's history makes)."""
    torch.manual_seed(0)
    net, optimizer = torch_model(torch, name)
    net = net.cuda()
    optimizer = type(optimizer)(net.parameters(), **optimizer.defaults)
    xt, yt = torch.from_numpy(x).cuda(), torch.from_numpy(y).cuda()
    torch_fit(torch, net, optimizer, xt[:batch * 4], yt[:batch * 4], batch)  # warm-up
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    torch_fit(torch, net, optimizer, xt, yt, batch)
    torch.cuda.synchronize()
    return len(x) / (time.perf_counter() - t0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (seconds), for smoke tests")
    parser.add_argument("--out", help="write <out>.txt and <out>.json")
    args = parser.parse_args()
    if _core.cuda_device_count() == 0:
        print(f"bench_gpu: no usable GPU ({_core.cuda_unavailable_reason()}); nothing to measure")
        return 0
    ckeras.config.set_device("gpu:0")
    torch = None if _core.is_fake_gpu() else _torch()
    gpu = _core.cuda_device_name(0)
    lines = [f"ckeras {ckeras.__version__} on {gpu}; PyTorch "
             f"{torch.__version__ if torch else 'not measured (no CUDA PyTorch or the test stand-in)'}",
             f"python {platform.python_version()}, {os.cpu_count()} CPU cores", ""]
    n = (1 << 16) if args.quick else (1 << 26)
    repeat = 3 if args.quick else 20
    sync_ck = lambda: _core.device_synchronize("gpu:0")  # noqa: E731
    sync_t = (lambda: torch.cuda.synchronize()) if torch else (lambda: None)  # noqa: E731
    results = {"gpu": gpu, "bandwidth_gbs": {}, "train_samples_per_s": {}}
    lines.append(f"{'case':28s} {'ckeras':>12s} {'torch':>12s} {'ratio':>7s}")
    for name, nbytes, ck_fn, t_fn in bandwidth_cases(torch, n, repeat):
        ck = nbytes / _median_s(ck_fn, sync_ck, repeat) / 1e9
        tt = nbytes / _median_s(t_fn, sync_t, repeat) / 1e9 if torch else None
        results["bandwidth_gbs"][name] = {"ckeras": ck, "torch": tt}
        lines.append(f"{name + ' GB/s':28s} {ck:12.1f} {tt or 0:12.1f} {ck / tt if tt else 0:7.2f}")
    samples = 2048 if args.quick else 60000
    rng = np.random.default_rng(0)
    x = rng.random((samples, 784), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, samples)]
    for name in MODELS:
        for batch in (32, 256):
            ck = train_epoch_ckeras(name, x, y, batch)
            tt = train_epoch_torch(torch, name, x, y, batch) if torch else None
            results["train_samples_per_s"][f"{name} b{batch}"] = {"ckeras": ck, "torch": tt}
            lines.append(f"{f'{name} train b{batch} samples/s':28s} {ck:12.0f} {tt or 0:12.0f} "
                         f"{ck / tt if tt else 0:7.2f}")
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out + ".txt", "w") as f:
            f.write(text + "\n")
        with open(args.out + ".json", "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
