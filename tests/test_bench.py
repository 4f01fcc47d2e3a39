"""`arc24 bench`: the suites hold what they promise, a run on the tiny model writes a consistent
bench.json, bench.md and PNGs, the same command again redoes nothing, and mistakes are one line."""

import json
import runpy
from pathlib import Path

import pytest
from data_paths import SHARED_DATA

from arc24.cli import main
from arc24.evaluation.bench import CPU_BENCH, load_suite

REPO = Path(__file__).resolve().parents[1]
SUITES = REPO / "src" / "arc24" / "evaluation" / "suites"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_the_suites_hold_the_promised_tasks_with_their_outputs():
    one_rule, sources = load_suite("one-rule-v1", SHARED_DATA)
    assert len(one_rule) == 28 and set(sources.values()) == {"one-rule-v1"}
    real, sources = load_suite("real-small-v1", SHARED_DATA)
    assert len(real) == 40  # ids are distinct across sources, or some would be lost here
    counts = {s: list(sources.values()).count(s) for s in set(sources.values())}
    assert counts == {"arc-agi-1": 20, "conceptarc": 10, "arc-agi-2": 10}
    for tasks in (one_rule, real):
        assert all(p.output is not None for task in tasks.values() for p in task.test)


@pytest.mark.slow
def test_the_committed_real_small_suite_is_what_the_tool_chooses():
    # a change of rule or data shows here: it makes real-small-v2, never an edit of v1
    tool = runpy.run_path(str(REPO / "tools" / "make_real_small.py"))
    committed = json.loads((SUITES / "real-small-v1.json").read_text())
    assert committed["sources"] == tool["choose"](SHARED_DATA)


@pytest.mark.slow
def test_the_default_answer_length_holds_every_answer_of_the_suites(smollm_tokenizer):
    from arc24.data.formats import DEFAULT_FORMAT, get_format

    grid_format = get_format(DEFAULT_FORMAT)
    max_new = int(next(s for s in CPU_BENCH if s.startswith("max_new_tokens=")).split("=")[1])
    for name in ("one-rule-v1", "real-small-v1"):
        tasks, _ = load_suite(name, SHARED_DATA)
        # a transposed view renders a grid with its other side as rows
        longest = max(len(smollm_tokenizer(grid_format.render(g), add_special_tokens=False)["input_ids"])
                      for task in tasks.values() for p in task.test for g in (p.output, p.output.T))
        assert longest + 1 <= max_new, name  # + the end-of-turn token


def _bench(suite, out, model, capsys):
    rc = main(["bench", suite, "--tasks", "2", "--out", str(out), "--set", f"model={model}", "--set", "ttft.steps=1",
               "--set", "n_views=2", "--set", "max_new_tokens=16", "--set", "max_seq_len=1024"])
    return rc, capsys.readouterr()


@pytest.mark.parametrize("suite", ["one-rule-v1", "real-small-v1"])
@pytest.mark.slow
def test_bench_on_two_tasks_writes_consistent_results(suite, tmp_path, tiny_model_dir, capsys):
    out = tmp_path / "run"
    rc, printed = _bench(suite, out, tiny_model_dir, capsys)
    assert rc == 0, printed.err
    result = json.loads((out / "bench.json").read_text())
    assert result["suite"] == suite and result["tasks"] == 2 and len(result["per_task"]) == 2
    settings = result["settings"]
    assert settings["model"] == str(tiny_model_dir) and settings["profile"] == "new-lora"
    assert settings["ttft"]["lora"] == "new" and settings["ttft"]["steps"] == 1  # a --set wins over the profile
    assert result["machine"]["cores"] >= 1 and result["machine"]["torch_threads"] >= 1
    assert 0 <= result["score"] <= 1 and 0 <= result["pass_n"] <= 1 and 0 <= result["vote_2"] <= 1
    assert result["wall_seconds"] > 0 and result["seconds_per_task"] > 0
    expected_ids = list(load_suite(suite, SHARED_DATA)[0])[:2]
    assert [r["task_id"] for r in result["per_task"]] == expected_ids
    for row in result["per_task"]:
        assert set(row) >= {"task_id", "solved", "pass_n", "vote_2", "seconds"}
        assert row["vote_2"] <= row["pass_n"]  # the two attempts are among the predictions
        png = out / ("solved" if row["solved"] else "missed") / f"{row['task_id']}.png"
        assert png.read_bytes().startswith(PNG_MAGIC)
    assert result["score"] == pytest.approx(sum(r["score"] for r in result["per_task"]) / 2)
    table = (out / "bench.md").read_text()
    assert all(f"| {task_id} |" in table for task_id in expected_ids)
    summary = json.loads(printed.out.strip().splitlines()[-1])  # the last line printed is the JSON summary
    assert summary["suite"] == suite and summary["score"] == result["score"] and summary["tasks"] == 2


@pytest.mark.slow
def test_the_same_command_again_redoes_no_task(tmp_path, tiny_model_dir, capsys):
    out = tmp_path / "run"
    assert _bench("one-rule-v1", out, tiny_model_dir, capsys)[0] == 0
    health, predictions = (out / "health.json").read_text(), (out / "predictions.jsonl").read_text()
    rc, printed = _bench("one-rule-v1", out, tiny_model_dir, capsys)
    assert rc == 0 and "kept 2 finished tasks; solving 0" in printed.out
    # a task solved again would have new timings in its health row
    assert (out / "health.json").read_text() == health and (out / "predictions.jsonl").read_text() == predictions
    assert json.loads((out / "bench.json").read_text())["tasks"] == 2


