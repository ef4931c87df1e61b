"""Tensor engine against other NumPy autodiff libraries: MyGrad and HIPS autograd.

The step is bench_tensor's MLP training step at its small and mid sizes (same weights, inputs and
targets from its ``_init``): Linear-ReLU-Linear-ReLU-Linear, softmax cross-entropy, backward and an
SGD update, in float32, written idiomatically in each library:

* chainrule with ``autograd`` tensors (bench_tensor's ``_chainrule_step``);
* MyGrad: ``x @ W.T + b``, ``mygrad.nnet.relu``, ``mygrad.nnet.softmax_crossentropy``,
  ``loss.backward()``, ``W.data -= lr * W.grad``; once with its defaults and once with memory guarding
  off (``mygrad.mem_guard_off``, the switch its documentation gives for speed);
* HIPS autograd: a loss function of the parameter list over ``autograd.numpy``, ``value_and_grad``,
  ``p -= lr * g``;
* torch eager (bench_tensor's ``_torch_step``), for reference.

HIPS autograd's import name is ``autograd``, as ours, so it runs in a subprocess: it is installed (once,
with pip, without dependencies so it uses this NumPy) into ``.venv/peers/hips``, and a worker script runs
with ``python -I`` (no PYTHONPATH, no current directory on ``sys.path``) from a temporary directory with
that directory first on ``sys.path``, ahead of our editable install (the worker checks which ``autograd``
it imported and refuses ours), with the same NumPy, BLAS thread count and timing scheme, and prints
its timings as JSON. Every contender's first two losses are
checked against torch's. When HIPS autograd cannot be installed, the section says so.

``run()`` returns ``{"markdown": ..., ...}`` with the section for BENCHMARKS.md and the key numbers;
``python -m benchmarks.bench_peers`` prints the section.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from benchmarks import bench_tensor as bt

ROOT = Path(__file__).resolve().parent.parent
HIPS_DIR = ROOT / ".venv" / "peers" / "hips"
PEER_SIZES = ("small", "mid")
LOSS_RTOL, LOSS_ATOL = 1e-5, 1e-6
INSTALL_TIMEOUT = 180  # seconds
WORKER_TIMEOUT = 300

LABELS = {
    "chainrule": "chainrule, `autograd` tensors",
    "mygrad": "MyGrad {mygrad}",
    "mygrad_noguard": "MyGrad {mygrad}, memory guarding off",
    "hips": "HIPS autograd {hips}",
    "torch": "torch {torch} eager (reference)",
}


# -- MyGrad (in this process) ------------------------------------------------------------------------
def _mygrad_step(params, x, y, guard=True):
    import mygrad as mg
    from mygrad.nnet.activations import relu
    from mygrad.nnet.losses import softmax_crossentropy
    W1, b1, W2, b2, W3, b3 = ps = [mg.Tensor(p) for p in params]  # mg.Tensor copies its data
    lr = bt.LR

    def step():
        h = relu(x @ W1.T + b1)
        h = relu(h @ W2.T + b2)
        loss = softmax_crossentropy(h @ W3.T + b3, y)
        loss.backward()
        for p in ps:
            p.data -= lr * p.grad
        return loss

    if guard:
        return step

    def step_unguarded():
        with mg.mem_guard_off:
            return step()
    return step_unguarded


# -- HIPS autograd (in a subprocess) -----------------------------------------------------------------
# Runs as ``python -I -c WORKER HIPS_DIR DATA.npz CONFIG_JSON`` from a temporary directory; prints one
# JSON object on its last line of stdout. The timing mirrors bench_tensor's ``_time`` for one contender.
WORKER = r'''
import json, statistics, sys, time
from importlib import metadata

hips_dir, data_path, config = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
sys.path.insert(0, hips_dir)
import numpy as onp
import autograd

if not autograd.__file__.startswith(hips_dir):  # our autograd (the editable install's finder) got in
    print(json.dumps({"file": autograd.__file__, "sizes": {}}))
    sys.exit(0)
import autograd.numpy as anp
from autograd import value_and_grad

blas = None
try:
    from threadpoolctl import threadpool_info, threadpool_limits
except ImportError:
    pass
else:
    threadpool_limits(limits=config["threads"], user_api="blas")
    blas = ", ".join(f"{p['internal_api']} {p['version']} with {p['num_threads']}"
                     for p in threadpool_info() if p["user_api"] == "blas" and "numpy" in p["filepath"])
out = {"file": autograd.__file__, "numpy": onp.__version__, "blas": blas, "sizes": {},
       "version": next((d.version for d in metadata.distributions(path=[hips_dir])
                        if d.metadata["Name"] == "autograd"), "unknown")}
data = onp.load(data_path)
lr = config["lr"]
for name, steps in config["sizes"]:
    params = [data[f"{name}_p{i}"] for i in range(6)]
    x, y = data[f"{name}_x"], data[f"{name}_y"]
    rows = onp.arange(len(y))

    def loss_fn(ps):
        W1, b1, W2, b2, W3, b3 = ps
        h = anp.maximum(x @ W1.T + b1, 0.0)
        h = anp.maximum(h @ W2.T + b2, 0.0)
        z = h @ W3.T + b3
        s = z - anp.max(z, axis=1, keepdims=True)
        logp = s - anp.log(anp.sum(anp.exp(s), axis=1, keepdims=True))
        return -anp.mean(logp[rows, y])

    vg = value_and_grad(loss_fn)
    ps = [p.copy() for p in params]

    def step():
        loss, grads = vg(ps)
        for p, g in zip(ps, grads):
            p -= lr * g
        return loss

    losses = [float(step()) for _ in range(2)]
    grad_dtype = str(vg(ps)[1][0].dtype)
    per_round, times = max(1, steps // config["rounds"]), []
    for r in range(config["rounds"]):
        time.sleep(config["pause"])
        for _ in range(config["warmup"] if r == 0 else 2):
            step()
        for _ in range(per_round):
            t0 = time.perf_counter()
            step()
            times.append(time.perf_counter() - t0)
    out["sizes"][name] = {"ms": 1e3 * statistics.median(times), "losses": losses, "grad_dtype": grad_dtype,
                          "steps": per_round * config["rounds"]}
print(json.dumps(out))
'''


def _hips_installed():
    return (HIPS_DIR / "autograd" / "__init__.py").is_file()


def _install_hips():
    """Install HIPS autograd into HIPS_DIR when missing. Returns None, or why it could not."""
    if _hips_installed():
        return None
    where = HIPS_DIR.relative_to(ROOT) if HIPS_DIR.is_relative_to(ROOT) else HIPS_DIR
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
           "--target", str(HIPS_DIR), "autograd"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"`pip install --target {where} autograd` failed: {e}"
    if proc.returncode != 0 or not _hips_installed():
        err = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        return (f"`pip install --target {where} autograd` failed (exit "
                f"{proc.returncode}): {err[-1] if err else 'no message'}")
    return None


def _run_hips(data, sizes, threads, warmup_of):
    """Time HIPS autograd in a subprocess. Returns (result dict, None) or (None, why not)."""
    why = _install_hips()
    if why:
        return None, why
    config = {"lr": bt.LR, "threads": threads, "rounds": bt.ROUNDS, "pause": bt.PAUSE,
              "sizes": [[name, steps] for name, steps in sizes], "warmup": max(3, warmup_of)}
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    with tempfile.TemporaryDirectory(prefix="chainrule-peers-") as tmp:
        path = os.path.join(tmp, "data.npz")
        np.savez(path, **data)
        try:
            cmd = [sys.executable, "-I", "-c", WORKER, str(HIPS_DIR), path, json.dumps(config)]
            proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True,
                                  timeout=WORKER_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as e:
            return None, f"the HIPS autograd worker failed: {e}"
    if proc.returncode != 0 or not proc.stdout.strip():
        err = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        return None, f"the HIPS autograd worker failed (exit {proc.returncode}): {err[-1] if err else ''}"
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    if not out["sizes"]:
        return None, f"the worker imported `autograd` from {out['file']}, not from {HIPS_DIR}"
    return out, None


# -- the benchmark -----------------------------------------------------------------------------------
def _cpu_busy():
    """bench_tensor's (CPU seconds of all processes, of this one), this one counting its finished
    children (the HIPS worker); None off Linux."""
    busy = bt._cpu_busy()
    if busy is None:
        return None
    t = os.times()
    return busy[0], busy[1] + t.children_user + t.children_system


def _version(dist):
    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def _losses(make, n=2):
    step = make()
    return [float(step().item()) for _ in range(n)]


def run(quick=False, threads=None):
    """Time every contender at bench_tensor's small and mid sizes; return the BENCHMARKS.md section and
    the key numbers. ``threads`` defaults to $CHAINRULE_BENCH_THREADS, else torch's default."""
    import torch
    threads = threads or int(os.environ.get("CHAINRULE_BENCH_THREADS", 0)) or torch.get_num_threads()
    has_mygrad = _version("mygrad") is not None
    used, undo = bt._set_threads(threads)
    try:
        cpu0, wall0 = _cpu_busy(), time.perf_counter()
        rows, losses, data, hips_sizes = {}, {}, {}, []
        for name, batch, widths, steps in bt.SIZES:
            if name not in PEER_SIZES:
                continue
            if quick:
                steps = max(bt.ROUNDS, steps // 10)
            params, x, y = bt._init(widths, batch)
            makers = {"chainrule": lambda: bt._chainrule_step(params, x, y)[0],
                      "torch": lambda: bt._torch_step(params, x, y)[0]}
            if has_mygrad:
                makers["mygrad"] = lambda: _mygrad_step(params, x, y)
                makers["mygrad_noguard"] = lambda: _mygrad_step(params, x, y, guard=False)
            losses[name] = {k: _losses(make) for k, make in makers.items()}
            steps_fns = {k: make() for k, make in makers.items()}
            rows[name] = bt._time(steps_fns, steps, warmup=max(3, steps // 10))
            rows[name]["steps"] = steps
            data.update({f"{name}_p{i}": p for i, p in enumerate(params)})
            data.update({f"{name}_x": x, f"{name}_y": y})
            hips_sizes.append((name, steps))
        hips, hips_error = _run_hips(data, hips_sizes, threads, max(s for _, s in hips_sizes) // 10)
        cpu1, wall = _cpu_busy(), time.perf_counter() - wall0
    finally:
        for fn in undo:
            fn()
    others = None  # share of the machine's CPU time used by processes other than this one and its worker
    if cpu0 and cpu1:
        others = max(0.0, (cpu1[0] - cpu0[0]) - (cpu1[1] - cpu0[1])) / (wall * (os.cpu_count() or 1))
    if hips:
        for name, r in hips["sizes"].items():
            rows[name]["hips"] = r["ms"]
            losses[name]["hips"] = r["losses"]
    return _report(rows, losses, used, hips, hips_error, has_mygrad, others)


def _report(rows, losses, used, hips, hips_error, has_mygrad, others):
    versions = {"mygrad": _version("mygrad"), "hips": hips and hips["version"],
                "torch": bt._torch_version()}
    order = ["chainrule", "mygrad", "mygrad_noguard", "hips", "torch"]
    sizes = [s for s in bt.SIZES if s[0] in rows]
    result = {"threads": used, "versions": versions, "hips_error": hips_error, "sizes": {},
              "other_processes_cpu": others,
              "hips_grad_dtype": hips and {n: r["grad_dtype"] for n, r in hips["sizes"].items()}}
    bad = []
    for name, *_ in sizes:
        ref = losses[name]["torch"]
        entry = result["sizes"][name] = {"steps": rows[name]["steps"]}
        for key in order:
            if key not in rows[name]:
                continue
            ok = bool(np.allclose(losses[name][key], ref, rtol=LOSS_RTOL, atol=LOSS_ATOL))
            entry[key] = {"ms": rows[name][key], "vs_chainrule": rows[name][key] / rows[name]["chainrule"],
                          "losses": losses[name][key], "agrees_with_torch": ok}
            if not ok:
                bad.append((name, key))
    lines = [
        "## Tensor engine against other NumPy autodiff libraries",
        "",
        "bench_tensor's MLP training step (Linear-ReLU-Linear-ReLU-Linear, softmax cross-entropy, backward, "
        "SGD, float32, same weights and data) written idiomatically with each library; median ms/step "
        "(warm-up, then interleaved blocks of steps). *vs chainrule* is the library's time over ours "
        "(above 1: slower than chainrule). HIPS autograd runs in a subprocess (its import name is "
        "`autograd`, as ours) with the same NumPy, BLAS threads and timing; the others in this process. "
        "The first two losses of every library are checked against torch's (rtol "
        f"{LOSS_RTOL:g}).",
        "",
        f"Threads: torch {used['torch']}, NumPy BLAS {used['numpy_blas']}"
        + (f"; HIPS autograd worker: NumPy {hips['numpy']}, BLAS {hips['blas'] or 'not reported'}." if hips
           else "."),
        "",
    ]
    if others is not None and others > 0.1:
        lines += [f"**Warning**: other processes used {100 * others:.0f}% of the machine's CPU time "
                  "during this run; the timings are perturbed.", ""]
    if hips_error:
        lines += [f"HIPS autograd: not measured ({hips_error}).", ""]
    if not has_mygrad:
        lines += ["MyGrad: not measured (not installed).", ""]
    if bad:
        lines += ["**Warning**: losses disagree with torch's for "
                  + ", ".join(f"{LABELS[k].split(' ')[0]} ({n})" for n, k in bad) + ".", ""]
    head = " | ".join(f"{name} ms/step | vs chainrule" for name, *_ in sizes)
    lines += [
        "; ".join(f"**{name}**: batch {batch}, layers {'-'.join(map(str, widths))}, "
                  f"{rows[name]['steps']} timed steps" for name, batch, widths, _ in sizes) + ".",
        "",
        f"| | {head} |",
        "|---|" + "---:|---:|" * len(sizes),
    ]
    for key in order:
        if not all(key in rows[name] for name, *_ in sizes):
            continue
        cells = " | ".join(f"{rows[name][key]:.3f} | {rows[name][key] / rows[name]['chainrule']:.2f}x"
                           for name, *_ in sizes)
        lines.append(f"| {LABELS[key].format(**versions)} | {cells} |")
    lines.append("")
    result["markdown"] = "\n".join(lines)
    return result


if __name__ == "__main__":
    print(run()["markdown"])
