"""ckeras vs PyTorch vs TensorFlow's Keras on the article's three models (E1 Dense 784-128-10, E2 Functional
784-64-Dropout-128-10, E3 custom layer 784-64 + AdamW), MNIST-shaped synthetic data, CPU, pinned threads.

    python benchmarks/bench_training.py [--threads 2] [--runs N] [--quick] [--frameworks ckeras,torch,tf]
        [--torch-python PY] [--tf-python PY] [--wheel PATH] [--json out.json] [--profile]

Every framework runs in its own interpreter (`_training_worker.py`), one subprocess per phase and model, the
frameworks interleaved and their order rotated from run to run; `predict` at batch 1024 starts every framework's
worker at once and interleaves their calls (`_paired_predict.py`). A figure is the median over the runs. Ratios
in the table say how many times better ckeras is (> 1: ckeras ahead), so every ratio comes from one run of
this script. `--profile` instead runs 200 training steps of ckeras's E1 (batch 32) under cProfile.
"""
import argparse
import atexit
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from _paired_predict import ROUNDS, paired_predict

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "_training_worker.py")
RESULT_PREFIX = "RESULT "
FRAMEWORKS = ("ckeras", "torch", "tf")
MODELS = ("E1", "E2", "E3")
PROBES = {"torch": "import torch", "tf": "import tensorflow"}
PYTHON_ENV = {"torch": "CKERAS_BENCH_TORCH_PYTHON", "tf": "CKERAS_BENCH_TF_PYTHON"}
FULL = {"n": 60000, "n_predict": 10240, "calls": 500, "import_runs": 5, "predict_rounds": ROUNDS}
QUICK = {"n": 1024, "n_predict": 1024, "calls": 20, "import_runs": 1, "predict_rounds": 3}


def table_rows():
    """(key, label, higher is better, target): target maps a framework to the least ratio over it, or
    "max" to the most ckeras may measure; None for figures shown without a verdict."""
    rows = []
    for m in MODELS:
        rows += [(f"{m}.train_b32_samples_per_s", f"{m} train b32 samples/s", True, {"tf": 10, "torch": 3}),
                 (f"{m}.train_b256_samples_per_s", f"{m} train b256 samples/s", True, {"tf": 3, "torch": 1.8}),
                 (f"{m}.predict_b1024_samples_per_s", f"{m} predict b1024 samples/s", True, {"torch": 1.2}),
                 (f"{m}.call_1_us", f"{m} model(x) 1 sample us", False, {"max": 20}),
                 (f"{m}.predict_1_us", f"{m} predict(x) 1 sample us", False, {"max": 100}),
                 (f"{m}.train_b32_accuracy", f"{m} accuracy after b32 epoch", None, None),
                 (f"{m}.train_b256_accuracy", f"{m} accuracy after b256 epoch", None, None)]
    return rows + [("import_s", "import time s", False, {"max": 0.3}),
                   ("peak_rss_mb", "peak RSS, 1-epoch E1 b32, MB", False, {"max": 260}),
                   ("rss_after_data_mb", "  of which after import+data, MB", False, None),
                   ("package_mb", "installed package MB", False, {"max": 10})]


# Compiled bytecode for every interpreter the script starts, in a folder of its own: an installed package has
# its .pyc files (pip writes them), and so do the source trees measured here after a warm-up import, even where
# the environment says PYTHONDONTWRITEBYTECODE (compiling 150 modules on each import doubled ckeras's figure).
PYCACHE = tempfile.mkdtemp(prefix="ckeras-bench-pyc-")
atexit.register(shutil.rmtree, PYCACHE, True)


def thread_env(threads):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPYCACHEPREFIX=PYCACHE)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    return env


def resolve_python(framework, args):
    """The interpreter for a framework, or (None, why) when it cannot import the framework."""
    if framework == "ckeras":
        return sys.executable, None
    python = getattr(args, f"{framework}_python") or os.environ.get(PYTHON_ENV[framework]) or sys.executable
    try:
        probe = subprocess.run([python, "-c", PROBES[framework]], capture_output=True, text=True, timeout=300,
                               env=thread_env(args.threads))
    except (OSError, subprocess.TimeoutExpired) as err:
        return None, f"{python}: {err}"
    if probe.returncode != 0:
        return None, f"{python} cannot `{PROBES[framework]}` ({probe.stderr.strip().splitlines()[-1:]})"
    return python, None


