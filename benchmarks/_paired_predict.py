"""`predict` at batch 1024 for `bench_training.py`, the frameworks' calls interleaved.

One call is 10 batches (about 20 ms for ckeras and PyTorch). On a shared VM a burst of load from the
neighbours lasts seconds and slowed single calls by 30-100%, so figures taken by each framework in its
own process minutes apart gave per-run ratios of 0.67-1.84 (Zen 3). Here every framework's worker
(`_training_worker.py --phase predict`) is started first and waits; then each round sends one `go` to each
in turn (the order rotating), so neighbouring calls of the frameworks share the same load. A worker answers
`go` with an untimed call, then a timed one: after the pause, the first call also paid for waking the threads
(1-2 ms on this VM, for both ckeras and PyTorch).
"""
import json
import os
import subprocess
import tempfile
import time

ROUNDS = 15  # timed calls per framework and model (--quick: 3)
SETTLE_S = 0.05  # pause before each call: the previous worker's OpenMP threads stop spinning
TIME_PREFIX = "TIME "


def _start(python, framework, model, worker, worker_args, env):
    log = tempfile.TemporaryFile(mode="w+")  # stderr to a file: a full pipe would block the worker
    proc = subprocess.Popen([python, worker, "--framework", framework, "--phase", "predict", "--models", model,
                             *worker_args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
                            env=env)
    return proc, log


def _read_until(proc, prefix):
    """The first stdout line starting with prefix (without it), or None at the end of the output."""
    for line in proc.stdout:
        if line.startswith(prefix):
            return line[len(prefix):].strip()
    return None


def _tail(log):
    log.seek(0)
    return "\n    ".join(log.read().strip().splitlines()[-8:])


def paired_predict(pythons, order, model, worker, worker_args, env, result_prefix, rounds=ROUNDS):
    """{framework: result dict} for one model; a worker that fails gives {"error": ...}."""
    workers, out = {}, {}
    for fw in order:
        proc, log = _start(pythons[fw], fw, model, worker, worker_args, env)
        if _read_until(proc, "READY") is None:
            proc.wait()
            out[fw] = {"error": f"predict {model}: worker exited (rc {proc.returncode}):\n    {_tail(log)}"}
            log.close()
        else:
            workers[fw] = (proc, log)
    t0 = time.perf_counter()
    for r in range(rounds):
        for k in range(len(order)):
            fw = order[(r + k) % len(order)]
            if fw not in workers:
                continue
            time.sleep(SETTLE_S)
            proc = workers[fw][0]
            proc.stdin.write("go\n")
            proc.stdin.flush()
            if _read_until(proc, TIME_PREFIX) is None:
                proc.wait()
                log = workers.pop(fw)[1]
                out[fw] = {"error": f"predict {model}: worker exited (rc {proc.returncode}):\n    {_tail(log)}"}
                log.close()
    for fw, (proc, log) in workers.items():
        text, _ = proc.communicate("stop\n")
        lines = [line for line in text.splitlines() if line.startswith(result_prefix)]
        if proc.returncode != 0 or not lines:
            out[fw] = {"error": f"predict {model}: rc {proc.returncode}:\n    {_tail(log)}"}
        else:
            out[fw] = json.loads(lines[-1][len(result_prefix):])
        log.close()
    print(f"  predict {model} paired, {rounds} rounds: {time.perf_counter() - t0:5.1f} s   "
          f"load {os.getloadavg()[0]:.2f}", flush=True)
    return out
