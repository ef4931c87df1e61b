"""The README's numbers and outputs come from runs: its demos table matches fresh ``--quick`` runs
and the saved full-run reports, every Python example prints what the README shows, and a newcomer is
told how to run a demo right after the two commands."""
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:  # demos/ is not installed; it runs from the repository root
    sys.path.insert(0, ROOT)

pytest.importorskip("matplotlib")

from demos import DEMOS, load, readme  # noqa: E402


@pytest.fixture(scope="module")
def text():
    with open(readme.README) as f:
        return f.read()


def test_demos_table_matches_fresh_quick_runs_and_saved_full_runs(text, tmp_path):
    quick = readme.run_demos(True, str(tmp_path))
    expected = readme.render_table(quick, readme.load_full_reports())
    begin, end = "<!-- demos:begin -->\n", "<!-- demos:end -->"
    shown = text.split(begin, 1)[1].split(end, 1)[0]
    assert shown == expected, "README's demos table is stale: run `make docs`"


def test_the_table_covers_every_demo():
    assert set(readme.TABLE) == set(DEMOS)


def test_saved_full_reports_are_full_seed_0_runs_that_met_their_targets():
    reports = readme.load_full_reports()
    assert set(reports) == set(readme.TABLE), "missing full-run reports: run `make docs FULL=1`"
    for name, report in reports.items():
        assert report["demo"] == name and report["mode"] == "full"
        assert report["config"].get("seed", 0) == 0
        assert report["targets_met"], name
        for metric, _ in readme.TABLE[name][1]:
            assert metric in report["metrics"], (name, metric)
        full = getattr(load(name), "FULL", {})  # a demo whose settings changed needs a new full run
        assert {k: report["config"].get(k) for k in full} == full, f"{name}: run `make docs FULL=1`"


def test_every_example_prints_what_the_readme_shows(text):
    blocks = readme.BLOCK.findall(text)
    assert len(blocks) >= 4
    found = re.findall(r"```python\n(.*?)```\n(?:<!-- output -->\n```text\n(.*?)```\n)?", text, re.S)
    for code, shown in found:
        assert _rounding_masked(readme.run_example(code)) == _rounding_masked(shown), code.splitlines()[-1]


# An error of a few units in the last place (below 1e-12 here) depends on the CPU's BLAS kernel (the order
# of its sums, FMA or not): the examples' printed error tables differ there from machine to machine.
_ROUNDING = re.compile(r"\b\d\.\d\de-(1[3-9]|[2-9]\d)\b")


def _rounding_masked(text):
    return _ROUNDING.sub("<rounding>", text)


def test_rounding_mask_hides_only_last_place_errors():
    assert _rounding_masked("1.39e-17  5.88e-16  0  1.00e-03  2.5e-17") == \
        "<rounding>  <rounding>  0  1.00e-03  2.5e-17"


def test_rendering_is_stable(text):
    """Regenerating from the README's own table and outputs changes nothing but what runs change."""
    table = text.split("<!-- demos:begin -->\n", 1)[1].split("<!-- demos:end -->", 1)[0]
    assert readme.with_table(text, table) == text


def test_running_a_demo_is_explained_right_after_the_two_commands(text):
    after = text.split("## Two commands", 1)[1]
    commands_end = after.index("```", after.index("make demo")) + 3
    following = after[commands_end:commands_end + 600]
    assert "make demo DEMO=spiral" in following
    assert ".venv/bin/python -m demos spiral" in following


def test_readme_pictures_come_from_the_full_runs():
    reports = readme.load_full_reports()
    for (name, filename), target in readme.PICTURES.items():
        assert filename in reports[name]["files"], (name, filename)
        assert os.path.isfile(os.path.join(ROOT, "docs", target))


def test_make_demo_runs_the_named_demo():
    done = subprocess.run(["make", "-n", "demo", "DEMO=spiral"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert ".venv/bin/python -m demos spiral" in done.stdout


def test_readme_links_the_notebooks(text):
    assert "docs/notebooks/" in text
    assert len([f for f in os.listdir(os.path.join(ROOT, "docs", "notebooks")) if f.endswith(".ipynb")]) >= 3


def test_full_report_files_are_plain_names():
    for report in readme.load_full_reports().values():
        assert all(os.sep not in f for f in report["files"])
