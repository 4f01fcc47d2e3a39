"""The program-search half of `arc24 solve` (solving/programs.py), with no model at all: solvers=programs
on one-rule tasks the search solves in well under a second, in real search processes. The run's
files say what the search found; kill -9 mid-search loses no finished search; a run continues only
with its program settings; rescore and bench report programs alone, the model alone and the ensemble."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from processes import HAS_PROC, children, wait_until_gone
from test_continue import files

import arc24
from arc24.cli import main
from arc24.config import ConfigError
from arc24.data.task import as_grid, grids_equal
from arc24.data.tasks import load_tasks
from arc24.evaluation.rescore import rescore, search_programs_again
from arc24.solving.config import ProgramSettings, SolveConfig
from arc24.solving.predictions import Prediction, read_predictions, write_predictions
from arc24.solving.programs import PROGRAMS_FILE, ProgramOutcome, append_outcome, read_outcomes
from arc24.solving.solve import solve
from arc24.solving.voting import DEFAULT_ENSEMBLE, ENSEMBLES

SUITE = Path(arc24.__file__).parent / "evaluation" / "suites" / "one-rule-v1.json"
IDS = ["one-rule-v1-flip-horizontal", "one-rule-v1-rotate-180", "one-rule-v1-colour-swap", "one-rule-v1-transpose"]
ARC24 = str(Path(sys.executable).parent / "arc24")  # the console script
# A search bounded by its states, not its clock, finds the same answers however busy the machine is
NO_MODEL = "/nonexistent/arc24-model"  # solvers=programs never looks for it
BY_STATES = ["programs.seconds=60", "programs.max_states=100"]


@pytest.fixture(scope="module")
def tasks():
    return load_tasks(SUITE)


def program_config(out: Path, ids=IDS, **programs) -> SolveConfig:
    return SolveConfig(challenges=str(SUITE), out_dir=str(out), model=NO_MODEL,
                       task_ids=list(ids), solvers="programs", programs=ProgramSettings(**{"seconds": 1, **programs}))


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished solvers=programs run of IDS (copy it before changing it) and its summary."""
    out = tmp_path_factory.mktemp("programs") / "run"
    return out, solve(program_config(out), progress=False)


def solved(submission: dict, task) -> bool:
    return all(any(grids_equal(as_grid(attempts[k]), pair.output) for k in ("attempt_1", "attempt_2"))
               for attempts, pair in zip(submission[task.id], task.test))


def read_json(path: Path):
    return json.loads(path.read_text())


# ---------------------------------------------------------------- a run without the model


@pytest.mark.slow
def test_the_programs_alone_load_no_model_and_solve_the_tasks(finished, tasks):
    out, summary = finished
    assert not Path(NO_MODEL).exists()
    submission = read_json(out / "submission.json")
    assert sorted(submission) == sorted(IDS) and all(solved(submission, tasks[t]) for t in IDS)

    health = read_json(out / "health.json")
    assert [h["task_id"] for h in health] == IDS
    for h in health:
        g = h["programs"]
        assert h["weights"] == "programs" and h["ttft_status"] == "skipped" and h["placeholders"] == 0, h
        assert g["status"] in ("done", "time", "states") and 0 < g["seconds"] < 10 and g["states"] > 0, g
        assert "O = " in g["program"] and g["fit"] == f"every train pair ({len(tasks[h['task_id']].train)})"
        assert all(top["source"] == "programs" for t in h["test_inputs"] for top in t["top"])
    assert {h["task_id"]: h["programs"]["program"] for h in health}["one-rule-v1-flip-horizontal"] == "O = flip_x(I)"  # compiled

    lines = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert {p["task_id"] for p in lines} == set(IDS)
    assert all(p["source"] == "programs" and "O = " in p["program"] and p["text"] == p["program"]
               and isinstance(p["generalises"], bool) for p in lines)
    outcomes = read_outcomes(out / PROGRAMS_FILE)
    assert sorted(outcomes) == sorted(IDS)
    assert len(lines) == sum(len(a) for o in outcomes.values() for a in o.answers)

    assert read_json(out / "summary.json") == summary
    assert summary["solvers"] == "programs" and summary["backend"] == "none" and summary["decoding"] is None
    assert summary["weights"]["programs"] == len(IDS)
    assert {k: summary["solved"][k] for k in ("tasks", "ensemble", "programs", "model")} == \
        {"tasks": 4, "ensemble": 4, "programs": 4, "model": 0}
    assert sorted(summary["solved"]["tasks_solved"]["programs"]) == sorted(IDS)
    programs = summary["programs"]
    assert (programs["searched"], programs["fitted"], programs["model_skipped"]) == (4, 4, 4)
    assert sum(programs["status"].values()) == 4 and programs["seconds"] > 0


