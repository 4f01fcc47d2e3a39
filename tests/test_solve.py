"""The solve pipeline on a tiny model: failures are reported with their fallback, never silent."""

import json

import pytest

from arc24.solve import SolveConfig, solve
from arc24.submission import validate_submission
from arc24.ttft import TTFTSettings


def config(tmp_path, tasks, model, **kw):
    challenges, solutions = tasks
    ids = sorted(json.loads(challenges.read_text()))[:2]
    ttft = TTFTSettings(**{"steps": 2, "learning_rate": 1e-3, "max_seq_len": 1024, **kw.pop("ttft", {})})
    return SolveConfig(challenges=str(challenges), solutions=str(solutions), out_dir=str(tmp_path), model=str(model),
                       task_ids=ids, ttft=ttft, n_views=2, max_new_tokens=16, batch_size=2, **kw)


def health(tmp_path):
    return {h["task_id"]: h for h in json.loads((tmp_path / "health.json").read_text())}


def test_fine_tuning_out_of_memory_is_reported_and_the_submission_still_validates(tmp_path, small_tasks_file,
                                                                                 tiny_model_dir):
    # A real OutOfMemory: the memory cap is far below what the process uses.
    summary = solve(config(tmp_path, small_tasks_file, tiny_model_dir, ttft={"memory_limit_gb": 0.001}),
                    progress=False)
    rows = health(tmp_path)
    for row in rows.values():
        assert row["ttft_status"] == "failed" and "Out of memory" in row["ttft_reason"]
        # no trained adapter and base-model predictions not allowed: no predictions, placeholders, said so
        assert row["weights"] == "none" and row["placeholders"] >= 1
    assert sorted(summary["ttft_failed"]) == sorted(rows)
    assert validate_submission(tmp_path / "submission.json", tmp_path / "challenges.json") == []


def test_base_model_predictions_only_when_allowed(tmp_path, small_tasks_file, tiny_model_dir):
    solve(config(tmp_path, small_tasks_file, tiny_model_dir, ttft={"memory_limit_gb": 0.001},
                 allow_base_model=True), progress=False)
    rows = health(tmp_path)
    assert all(r["weights"] == "base" and r["valid"] + r["unparseable"] == 2 for r in rows.values())


def test_a_task_too_long_to_fine_tune_falls_back_loudly(tmp_path, small_tasks_file, tiny_model_dir):
    solve(config(tmp_path, small_tasks_file, tiny_model_dir, ttft={"max_seq_len": 60}, allow_base_model=True),
          progress=False)
    rows = health(tmp_path)
    assert all(r["ttft_status"] == "failed" and "too long" in r["ttft_reason"] for r in rows.values())
    assert all(r["too_long"] >= 1 for r in rows.values())  # the prompts did not fit for inference either
    assert validate_submission(tmp_path / "submission.json", tmp_path / "challenges.json") == []


def test_test_outputs_never_reach_fine_tuning(small_tasks_file):
    from arc24.data import load_tasks
    from arc24.ttft import hide_test_outputs

    task = next(iter(load_tasks(*small_tasks_file).values()))
    assert task.test[0].output is not None
    assert all(p.output is None for p in hide_test_outputs(task).test)
