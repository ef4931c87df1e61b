"""``python -m demos scratch-check``: each planted bug printed with its diagnosis, then the fixed
backprop passing and training; its hand-derived gradients are torch's."""
import json
import os
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:  # demos/ is not installed; it runs from the repository root
    sys.path.insert(0, ROOT)

pytest.importorskip("matplotlib")
pytest.importorskip("tqdm")

from demos import scratch_check  # noqa: E402
from demos.__main__ import main as cli  # noqa: E402


def test_the_demo_prints_each_diagnosis_then_the_fix_passes(tmp_path, capsys):
    out = tmp_path / "scratch-check"
    assert cli(["scratch-check", "--out", str(out), "--quick", "--quiet"]) == 0
    printed = capsys.readouterr().out
    positions = []
    for k, (bug, (line, diagnosis)) in enumerate(scratch_check.BUGS.items(), 1):
        header = f"-- planted bug {k} of 4, {bug}: `{line}`"
        assert header in printed
        section = printed.split(header, 1)[1].split("-- ", 1)[0]
        assert f"diagnosis: {diagnosis}" in section, (bug, section)
        positions.append(printed.index(header))
    fixed = printed.split("-- fixed: check_manual_gradients(loss, backprop, params, X, y) passes\n", 1)[1]
    table = fixed.split("== scratch-check", 1)[0].splitlines()
    assert [row.split()[0] for row in table[1:5]] == ["W1", "b1", "W2", "b2"]
    assert all(row.endswith("ok") for row in table[1:5])
    assert positions == sorted(positions)
    report = json.loads((out / "report.json").read_text())
    assert report["metrics"]["bugs_named"] == 4 and report["metrics"]["train_acc"] >= 0.8
    assert report["targets_met"]
    assert (out / "check.txt").read_text() in printed


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_demo_backprop_is_torchs_gradient(dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((10, 2)).astype(dtype), (rng.random((10, 1)) > 0.5).astype(dtype)
    params = {k: v.astype(dtype) for k, v in scratch_check.init_params(2, 5, rng).items()}
    params["b1"] = 0.1 * rng.standard_normal((1, 5)).astype(dtype)
    ours = scratch_check.backprop(params, X, y)
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    hidden = torch.tanh(torch.tensor(X, dtype=torch.float64) @ t["W1"] + t["b1"])
    logits = hidden @ t["W2"] + t["b2"]
    target = torch.tensor(y, dtype=torch.float64)
    torch.nn.functional.binary_cross_entropy_with_logits(logits, target).backward()
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for k in params:
        np.testing.assert_allclose(ours[k], t[k].grad.numpy(), rtol=tol, atol=tol)