def worker_args(args, sizes):
    return ["--threads", str(args.threads), "--n", str(sizes["n"]), "--n-predict", str(sizes["n_predict"]),
            "--calls", str(sizes["calls"])]


def run_worker(python, framework, phase, args, sizes, extra=()):
    """Runs one phase in a fresh interpreter; returns its result dict (or {"error": ...})."""
    cmd = [python, WORKER, "--framework", framework, "--phase", phase, *worker_args(args, sizes), *extra]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=thread_env(args.threads))
    seconds = time.perf_counter() - t0
    lines = [line for line in proc.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    load = os.getloadavg()[0]
    if proc.returncode != 0 or not lines:
        tail = "\n    ".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
        print(f"  {framework:6s} {phase:7s} {' '.join(extra):12s} FAILED (rc {proc.returncode}):\n    {tail}",
              flush=True)
        return {"error": tail}
    print(f"  {framework:6s} {phase:7s} {' '.join(extra):12s} {seconds:6.1f} s   load {load:.2f}", flush=True)
    return json.loads(lines[-1][len(RESULT_PREFIX):])


def rotated(items, k):
    k %= len(items)
    return items[k:] + items[:k]


def collect(pythons, args, sizes):
    """All runs, frameworks interleaved: {framework: {key: [values]}}, {framework: info}, [failures]."""
    frameworks = list(pythons)
    samples = {fw: {} for fw in frameworks}
    infos, errors = {}, []

    def add(fw, result):
        if "error" in result:
            errors.append(f"{fw}: {result['error']}")
        if "info" in result:
            infos[fw] = result["info"]
            result = dict(result, package_mb=result["info"]["package_mb"])
        for key, value in result.items():
            if isinstance(value, (int, float)):
                samples[fw].setdefault(key, []).append(value)

    model_groups = [",".join(MODELS)] if args.quick else list(MODELS)
    for fw in frameworks:  # writes the bytecode (see PYCACHE); not measured
        run_worker(pythons[fw], fw, "import", args, sizes)
    for run in range(args.runs):
        order = rotated(frameworks, run)
        print(f"run {run + 1}/{args.runs} (order {', '.join(order)})", flush=True)
        for _ in range(sizes["import_runs"]):
            for fw in order:
                add(fw, run_worker(pythons[fw], fw, "import", args, sizes))
        for group in model_groups:
            for fw in order:
                add(fw, run_worker(pythons[fw], fw, "bench", args, sizes, ("--models", group)))
        for model in MODELS:
            results = paired_predict(pythons, order, model, WORKER, worker_args(args, sizes),
                                     thread_env(args.threads), RESULT_PREFIX, sizes["predict_rounds"])
            for fw, result in results.items():
                add(fw, result)
        for fw in order:
            add(fw, run_worker(pythons[fw], fw, "memory", args, sizes))
    if args.wheel and "ckeras" in samples:
        samples["ckeras"]["package_mb"] = [os.path.getsize(args.wheel) / 1e6]
    return samples, infos, errors


def summarize(samples):
    """Medians per figure, ratios (ckeras better by) and target verdicts."""
    figures = {fw: {k: statistics.median(v) for k, v in keys.items()} for fw, keys in samples.items()}
    ck = figures.get("ckeras", {})
    ratios, targets = {}, {}
    for key, _, higher, target in table_rows():
        if higher is None or key not in ck:
            continue
        ratios[key] = {}
        for fw in figures:
            other = figures[fw].get(key)
            if fw != "ckeras" and other:
                ratios[key][fw] = ck[key] / other if higher else other / ck[key]
        if target:
            checks = [ck[key] <= bound if fw == "max" else ratios[key].get(fw, float("nan")) >= bound
                      for fw, bound in target.items() if fw == "max" or fw in ratios[key]]
            targets[key] = {"target": target, "met": all(checks) if checks else None}
    return figures, ratios, targets


def fmt(value):
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 100 else f"{value:.1f}"


def target_text(target):
    return ", ".join(f"<= {bound}" if fw == "max" else f">= {bound}x {fw}" for fw, bound in target.items())


def print_table(figures, ratios, targets):
    others = [fw for fw in figures if fw != "ckeras"]
    cols = [fw for fw in FRAMEWORKS if fw in figures]
    head = f"{'figure':36s}" + "".join(f"{fw:>12s}" for fw in cols) + "".join(f"{'ck/' + fw:>10s}" for fw in others)
    print(head + "   target")
    print("-" * (len(head) + 30))
    for key, label, _, target in table_rows():
        if not any(key in figures[fw] for fw in cols):
            continue
        line = f"{label:36s}" + "".join(f"{fmt(figures[fw].get(key)):>12s}" for fw in cols)
        line += "".join(f"{fmt(ratios.get(key, {}).get(fw)):>9s}x" if key in ratios else f"{'':>10s}"
                        for fw in others)
        if key in targets:
            met = targets[key]["met"]
            line += f"   {target_text(target)}: {'ok' if met else 'MISS' if met is False else '-'}"
        print(line)


def best_of_runs(samples):
    """Each figure's best run (load only ever slows a run down): on a busy machine, the closest to what
    the framework does alone. JSON only; the table shows medians."""
    lower_better = {key for key, _, higher, _ in table_rows() if higher is False}
    return {fw: {k: (min(v) if k in lower_better else max(v)) for k, v in keys.items()}
            for fw, keys in samples.items()}


def print_header(args, infos, skipped):
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor())
    print(f"date {datetime.datetime.now().isoformat(timespec='seconds')}  cpu {cpu}  cores {os.cpu_count()}  "
          f"threads {args.threads}  runs {args.runs}{'  QUICK' if args.quick else ''}")
    for fw, info in infos.items():
        extras = "  ".join(f"{k} {v}" for k, v in info.items() if k not in ("version", "file", "package_mb"))
        print(f"{fw:6s} {info['version']}  {info['file']}  {extras}")
    for fw, why in skipped.items():
        print(f"{fw:6s} skipped: {why}")


