"""One framework in its own interpreter: one phase of `bench_training.py` (import time, peak memory of a
one-epoch run, training/predict/latency figures, or ckeras's cProfile), printed as one `RESULT {json}` line.

    python _training_worker.py --framework {ckeras,torch,tf} --phase {import,memory,bench,predict,profile} ...

The predict phase times one `predict` call per `go` line read from stdin and answers each with a `TIME`
line, so that `_paired_predict.py` can interleave the frameworks' calls.

NumPy and the framework are imported only inside the phases, so that the import phase times a cold import.
The data are made here from the seed (never passed through a pipe), the same for every framework.
"""
import argparse
import json
import os
import resource
import sys
import time

import _training_models as models
from _paired_predict import TIME_PREFIX

RESULT_PREFIX = "RESULT "
IMPORT_STATEMENTS = {  # what a user writes; tf.keras is loaded lazily, so TF's includes touching it
    "ckeras": "import ckeras",
    "torch": "import torch",
    "tf": "import tensorflow as tf; tf.keras.layers",
}
PACKAGE_DIRS = {"ckeras": ("ckeras",), "torch": ("torch",), "tf": ("tensorflow", "keras")}


def make_data(n, seed):
    """MNIST-shaped data: x (n, 784) float32 in [0, 1); y (n, 10) one-hot float32.

    The label is the one of 10 blocks of 78 pixels with the largest sum: a linear rule, so the task is
    learnable and the frameworks' accuracies are comparable. It uses no (n, 784) temporary and no BLAS
    call (a NumPy matmul here would leave OpenBLAS's ~70 MB of buffers in the memory figure).
    """
    import numpy as np
    rng = np.random.default_rng(seed)
    x = rng.random((n, 784), dtype=np.float32)
    labels = np.argmax(x[:, :780].reshape(n, 10, 78).sum(axis=2), axis=1)
    return x, np.eye(10, dtype=np.float32)[labels]


def warmup_size(n, batch_size, fraction=0.1):
    """About `fraction` of n, with the same last-batch size as n, so that no new batch shape (and for TF,
    no retrace) first appears in the timed epoch."""
    return min(n, n % batch_size + batch_size * max(1, round(fraction * n / batch_size)))


def rss_now_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024 / 1e6
    return float("nan")


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6  # ru_maxrss is KiB on Linux


def median_call_us(fn, calls, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2] * 1e6


def _where(path):
    """Where a module was loaded from, without this machine's folders (results are committed): relative to the
    interpreter's prefix (an installed package) or to the working folder (the source tree)."""
    for base, label in ((sys.prefix, "<prefix>"), (os.getcwd(), ".")):
        rel = os.path.relpath(path, base)
        if not rel.startswith(".."):
            return os.path.join(label, rel)
    return os.path.basename(path)


def _python():
    """The interpreter as version and kind, not its path."""
    return f"python{sys.version_info[0]}.{sys.version_info[1]}" + (" (venv)" if sys.prefix != sys.base_prefix else "")


class Framework:
    """The calls a phase needs, for one framework: build, fit one epoch, predict, call on one sample."""

    def __init__(self, name, threads):
        self.name = name
        if name == "torch":
            import torch
            torch.set_num_threads(threads)
            self.lib = torch
            self.generator = torch.Generator().manual_seed(0)
        else:
            if name == "ckeras":
                import ckeras as tf
            else:
                import tensorflow as tf
                tf.get_logger().setLevel("ERROR")
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
            self.lib = tf

    def info(self):
        lib = self.lib
        out = {"version": lib.__version__, "file": _where(lib.__file__), "python": _python()}
        if self.name == "ckeras":
            out["simd"] = lib.sysconfig.get_build_info()["cpu_simd"]
            out["threads"] = lib.config.threading.get_intra_op_parallelism_threads()
        elif self.name == "torch":
            out["simd"] = lib.backends.cpu.get_cpu_capability()
            out["threads"] = lib.get_num_threads()
        else:
            import keras
            out["keras_version"] = keras.__version__
            out["threads"] = lib.config.threading.get_intra_op_parallelism_threads()
        out["package_mb"] = package_size_mb(self.name)
        return out

    def build(self, model_name):
        if self.name == "torch":
            return models.torch_model(self.lib, model_name)
        return models.keras_model(self.lib, model_name)

    def to_native(self, x, y):
        if self.name == "torch":
            return self.lib.from_numpy(x), self.lib.from_numpy(y)
        return x, y

    def fit(self, model, x, y, batch_size):
        if self.name == "torch":
            net, optimizer = model
            return models.torch_fit(self.lib, net, optimizer, x, y, batch_size, self.generator)
        return models.keras_fit(model, x, y, batch_size)

    def predict(self, model, x, batch_size):
        if self.name == "torch":
            return models.torch_predict(self.lib, model[0], x, batch_size)
        return model.predict(x, batch_size=batch_size, verbose=0)

    def caller(self, model, x1):
        """A no-argument function doing `model(x1)` (PyTorch: no-grad forward and softmax on a tensor)."""
        if self.name != "torch":
            return lambda: model(x1)
        torch, net = self.lib, model[0]
        net.eval()
        t1 = torch.from_numpy(x1)

        def call():
            with torch.no_grad():
                return torch.softmax(net(t1), dim=-1)
        return call


