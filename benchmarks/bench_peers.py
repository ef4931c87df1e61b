"""Tensor engine against other NumPy autodiff libraries: MyGrad and HIPS autograd.

The step is bench_tensor's MLP training step in plain tensor ops at its small and mid sizes (same
weights, inputs and targets from its ``init``, W of shape (in, out)): Linear-ReLU-Linear-ReLU-Linear,
softmax cross-entropy, backward and an SGD update, in float32, at 1 and 2 threads, written idiomatically
in each library:

* chainrule with ``autograd`` tensors (bench_tensor's ``plain_step``);
* MyGrad: ``x @ W + b``, ``mygrad.nnet.relu``, ``mygrad.nnet.softmax_crossentropy``,
  ``loss.backward()``, ``W.data -= lr * W.grad``; once with its defaults and once with memory guarding
  off (``mygrad.mem_guard_off``, the switch its documentation gives for speed);
* HIPS autograd: a loss function of the parameter list over ``autograd.numpy``, ``value_and_grad``,
  ``p -= lr * g``;
* torch eager (bench_tensor's ``plain_step``), for reference.

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
from pathlib import Path

import numpy as np

from benchmarks import bench_tensor as bt
from benchmarks.harness import (QUICK_TIMING, THREADS, Load, Timing, dist_version, interleaved, ratio,
                                thread_label, threads, torch_version)

ROOT = Path(__file__).resolve().parent.parent
HIPS_DIR = ROOT / ".venv" / "peers" / "hips"
PEER_SIZES = ("small", "mid")
LOSS_RTOL, LOSS_ATOL = 1e-5, 1e-6
INSTALL_TIMEOUT = 180  # seconds
WORKER_TIMEOUT = 300

LABELS = {
    "chainrule": "chainrule, plain tensor ops",
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
    W1, b1, W2, b2, W3, b3 = ps = [mg.Tensor(p) for p in bt.in_out(params)]  # W (in, out)
    lr = bt.LR

    def step():
        h = relu(x @ W1 + b1)
        h = relu(h @ W2 + b2)
        loss = softmax_crossentropy(h @ W3 + b3, y)
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
        h = anp.maximum(x @ W1 + b1, 0.0)
        h = anp.maximum(h @ W2 + b2, 0.0)
        z = h @ W3 + b3
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
        for _ in range(config["warmup"] if r == 0 else 1):
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


def run_hips(data, sizes, n_threads, timing, hips_dir=HIPS_DIR):
    """Time HIPS autograd, installed in ``hips_dir``, in a subprocess at ``n_threads`` on ``data`` (the
    arrays ``{size}_p0..5``, ``{size}_x``, ``{size}_y`` for every (size, steps) in ``sizes``).
    Returns (result dict, None) or (None, why not)."""
    config = {"lr": bt.LR, "threads": n_threads, "rounds": timing.rounds, "pause": timing.pause,
              "sizes": [[name, steps] for name, steps in sizes],
              "warmup": max(timing.warmup, max((steps for _, steps in sizes), default=0) // 10)}
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(n_threads)
    with tempfile.TemporaryDirectory(prefix="chainrule-peers-") as tmp:
        path = os.path.join(tmp, "data.npz")
        np.savez(path, **data)
        try:
            cmd = [sys.executable, "-I", "-c", WORKER, str(hips_dir), path, json.dumps(config)]
            proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True,
                                  timeout=WORKER_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as e:
            return None, f"the HIPS autograd worker failed: {e}"
    if proc.returncode != 0 or not proc.stdout.strip():
        err = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        return None, f"the HIPS autograd worker failed (exit {proc.returncode}): {err[-1] if err else ''}"
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    if not out["sizes"]:
        return None, f"the worker imported `autograd` from {out['file']}, not from {hips_dir}"
    return out, None


# -- the benchmark -----------------------------------------------------------------------------------
def _losses(make, n=2):
    step = make()
    return [float(step().item()) for _ in range(n)]


def _makers(params, x, y, has_mygrad):
    """The in-process contenders' makers: name -> () -> step."""
    makers = {"chainrule": lambda: bt.plain_step(bt.library("chainrule"), params, x, y)[0],
              "torch": lambda: bt.plain_step(bt.library("torch"), params, x, y)[0]}
    if has_mygrad:
        makers["mygrad"] = lambda: _mygrad_step(params, x, y)
        makers["mygrad_noguard"] = lambda: _mygrad_step(params, x, y, guard=False)
    return makers


