"""The benchmark harness on tiny sizes, so it cannot rot: every module's ``run`` in quick mode (both
thread counts, every contender, the checks against torch), the HIPS worker against a stand-in package,
and the report writer. No timing assertions: only structure, and the numbers the harness checks."""
import gc
import math
import statistics
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # benchmarks/ is not installed; it runs from the repository root
    sys.path.insert(0, str(ROOT))

from benchmarks import __main__ as cli  # noqa: E402
from benchmarks import (bench_cnn, bench_cnn_strided, bench_lstm, bench_ops, bench_peers, bench_scalar,  # noqa: E402
                        bench_tensor, harness, model_step)

TINY = [("tiny", 4, (6, 8, 8, 3), 4)]


def _positive(x):
    return isinstance(x, float) and math.isfinite(x) and x > 0


def test_tensor_every_contender_at_both_thread_counts():
    r = bench_tensor.run(quick=True, sizes=TINY, memory_steps=3)
    rows = r["sizes"]["tiny"]
    assert set(rows) == {"steps"} | {key for key, *_ in bench_tensor.ROWS}
    for key, *_ in bench_tensor.ROWS:
        assert set(rows[key]) == set(harness.THREADS)
        for n in harness.THREADS:
            assert _positive(rows[key][n]["ms"]) and rows[key][n]["targets"] == []  # "tiny" has none
    md = r["markdown"]
    assert md.count("| chainrule, plain tensor ops |") == 1 and "1 thread: ms" in md and "2 threads: ms" in md
    assert "Memory: 3 plain-ops steps" in md
    assert [t["workload"] for t in r["targets"]] == ["memory: 3 steps keeping each loss"]


@pytest.mark.parametrize("size, ratios, n, expected", [
    ("small", {"torch": 0.4, "floor": 9.0}, 1, [("torch", True)]),
    ("small", {"torch": 0.6, "floor": 1.0}, 2, [("torch", False)]),
    ("mid", {"torch": 1.0, "floor": 1.2}, 1, [("torch", True), ("floor", False)]),
    ("large", {"torch": 1.2, "floor": 1.04}, 1, [("floor", True)]),  # torch's target is at 2 threads only
    ("large", {"torch": 1.2, "floor": 1.04}, 2, [("floor", True), ("torch", False)]),
])
def test_tensor_targets_are_the_issues(size, ratios, n, expected):
    assert bench_tensor.judge(size, ratios, n) == expected


def test_tensor_step_check_catches_a_wrong_step():
    params, x, y = bench_tensor.init((6, 8, 8, 3), 4)
    contenders = bench_tensor.makers(params, x, y)
    bench_tensor.check_same_step(contenders)  # the real contenders agree
    right = contenders["numpy"]

    def wrong():
        step, ps = right()
        ps[0] *= 2  # different weights from the start
        return step, ps
    with pytest.raises(AssertionError, match="numpy and torch disagree"):
        bench_tensor.check_same_step({**contenders, "numpy": wrong})


def test_ops_rows_for_every_op_shape_and_thread_count():
    r = bench_ops.run(quick=True, shapes=[("tiny", (2, 2)), ("mid", (8, 8))], repeats={"tiny": 5, "mid": 5})
    keys = {(row["op"], row["shape"], row["threads"]) for row in r["rows"]}
    assert keys == {(op, s, n) for op in bench_ops.OPS for s in ((2, 2), (8, 8)) for n in harness.THREADS}
    for row in r["rows"]:
        assert set(row["us"]) == {"numpy", "chainrule", "torch"}
        over, hw = row["chainrule_overhead_us"], row["chainrule_overhead_halfwidth_us"]
        assert hw >= 0 and row["target_met"] == bench_ops.outcome(over, hw)
    assert r["markdown"].count("| `matmul` | 8x8 |") == len(harness.THREADS)


@pytest.mark.parametrize("median, halfwidth, expected", [
    (0.5, 0.2, True), (0.5, 0.6, None), (1.5, 0.2, False), (-3.0, 0.5, True), (-3.0, 9.0, None),
    (1.0, 0.0, True)])
