"""The notebook pair stays in sync, and papermill really executes the kernel."""

import json
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
def test_papermill_runs_the_notebook(tmp_path, small_tasks_file, tiny_model_dir):
    import papermill

    from arc24.solving.submission import validate_submission

    challenges, solutions = small_tasks_file
    ids = sorted(json.loads(Path(challenges).read_text()))[:2]
    out = tmp_path / "executed.ipynb"
    papermill.execute_notebook(
        str(REPO / "notebooks/submission.ipynb"), str(out), cwd=str(REPO), kernel_name="python3",
        parameters={"challenges": str(challenges), "solutions": str(solutions), "task_ids": ",".join(ids),
                    "model": str(tiny_model_dir), "ttft_steps": 2, "learning_rate": 1e-3, "n_views": 2,
                    "max_seq_len": 1024, "max_new_tokens": 24, "batch_size": 2, "output_dir": str(tmp_path)},
        progress_bar=False)
    assert validate_submission(tmp_path / "submission.json", tmp_path / "challenges.json") == []
    health = json.loads((tmp_path / "health.json").read_text())
    assert [h["task_id"] for h in health] == ids
    assert all(h["weights"] == "ttft" and h["ttft_steps"] == 2 for h in health)
    assert "| task_id | ttft_status" in out.read_text()  # the health table is printed in the notebook
