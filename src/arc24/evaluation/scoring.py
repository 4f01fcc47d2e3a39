"""Scoring: a Kaggle submission against known test outputs, and metrics over raw predictions.

Two views of how well a solver does:

- `score_submission` is the competition metric. For each test input a submission gives two
  attempts; the output is solved when either equals the truth exactly. A task scores the
  share of its test outputs solved and the final score is the mean over the reference tasks.
- `prediction_metrics` looks one step earlier, at the many predictions (one per augmented
  view, say) made for each test input before voting. It tells whether a model fails because
  it never finds the answer (`pass_n`), finds it but the vote picks something else (`vote_2`),
  gets the size right but not the cells (`correct_size`, `correct_pixels`), or does not even
  produce a grid (`unanswered`).

Submissions are user files: an attempt that is not a valid grid is counted wrong, never an
error. The reference (the tasks with their test outputs) must be sound, so a reference test
output that is unknown is a ValueError.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TextIO

import numpy as np

from arc24.data.task import Grid, Task, as_grid, grids_equal
from arc24.data.tasks import DataError, Problem, _is_single_task, _read_solutions, grid_problem, load_tasks
from arc24.solving.predictions import Prediction
from arc24.solving.submission import ATTEMPTS
from arc24.solving.voting import rank_predictions

METRICS = ("accuracy", "correct_pixels", "correct_size", "pass_n", "vote_1", "vote_2", "unanswered")

# What a reference may be: full tasks, or just the test output grids of each task
# (a Kaggle solutions file read without its challenges).
Reference = Mapping[str, "Task | Sequence[Grid]"]


def parse_attempt(value) -> Grid | None:
    """VALUE as a grid if it is a valid ARC grid (a rectangular list of lists of ints 0-9), else None."""
    if isinstance(value, np.ndarray):  # callers inside the package may hand over arrays
        value = value.tolist()
    if grid_problem(value) is not None:  # the same rules the data loader applies to task files
        return None
    return as_grid(value)


def _truths(task_id: str, ref) -> list[Grid]:
    """The known test outputs of one reference entry, in test order."""
    if isinstance(ref, Task):
        outputs = [pair.output for pair in ref.test]
    else:
        outputs = [np.asarray(g) if g is not None else None for g in ref]
    for i, output in enumerate(outputs):
        if output is None:
            raise ValueError(f"task {task_id}: test[{i}] has no known output, so it cannot be scored")
    return outputs


# ---------------------------------------------------------------- the competition score


@dataclass
class ScoreReport:
    score: float  # mean over reference tasks of the share of their test outputs solved
    score_per_output: float  # solved outputs / all outputs, which weighs multi-test tasks more
    tasks: int
    outputs: int
    solved_outputs: int
    per_task: dict[str, dict] = field(default_factory=dict)  # task_id -> {"score", "solved": [bool]}
    missing: list[str] = field(default_factory=list)  # reference tasks absent from the submission
    extra: list[str] = field(default_factory=list)  # submission tasks absent from the reference

    def to_json(self) -> dict:
        return {
            "score": self.score,
            "score_per_output": self.score_per_output,
            "tasks": self.tasks,
            "outputs": self.outputs,
            "solved_outputs": self.solved_outputs,
            "missing": list(self.missing),
            "extra": list(self.extra),
            "per_task": {k: {"score": v["score"], "solved": list(v["solved"])} for k, v in self.per_task.items()},
        }


def _attempts_for(entries, i: int) -> list:
    """The raw attempts given for test input I of a task's submission entry (any shape tolerated)."""
    if not isinstance(entries, list) or i >= len(entries) or not isinstance(entries[i], dict):
        return []
    return [entries[i].get(key) for key in ATTEMPTS]


def solved_outputs(entries, truths: Sequence[Grid]) -> list[bool]:
    """For each truth, whether attempt_1 or attempt_2 of ENTRIES (one task's submission list) equals it."""
    return [
        any(grids_equal(parse_attempt(a), truth) for a in _attempts_for(entries, i))
        for i, truth in enumerate(truths)
    ]