def test_ops_outcome_needs_the_whole_interval(median, halfwidth, expected):
    assert bench_ops.outcome(median, halfwidth, limit=1.0) is expected


def test_ops_paired_overhead_and_interval():
    median, hw = bench_ops.overhead([1.0, 2.0, 3.0, 4.0, 5.0])
    q1, _, q3 = statistics.quantiles([1.0, 2.0, 3.0, 4.0, 5.0], n=4)
    assert median == 3.0 and hw == pytest.approx(1.58 * (q3 - q1) / 5 ** 0.5)


def test_ops_numpy_backward_is_the_gradient():
    """The bare NumPy backward of each op is the gradient torch computes (so the overhead compares like
    with like)."""
    import torch
    rng = np.random.default_rng(0)
    a, b, g = (rng.standard_normal((3, 3)) for _ in range(3))
    for name, (op, grad) in bench_ops.OPS.items():
        A, B = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        op(A, B).backward(torch.tensor(g))
        ga, gb = grad(a, b, g)
        np.testing.assert_allclose(ga, A.grad.numpy(), err_msg=name)
        np.testing.assert_allclose(gb, B.grad.numpy(), err_msg=name)


@pytest.mark.parametrize("module", [bench_cnn, bench_cnn_strided, bench_lstm])
def test_model_step_both_thread_counts(module):
    r = module.run(quick=True, batch=2, steps=2)
    assert set(r["by_threads"]) == set(harness.THREADS)
    assert all(_positive(v["chainrule_ms"]) and _positive(v["torch_ms"]) for v in r["by_threads"].values())
    assert len(r["losses"]["chainrule"]) == len(r["losses"]["torch"]) == module.WORKLOAD.check_steps
    assert [t["workload"] for t in r["targets"]] == [module.WORKLOAD.workload]
    assert r["markdown"].startswith(f"## {module.WORKLOAD.title}") and "| chainrule, `nn`" in r["markdown"]
    assert module.__name__.rsplit(".", 1)[1] in cli.MODULES


def test_model_step_check_catches_different_weights():
    """Torch's weights not loaded into ours (each library initialises its own): the step-by-step loss
    check refuses the pair."""
    make = model_step._make
    skip_load = lambda w, name, x, y, state_dict=None: make(w, name, x, y)  # noqa: E731
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(model_step, "_make", skip_load)
        with pytest.raises(AssertionError, match="bench_lstm: chainrule and torch disagree"):
            model_step.contenders(bench_lstm.WORKLOAD, 2)


def test_scalar_default_and_collector_off():
    was_enabled = gc.isenabled()
    r = bench_scalar.run(quick=True, points=4, chain_sizes=(200, 2000), memory_nodes=1000)
    assert gc.isenabled() == was_enabled  # the diagnostic restores the collector
    for mode in ("default", "collector_off"):
        assert set(r["step_seconds"][mode]) == {"chainrule", "micrograd"}
    assert r["max_loss_difference"] <= bench_scalar.LOSS_TOL
    assert set(r["chain_seconds"]) == {200, 2000}
    assert r["linearity_target_met"] == (r["outside_collector_linearity"] <= bench_scalar.LINEARITY_TARGET)
    assert "collector off s/step" in r["markdown"]


def test_peers_in_process_contenders():
    r = bench_peers.run(quick=True, sizes=TINY, with_hips=False)
    assert r["hips_error"] == "left out of this run"
    entry = r["sizes"]["tiny"]
    assert all(entry["agrees_with_torch"].values())
    for n in harness.THREADS:
        assert {"chainrule", "torch"} <= set(entry[n])


STAND_IN = {  # an ``autograd`` with HIPS's two names the worker uses; value_and_grad gives zero grads
    "__init__.py": "import numpy as _np\n"
                   "def value_and_grad(f):\n"
                   "    return lambda ps: (f(ps), [_np.zeros_like(p) for p in ps])\n",
    "numpy.py": "from numpy import *\n",
}