def package_size_mb(name):
    """Sum of the file sizes in the installed package folder(s), less __pycache__ (a wheel holds no .pyc)."""
    import importlib.util
    total = 0
    for package in PACKAGE_DIRS[name]:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        for root, dirs, files in os.walk(list(spec.submodule_search_locations)[0]):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            total += sum(os.path.getsize(os.path.join(root, f)) for f in files
                         if not os.path.islink(os.path.join(root, f)))
    return total / 1e6


def phase_import(args):
    t0 = time.perf_counter()
    exec(IMPORT_STATEMENTS[args.framework], {})
    return {"import_s": time.perf_counter() - t0}


def phase_memory(args):
    """Peak RSS of a fresh process that imports, makes the data and fits E1 for one epoch (batch 32)."""
    fw = Framework(args.framework, args.threads)
    rss_import = rss_now_mb()
    x, y = fw.to_native(*make_data(args.n, args.seed))
    rss_data = rss_now_mb()
    fw.fit(fw.build("E1"), x, y, 32)
    return {"peak_rss_mb": peak_rss_mb(), "rss_after_import_mb": rss_import, "rss_after_data_mb": rss_data}


def phase_bench(args):
    """For each model: a timed epoch per batch size (after a warm-up on a subset), then the one-sample
    latencies (`model(x)`, `predict`) on the model trained last."""
    fw = Framework(args.framework, args.threads)
    x_np, y_np = make_data(args.n, args.seed)
    x, y = fw.to_native(x_np, y_np)
    out = {"info": fw.info(), "data_checksum": float(x_np[:64].sum() + 1000 * y_np.argmax(1)[:1000].sum())}
    for model_name in args.models.split(","):
        for batch_size in (32, 256):
            model = fw.build(model_name)
            n_warm = warmup_size(args.n, batch_size)
            fw.fit(model, x[:n_warm], y[:n_warm], batch_size)
            t0 = time.perf_counter()
            loss, accuracy = fw.fit(model, x, y, batch_size)
            seconds = time.perf_counter() - t0
            key = f"{model_name}.train_b{batch_size}"
            out[f"{key}_samples_per_s"] = args.n / seconds
            out[f"{key}_loss"], out[f"{key}_accuracy"] = loss, accuracy
        # predict at batch 1024 is timed by the predict phase, its calls paired with the other frameworks'.
        x1 = x_np[:1]
        out[f"{model_name}.call_1_us"] = median_call_us(fw.caller(model, x1), args.calls, 20)
        out[f"{model_name}.predict_1_us"] = median_call_us(lambda: fw.predict(model, x1, 1024),
                                                           max(10, args.calls // 5), 5)
    return out


def phase_predict(args):
    """`predict` of 10 batches of 1024 on one model after a warm-up fit: per `go` line on stdin, one call
    that wakes the threads (untimed) and one timed call, answered by `TIME seconds`; until any other line."""
    fw = Framework(args.framework, args.threads)
    n_warm = warmup_size(args.n, 256)
    x_np, y_np = make_data(max(n_warm, args.n_predict), args.seed)
    x, y = fw.to_native(x_np, y_np)
    model = fw.build(args.models)
    fw.fit(model, x[:n_warm], y[:n_warm], 256)
    x_pred = x_np[:args.n_predict]
    fw.predict(model, x_pred, 1024)
    print("READY", flush=True)
    times = []
    for line in sys.stdin:
        if line.strip() != "go":
            break
        fw.predict(model, x_pred, 1024)
        t0 = time.perf_counter()
        fw.predict(model, x_pred, 1024)
        times.append(time.perf_counter() - t0)
        print(f"{TIME_PREFIX}{times[-1]!r}", flush=True)
    times.sort()
    return {f"{args.models}.predict_b1024_samples_per_s": len(x_pred) / times[len(times) // 2]} if times else {}


def phase_profile(args):
    """200 training steps of E1 at batch 32 under cProfile; prints the top functions (ckeras only)."""
    import cProfile
    import io
    import pstats
    fw = Framework(args.framework, args.threads)
    x, y = make_data(args.profile_steps * 32, args.seed)
    model = fw.build("E1")
    fw.fit(model, x[:640], y[:640], 32)  # warm-up: 20 steps
    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.runcall(fw.fit, model, x, y, 32)
    seconds = time.perf_counter() - t0
    text = io.StringIO()
    for order in ("cumulative", "tottime"):
        text.write(f"\n=== top 25 by {order} ===\n")
        pstats.Stats(profiler, stream=text).strip_dirs().sort_stats(order).print_stats(25)
    return {"steps": args.profile_steps, "seconds_under_profile": seconds, "report": text.getvalue()}


PHASES = {"import": phase_import, "memory": phase_memory, "bench": phase_bench, "predict": phase_predict,
          "profile": phase_profile}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--framework", choices=sorted(IMPORT_STATEMENTS), required=True)
    ap.add_argument("--phase", choices=sorted(PHASES), required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n", type=int, default=60000, help="training samples")
    ap.add_argument("--n-predict", type=int, default=10240)
    ap.add_argument("--calls", type=int, default=500, help="timed model(x) calls for the latency")
    ap.add_argument("--models", default=",".join(models.MODELS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--profile-steps", type=int, default=200)
    args = ap.parse_args()
    import warnings
    warnings.filterwarnings("ignore")  # e.g. Keras's advice against `input_shape`, which the article uses
    result = PHASES[args.phase](args)
    print(RESULT_PREFIX + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
