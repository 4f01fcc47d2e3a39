"""What a run shows a person as it goes (solving/progress.py): a line per task as each stage starts
and ends, with the run's elapsed time and an estimate of the time left, and no line per step; in a
papermill run, on the terminal that started papermill. And the health table a run ends with."""

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import arc24
from arc24.solving.config import ProgramSettings, SolveConfig, TTFTSettings
from arc24.solving.progress import StageLines, clock, duration
from arc24.solving.records import health_table
from arc24.solving.solve import solve

SUITE = Path(arc24.__file__).parent / "evaluation" / "suites" / "one-rule-v1.json"
IDS = ["one-rule-v1-flip-horizontal", "one-rule-v1-rotate-180", "one-rule-v1-transpose"]
LINE = re.compile(r"^\[arc24 (\d+:)?\d+:\d\d\] ")
MODEL_COLUMNS = ("ttft_status", "ttft_steps", "first_loss", "weights", "valid", "vote_margin", "predict_seconds")


def task_lines(text: str, task_id: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("[arc24 ") and f"] {task_id} (" in line]


def header(table: str) -> list[str]:
    return [c.strip() for c in table.splitlines()[0].strip("|").split("|")]


def test_clock_and_durations_read_as_a_person_says_them():
    assert [clock(s) for s in (7, 754, 3723)] == ["0:07", "12:34", "1:02:03"]
    assert [duration(s) for s in (40, 200, 3900)] == ["40 s", "3 min", "1 h 05 min"]


def test_a_line_names_the_task_its_place_and_the_elapsed_time():
    out = io.StringIO()
    lines = StageLines(out, ["a", "b"], start=0.0)  # time.monotonic() is far past 0
    lines.line("b", "fine-tuning: 40 steps")
    lines.line(None, "loading the model in 2 workers")
    first, second = out.getvalue().splitlines()
    assert LINE.match(first) and first.endswith("] b (2 of 2) fine-tuning: 40 steps")
    assert LINE.match(second) and second.endswith("] loading the model in 2 workers")


def test_a_programs_only_run_says_when_each_search_starts_and_ends(tmp_path):
    out = tmp_path / "run"
    log = io.StringIO()
    config = SolveConfig(challenges=str(SUITE), out_dir=str(out), model="/nonexistent/arc24-model", task_ids=IDS,
                         solvers="programs", programs=ProgramSettings(seconds=1, workers=1))
    solve(config, log=log)
    text = log.getvalue()
    assert all(LINE.match(line) for line in text.splitlines()), text
    ends = []
    for i, task_id in enumerate(IDS):
        started, ended = task_lines(text, task_id)  # two lines a task: no line per step
        assert started.endswith(f"{task_id} ({i + 1} of 3) program search: started, 1 s budget"), started
        assert f"{task_id} ({i + 1} of 3) program search: a program fits every train pair (" in ended, ended
        ends.append(ended)
    # One search process: the time left is estimated while searches are pending, and not after the last
    assert "1 of 3 searched, about " in ends[0] and ends[0].endswith(" left")
    assert ends[-1].endswith("3 of 3 searched")

    # The health table of a run without the model has the program search's columns only
    table = health_table(out / "health.json")
    assert header(table) == ["task_id", "program_search", "program", "placeholders", "seconds", "notes", "error_log"]
    assert "O = flip_h(I)" in table or "O = flip_x(I)" in table
    assert not any(c in table for c in MODEL_COLUMNS)


def test_no_lines_without_progress(tmp_path):
    log = io.StringIO()
    solve(SolveConfig(challenges=str(SUITE), out_dir=str(tmp_path), model="/nonexistent", task_ids=IDS[:1],
                      solvers="programs", programs=ProgramSettings(seconds=1, workers=1)), progress=False, log=log)
    assert log.getvalue() == ""