def run(quick=False, sizes=None, thread_counts=THREADS, with_hips=True):
    """Time every contender at bench_tensor's small and mid sizes (or ``sizes``, bench_tensor.SIZES
    entries) at every thread count; return the BENCHMARKS.md section and the key numbers. HIPS autograd
    is installed when missing, unless ``with_hips`` is false (then it is left out)."""
    sizes = sizes or [s for s in bt.SIZES if s[0] in PEER_SIZES]
    timing = QUICK_TIMING if quick else Timing()
    has_mygrad = dist_version("mygrad") is not None
    rows, losses, data, hips_sizes, described, hips = {}, {}, {}, [], {}, {}
    hips_error = _install_hips() if with_hips else "left out of this run"
    with Load() as load:
        for name, batch, widths, steps in sizes:
            steps = max(timing.rounds, steps // bt.QUICK_DIVISOR) if quick else steps
            params, x, y = bt.init(widths, batch)
            makers = _makers(params, x, y, has_mygrad)
            losses[name] = {k: _losses(make) for k, make in makers.items()}
            rows[name] = {"steps": steps}
            for n in thread_counts:
                with threads(n) as described[n]:
                    fns = {k: make() for k, make in makers.items()}
                    rows[name][n] = interleaved(fns, steps, Timing(timing.rounds, timing.pause,
                                                                   max(timing.warmup, steps // 10)))
            data.update({f"{name}_p{i}": p for i, p in enumerate(bt.in_out(params))})
            data.update({f"{name}_x": x, f"{name}_y": y})
            hips_sizes.append((name, steps))
        for n in thread_counts:
            if hips_error is None:
                hips[n], hips_error = run_hips(data, hips_sizes, n, timing)
    for n, out in hips.items():
        for name, r in ((out or {}).get("sizes") or {}).items():
            rows[name][n]["hips"] = r["ms"]
            losses[name]["hips"] = r["losses"]
    return _report(rows, losses, sizes, thread_counts, described, hips, hips_error, has_mygrad, load)


def _agreeing(losses):
    """{size: {library: its first losses agree with torch's}}."""
    def agrees(a, b):
        return bool(np.allclose(a, b, rtol=LOSS_RTOL, atol=LOSS_ATOL))
    return {name: {k: agrees(v, ls["torch"]) for k, v in ls.items()} for name, ls in losses.items()}


def _report(rows, losses, sizes, thread_counts, described, hips, hips_error, has_mygrad, load):
    any_hips = next((h for h in hips.values() if h), None)
    versions = {"mygrad": dist_version("mygrad"), "hips": any_hips and any_hips["version"],
                "torch": torch_version()}
    order = ["chainrule", "mygrad", "mygrad_noguard", "hips", "torch"]
    agree = _agreeing(losses)
    result = {"threads": described, "versions": versions, "hips_error": hips_error,
              "other_processes_cpu": load.others, "sizes": {}}
    for name, *_ in sizes:
        result["sizes"][name] = {"steps": rows[name]["steps"], "agrees_with_torch": agree[name],
                                 **{n: rows[name][n] for n in thread_counts}}
    bad = [(name, k) for name, a in agree.items() for k, ok in a.items() if not ok]
    lines = [
        "## Tensor engine against other NumPy autodiff libraries",
        "",
        "bench_tensor's MLP training step in plain tensor ops (`x @ W + b` with W (in, out), ReLU, softmax "
        "cross-entropy, backward, SGD, float32, same weights and data) written idiomatically with each "
        "library; median ms/step of interleaved blocks. *vs chainrule* is the library's time over ours "
        "(above 1: slower than chainrule). HIPS autograd runs in a subprocess (its import name is "
        "`autograd`, as ours) with the same NumPy, BLAS threads and timing; the others in this process. "
        f"The first two losses of every library are checked against torch's (rtol {LOSS_RTOL:g}).",
        "",
        *[f"Threads at {thread_label(n)}: {described[n]}"
          + (f"; HIPS autograd worker: NumPy {hips[n]['numpy']}, BLAS {hips[n]['blas'] or 'not reported'}."
             if hips.get(n) else ".") for n in thread_counts],
        "",
        *load.warning(),
    ]
    if hips_error:
        lines += [f"HIPS autograd: not measured ({hips_error}).", ""]
    if not has_mygrad:
        lines += ["MyGrad: not measured (not installed).", ""]
    if bad:
        lines += ["**Warning**: losses disagree with torch's for "
                  + ", ".join(f"{LABELS[k].split(' ')[0]} ({n})" for n, k in bad) + ".", ""]
    for name, batch, widths, _ in sizes:
        lines += [
            f"**{name}**: batch {batch}, layers {'-'.join(map(str, widths))}, {rows[name]['steps']} timed "
            "steps per library and thread count.",
            "",
            "| | " + " | ".join(f"{thread_label(n)}: ms | vs chainrule" for n in thread_counts) + " |",
            "|---|" + "---:|---:|" * len(thread_counts),
        ]
        for key in order:
            if not all(key in rows[name][n] for n in thread_counts):
                continue
            cells = " | ".join(f"{r[key]:.3f} | {ratio(r[key], r['chainrule'])}"
                               for r in (rows[name][n] for n in thread_counts))
            lines.append(f"| {LABELS[key].format(**versions)} | {cells} |")
        lines.append("")
    result["markdown"] = "\n".join(lines)
    return result


if __name__ == "__main__":
    print(run()["markdown"])