def score_submission(submission: Mapping, tasks: Reference) -> ScoreReport:
    """Score SUBMISSION (task_id -> [{"attempt_1", "attempt_2"} per test input]) against TASKS.

    TASKS maps task ids to Task objects with test outputs, or directly to the list of test
    output grids. Only the reference tasks count: missing ones score 0, extra ones are ignored.
    """
    per_task: dict[str, dict] = {}
    missing = []
    n_outputs = n_solved = 0
    for task_id, ref in tasks.items():
        truths = _truths(task_id, ref)
        if task_id not in submission:
            missing.append(task_id)
        solved = solved_outputs(submission.get(task_id), truths)
        per_task[task_id] = {"score": sum(solved) / len(truths) if truths else 0.0, "solved": solved}
        n_outputs += len(truths)
        n_solved += sum(solved)
    extra = [task_id for task_id in submission if task_id not in tasks]
    return ScoreReport(
        score=sum(t["score"] for t in per_task.values()) / len(per_task) if per_task else 0.0,
        score_per_output=n_solved / n_outputs if n_outputs else 0.0,
        tasks=len(per_task),
        outputs=n_outputs,
        solved_outputs=n_solved,
        per_task=per_task,
        missing=missing,
        extra=extra,
    )


# ---------------------------------------------------------------- the score command


class _FileError(Exception):
    """A file could not be used; the message is one line and names the file."""


def _one_line(problems: list[Problem]) -> str:
    more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
    return f"{problems[0]}{more}"


