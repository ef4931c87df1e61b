"""Every demo in --quick --quiet mode (in-process, into a tmp dir): its metrics meet the quick-mode
targets and every file it reports exists and is valid. Plus the CLI: the listing, option errors and
the CSV demo's user errors (one line on stderr, exit status 2)."""
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:  # demos/ is not installed; it runs from the repository root
    sys.path.insert(0, ROOT)

pytest.importorskip("matplotlib")
pytest.importorskip("tqdm")

from demos import DEMOS, DemoError, run  # noqa: E402
from demos.__main__ import main as cli  # noqa: E402

DATA = os.path.join(ROOT, "demos", "data")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# the quick-mode targets, written out here so that a demo lowering its own cannot pass silently
QUICK_TARGETS = {
    "moons": {"test_acc": 0.85},
    "radial": {"per_sample_test_acc": 0.75, "minibatch_test_acc": 0.6},
    "spiral": {"train_acc": 0.7},
    "regression": {"test_r2": 0.7},
    "digits": {"mlp_test_acc": 0.8, "cnn_test_acc": 0.7},
    "scratch": {"train_acc": 0.8},
}
EXPECTED_FILES = {
    "moons": {"decision_boundary.png", "loss_curve.png", "graph.svg", "report.json"},
    "radial": {"decision_boundary.png", "loss_curve.png", "report.json"},
    "spiral": {"decision_boundary.png", "loss_curve.png", "report.json"},
    "regression": {"fit.png", "loss_curve.png", "report.json"},
    "digits": {"confusion_mlp.png", "confusion_cnn.png", "loss_curve.png", "report.json"},
    "scratch": {"decision_boundary.png", "loss_curve.png", "forward_graph.svg", "report.json"},
}


def check_file(path):
    """The file exists, is not empty and parses as what its extension says."""
    assert os.path.isfile(path), path
    assert os.path.getsize(path) > 0, path
    ext = os.path.splitext(path)[1]
    if ext == ".png":
        with open(path, "rb") as f:
            assert f.read(8) == PNG_SIGNATURE, path
    elif ext == ".svg":
        root = ET.parse(path).getroot()
        assert root.tag.endswith("svg"), path
    elif ext == ".json":
        with open(path) as f:
            json.load(f)
    elif ext == ".npz":
        with np.load(path, allow_pickle=False) as z:
            assert len(z.files) > 0


def check_report(report, out_dir, name):
    with open(os.path.join(out_dir, "report.json")) as f:
        saved = json.load(f)
    assert saved["demo"] == name
    assert saved["mode"] == "quick"
    assert saved["metrics"] == report["metrics"]
    assert saved["time_s"] > 0
    for path in saved["files"]:
        check_file(path)
    return saved


@pytest.mark.parametrize("name", sorted(QUICK_TARGETS))
def test_demo_quick(name, tmp_path):
    out = str(tmp_path / name)
    report = run(name, out, quick=True, quiet=True)
    saved = check_report(report, out, name)
    for metric, target in QUICK_TARGETS[name].items():
        assert saved["metrics"][metric] >= target, (metric, saved["metrics"][metric], target)
    assert saved["targets_met"]
    assert EXPECTED_FILES[name] <= set(os.listdir(out))


def test_graph_demo(tmp_path, capsys):
    pytest.importorskip("demos.graph")
    out = tmp_path / "graph"
    assert cli(["graph", "--out", str(out), "--quick", "--quiet"]) == 0
    check_report(json.loads((out / "report.json").read_text()), str(out), "graph")
    assert {"neuron.svg", "mlp.svg"} <= set(os.listdir(out))


def test_cli_runs_a_demo_into_out(tmp_path, capsys):
    assert cli(["moons", "--quick", "--quiet", "--epochs", "2", "--lr", "0.05", "--batch-size", "16",
                "--seed", "3", "--out", str(tmp_path)]) == 0
    assert {"decision_boundary.png", "loss_curve.png", "graph.svg"} <= set(os.listdir(tmp_path))
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["config"]["epochs"] == 2 and report["config"]["batch_size"] == 16
    assert report["config"]["seed"] == 3 and report["config"]["lr"] == 0.05
    assert "test_acc" in capsys.readouterr().out  # the text report


