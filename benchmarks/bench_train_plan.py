"""Training throughput of the article's model E1 with and without the captured step (TrainPlan), in one run.

E1 = Sequential([Dense(128, relu), Dense(10, softmax)]), compile(adam, categorical_crossentropy, accuracy),
fit on 60,000 x 784 float32 for one epoch, verbose=0. For each thread count (a fresh process with
OMP_NUM_THREADS etc. pinned) and batch size, the modes alternate round by round so that they share the
machine's load: "plan" (CKERAS_TRAIN_PLAN=1, the default), "eager" (CKERAS_TRAIN_PLAN=0) and, when PyTorch is
installed, "torch" (an eager PyTorch loop doing the same work: shuffle, batches, forward, loss, backward,
Adam, running loss and accuracy). Reports the median samples/s per mode and the load average around it.

    python benchmarks/bench_train_plan.py [--threads 1,2] [--batches 32,256] [--rounds 3] [--samples 60000]
                                          [--no-torch] [--json out.json]
"""
import argparse
import json
import os
import subprocess
import sys
import time

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_SETTLE_S = 0.5  # idle between modes: spinning worker threads of one library would slow the next


def _data(n):
    import numpy as np
    r = np.random.default_rng(0)
    x = r.random((n, 784), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[r.integers(0, 10, n)]
    return x, y


def _ckeras_epoch(plan, batch):
    """A function running one timed epoch of E1 (model and data made once)."""
    os.environ["CKERAS_TRAIN_PLAN"] = "1" if plan else "0"
    import ckeras
    from ckeras import layers, models
    ckeras.utils.set_random_seed(0)
    model = models.Sequential([layers.Dense(128, activation="relu"), layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])

    def run(x, y):
        os.environ["CKERAS_TRAIN_PLAN"] = "1" if plan else "0"
        model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
        assert model._train_plan_status == ("epoch" if plan else "eager: CKERAS_TRAIN_PLAN=0")
    return run


def _torch_epoch(batch, threads):
    import numpy as np
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()

    def run(x, y):
        xt, labels = torch.from_numpy(x), torch.from_numpy(np.argmax(y, axis=1))
        perm = torch.randperm(len(xt))
        total, correct = 0.0, 0
        for start in range(0, len(xt), batch):
            idx = perm[start:start + batch]
            xb, yb = xt[idx], labels[idx]
            opt.zero_grad()
            logits = model(xb)
            loss = loss_fn(logits, yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            correct += int((logits.argmax(1) == yb).sum())
    return run


def worker(args):
    """Runs in a process whose thread count is pinned; prints one JSON line per (batch, mode)."""
    x, y = _data(args.samples)
    modes = ["plan", "eager"] + (["torch"] if args.torch else [])
    for batch in args.batches:
        runners = {}
        for mode in modes:
            runners[mode] = _torch_epoch(batch, args.threads) if mode == "torch" else \
                _ckeras_epoch(mode == "plan", batch)
            runners[mode](x[:batch * 20], y[:batch * 20])  # warm-up: build, allocate, spin up threads
        times = {mode: [] for mode in modes}
        for _ in range(args.rounds):
            for mode in modes:
                time.sleep(_SETTLE_S)
                t0 = time.perf_counter()
                runners[mode](x, y)
                times[mode].append(time.perf_counter() - t0)
        for mode in modes:
            t = sorted(times[mode])[len(times[mode]) // 2]
            print(json.dumps({"threads": args.threads, "batch": batch, "mode": mode, "median_s": t,
                              "samples_per_s": args.samples / t, "all_s": times[mode]}), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--batches", default="32,256")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--samples", type=int, default=60000)
    ap.add_argument("--no-torch", dest="torch", action="store_false")
    ap.add_argument("--json")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.batches = [int(b) for b in str(args.batches).split(",")]
    if args.torch:
        try:
            import torch  # noqa: F401
        except ImportError:
            args.torch = False
    if args.worker:
        args.threads = int(args.threads)
        return worker(args)
    rows, load_before = [], os.getloadavg()
    for threads in [int(t) for t in args.threads.split(",")]:
        env = dict(os.environ, **{v: str(threads) for v in _THREAD_VARS})
        cmd = [sys.executable, __file__, "--worker", "--threads", str(threads), "--batches",
               ",".join(map(str, args.batches)), "--rounds", str(args.rounds), "--samples", str(args.samples)]
        if not args.torch:
            cmd.append("--no-torch")
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        rows += [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    load_after = os.getloadavg()
    print(f"E1 on {args.samples} x 784, one epoch per measurement, median of {args.rounds} rounds; "
          f"load average before {load_before[0]:.2f} / after {load_after[0]:.2f} (1 min), {os.cpu_count()} CPUs")
    print(f"{'threads':>7} {'batch':>5} {'mode':>6} {'samples/s':>10} {'ms/step':>8} {'vs eager':>8} {'vs torch':>8}")
    for r in rows:
        same = {m["mode"]: m for m in rows if m["threads"] == r["threads"] and m["batch"] == r["batch"]}
        steps = -(-args.samples // r["batch"])
        vs = [f"{r['samples_per_s'] / same[m]['samples_per_s']:7.2f}x" if m in same else "       -"
              for m in ("eager", "torch")]
        print(f"{r['threads']:>7} {r['batch']:>5} {r['mode']:>6} {r['samples_per_s']:>10.0f} "
              f"{r['median_s'] / steps * 1e3:>8.3f} {vs[0]:>8} {vs[1]:>8}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"load_before": load_before, "load_after": load_after, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