def test_hips_worker_runs_the_step(tmp_path):
    for name, text in STAND_IN.items():
        (tmp_path / "autograd").mkdir(exist_ok=True)
        (tmp_path / "autograd" / name).write_text(text)
    _, batch, widths, _ = TINY[0]
    params, x, y = bench_tensor.init(widths, batch)
    data = {**{f"tiny_p{i}": p for i, p in enumerate(bench_tensor.in_out(params))}, "tiny_x": x, "tiny_y": y}
    out, error = bench_peers.run_hips(data, [("tiny", 2)], 1, harness.QUICK_TIMING, hips_dir=tmp_path)
    assert error is None, error
    step, _ = bench_tensor.plain_step(bench_tensor.library("torch"), params, x, y)
    first = float(step().item())  # the stand-in never moves the weights: both losses are the first one
    np.testing.assert_allclose(out["sizes"]["tiny"]["losses"], [first, first], rtol=1e-5)
    assert out["sizes"]["tiny"]["steps"] == harness.QUICK_TIMING.rounds


def test_hips_worker_refuses_our_autograd(tmp_path):
    out, error = bench_peers.run_hips({}, [], 1, harness.QUICK_TIMING, hips_dir=tmp_path)
    assert out is None and "not from" in error


def test_report_writer(tmp_path, monkeypatch):
    def fake(name, quick, thread_counts):
        outcomes = [("1 thread", True, "0.5x"), ("2 threads", False, "2x")]
        row = harness.target(f"{name} work", "<= 1x", outcomes)
        return {"markdown": f"## {name} section\n", "targets": [row]}
    monkeypatch.setattr(cli, "_run_module", fake)
    out = tmp_path / "B.md"
    cli.main(["scalar", "ops", "--quick", "--out", str(out)])
    text = out.read_text()
    assert text.startswith("# Benchmarks (quick run")
    assert "## bench_scalar section" in text and "## bench_ops section" in text and "bench_tensor" not in text
    assert "NumPy's BLAS (threadpoolctl)" in text and "1 thread and 2 threads" in text
    assert "| bench_ops work | <= 1x | 1 thread: met (0.5x); 2 threads: **not met** (2x) |" in text
    assert text.index("## Targets") < text.index("## bench_scalar section")
    assert "The whole run took" in text


@pytest.mark.parametrize("argv", [["nope"], ["--threads", "0"]])
def test_bad_arguments_are_refused(argv):
    with pytest.raises(SystemExit):
        cli.main(argv)


def test_thread_counts_reach_only_the_threaded_modules(monkeypatch):
    seen = {}

    def fake_run(name):
        def run(quick=False, thread_counts=harness.THREADS):
            seen[name] = thread_counts
        return run
    monkeypatch.setattr(bench_ops, "run", fake_run("ops"))
    monkeypatch.setattr(bench_scalar, "run", lambda quick=False: seen.setdefault("scalar", quick))
    cli._run_module("bench_ops", True, [1])
    cli._run_module("bench_scalar", True, [1])
    assert seen == {"ops": (1,), "scalar": True}


def test_threads_are_restored():
    import torch
    before = torch.get_num_threads()
    with harness.threads(1) as described:
        assert torch.get_num_threads() == 1 and described.startswith("torch 1,")
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("layout", ["in_out", "out_in"])
def test_gemm_floor_is_the_steps_eight_products(layout):
    """3 forward products (B, out), 3 weight gradients (W's shape in the layout), 2 input gradients
    (B, in) for the two upper layers, in either layout."""
    params, x, _ = bench_tensor.init((6, 8, 9, 3), 4)
    shapes = [(a @ b).shape for a, b in bench_tensor.gemm_products(params, x, layout)]
    weights = [W.shape if layout == "out_in" else W.shape[::-1] for W in params[::2]]
    assert shapes == [(4, 8), (4, 9), (4, 3), *weights, (4, 8), (4, 9)]
