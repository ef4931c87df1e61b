"""``python -m demos csv`` on real files: text targets and features, missing cells with each
``--missing``, a pandas index column, the 50-class guard, duplicate names, predicting with a saved
model (validated as training is), ``--out`` naming a file, and peak memory on a large file. Every
user error is one line on stderr and exit status 2."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:  # demos/ is not installed; it runs from the repository root
    sys.path.insert(0, ROOT)

pytest.importorskip("matplotlib")

from demos.__main__ import main as cli  # noqa: E402

DATA = os.path.join(ROOT, "demos", "data")
CULTIVARS = ("barolo", "grignolino", "barbera")


def write_wine(path, n=120, index=False, blank=(), seed=0):
    """A wine-like CSV: two measurements, a text feature ``region`` and the text target
    ``cultivar`` that the measurements separate; rows in ``blank`` get an empty ``alcohol``.
    Returns the cultivar of each row."""
    rng = np.random.default_rng(seed)
    kind = rng.integers(0, 3, size=n)
    alcohol = np.array([13.7, 12.3, 13.1])[kind] + 0.2 * rng.standard_normal(n)
    color = np.array([5.5, 3.0, 7.4])[kind] + 0.4 * rng.standard_normal(n)
    region = rng.choice(["north", "south"], size=n)
    lines = [("," if index else "") + "alcohol,color,region,cultivar"]
    for i in range(n):
        a = "" if i in blank else f"{alcohol[i]:.2f}"
        lines.append((f"{i}," if index else "") + f"{a},{color[i]:.2f},{region[i]},{CULTIVARS[kind[i]]}")
    path.write_text("\n".join(lines) + "\n")
    return [CULTIVARS[k] for k in kind]


def run_ok(argv, out):
    assert cli(argv + ["--quick", "--quiet", "--out", str(out)]) == 0
    return json.loads((out / "report.json").read_text())


def csv_error(argv, capsys):
    """Run the CLI expecting a user error: returns its single stderr line."""
    code = cli(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def read_predictions(path):
    lines = path.read_text().splitlines()
    return lines[0].split(","), [line.split(",") for line in lines[1:]]


# ----------------------------------------------------------------------------------------- training
def test_text_target_is_label_encoded_with_named_classes(tmp_path):
    write_wine(tmp_path / "wine.csv")
    report = run_ok(["csv", str(tmp_path / "wine.csv"), "--target", "cultivar"], tmp_path / "out")
    assert report["config"]["task"] == "classification"
    assert report["config"]["classes"] == sorted(CULTIVARS)
    assert report["metrics"]["test_acc"] >= 0.9  # the two measurements separate the cultivars
    # the text feature became one column per region
    assert report["config"]["features"] == ["alcohol", "color", "region=north", "region=south"]
    assert any("one-hot" in note and "'region'" in note for note in report["notes"])
    assert {"confusion.png", "model.npz", "loss_curve.png"} <= set(os.listdir(tmp_path / "out"))


def test_predictions_name_the_classes(tmp_path):
    truth = write_wine(tmp_path / "wine.csv")
    run_ok(["csv", str(tmp_path / "wine.csv"), "--target", "cultivar", "--predict",
            str(tmp_path / "wine.csv")], tmp_path / "out")
    header, rows = read_predictions(tmp_path / "out" / "predictions.csv")
    assert header == ["alcohol", "color", "region", "cultivar", "predicted_cultivar",
                      "p_barbera", "p_barolo", "p_grignolino"]
    assert len(rows) == len(truth)
    predicted = [row[4] for row in rows]
    assert np.mean([p == t for p, t in zip(predicted, truth)]) >= 0.9
    for row in rows:  # probabilities sum to one and the predicted class is the likeliest
        p = np.array(row[5:], dtype=float)
        assert abs(p.sum() - 1) < 1e-3
        assert header[5 + int(p.argmax())] == "p_" + row[4]


def test_too_many_categories_in_a_text_feature(tmp_path, capsys):
    rows = ["id,score,label"] + [f"user{i},{i % 7},{i % 2}" for i in range(60)]
    (tmp_path / "ids.csv").write_text("\n".join(rows) + "\n")
    line = csv_error(["csv", str(tmp_path / "ids.csv"), "--target", "label", "--out", str(tmp_path)], capsys)
    assert "'id' (60 values)" in line and "more than 50" in line


def test_mixed_numbers_and_text_name_the_cell(tmp_path, capsys):
    rows = ["a,b,y"] + [f"{i},{i % 3},{i % 2}" for i in range(30)]
    rows[7] = "6,oops,0"
    (tmp_path / "bad.csv").write_text("\n".join(rows) + "\n")
    line = csv_error(["csv", str(tmp_path / "bad.csv"), "--target", "y", "--out", str(tmp_path)], capsys)
    assert line.endswith("bad.csv: line 8, column 'b': 'oops' is not a number")


@pytest.mark.parametrize("cell", ["", "NA", "nan"])
def test_missing_error_names_rows_and_flag(tmp_path, capsys, cell):
    write_wine(tmp_path / "wine.csv", blank=(4, 10))
    text = (tmp_path / "wine.csv").read_text().replace("\n,", f"\n{cell},")
    (tmp_path / "wine.csv").write_text(text)
    line = csv_error(["csv", str(tmp_path / "wine.csv"), "--target", "cultivar", "--out", str(tmp_path)],
                     capsys)
    # data row i is on file line i + 2
    assert "2 row(s) with empty or missing cells: line 6 ('alcohol'), line 12 ('alcohol')" in line
    assert "--missing drop" in line and "--missing mean" in line


def test_missing_drop_leaves_the_rows_out(tmp_path):
    write_wine(tmp_path / "wine.csv", blank=(4, 10))
    report = run_ok(["csv", str(tmp_path / "wine.csv"), "--target", "cultivar", "--missing", "drop"],
                    tmp_path / "out")
    assert report["config"]["rows"] == 118
    assert "left out 2 row(s) with missing cells (lines 6, 12)" in report["notes"]


def test_missing_mean_fills_with_the_training_mean(tmp_path):
    write_wine(tmp_path / "wine.csv", blank=(4, 10))
    report = run_ok(["csv", str(tmp_path / "wine.csv"), "--target", "cultivar", "--missing", "mean",
                     "--predict", str(tmp_path / "wine.csv")], tmp_path / "out")
    assert report["config"]["rows"] == 120
    assert report["metrics"]["predicted_rows"] == 120
    assert any(note.startswith("filled 2 row(s)") for note in report["notes"])


def test_missing_target_rows_are_dropped_by_mean(tmp_path):
    write_wine(tmp_path / "wine.csv")
    text = (tmp_path / "wine.csv").read_text().splitlines()
    text[3] = text[3].rsplit(",", 1)[0] + ","  # row 2: no cultivar
    (tmp_path / "wine.csv").write_text("\n".join(text) + "\n")
    report = run_ok(["csv", str(tmp_path / "wine.csv"), "--target", "cultivar", "--missing", "mean"],
                    tmp_path / "out")
    assert report["config"]["rows"] == 119
    assert "left out 1 row(s) with no 'cultivar' value (lines 4)" in report["notes"]


def test_pandas_index_column_is_dropped(tmp_path):
    write_wine(tmp_path / "wine.csv", index=True)
    report = run_ok(["csv", str(tmp_path / "wine.csv"), "--target", "cultivar"], tmp_path / "out")
    assert "" not in report["config"]["features"] and report["config"]["features"][0] == "alcohol"
    assert any("counts 0..119" in note and "index" in note for note in report["notes"])


def test_unnamed_first_column_that_is_not_an_index(tmp_path, capsys):
    rows = [",a,y"] + [f"{2 * i},{i % 7},{i % 2}" for i in range(30)]  # 0, 2, 4...: not an index
    (tmp_path / "u.csv").write_text("\n".join(rows) + "\n")
    line = csv_error(["csv", str(tmp_path / "u.csv"), "--target", "y", "--out", str(tmp_path)], capsys)
    assert "first column has no name and is not a 0..n-1 row index" in line


def test_more_than_50_classes_asks_for_task(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 10, size=(300, 2))
    y = np.round(x[:, 0] * 7 + x[:, 1], 1)  # a continuous target: ~290 distinct values
    np.savetxt(tmp_path / "c.csv", np.column_stack([x, y]), delimiter=",", header="a,b,y", comments="",
               fmt="%.3f")
    distinct = len(np.unique(np.round(y, 3)))
    line = csv_error(["csv", str(tmp_path / "c.csv"), "--target", "y", "--task", "classification",
                      "--out", str(tmp_path)], capsys)
    assert f"has {distinct} distinct values" in line and "at most 50" in line and "--task regression" in line
    report = run_ok(["csv", str(tmp_path / "c.csv"), "--target", "y"], tmp_path / "out")
    assert report["config"]["task"] == "regression"


def test_duplicate_column_names(tmp_path, capsys):
    rows = ["a,a,c,y"] + [f"{i},{-i},{i % 5},{i % 2}" for i in range(30)]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    line = csv_error(["csv", str(tmp_path / "d.csv"), "--target", "y", "--out", str(tmp_path)], capsys)
    assert "duplicate column names 'a' (columns 1, 2)" in line


def test_out_naming_an_existing_file(tmp_path, capsys):
    (tmp_path / "taken").write_text("mine\n")
    line = csv_error(["csv", os.path.join(DATA, "fruit.csv"), "--target", "kind", "--out",
                      str(tmp_path / "taken")], capsys)
    assert "is a file, not a folder" in line
    assert (tmp_path / "taken").read_text() == "mine\n"


@pytest.mark.parametrize("argv, expected", [
    (["csv", "absent.csv", "--target", "y"], "absent.csv: no such file"),
    (["csv", os.path.join(DATA, "fruit.csv"), "--target", "colour"], "no column 'colour'"),
    (["csv", os.path.join(DATA, "fruit.csv")], "give a CSV FILE and --target COLUMN"),
    (["csv", "--model", "m.npz"], "also give --predict"),
    (["csv", "--model", "absent.npz", "--predict", os.path.join(DATA, "new.csv")],
     "absent.npz: no such file"),
])
def test_command_line_errors(argv, expected, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert expected in csv_error(argv + ["--out", str(tmp_path / "out")], capsys)


def test_empty_file(tmp_path, capsys):
    (tmp_path / "empty.csv").write_text("")
    line = csv_error(["csv", str(tmp_path / "empty.csv"), "--target", "y", "--out", str(tmp_path)], capsys)
    assert "the file is empty" in line


# ----------------------------------------------------------------------------------------- saved model
@pytest.fixture
def trained(tmp_path):
    """A model trained on the wine CSV (predicting that file too): its folder."""
    write_wine(tmp_path / "wine.csv")
    wine = str(tmp_path / "wine.csv")
    run_ok(["csv", wine, "--target", "cultivar", "--predict", wine], tmp_path / "train")
    return tmp_path


def test_model_file_is_self_describing_and_pickle_free(trained):
    with np.load(trained / "train" / "model.npz", allow_pickle=False) as z:
        assert all(z[k].dtype != object for k in z.files)
        meta = json.loads(z["meta.json"].tobytes().decode("utf-8"))
    assert meta["classes"] == sorted(CULTIVARS)
    assert meta["features"] == ["alcohol", "color", "region=north", "region=south"]
    assert [s["kind"] for s in meta["spec"]] == ["number", "number", "category"]
    assert len(meta["x_mean"]) == len(meta["x_std"]) == 4


def test_predict_with_a_saved_model_matches_training_run(trained):
    report = run_ok(["csv", "--model", str(trained / "train" / "model.npz"), "--predict",
                     str(trained / "wine.csv")], trained / "later")
    assert report["metrics"]["predicted_rows"] == 120
    assert ((trained / "later" / "predictions.csv").read_text()
            == (trained / "train" / "predictions.csv").read_text())


@pytest.mark.parametrize("cell", ["", "nan"])
def test_predict_validates_cells_as_training_does(trained, capsys, cell):
    rows = (trained / "wine.csv").read_text().splitlines()
    rows[5] = cell + rows[5][rows[5].index(","):]
    (trained / "new.csv").write_text("\n".join(rows) + "\n")
    model = str(trained / "train" / "model.npz")
    predict_line = csv_error(["csv", "--model", model, "--predict", str(trained / "new.csv"), "--out",
                              str(trained / "p")], capsys)
    train_line = csv_error(["csv", str(trained / "new.csv"), "--target", "cultivar", "--out",
                            str(trained / "t")], capsys)
    assert predict_line == train_line
    assert "line 6 ('alcohol')" in predict_line


def test_predict_refuses_text_in_a_number_column_and_unknown_categories(trained, capsys):
    rows = (trained / "wine.csv").read_text().splitlines()
    bad = rows[:]
    bad[3] = "strong" + bad[3][bad[3].index(","):]
    (trained / "bad.csv").write_text("\n".join(bad) + "\n")
    model = str(trained / "train" / "model.npz")
    line = csv_error(["csv", "--model", model, "--predict", str(trained / "bad.csv"), "--out",
                      str(trained / "p")], capsys)
    assert line.endswith("bad.csv: line 4, column 'alcohol': 'strong' is not a number")
    (trained / "east.csv").write_text("\n".join(rows[:3] + [rows[3].replace(",north,", ",east,")
                                                             .replace(",south,", ",east,")]) + "\n")
    line = csv_error(["csv", "--model", model, "--predict", str(trained / "east.csv"), "--out",
                      str(trained / "p")], capsys)
    assert "'east' is not one of the categories seen in training ('north', 'south')" in line
    (trained / "three.csv").write_text("\n".join(rows[:2] + [rows[2].replace(",north,", ",3,")
                                                              .replace(",south,", ",3,")]) + "\n")
    line = csv_error(["csv", "--model", model, "--predict", str(trained / "three.csv"), "--out",
                      str(trained / "p")], capsys)
    assert "line 3, column 'region': '3' is a number in a text column (line 2:" in line


def test_predict_drop_and_mean(trained):
    rows = (trained / "wine.csv").read_text().splitlines()
    rows[5] = rows[5][rows[5].index(","):]
    (trained / "new.csv").write_text("\n".join(rows) + "\n")
    model = str(trained / "train" / "model.npz")
    report = run_ok(["csv", "--model", model, "--predict", str(trained / "new.csv"), "--missing", "drop"],
                    trained / "d")
    assert report["metrics"]["predicted_rows"] == 119
    assert len(read_predictions(trained / "d" / "predictions.csv")[1]) == 119
    report = run_ok(["csv", "--model", model, "--predict", str(trained / "new.csv"), "--missing", "mean"],
                    trained / "m")
    assert report["metrics"]["predicted_rows"] == 120


def test_damaged_model_file(tmp_path, capsys):
    (tmp_path / "m.npz").write_bytes(b"PK\x03\x04 not really a zip")
    line = csv_error(["csv", "--model", str(tmp_path / "m.npz"), "--predict", os.path.join(DATA, "new.csv"),
                      "--out", str(tmp_path / "out")], capsys)
    assert "not a model saved by `python -m demos csv`" in line


def test_regression_with_predictions(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, size=(300, 3))
    y = np.sin(x[:, 0]) + 0.5 * x[:, 1] ** 2 - x[:, 2] + 0.05 * rng.standard_normal(300)
    np.savetxt(tmp_path / "reg.csv", np.column_stack([x, y]), delimiter=",", header="a,b,c,y", comments="",
               fmt="%.5f")
    reg = str(tmp_path / "reg.csv")
    report = run_ok(["csv", reg, "--target", "y", "--predict", reg], tmp_path / "out")
    assert report["config"]["task"] == "regression"
    assert report["metrics"]["test_r2"] >= 0.5
    header, rows = read_predictions(tmp_path / "out" / "predictions.csv")
    assert header[-1] == "predicted_y"
    pred = np.array([float(r[-1]) for r in rows])
    assert 1 - ((pred - y) ** 2).sum() / ((y - y.mean()) ** 2).sum() >= 0.5


# ----------------------------------------------------------------------------------------- memory
MEMORY_PROBE = r"""
import os, resource, sys
import numpy as np
sys.path.insert(0, sys.argv[2])
from demos import csv_demo
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
csv_demo.prepare(sys.argv[1], "label", "auto", "error", 0)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((peak - base) * 1024 / os.path.getsize(sys.argv[1]))
"""


def test_reading_peak_memory_stays_within_3x_the_file(tmp_path):
    """Reading, encoding, splitting and standardising a ~8 MB CSV grows peak RSS by at most 3x its size
    (a reader that kept every cell as a Python string would need over 10x)."""
    rng = np.random.default_rng(0)
    x = np.round(rng.standard_normal((130_000, 8)), 4)
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    path = tmp_path / "big.csv"
    with open(path, "w") as f:
        f.write("a,b,c,d,e,f,g,h,label\n")
        np.savetxt(f, np.column_stack([x, y]), delimiter=",", fmt=["%.4f"] * 8 + ["%d"])
    done = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(path), ROOT], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) <= 3.0
