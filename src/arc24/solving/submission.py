"""The Kaggle submission file: building it from votes, writing it safely, checking it, combining two.

Format: ``{task_id: [{"attempt_1": grid, "attempt_2": grid}, ...one entry per test input, in
order]}`` with every task of the challenges file present. A test input without any valid
prediction gets a placeholder grid, because a missing entry invalidates the whole submission.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from typing import TextIO

from arc24.data.task import Task, grid_to_list
from arc24.data.tasks import grid_problem
from arc24.files import json_problem, write_json_atomic

ATTEMPTS = ("attempt_1", "attempt_2")
COMBINE_MODES = ("first-attempts", "fill")
MAX_PRINTED_PROBLEMS = 20


def placeholder_grid() -> list[list[int]]:
    """The answer written where there is none; never correct for a real task, but valid."""
    return [[0]]


def _is_placeholder(grid) -> bool:
    return grid == placeholder_grid()


# ---------------------------------------------------------------- building and writing


def build_submission(tasks: Mapping[str, Task], votes: Mapping) -> tuple[dict, list[tuple[str, int]]]:
    """The submission for `tasks` from votes keyed by (task_id, test_index) (voting.VoteResult).

    Returns the submission and the (task_id, test_index) that got placeholders (no vote, or
    no valid prediction).
    """
    submission: dict[str, list[dict]] = {}
    placeholders: list[tuple[str, int]] = []
    for task_id, task in tasks.items():
        entries = []
        for test_index in range(len(task.test)):
            result = votes.get((task_id, test_index))
            if result is None or result.attempt_1 is None:
                placeholders.append((task_id, test_index))
                entries.append({"attempt_1": placeholder_grid(), "attempt_2": placeholder_grid()})
            else:
                entries.append({"attempt_1": grid_to_list(result.attempt_1), "attempt_2": grid_to_list(result.attempt_2)})
        submission[task_id] = entries
    return submission, placeholders


def write_submission(submission: dict, path: str | os.PathLike) -> None:
    write_json_atomic(submission, path)


# ---------------------------------------------------------------- validating


def validate_submission(submission_path: str | os.PathLike, challenges_path: str | os.PathLike) -> list[str]:
    """Every problem that would make Kaggle reject the submission; an empty list when it is valid."""
    challenges, problem = json_problem(challenges_path, "challenges")
    if problem:
        return [problem]
    if not isinstance(challenges, dict):
        return [f"challenges {challenges_path}: not a JSON object of tasks"]
    submission, problem = json_problem(submission_path, "submission")
    if problem:
        return [problem]
    if not isinstance(submission, dict):
        return [f"submission {submission_path}: not a JSON object mapping task ids to lists"]

    problems = []
    for task_id, task in challenges.items():
        if task_id not in submission:
            problems.append(f"task {task_id}: missing")
            continue
        entries = submission[task_id]
        n_tests = len(task.get("test", [])) if isinstance(task, dict) else 0
        if not isinstance(entries, list):
            problems.append(f"task {task_id}: not a list of test entries")
            continue
        if len(entries) != n_tests:
            problems.append(f"task {task_id}: {len(entries)} test entries, expected {n_tests}")
        for test_index, entry in enumerate(entries):
            problems.extend(_entry_problems(entry, f"task {task_id} test {test_index}"))
    for task_id in submission:
        if task_id not in challenges:
            problems.append(f"task {task_id}: not in the challenges (unknown extra task)")
    return problems


def _entry_problems(entry, where: str) -> list[str]:
    if not isinstance(entry, dict):
        return [f"{where}: not an object with attempt_1 and attempt_2"]
    problems = []
    for attempt in ATTEMPTS:
        if attempt not in entry:
            problems.append(f"{where}: missing {attempt}")
            continue
        problem = grid_problem(entry[attempt])
        if problem:
            problems.append(f"{where}: {attempt} is an invalid grid: {problem}")
    for key in entry:
        if key not in ATTEMPTS:
            problems.append(f"{where}: unexpected key {key!r}")
    return problems


def validate_submission_main(submission, challenges, out: TextIO | None = None) -> int:
    """Print the first problems and a summary; 0 when valid, 1 otherwise (for the CLI)."""
    out = out or sys.stdout
    problems = validate_submission(submission, challenges)
    for problem in problems[:MAX_PRINTED_PROBLEMS]:
        print(problem, file=out)
    if len(problems) > MAX_PRINTED_PROBLEMS:
        print(f"... and {len(problems) - MAX_PRINTED_PROBLEMS} more problems", file=out)
    if problems:
        print(f"{submission}: INVALID, {len(problems)} problem(s)", file=out)
        return 1
    with open(challenges, encoding="utf-8") as f:
        n_tasks = len(json.load(f))
    print(f"{submission}: valid submission for {n_tasks} tasks of {challenges}", file=out)
    return 0


# ---------------------------------------------------------------- combining


def combine_submissions(a: dict, b: dict, mode: str = "first-attempts") -> dict:
    """Ensemble two submissions of the same challenges, A preferred.

    For each test entry, the two attempts are the first two distinct non-placeholder grids
    in a priority order:
    - "first-attempts" (default): A's attempt_1, B's attempt_1, A's attempt_2, B's attempt_2.
      Each model's best guess; when they agree, A's runner-up.
    - "fill": A's attempt_1, A's attempt_2, B's attempt_1, B's attempt_2. A is kept, and B's
      best guess replaces A's attempt_2 only where that is a placeholder (or repeats attempt_1).
    With a single grid found it is used for both attempts; with none, placeholders.
    Tasks present in only one submission are taken from it as they are.
    """
    if mode not in COMBINE_MODES:
        raise ValueError(f"unknown combine mode {mode!r}; choose one of {', '.join(COMBINE_MODES)}")
    combined = {}
    for task_id in list(a) + [t for t in b if t not in a]:
        if task_id not in b or task_id not in a:
            combined[task_id] = (a if task_id in a else b)[task_id]
            continue
        if len(a[task_id]) != len(b[task_id]):
            raise ValueError(
                f"task {task_id}: the submissions have {len(a[task_id])} and {len(b[task_id])} test entries; "
                "are they for the same challenges?"
            )
        combined[task_id] = [_combine_entry(ea, eb, mode) for ea, eb in zip(a[task_id], b[task_id])]
    return combined


def _combine_entry(ea: dict, eb: dict, mode: str) -> dict:
    if mode == "first-attempts":
        order = [ea["attempt_1"], eb["attempt_1"], ea["attempt_2"], eb["attempt_2"]]
    else:
        order = [ea["attempt_1"], ea["attempt_2"], eb["attempt_1"], eb["attempt_2"]]
    chosen = []
    for grid in order:
        if not _is_placeholder(grid) and grid not in chosen:
            chosen.append(grid)
    if not chosen:
        chosen = [placeholder_grid()]
    return {"attempt_1": chosen[0], "attempt_2": chosen[1] if len(chosen) > 1 else chosen[0]}


def combine_main(a_path, b_path, out_path, mode: str = "first-attempts", out: TextIO | None = None) -> int:
    """Combine two submission files into out_path; 0 on success, 1 on a problem (printed)."""
    out = out or sys.stdout
    loaded = []
    for path in (a_path, b_path):
        data, problem = json_problem(path, "submission")
        if problem is None and not isinstance(data, dict):
            problem = f"submission {path}: not a JSON object mapping task ids to lists"
        if problem:
            print(problem, file=out)
            return 1
        loaded.append(data)
    try:
        combined = combine_submissions(loaded[0], loaded[1], mode)
    except (ValueError, KeyError, TypeError) as exc:
        print(f"cannot combine {a_path} and {b_path}: {exc}", file=out)
        return 1
    write_submission(combined, out_path)
    n_entries = sum(len(entries) for entries in combined.values())
    print(f"wrote {out_path}: {len(combined)} tasks, {n_entries} test entries (mode {mode})", file=out)
    return 0
