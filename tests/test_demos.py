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

from demos import DEMOS, run  # noqa: E402
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


def labelled_figures(monkeypatch):
    """Make every figure a demo saves pass through a check: each panel has axis labels and a title
    (its own or the figure's); returns the list of paths checked."""
    from demos import common
    saved, original = [], common.save_figure

    def checked(fig, path):
        suptitle = fig._suptitle.get_text() if fig._suptitle is not None else ""
        for ax in fig.axes:
            assert ax.get_xlabel() and ax.get_ylabel(), (path, ax.get_title())
            assert ax.get_title() or suptitle, path
        saved.append(os.path.basename(path))
        return original(fig, path)
    monkeypatch.setattr(common, "save_figure", checked)
    return saved


@pytest.mark.parametrize("name", sorted(QUICK_TARGETS))
def test_demo_quick(name, tmp_path, monkeypatch):
    out = str(tmp_path / name)
    figures = labelled_figures(monkeypatch)
    report = run(name, out, quick=True, quiet=True)
    assert {f for f in EXPECTED_FILES[name] if f.endswith(".png")} == set(figures)
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
                                  ["csv", "--missing", "guess"]])
def test_bad_options_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as e:
        cli(argv)
    assert e.value.code == 2


def test_python_m_demos_subprocess(tmp_path):
    """The real entry point: the listing, and one CSV error with its exit status."""
    done = subprocess.run([sys.executable, "-m", "demos"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and "moons" in done.stdout
    done = subprocess.run([sys.executable, "-m", "demos", "csv", str(tmp_path / "absent.csv"),
                           "--target", "y"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "no such file" in done.stderr


# ----------------------------------------------------------------------------------------- no Graphviz
DRAWING = {"moons": "graph", "scratch": "forward_graph", "graph": "neuron"}


@pytest.mark.parametrize("name", sorted(DRAWING))
def test_without_graphviz_the_report_says_so_and_lists_real_files(name, tmp_path, monkeypatch):
    from demos.common import GRAPHVIZ_MISSING
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no `dot` anywhere
    out = tmp_path / "out"
    report = run(name, str(out), quick=True, quiet=True)
    assert GRAPHVIZ_MISSING in report["notes"]
    assert "apt-get install graphviz" in GRAPHVIZ_MISSING and "brew install graphviz" in GRAPHVIZ_MISSING
    listed = {os.path.basename(p) for p in report["files"]}
    assert listed == set(os.listdir(out))  # every file listed was written, and nothing else was
    assert f"{DRAWING[name]}.dot" in listed
    assert not any(f.endswith(".svg") for f in listed)
    assert "digraph" in (out / f"{DRAWING[name]}.dot").read_text()


def test_with_graphviz_there_is_no_note(tmp_path):
    report = run("graph", str(tmp_path), quick=True, quiet=True)
    assert report["notes"] == []
    assert {os.path.basename(p) for p in report["files"]} == {"neuron.svg", "mlp.svg", "report.json"}


# ----------------------------------------------------------------------------------------- system Python
BLOCK_IMPORTS = r"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("matplotlib", "graphviz", "tqdm"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Block())
from demos.__main__ import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_python_without_the_dependencies_gets_a_one_line_hint(tmp_path):
    done = subprocess.run([sys.executable, "-c", BLOCK_IMPORTS, "spiral", "--out", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "make demo DEMO=spiral" in lines[0] and ".venv/bin/python -m demos spiral" in lines[0]
    listing = subprocess.run([sys.executable, "-c", BLOCK_IMPORTS], cwd=ROOT, capture_output=True, text=True,
                             timeout=60)
    assert listing.returncode == 0 and "spiral" in listing.stdout  # listing needs none of them


def test_no_demo_writes_its_own_sigmoid_or_softmax():
    """The demos use the library's sigmoid and softmax (a comment may show the from-scratch line); but
    scratch_check.py is a from-scratch NumPy network, checked by check_manual_gradients."""
    for filename in os.listdir(os.path.join(ROOT, "demos")):
        if filename.endswith(".py") and filename != "scratch_check.py":
            with open(os.path.join(ROOT, "demos", filename)) as f:
                code = [line.split("#")[0] for line in f]
            assert not [line for line in code if "np.exp(" in line or "1 / (1 +" in line], filename