def test_listing(capsys):
    assert cli([]) == 0
    listing = capsys.readouterr().out
    for name in DEMOS:
        assert f"  {name} " in listing


@pytest.mark.parametrize("argv", [["nope"], ["moons", "--epochs", "0"], ["moons", "--lr", "abc"],
                                  ["csv", os.path.join(DATA, "fruit.csv")]])
def test_bad_options_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as e:
        cli(argv)
    assert e.value.code == 2


# ----------------------------------------------------------------------------------------- csv
def test_csv_classification_with_predictions(tmp_path, capsys):
    import nn
    out = tmp_path / "csv"
    assert cli(["csv", os.path.join(DATA, "fruit.csv"), "--target", "kind", "--predict",
                os.path.join(DATA, "new.csv"), "--quick", "--quiet", "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["config"]["task"] == "classification"
    assert report["metrics"]["test_acc"] >= 0.8
    for path in report["files"]:
        check_file(path)
    lines = (out / "predictions.csv").read_text().splitlines()
    assert lines[0].startswith("weight_g,length_cm,width_cm,sugar_pct,predicted_kind,p_0,p_1,p_2")
    assert len(lines) == 1 + 12
    assert {line.split(",")[4] for line in lines[1:]} <= {"0", "1", "2"}
    state = nn.load(str(out / "model.npz"))
    model = nn.MLP(json.loads((out / "model.json").read_text())["sizes"])
    model.load_state_dict(state)


def test_csv_regression(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, size=(300, 3))
    y = np.sin(x[:, 0]) + 0.5 * x[:, 1] ** 2 - x[:, 2] + 0.05 * rng.standard_normal(300)
    path = tmp_path / "reg.csv"
    np.savetxt(path, np.column_stack([x, y]), delimiter=",", header="a,b,c,y", comments="", fmt="%.5f")
    assert cli(["csv", str(path), "--target", "y", "--quick", "--quiet", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["config"]["task"] == "regression"
    assert report["metrics"]["test_r2"] >= 0.5


def _csv_error(argv, capsys):
    code = cli(argv)
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_csv_missing_file(tmp_path, capsys):
    line = _csv_error(["csv", str(tmp_path / "absent.csv"), "--target", "y", "--out", str(tmp_path)], capsys)
    assert "absent.csv" in line and "no such file" in line


def test_csv_missing_column(tmp_path, capsys):
    line = _csv_error(["csv", os.path.join(DATA, "fruit.csv"), "--target", "colour", "--out", str(tmp_path)],
                      capsys)
    assert "colour" in line and "kind" in line  # names the column and lists the real ones


def test_csv_non_numeric_cell(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    rows = ["a,b,y"] + [f"{i},{i % 3},{i % 2}" for i in range(30)]
    rows[7] = "6,oops,0"
    path.write_text("\n".join(rows) + "\n")
    line = _csv_error(["csv", str(path), "--target", "y", "--out", str(tmp_path)], capsys)
    assert "bad.csv" in line and "oops" in line


def test_csv_empty_file(tmp_path, capsys):
    path = tmp_path / "empty.csv"
    path.write_text("")
    line = _csv_error(["csv", str(path), "--target", "y", "--out", str(tmp_path)], capsys)
    assert "empty" in line


def test_csv_prediction_file_missing_column(tmp_path, capsys):
    path = tmp_path / "new.csv"
    path.write_text("weight_g,length_cm\n1,2\n")
    line = _csv_error(["csv", os.path.join(DATA, "fruit.csv"), "--target", "kind", "--predict", str(path),
                       "--out", str(tmp_path)], capsys)
    assert "width_cm" in line


def test_csv_error_is_a_demo_error(tmp_path):
    from demos import csv_demo
    with pytest.raises(DemoError):
        csv_demo.main(str(tmp_path), path=str(tmp_path / "absent.csv"), target="y")


def test_python_m_demos_subprocess(tmp_path):
    """The real entry point: the listing, and one CSV error with its exit status."""
    done = subprocess.run([sys.executable, "-m", "demos"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and "moons" in done.stdout
    done = subprocess.run([sys.executable, "-m", "demos", "csv", str(tmp_path / "absent.csv"),
                           "--target", "y"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "no such file" in done.stderr
