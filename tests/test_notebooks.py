"""Every notebook in docs/notebooks runs top to bottom (nbclient, a fresh kernel, its own folder as
the working directory), so none can rot; the outputs are checked here, never committed."""
import glob
import os
import shutil

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = sorted(glob.glob(os.path.join(ROOT, "docs", "notebooks", "*.ipynb")))

# what each notebook must print: the point it makes, computed by the run
EXPECTED = {
    "01_numpy_chainrule_pytorch.ipynb": ["max |chainrule - by hand| =", "max |chainrule - torch| =",
                                         "largest gap between the curves:"],
    "02_seeing_backprop.ipynb": ["do/dn = 1 - o^2 = 0.5000; engine: 0.5000",
                                 "do/dw1 = x1 * do/dn = 1.0000; engine: 1.0000", "gradient norm"],
    "03_checking_gradients.ipynb": ["values, gradients and second-order gradients match torch",
                                    "ratio: [5. 5. 5.]", "GradcheckError:"],
}


def test_there_are_at_least_three_notebooks():
    assert set(EXPECTED) <= {os.path.basename(p) for p in NOTEBOOKS}


def _text(nb):
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            out.append(o.get("text", "") or o.get("data", {}).get("text/plain", ""))
    return "\n".join(out)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_notebook_runs(path):
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "outputs were committed"
    os.environ.setdefault("MPLBACKEND", "Agg")
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": os.path.dirname(path)}}).execute()
    text = _text(nb)
    for expected in EXPECTED.get(os.path.basename(path), []):
        assert expected in text, expected
    if os.path.basename(path).startswith("01_"):  # the three implementations agree to rounding
        gaps = [float(word) for line in text.splitlines() if "max |" in line or "largest gap" in line
                for word in line.split("=")[-1].split(":")[-1].split()]
        assert gaps and max(gaps) < 1e-12, gaps
    if os.path.basename(path).startswith("02_"):  # the three graphs were drawn (as SVG when dot exists)
        shown = [o for c in nb.cells for o in c.get("outputs", []) if "Digraph" in
                 o.get("data", {}).get("text/plain", "")]
        assert len(shown) == 3
        svgs = [o for o in shown if "image/svg+xml" in o["data"]]
        assert len(svgs) == (3 if shutil.which("dot") else 0)
