"""ckeras vs NumPy, side by side in one run: GEMM, elementwise ops, reductions, softmax.

Each case alternates the two implementations (median of `--repeat` timed calls each, after a
warm-up) so that both see the same machine load. A round of calls lasts at least `_ROUND_S` for
each library (more calls for sub-millisecond cases): after the settling pause a 2-core VM needs a
few milliseconds to run at full speed again, and seven 0.1 ms calls would time that wake-up.
Ratio = NumPy time / ckeras time (> 1: ckeras faster). Thread counts are pinned to the same value
for both (`--threads`, default 2).

    python benchmarks/bench_ops.py [--threads 2] [--repeat 15] [--runs 3] [--quick] [--json out.json]

With --runs N every case is measured N times (spread over the whole run) and the median ratio is
reported with its range, so that a load spike on this shared machine cannot decide a figure.
"""
import argparse
import json
import os
import sys
import time


_SETTLE_S = 0.6
_ROUND_S = 0.03


def _set_threads(n):
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)


def _median_time(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def _calls_per_round(fn, repeat):
    """At least repeat // 3 calls, and enough of them to last _ROUND_S (at most 500)."""
    t = _median_time(fn, 3)  # also the warm-up (allocator caches, packing buffers, thread pools)
    return max(1, repeat // 3, min(500, int(_ROUND_S / max(t, 1e-7)) + 1))


def _compare(name, ck_fn, np_fn, repeat, work=None, unit=""):
    n_ck, n_np = _calls_per_round(ck_fn, repeat), _calls_per_round(np_fn, repeat)
    ck, nq = [], []
    for _ in range(3):  # interleave rounds so that load spikes hit both
        # Idle between the libraries: OpenBLAS's and OpenMP's worker threads spin for a while after a
        # call, and on 2 cores the other library's threads would then fight them for the CPUs.
        time.sleep(_SETTLE_S)
        ck.append(_median_time(ck_fn, n_ck))
        time.sleep(_SETTLE_S)
        nq.append(_median_time(np_fn, n_np))
    t_ck, t_np = sorted(ck)[1], sorted(nq)[1]
    row = {"case": name, "ckeras_s": t_ck, "numpy_s": t_np, "ratio": t_np / t_ck}
    if work:
        row[f"ckeras_{unit}"] = work / t_ck / 1e9
        row[f"numpy_{unit}"] = work / t_np / 1e9
    extra = f"  ckeras {row[f'ckeras_{unit}']:8.1f} {unit}  numpy {row[f'numpy_{unit}']:8.1f} {unit}" if work else ""
    print(f"{name:44s} ckeras {t_ck * 1e3:9.3f} ms  numpy {t_np * 1e3:9.3f} ms  ratio {row['ratio']:5.2f}x{extra}",
          flush=True)
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--runs", type=int, default=1, help="repeat the whole set, report median ratios")
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    ap.add_argument("--json", help="write the rows to this file")
    args = ap.parse_args()
    _set_threads(args.threads)
    import numpy as np  # after the thread variables are set

    import ckeras
    from ckeras import ops

    rng = np.random.default_rng(0)
    cases = []  # (name, ckeras fn, numpy fn, work, unit)
    print(f"threads={args.threads} ckeras simd={ckeras.sysconfig.get_build_info()['cpu_simd']} "
          f"numpy={np.__version__}")

    def f32(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    # GEMM: the large squares and the dense-network shapes with their two backward products.
    gemm_cases = [(1024, 1024, 1024), (2048, 2048, 2048)] if not args.quick else [(256, 256, 256)]
    for batch in (32, 256):
        gemm_cases += [(batch, 784, 128, "X@W"), (batch, 128, 784, "dY@W^T"), (784, batch, 128, "X^T@dY")]
    def gemm_case(m, k, n, label):
        # Each case owns its operands (the closures are run later, after all cases are made).
        if label == "dY@W^T":
            a_np, w_np = f32(m, k), f32(n, k)
            a, w = ops.convert_to_tensor(a_np), ops.convert_to_tensor(w_np)
            return (lambda: ops.matmul(a, ops.transpose(w))), (lambda: a_np @ w_np.T)
        if label == "X^T@dY":
            x_np, d_np = f32(k, m), f32(k, n)
            x, d = ops.convert_to_tensor(x_np), ops.convert_to_tensor(d_np)
            return (lambda: ops.matmul(ops.transpose(x), d)), (lambda: x_np.T @ d_np)
        a_np, b_np = f32(m, k), f32(k, n)
        a, b = ops.convert_to_tensor(a_np), ops.convert_to_tensor(b_np)
        return (lambda: ops.matmul(a, b)), (lambda: a_np @ b_np)

    for case in gemm_cases:
        m, k, n = case[:3]
        label = case[3] if len(case) > 3 else ""
        ck, nf = gemm_case(m, k, n, label)
        cases.append((f"gemm {m}x{k}.{k}x{n} {label}".rstrip(), ck, nf, 2.0 * m * n * k, "GFLOP/s"))

    n = 1 << (16 if args.quick else 24)
    x_np, y_np = f32(n), f32(n)
    x, y = ops.convert_to_tensor(x_np), ops.convert_to_tensor(y_np)
    cases += [
        (f"add ({n},)", lambda: ops.add(x, y), lambda: np.add(x_np, y_np), 12.0 * n, "GB/s"),
        (f"multiply ({n},)", lambda: ops.multiply(x, y), lambda: np.multiply(x_np, y_np), 12.0 * n, "GB/s"),
        (f"relu ({n},)", lambda: ops.relu(x), lambda: np.maximum(x_np, 0), 8.0 * n, "GB/s"),
        (f"exp ({n},)", lambda: ops.exp(x), lambda: np.exp(x_np), 8.0 * n, "GB/s"),
        (f"sum ({n},)", lambda: ops.sum(x), lambda: np.sum(x_np), 4.0 * n, "GB/s"),
    ]
    side = 256 if args.quick else 4096
    m_np = f32(side, side)
    mt = ops.convert_to_tensor(m_np)
    b = f32(side, 1000 if not args.quick else 10)
    bt = ops.convert_to_tensor(b)

    def np_softmax():
        e = np.exp(b - b.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    cases += [
        (f"sum axis=0 ({side},{side})", lambda: ops.sum(mt, axis=0), lambda: m_np.sum(axis=0), 4.0 * side * side,
         "GB/s"),
        (f"max axis=-1 ({side},{side})", lambda: ops.max(mt, axis=-1), lambda: m_np.max(axis=-1),
         4.0 * side * side, "GB/s"),
        (f"softmax {b.shape}", lambda: ops.softmax(bt), np_softmax, 8.0 * b.size, "GB/s"),
    ]
    rows = []
    for run in range(args.runs):
        if args.runs > 1:
            print(f"-- run {run + 1}/{args.runs}", flush=True)
        for name, ck, nf, work, unit in cases:
            row = _compare(name, ck, nf, args.repeat, work=work, unit=unit)
            row["run"] = run
            rows.append(row)
    if args.runs > 1:
        print("-- median ratio over runs (NumPy time / ckeras time), with range")
        for name, *_ in cases:
            r = sorted(x["ratio"] for x in rows if x["case"] == name)
            print(f"{name:44s} {r[len(r) // 2]:5.2f}x  ({r[0]:.2f}-{r[-1]:.2f})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": args.threads, "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