def profile(args):
    result = run_worker(sys.executable, "ckeras", "profile", args, QUICK if args.quick else FULL)
    if "report" in result:
        print(f"ckeras E1, batch 32: {result['steps']} steps in {result['seconds_under_profile']:.2f} s "
              f"under cProfile ({result['seconds_under_profile'] / result['steps'] * 1e3:.2f} ms/step)")
        print(result["report"])
    return 0 if "report" in result else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=1, help="repeat everything, report medians")
    ap.add_argument("--quick", action="store_true", help="1,024 samples, few calls: a smoke test")
    ap.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    ap.add_argument("--torch-python", help=f"interpreter with torch (default ${PYTHON_ENV['torch']} or this one)")
    ap.add_argument("--tf-python", help=f"interpreter with tensorflow (default ${PYTHON_ENV['tf']} or this one)")
    ap.add_argument("--wheel", help="report this wheel file's size instead of the installed package folder's")
    ap.add_argument("--json", help="write figures, ratios, targets and raw samples to this file")
    ap.add_argument("--profile", action="store_true", help="cProfile 200 ckeras E1 training steps instead")
    args = ap.parse_args()
    if args.profile:
        return profile(args)
    requested = [fw for fw in args.frameworks.split(",") if fw]
    unknown = set(requested) - set(FRAMEWORKS)
    if unknown:
        ap.error(f"Expected frameworks among {FRAMEWORKS}. Received: {sorted(unknown)}")
    sizes = QUICK if args.quick else FULL
    load_start = os.getloadavg()
    print(f"load average at start {load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f}", flush=True)
    pythons, skipped = {}, {}
    for fw in requested:
        python, why = resolve_python(fw, args)
        if python:
            pythons[fw] = python
        else:
            skipped[fw] = why
            print(f"{fw}: skipped, {why}", flush=True)
    samples, infos, errors = collect(pythons, args, sizes)
    figures, ratios, targets = summarize(samples)
    load_end = os.getloadavg()
    print()
    print_header(args, infos, skipped)
    print(f"load average at start {load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f}, "
          f"at end {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f} (1/5/15 min)")
    print("ratios: how many times better ckeras is (> 1: ckeras ahead); figures are medians over the runs\n")
    print_table(figures, ratios, targets)
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"meta": {"threads": args.threads, "runs": args.runs, "quick": args.quick, "sizes": sizes,
                                "load_start": load_start, "load_end": load_end, "wheel": args.wheel},
                       "frameworks": {**infos, **{fw: {"skipped": why} for fw, why in skipped.items()}},
                       "figures": figures, "ratios": ratios, "targets": targets,
                       "best_of_runs": best_of_runs(samples), "samples": samples,
                       "errors": errors},
                      out, indent=1)
    for error in errors:
        print(f"FAILED {error}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
