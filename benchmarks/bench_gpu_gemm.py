"""ckeras's CUDA GEMM vs cuBLAS (torch.matmul), side by side in one run, in FP32 and TF32.

    python benchmarks/bench_gpu_gemm.py [--repeat 5] [--quick] [--json out.json]

Cases: 4096^3, and the article's MLP layer (784 -> 128) at batch 32 and 256: forward X @ W, dX = dY @ W^T
and dW = X^T @ dY (transposed views, as the backward pass passes them). ckeras runs `ckeras.ops.matmul`
on tensors placed with `with ckeras.device("gpu:0")`; torch runs `torch.matmul` on CUDA tensors, with
TF32 allowed or forbidden to match ckeras's `enable_tensor_float_32_execution`. Each figure is the
median over `--repeat` rounds of a batch of calls followed by one synchronisation, the two libraries
alternating, so it measures what a training loop sees per call (dispatch included). Ratio = torch time
/ ckeras time (> 1: ckeras faster). On a machine without a GPU it prints why and exits with status 0.
"""
import argparse
import json
import statistics
import sys
import time

import numpy as np

# (name, A shape, B shape, transpose A, transpose B): op(A) @ op(B); a transposed operand is a view of
# the stored array, e.g. dX = dY @ W.T with W stored (784, 128).
CASES = [("4096^3", (4096, 4096), (4096, 4096), False, False)]
for _b in (32, 256):
    CASES += [(f"b{_b} fwd  X@W", (_b, 784), (784, 128), False, False),
              (f"b{_b} dX   dY@W^T", (_b, 128), (784, 128), False, True),
              (f"b{_b} dW   X^T@dY", (_b, 784), (_b, 128), True, False)]


def _gpu_or_exit():
    try:
        import ckeras
        from ckeras import _core
    except ImportError as e:
        print(f"bench_gpu_gemm: cannot import ckeras ({e}); nothing to measure.")
        sys.exit(0)
    if _core.cuda_device_count() == 0:
        reason = getattr(_core, "cuda_unavailable_reason", lambda: "")()
        print(f"bench_gpu_gemm: no GPU available{': ' + reason if reason else ''}; nothing to measure.")
        sys.exit(0)
    return ckeras


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def _set_tf32(ckeras, torch, enabled):
    ckeras.config.enable_tensor_float_32_execution(enabled)
    setter = getattr(ckeras._core, "set_tensor_float32_enabled", None)
    if setter is not None:
        setter(enabled)
    if torch is not None:
        torch.backends.cuda.matmul.allow_tf32 = enabled
        torch.set_float32_matmul_precision("high" if enabled else "highest")


def _ckeras_sync(ckeras, sample):
    """A function that waits for ckeras's queued GPU work."""
    return lambda: ckeras._core.device_synchronize("gpu:0")


def _time_per_call(fn, sync, calls, repeat):
    fn()
    sync()
    rounds = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        sync()
        rounds.append((time.perf_counter() - t0) / calls)
    return statistics.median(rounds)


def run_case(ckeras, torch, case, tf32, repeat):
    name, sa, sb, ta, tb = case
    rng = np.random.default_rng(0)
    a_np = rng.uniform(-1, 1, sa).astype(np.float32)
    b_np = rng.uniform(-1, 1, sb).astype(np.float32)
    with ckeras.device("gpu:0"):
        a = ckeras.ops.convert_to_tensor(a_np)
        b = ckeras.ops.convert_to_tensor(b_np)
        a_op = ckeras.ops.transpose(a) if ta else a
        b_op = ckeras.ops.transpose(b) if tb else b
        out = ckeras.ops.matmul(a_op, b_op)
    m, k = a_op.shape
    n = b_op.shape[1]
    flops = 2.0 * m * n * k
    calls = int(min(200, max(3, 2e10 / flops)))
    sync = _ckeras_sync(ckeras, out)
    t_ck = _time_per_call(lambda: ckeras.ops.matmul(a_op, b_op), sync, calls, repeat)
    row = {"case": name, "tf32": tf32, "M": m, "N": n, "K": k, "ckeras_us": t_ck * 1e6,
           "ckeras_tflops": flops / t_ck / 1e12}
    if torch is not None:
        ta_t = torch.from_numpy(a_np).cuda()
        tb_t = torch.from_numpy(b_np).cuda()
        at = ta_t.T if ta else ta_t
        bt = tb_t.T if tb else tb_t
        t_th = _time_per_call(lambda: torch.matmul(at, bt), torch.cuda.synchronize, calls, repeat)
        ref = torch.matmul(at, bt).cpu().numpy()
        got = ckeras.ops.convert_to_numpy(out)
        scale = np.abs(a_np.T if ta else a_np) @ np.abs(b_np.T if tb else b_np)
        row.update(torch_us=t_th * 1e6, torch_tflops=flops / t_th / 1e12, ratio=t_th / t_ck,
                   max_rel_diff=float(np.max(np.abs(got - ref) / np.maximum(scale, 1e-30))))
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="skip 4096^3")
    ap.add_argument("--json", help="write the rows to this file")
    args = ap.parse_args()
    ckeras = _gpu_or_exit()
    torch = _torch()
    if torch is None:
        print("bench_gpu_gemm: torch with CUDA is not available; showing ckeras alone.")
    rows = []
    for tf32 in (False, True):
        _set_tf32(ckeras, torch, tf32)
        print(f"\n{'TF32' if tf32 else 'FP32'}")
        for case in CASES:
            if args.quick and case[0] == "4096^3":
                continue
            r = run_case(ckeras, torch, case, tf32, args.repeat)
            rows.append(r)
            line = f"  {r['case']:18s} ckeras {r['ckeras_us']:10.1f} us {r['ckeras_tflops']:7.2f} TFLOP/s"
            if "torch_us" in r:
                line += (f"  torch {r['torch_us']:10.1f} us {r['torch_tflops']:7.2f} TFLOP/s  ratio {r['ratio']:5.2f}x"
                         f"  max|diff|/scale {r['max_rel_diff']:.1e}")
            print(line, flush=True)
    ckeras.config.enable_tensor_float_32_execution(True)  # ckeras's default
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