def test_status_and_show_say_what_the_programs_did(finished, capsys, tmp_path):
    out, _ = finished
    assert main(["status", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"{out}: finished" in text and "tasks: 4 of 4 done" in text and "weights: programs 4" in text
    assert "programs: a program fits every train pair of 4 of the 4 tasks searched (solvers=programs)" in text
    assert "solved (the run's solutions): 4 of 4 tasks by the attempts; alone, the programs 4 and the model 0" in text

    picture = tmp_path / "flip.png"
    assert main(["show", str(SUITE), "--task", IDS[0], "--run", str(out), "--out", str(picture)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "test 0 attempt 1: programs: O = flip_x(I)"  # the compiled search's, first
    assert all(line.startswith("test 0 attempt ") and ": programs: O = " in line for line in lines[:-1])
    assert lines[-1] == str(picture) and picture.stat().st_size > 0


# ---------------------------------------------------------------- kill -9, then the same command


def solve_command(out: Path, ids, *sets) -> list[str]:
    command = [ARC24, "solve", str(SUITE), "--out", str(out / "submission.json"), "--set", "solvers=programs",
               "--set", f"task_ids=[{','.join(ids)}]"]
    for item in [*BY_STATES, *sets]:
        command += ["--set", item]
    return command


def answers(folder: Path) -> list:
    return sorted((p.task_id, p.test_index, json.dumps(p.grid.tolist()), p.program)
                  for p in read_predictions(folder / "predictions.jsonl"))


@pytest.mark.skipif(not HAS_PROC, reason="finds the search processes through Linux's /proc")
@pytest.mark.slow
def test_kill_9_mid_search_then_the_same_command_keeps_every_finished_search(tmp_path, tasks, capsys):
    ids = list(tasks)[:5]
    out = tmp_path / "run"
    command = solve_command(out, ids, "programs.workers=1")
    programs_file = out / PROGRAMS_FILE
    supervisor = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=(tmp_path / "first.log").open("w"),
                                  start_new_session=True)  # a process group of its own
    try:
        deadline = time.monotonic() + 120
        while not (programs_file.exists() and programs_file.read_text().count("\n") >= 1):
            assert supervisor.poll() is None and time.monotonic() < deadline, (tmp_path / "first.log").read_text()
            time.sleep(0.02)
        searchers = children(supervisor.pid)
        os.kill(supervisor.pid, signal.SIGKILL)  # the supervisor alone: its search process must notice
        supervisor.wait()
        assert searchers, "no search process"
        wait_until_gone(searchers, 10, "a search process outlived its killed supervisor by 10 s")
    finally:
        try:
            os.killpg(supervisor.pid, signal.SIGKILL)  # whatever is left of the group
        except ProcessLookupError:
            pass
        supervisor.wait()
    assert not (out / "summary.json").exists(), "the run ended before it was killed: nothing was tested"
    kept_text = programs_file.read_text()
    kept_lines = kept_text.splitlines(keepends=True)
    kept_lines = [line for line in kept_lines if line.endswith("\n")]  # a line cut off by the kill is not kept
    kept = read_outcomes(programs_file)
    assert 1 <= len(kept) == len(kept_lines) < len(ids)

    capsys.readouterr()
    assert main(command[1:]) == 0  # the same command (in this process: it saves starting Python again)
    assert f"{len(kept)} kept from {PROGRAMS_FILE}" in capsys.readouterr().out  # (health.json may lack them)
    lines = programs_file.read_text().splitlines(keepends=True)
    assert lines[:len(kept_lines)] == kept_lines  # kept as they were, not searched again
    assert Counter(json.loads(line)["task_id"] for line in lines) == Counter(ids)  # every task once
    assert read_json(out / "summary.json")["programs"]["searched"] == len(ids)

    straight = tmp_path / "straight"
    assert main(solve_command(straight, ids)[1:]) == 0
    assert read_json(out / "submission.json") == read_json(straight / "submission.json")
    assert answers(out) == answers(straight)
    assert all(solved(read_json(out / "submission.json"), tasks[t]) for t in ids)


# ---------------------------------------------------------------- programs.jsonl


def outcome(task_id: str, program: str = "O = flip_h(I)") -> ProgramOutcome:
    return ProgramOutcome(task_id, "done", 0.25, 12, 1, program, 3, [[{"grid": [[1, 2]], "program": program}]])


def test_a_cut_off_last_line_is_dropped_but_a_bad_line_in_the_middle_is_an_error(tmp_path):
    path = tmp_path / PROGRAMS_FILE
    assert read_outcomes(path) == {}
    for task_id in ("a", "b"):
        append_outcome(path, outcome(task_id))
    whole = path.read_text()
    assert read_outcomes(path) == {"a": outcome("a"), "b": outcome("b")}
    assert "traceback" not in whole  # for errors.log only

    third = json.dumps(outcome("c").to_json())
    path.write_text(whole + third[:len(third) // 2])  # killed while writing the third
    assert sorted(read_outcomes(path)) == ["a", "b"]

    lines = whole.splitlines(keepends=True)
    path.write_text(lines[0] + third[:len(third) // 2] + "\n" + lines[1])
    with pytest.raises(ConfigError, match=f"{path}: line 2 is not a program search's outcome"):
        read_outcomes(path)
    path.write_text(lines[0] + '{"task_id": "x", "no such field": 1}\n' + lines[1])
    with pytest.raises(ConfigError, match="line 2"):
        read_outcomes(path)


@pytest.mark.slow
def test_a_run_continued_after_a_cut_off_line_keeps_a_readable_programs_file(finished, tmp_path, tasks):
    """A kill while programs.jsonl's last line was written: the next run's lines must not be glued to it."""
    out = tmp_path / "run"
    shutil.copytree(finished[0], out)
    programs_file = out / PROGRAMS_FILE
    lines = programs_file.read_text().splitlines(keepends=True)
    programs_file.write_text("".join(lines[:2]) + lines[2][:40])  # the third search's line, cut off
    health = read_json(out / "health.json")
    (out / "health.json").write_text(json.dumps(health[:2]))  # the run was killed after two tasks
    (out / "summary.json").unlink()

    summary = solve(program_config(out), progress=False)
    outcomes = read_outcomes(programs_file)  # every line reads: none glued to the cut-off one
    assert sorted(outcomes) == sorted(IDS)
    assert programs_file.read_text().splitlines(keepends=True)[:2] == lines[:2]
    assert summary["solved"]["programs"] == 4 and summary["kept"] == 2
    assert solve(program_config(out), progress=False)["kept"] == 4  # and it continues once more


def test_other_program_settings_are_refused_before_any_work(finished, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(finished[0], out)
    (out / "summary.json").unlink()  # an interrupted run
    before = files(out)
    for changed, named in [({"max_depth": 2}, "programs.max_depth: 3 there, 2 now"),
                           ({"seconds": 2}, "programs.seconds: 1 there, 2 now"),
                           ({"skip_model": True}, "programs.skip_model: False there, True now")]:
        with pytest.raises(ConfigError, match="holds a run with other settings") as error:
            solve(program_config(out, **changed), progress=False)
        assert named in str(error.value)
        assert files(out) == before  # refused before anything was written
    assert files(out) == before
    solve(program_config(out), progress=False)  # its own settings continue it
    assert (out / "summary.json").exists() and files(out)[PROGRAMS_FILE] == before[PROGRAMS_FILE]


# ---------------------------------------------------------------- rescore and bench


@pytest.mark.slow
def test_rescore_reports_each_source_and_rule_and_search_programs_again_keeps_the_models_answers(finished, tmp_path,
                                                                                                tasks):
    run = tmp_path / "run"
    shutil.copytree(finished[0], run)
    rows = {r["ensemble"]: r for r in rescore(run, ["vote"], list(ENSEMBLES))}
    assert set(rows) == {*ENSEMBLES, "model alone", "programs alone"}
    assert rows["programs alone"]["score"] == 1.0 and rows["programs alone"]["selection"] == "-"
    assert rows["model alone"]["score"] == 0.0
    assert all(rows[rule]["score"] == 1.0 for rule in ENSEMBLES)
    alone = read_json(run / "submission.programs.json")
    assert all(solved(alone, tasks[t]) for t in IDS)
    assert Path(rows["programs-first"]["submission"]) == run / "submission.vote.programs-first.json"

    # The model's answers of a run (hand-made here: the model is never loaded) and a stale program search
    model_answers = [Prediction(IDS[0], 0, {"dihedral": v}, np.array([[7, 7]], np.int8), "text", None, -0.1, 4,
                                weights="ttft") for v in range(3)]
    write_predictions(run / "predictions.jsonl", model_answers, append=True)
    stale = Prediction(IDS[1], 0, {}, np.array([[0]], np.int8), "O = old(I)", None, 0.0, 0, source="programs",
                       program="O = old(I)")
    write_predictions(run / "predictions.jsonl", [stale], append=True)
    (run / PROGRAMS_FILE).write_text(json.dumps(outcome(IDS[1], "O = old(I)").to_json()) + "\n")

    summary = search_programs_again(run, seconds=0.5, workers=1)
    assert (summary["searched"], summary["fitted"]) == (4, 4)
    lines = (run / PROGRAMS_FILE).read_text().splitlines()
    assert [json.loads(line)["task_id"] for line in lines] == IDS  # rewritten, one line per task
    assert all("O = old(I)" not in line for line in lines)
    outcomes = read_outcomes(run / PROGRAMS_FILE)
    assert outcomes["one-rule-v1-rotate-180"].program == "O = rot180(I)"
    after = read_predictions(run / "predictions.jsonl")
    kept = [p for p in after if p.source != "programs"]
    assert [p.to_json() for p in kept] == [p.to_json() for p in model_answers]
    found = [p for p in after if p.source == "programs"]
    assert "O = old(I)" not in {p.program for p in found}
    assert len(found) == sum(len(a) for o in outcomes.values() for a in o.answers)
    assert all(h["programs"]["program"] == outcomes[h["task_id"]].program for h in read_json(run / "health.json"))
    assert read_json(run / "solve_settings.json")["programs"]["seconds"] == 0.5

    rows = {r["ensemble"]: r for r in rescore(run, ["vote"], list(ENSEMBLES))}
    assert rows["programs alone"]["score"] == 1.0 and rows["model alone"]["score"] == 0.0
    # The model's three votes for a wrong grid come first under model-first: the program's answer is attempt 2
    assert read_json(run / "submission.vote.model-first.json")[IDS[0]][0]["attempt_1"] == [[7, 7]]
    assert rows["model-first"]["score"] == 1.0


@pytest.mark.slow
def test_bench_reports_programs_alone_the_model_alone_and_the_ensemble(tmp_path):
    out = tmp_path / "bench"
    assert main(["bench", "one-rule-v1", "--set", "solvers=programs", "--set", "programs.seconds=1", "--tasks", "3",
                 "--out", str(out)]) == 0
    result = read_json(out / "bench.json")
    t = result["three_way"]
    assert (t["solvers"], t["ensemble_rule"]) == ("programs", DEFAULT_ENSEMBLE)
    assert (t["programs"]["solved"], t["model"]["solved"], t["ensemble"]["solved"]) == (3, 0, 3)
    assert (t["programs"]["score"], t["model"]["score"], t["ensemble"]["score"]) == (1.0, 0.0, 1.0)
    assert t["model"]["seconds_per_task"] == 0.0 and 0 < t["programs"]["seconds_per_task"] < 10
    assert t["ensemble"]["seconds_per_task"] == t["programs"]["seconds_per_task"]
    assert t["ensembles"] == {rule: 1.0 for rule in ENSEMBLES}
    assert result["score"] == 1.0 and result["tasks"] == 3
    assert all(r["solved"] and r["programs"] and not r["model"] and r["weights"] == "programs"
               and "O = " in r["program"] for r in result["per_task"])

    table = (out / "bench.md").read_text()
    assert "| solver | score | tasks solved | seconds per task |" in table
    assert f"| programs alone | 1.000 | 3 | {t['programs']['seconds_per_task']} |" in table
    assert "| model alone | 0.000 | 0 | 0.0 |" in table
    assert f"| ensemble ({DEFAULT_ENSEMBLE}) | 1.000 | 3 | {t['ensemble']['seconds_per_task']} |" in table
    assert "ensemble rules on the same candidates: " + ", ".join(f"{r} 1.000" for r in ENSEMBLES) in table
    assert "| one-rule-v1-flip-horizontal | one-rule-v1 | yes | yes | no |" in table
    assert "| programs | O = flip_x(I) |" in table  # the compiled search's name for it
    assert len(list((out / "solved").glob("*.png"))) == 3
