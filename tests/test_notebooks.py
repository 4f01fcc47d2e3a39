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


def test_notebook_parameters_are_every_solve_setting_with_its_default():
    """The notebook's parameters map mechanically onto SolveConfig, so every setting can be swept:
    a setting added to one and not the other, or a default changed in one, fails here."""
    from arc24.solving.config import notebook_defaults
    from arc24.sweeps.sweep import notebook_parameters

    assert notebook_parameters(REPO / "notebooks/submission.ipynb") == notebook_defaults()


def test_notebook_parameters_become_a_solve_config():
    from arc24.config import ConfigError
    from arc24.solving.config import from_notebook

    config = from_notebook({"ttft_steps": 5, "adapter": "", "task_ids": "a, b", "ttft_lora": "new", "solutions": ""})
    assert (config.ttft.steps, config.ttft.lora, config.adapter, config.solutions, config.task_ids) == (
        5, "new", None, None, ["a", "b"])
    with pytest.raises(ConfigError, match="ttft_steps: expected an integer"):
        from_notebook({"ttft_steps": "many"})
    with pytest.raises(ConfigError, match="unknown notebook parameter lora_rank"):
        from_notebook({"lora_rank": 8})


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
                    "model": str(tiny_model_dir), "ttft_steps": 2, "ttft_learning_rate": 1e-3, "ttft_lora": "new",
                    "n_views": 2, "max_seq_len": 1024, "max_new_tokens": 24, "batch_size": 2,
                    "out_dir": str(tmp_path)},
        progress_bar=False)
    assert validate_submission(tmp_path / "submission.json", tmp_path / "challenges.json") == []
    health = json.loads((tmp_path / "health.json").read_text())
    assert [h["task_id"] for h in health] == ids
    assert all(h["weights"] == "ttft" and h["ttft_steps"] == 2 for h in health)
    assert "| task_id | ttft_status" in out.read_text()  # the health table is printed in the notebook