@pytest.mark.slow
def test_a_model_run_says_each_stage_of_each_task_once(tmp_path, tiny_model_dir):
    # Two tasks: "two" is fine-tuned for 3 steps; "one" has a single train pair (fine-tuning skipped)
    # and two test inputs.
    challenges = tmp_path / "tasks.json"
    challenges.write_text(json.dumps({
        "two": {"train": [{"input": [[1, 0]], "output": [[0, 1]]}, {"input": [[2, 0]], "output": [[0, 2]]}],
                "test": [{"input": [[3, 0]]}]},
        "one": {"train": [{"input": [[1, 2]], "output": [[2, 1]]}], "test": [{"input": [[4, 5]]}, {"input": [[5, 4]]}]},
    }))
    out, log = tmp_path / "run", io.StringIO()
    solve(SolveConfig(challenges=str(challenges), out_dir=str(out), model=str(tiny_model_dir), in_process=True,
                      ttft=TTFTSettings(steps=3, lora="new"), n_views=2, max_new_tokens=8, max_seq_len=512,
                      allow_base_model=True, programs=ProgramSettings(seconds=1, workers=1)), log=log)
    text = log.getvalue()
    assert all(LINE.match(line) for line in text.splitlines()), text
    assert re.search(r"\] loading the model\n", text)
    search = [line for line in text.splitlines() if "program search" in line]
    assert len(search) == 4  # started and ended, per task

    started, tuned, done = [line for line in task_lines(text, "two") if "program search" not in line]
    assert started.endswith("two (1 of 2) fine-tuning: 3 steps")
    assert re.search(r"two \(1 of 2\) fine-tuned: step 3 of 3, loss \d+\.\d{3}, \d+ s; predicting 2 views$", tuned)
    assert re.search(r"two \(1 of 2\) predicted 2 views \(\d answers parsed\), \d+ s; weights ttft; "
                     r"task done in \d+ s, 1 of 2 done; about \d+ s left$", done), done

    started, tuned, done = [line for line in task_lines(text, "one") if "program search" not in line]
    assert started.endswith("one (2 of 2) fine-tuning: 3 steps")
    assert tuned.endswith("one (2 of 2) fine-tuning skipped (a single train pair: nothing to hold out); "
                          "predicting 4 views (2 per test input)")
    assert re.search(r"one \(2 of 2\) predicted 4 views .* weights base; task done in \d+ s, 2 of 2 done$", done)

    # Both solvers: the health table has the model's columns and the program search's
    columns = header(health_table(out / "health.json"))
    assert all(c in columns for c in MODEL_COLUMNS) and "program_search" in columns and "program" in columns


NOTEBOOK = """{
 "cells": [
  {"cell_type": "code", "execution_count": null, "metadata": {"tags": ["parameters"]}, "outputs": [],
   "source": ["x = 1"]},
  {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [],
   "source": ["import sys, time\\n", "sys.path.insert(0, %r)\\n",
              "from arc24.solving.progress import StageLines, progress_stream\\n",
              "print('cell output nobody sees')\\n",
              "StageLines(progress_stream(), ['t1'], time.monotonic()).line('t1', 'fine-tuning: 40 steps')"]}
 ],
 "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
 "nbformat": 4, "nbformat_minor": 5
}"""


@pytest.mark.slow
def test_in_a_papermill_run_the_lines_reach_the_terminal_that_started_it(tmp_path):
    # make demo and the sweeps run the notebook through papermill: a cell's own output goes into the
    # executed notebook only, the progress lines to the terminal as they come (and the notebook too).
    notebook = tmp_path / "progress.ipynb"
    notebook.write_text(NOTEBOOK % str(Path(arc24.__file__).parents[1]))
    executed = tmp_path / "executed.ipynb"
    script = ("import sys; from arc24.sweeps.sweep import execute_submission_notebook; "
              "execute_submission_notebook({}, sys.argv[2], progress=False, notebook=sys.argv[1])")
    run = subprocess.run([sys.executable, "-c", script, str(notebook), str(executed)], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    terminal = run.stdout + run.stderr
    assert re.search(r"^\[arc24 0:00\] t1 \(1 of 1\) fine-tuning: 40 steps$", terminal, re.M), terminal
    assert "cell output nobody sees" not in terminal
    assert "fine-tuning: 40 steps" in executed.read_text()


@pytest.mark.parametrize("solvers", ["programs", "both", None])
def test_the_health_table_shows_the_columns_of_the_solvers_that_ran(tmp_path, solvers):
    import dataclasses

    from arc24.solving.records import SETTINGS_FILE, Health

    searched = {"status": "done", "seconds": 0.4, "states": 12, "depth": 1, "program": "O = flip_x(I)",
                "fit": "every train pair (3)", "reason": ""}
    by_model = solvers == "both"
    rows = [Health("t1", "ok" if by_model else "skipped", ttft_steps=40 if by_model else 0,
                   weights="ttft" if by_model else "programs", valid=8 if by_model else 0, programs=searched),
            Health("t2", "not started", "the run's deadline was reached first", weights="none", placeholders=1)]
    (tmp_path / "health.json").write_text(json.dumps([dataclasses.asdict(r) for r in rows]))
    if solvers is not None:  # a run's settings beside its health report say which solvers ran
        (tmp_path / SETTINGS_FILE).write_text(json.dumps({"solvers": solvers}))
    columns = header(health_table(tmp_path / "health.json"))
    if solvers == "programs":
        assert columns == ["task_id", "program_search", "program", "placeholders", "seconds", "notes", "error_log"]
    else:  # the model ran, or (without the settings) some task was not answered by the programs alone
        assert all(c in columns for c in MODEL_COLUMNS) and "program" in columns
