"""The notebook pair stays in sync, and papermill really executes the kernel."""

import json
import subprocess
import sys
from pathlib import Path

import jupytext
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
import sync_notebooks  # noqa: E402


def test_paired_notebooks_have_not_drifted():
    assert sync_notebooks.drifted() == [], "run: python tools/sync_notebooks.py"


def test_drift_is_detected(tmp_path, monkeypatch):
    (tmp_path / "a.py").write_text((REPO / "notebooks/submission.py").read_text())
    nb = jupytext.read(REPO / "notebooks/submission.ipynb")
    nb.cells[-1].source += "\nprint('edited only in the ipynb')"
    jupytext.write(nb, tmp_path / "a.ipynb", fmt="ipynb")
    monkeypatch.setattr(sync_notebooks, "NOTEBOOKS", tmp_path)
    assert sync_notebooks.drifted() == [tmp_path / "a.ipynb"]


def test_submission_notebook_has_a_parameters_cell():
    nb = jupytext.read(REPO / "notebooks/submission.ipynb")
    assert any("parameters" in c.metadata.get("tags", []) for c in nb.cells)


@pytest.mark.slow
def test_papermill_runs_the_notebook(tmp_path, small_tasks_file):
    import papermill

    challenges, solutions = small_tasks_file
    ids = sorted(json.loads(Path(challenges).read_text()))[:2]
    out = tmp_path / "executed.ipynb"
    papermill.execute_notebook(
        str(REPO / "notebooks/submission.ipynb"), str(out), cwd=str(REPO), kernel_name="python3",
        parameters={"challenges": str(challenges), "solutions": str(solutions), "task_ids": ",".join(ids)},
        progress_bar=False)
    text = out.read_text()
    assert "2 tasks" in text and "grid shape:" in text