@pytest.mark.parametrize("argv, message", [
    (["bench", "no-such-suite"], "unknown suite 'no-such-suite' (known: one-rule-v1, real-small-v1)"),
    (["bench", "one-rule-v1", "--set", "ttft.stepz=3"], "unknown key ttft.stepz"),
    (["bench", "one-rule-v1", "--set", "n_views=many"], "n_views: expected an integer"),
    (["bench", "one-rule-v1", "--set", "profile=fast"], "profile: unknown 'fast'"),
    (["bench", "one-rule-v1", "--set", "out_dir=x"], "--set out_dir: the bench sets it from --out"),
    (["bench", "real-small-v1", "--data", "no-such-folder"], "not found; suite real-small-v1 takes its tasks"),
    (["bench", "one-rule-v1", "--tasks", "-1"], "--tasks must be between 1 and 28 (the suite has 28 tasks), got -1"),
    (["bench", "one-rule-v1", "--tasks", "29"], "--tasks must be between 1 and 28 (the suite has 28 tasks), got 29"),
    (["bench", "one-rule-v1", "--set", "n_views=0"], "n_views must be at least 1, got 0"),
])
def test_mistakes_end_with_one_line_and_exit_2_before_any_work(argv, message, tmp_path, capsys):
    assert main(argv + ["--out", str(tmp_path / "run")]) == 2
    printed = capsys.readouterr()
    assert message in printed.err and len(printed.err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_a_grid_runs_each_combination_once_and_sweeps_share_their_baseline(tmp_path, tiny_model_dir, capsys):
    out = tmp_path / "sweep"
    fixed = ["--tasks", "1", "--out", str(out), "--set", f"model={tiny_model_dir}", "--set", "ttft.steps=1",
             "--set", "n_views=2", "--set", "max_new_tokens=16", "--set", "max_seq_len=1024"]
    # n_views=2 is what the runs have without the grid: that combination is the baseline
    assert main(["bench", "one-rule-v1", "--grid", "n_views=1,2", *fixed]) == 0
    assert sorted(p.parent.name for p in out.glob("*/bench.json")) == ["baseline", "n_views=1"]
    assert json.loads((out / "n_views=1" / "bench.json").read_text())["settings"]["n_views"] == 1
    capsys.readouterr()
    # a second one-setting sweep into the same folder keeps the baseline's finished task
    assert main(["bench", "one-rule-v1", "--grid", "ttft.lora_rank=16,8", *fixed]) == 0
    printed = capsys.readouterr().out
    assert "kept 1 finished task; solving 0" in printed
    sweep = json.loads((out / "sweep.json").read_text())
    assert sorted(r["run"] for r in sweep["runs"]) == ["baseline", "n_views=1", "ttft.lora_rank=8"]
    scores = [r["score"] for r in sweep["runs"]]
    assert scores == sorted(scores, reverse=True)
    table = (out / "sweep.md").read_text()
    assert "| task | " in table and "| one-rule-v1-flip-horizontal |" in table
    assert json.loads(printed.strip().splitlines()[-1])["out"] == str(out.resolve())


@pytest.mark.parametrize("grid, message", [
    ("n_views", "--grid 'n_views': expected KEY=V1,V2"),
    ("n_views=2,,4", "--grid 'n_views=2,,4': expected KEY=V1,V2"),
    ("n_views=2,0", "--grid n_views=0: n_views must be at least 1, got 0"),
    ("ttft.stepz=3", "unknown key ttft.stepz"),
    ("out_dir=a,b", "--set out_dir: the bench sets it from --out"),
])
def test_a_bad_grid_ends_with_one_line_before_any_run(grid, message, tmp_path, capsys):
    assert main(["bench", "one-rule-v1", "--grid", grid, "--out", str(tmp_path / "sweep")]) == 2
    printed = capsys.readouterr()
    assert message in printed.err and len(printed.err.strip().splitlines()) == 1
    assert not (tmp_path / "sweep").exists()


def _bench_result(folder: Path, solved: dict, seconds: float = 10.0):
    """A bench.json as `bench` writes it, with only what the sweep report reads."""
    rows = [{"task_id": t, "solved": ok, "score": float(ok)} for t, ok in solved.items()]
    folder.mkdir(parents=True)
    (folder / "bench.json").write_text(json.dumps({
        "suite": "one-rule-v1", "tasks": len(rows), "score": sum(r["score"] for r in rows) / len(rows),
        "pass_n": 0.0, "vote_2": 0.0, "seconds_per_task": seconds, "commit": None, "per_task": rows}))


def test_runs_over_different_tasks_are_ranked_on_the_tasks_they_share(tmp_path):
    from arc24.evaluation.bench import sweep_report

    # the whole suite scores lower overall, yet solves more of the two tasks both runs have
    _bench_result(tmp_path / "baseline", {"a": True, "b": True, "c": False, "d": False, "e": False})
    _bench_result(tmp_path / "lr=1", {"a": True, "b": False})
    sweep = sweep_report(tmp_path)
    assert sweep["shared_tasks"] == 2
    assert [(r["run"], r["shared_score"]) for r in sweep["runs"]] == [("baseline", 1.0), ("lr=1", 0.5)]
    table = (tmp_path / "sweep.md").read_text()
    assert "score on the 2 shared tasks |" in table and "| baseline | 5 | 0.400 |" in table
    # runs over the same tasks need no such column
    _bench_result(tmp_path / "same" / "baseline", {"a": True})
    _bench_result(tmp_path / "same" / "lr=1", {"a": False})
    assert "shared" not in sweep_report(tmp_path / "same")["table"]