def read_submission(path: str | os.PathLike) -> dict:
    """The submission in PATH as raw JSON; only a file that is not a JSON object is an error."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as e:
        raise _FileError(f"{os.fspath(path)}: cannot read: {e.strerror or e}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _FileError(f"{os.fspath(path)}: not valid JSON: {e}") from None
    if not isinstance(data, dict):
        raise _FileError(f"{os.fspath(path)}: top level is not an object of task ids")
    return data


def read_reference(solutions_path: str | os.PathLike, challenges_path: str | os.PathLike | None = None) -> dict:
    """The reference to score against: task_id -> Task (or -> list of output grids).

    SOLUTIONS_PATH is either a Kaggle solutions file (task_id -> [grid per test input]),
    which needs no challenges, or any task source with test outputs that load_tasks reads
    (a file with outputs inline, a folder of task files). CHALLENGES_PATH only goes with a
    Kaggle solutions file; given, the pair is loaded and cross-checked by load_tasks.
    """
    path = os.fspath(solutions_path)
    raw = None
    if not os.path.isdir(path):
        problems: list[Problem] = []
        raw = _read_solutions(path, problems)
        if problems:
            raise _FileError(_one_line(problems))
    is_solutions_file = raw is not None and not _is_single_task(raw) and all(isinstance(v, list) for v in raw.values())
    try:
        if is_solutions_file and challenges_path is not None:
            return load_tasks(challenges_path, path)
        if is_solutions_file:
            return _parse_solutions(raw, path)
        if challenges_path is not None:
            raise _FileError(f"{path}: is a task source, not a Kaggle solutions file; challenges are only used with the latter")
        tasks = load_tasks(path)
    except DataError as e:
        raise _FileError(_one_line(e.problems)) from None
    # A challenges file alone loads fine but has nothing to score against.
    for task in tasks.values():
        if any(pair.output is None for pair in task.test):
            raise _FileError(f"{path}: task {task.id} has no test outputs (a challenges file? pass its solutions file)")
    return tasks


def _parse_solutions(raw: dict, file: str) -> dict[str, list[Grid]]:
    if not raw:
        raise _FileError(f"{file}: contains no tasks")
    problems = []
    for task_id, grids in raw.items():
        if not grids:
            problems.append(Problem(file, task_id, None, "no test outputs"))
        for i, grid in enumerate(grids):
            message = grid_problem(grid)
            if message:
                problems.append(Problem(file, task_id, f"test[{i}].output", message))
    if problems:
        raise _FileError(_one_line(problems))
    return {task_id: [as_grid(g) for g in grids] for task_id, grids in raw.items()}


def _short_list(ids: list[str], limit: int = 10) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f", ... and {len(ids) - limit} more" if len(ids) > limit else "")


def format_report(report: ScoreReport) -> str:
    lines = [
        f"score {report.score:.4f} over {report.tasks} tasks",
        f"per output {report.score_per_output:.4f} ({report.solved_outputs}/{report.outputs} test outputs solved)",
    ]
    if report.missing:
        lines.append(f"missing {len(report.missing)} tasks (scored 0): {_short_list(report.missing)}")
    if report.extra:
        lines.append(f"ignored {len(report.extra)} tasks not in the reference: {_short_list(report.extra)}")
    return "\n".join(lines)


def score_main(
    submission_path: str | os.PathLike,
    solutions_path: str | os.PathLike,
    challenges_path: str | os.PathLike | None = None,
    as_json: bool = False,
    out: TextIO | None = None,
) -> int:
    """Score a submission file and print a summary (or the JSON report); 0, or 2 when a file cannot be used."""
    out = sys.stdout if out is None else out  # looked up at call time so redirection works
    try:
        reference = read_reference(solutions_path, challenges_path)
        submission = read_submission(submission_path)
    except _FileError as e:
        print(f"error: {e}", file=out)
        return 2
    report = score_submission(submission, reference)
    print(json.dumps(report.to_json(), indent=2) if as_json else format_report(report), file=out)
    return 0


# ---------------------------------------------------------------- metrics over predictions


def vote_ranking(predictions: Iterable[Prediction]) -> list[Grid]:
    """The distinct parsed grids of PREDICTIONS, best first, by the vote (voting.rank_predictions).

    Unparseable predictions (grid None) take no part.
    """
    return [c.grid for c in rank_predictions(predictions, "vote")]


def _cell_share(grid: Grid | None, truth: Grid) -> float:
    if grid is None or grid.shape != truth.shape:
        return 0.0
    return float(np.mean(grid == truth))


def output_metrics(predictions: Sequence[Prediction], truth: Grid) -> dict:
    """The metrics for one test output from all predictions made for it (see the module docstring)."""
    n = len(predictions)
    if n == 0:
        return {**{m: 0.0 for m in METRICS}, "unanswered": 1.0, "predictions": 0}
    grids = [p.grid for p in predictions]
    ranking = vote_ranking(predictions)
    return {
        "accuracy": sum(grids_equal(g, truth) for g in grids) / n,
        "correct_pixels": sum(_cell_share(g, truth) for g in grids) / n,
        "correct_size": sum(g is not None and g.shape == truth.shape for g in grids) / n,
        "pass_n": float(any(grids_equal(g, truth) for g in grids)),
        "vote_1": float(any(grids_equal(g, truth) for g in ranking[:1])),
        "vote_2": float(any(grids_equal(g, truth) for g in ranking[:2])),
        "unanswered": sum(g is None for g in grids) / n,
        "predictions": n,
    }


def _mean(rows: list[dict]) -> dict:
    return {m: sum(r[m] for r in rows) / len(rows) if rows else 0.0 for m in METRICS}


def prediction_metrics(predictions: Iterable[Prediction], tasks: Reference) -> dict:
    """Metrics over PREDICTIONS (predictions.Prediction, as read_predictions gives them) for the reference TASKS.

    Metrics are averaged per task over its test outputs, then over tasks, so a task with two
    test inputs weighs as much as one with a single input. Every reference test output counts:
    one without predictions scores 0 everywhere with unanswered 1, and is listed in
    "no_predictions" as [task_id, test_index]. Records for tasks outside the reference are
    ignored and their task ids listed in "extra".
    """
    by_output: dict[tuple[str, int], list[Prediction]] = {}
    extra: list[str] = []
    for record in predictions:
        task_id, index = record.task_id, record.test_index
        if task_id not in tasks:
            if task_id not in extra:
                extra.append(task_id)
            continue
        by_output.setdefault((task_id, int(index)), []).append(record)

    truths = {task_id: _truths(task_id, ref) for task_id, ref in tasks.items()}
    for task_id, index in by_output:
        # A wrong index is a bug in the caller, not a bad prediction: say so rather than ignore it.
        if not 0 <= index < len(truths[task_id]):
            raise ValueError(f"task {task_id}: prediction for test_index {index}, the task has {len(truths[task_id])} test inputs")

    per_task = {}
    no_predictions = []
    n_outputs = 0
    for task_id in tasks:
        outputs = []
        for index, truth in enumerate(truths[task_id]):
            recs = by_output.get((task_id, index), [])
            if not recs:
                no_predictions.append([task_id, index])
            outputs.append(output_metrics(recs, truth))
        per_task[task_id] = {**_mean(outputs), "outputs": outputs}
        n_outputs += len(truths[task_id])

    return {
        **_mean(list(per_task.values())),
        "tasks": len(per_task),
        "outputs": n_outputs,
        "predictions": sum(len(v) for v in by_output.values()),
        "no_predictions": no_predictions,
        "extra": extra,
        "per_task": per_task,
    }
