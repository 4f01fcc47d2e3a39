"""Reading ARC task files, validating them, choosing tasks and mixing datasets for training.

Four layouts are read:
- a Kaggle challenges file (``task_id -> {"train": [...], "test": [{"input"}]}``), with an
  optional solutions file (``task_id -> [test output grid, ...]``);
- a single file with test outputs inline (ConceptARC), which is the same mapping;
- a folder of one-task-per-file JSON (ARC-AGI-1/2 original layout), task id = file stem.
  Only the folder itself is read, not its subfolders, so that e.g. ``training/`` and
  ``evaluation/`` are never mixed by accident;
- RE-ARC's layout: a folder of ``<task_id>.json`` files each holding a JSON list of
  ``{"input", "output"}`` examples with no train/test split. These are read as `ExamplePool`s,
  not tasks (``read_examples``), and serve only as training data, which draws a task from a
  pool for every sample. ``read_dataset`` reads either kind, telling them apart by the layout.

Bad data never raises from the ``read_*`` functions: every problem is collected with enough
context (file, task, pair or example) to fix it, and a task with any problem is left out.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np

from arc24.data.task import MAX_SIDE, N_COLOURS, ExamplePool, Pair, Task, as_grid, grids_equal
from arc24.files import load_json


@dataclass(frozen=True)
class Problem:
    file: str | None
    task_id: str | None
    where: str | None  # e.g. "train[2].output"
    message: str

    def __str__(self) -> str:
        parts = [self.file, None if self.task_id is None else f"task {self.task_id}", self.where, self.message]
        return ": ".join(p for p in parts if p)


class DataError(Exception):
    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


# ---------------------------------------------------------------- reading


def read_tasks(path: str | os.PathLike, solutions: str | os.PathLike | None = None) -> tuple[dict[str, Task], list[Problem]]:
    """Every valid task in PATH (a file or a folder) and every problem found.

    A problem with a whole file (missing, invalid JSON, wrong shape, unreadable solutions)
    means no task from it is returned: the one file-level problem stands for all of them.
    """
    path_str = os.fspath(path)
    problems: list[Problem] = []
    if _in_example_layout(path_str):
        # One problem, not one per file: the whole dataset is of the wrong kind for this use.
        return {}, [Problem(path_str, None, None, "holds lists of examples (RE-ARC's layout), not tasks with "
                            '"train" and "test": only a training mix can use it')]
    if os.path.isdir(path_str):
        raw_tasks = _read_task_folder(path_str, problems)
    else:
        raw_tasks = _read_collection(path_str, problems)
    if raw_tasks is None:
        return {}, problems

    raw_solutions = None
    if solutions is not None:
        raw_solutions = _read_solutions(os.fspath(solutions), problems)
        if raw_solutions is None:
            # Without the promised test outputs no task is usable, but the challenges
            # are still checked so that one run shows every problem.
            for task_id, (file, raw) in raw_tasks.items():
                _parse_task(raw, file, task_id, problems)
            return {}, problems

    tasks: dict[str, Task] = {}
    for task_id, (file, raw) in raw_tasks.items():
        task_problems: list[Problem] = []
        task = _parse_task(raw, file, task_id, task_problems)
        if raw_solutions is not None:
            task = _apply_solution(task, raw_solutions, os.fspath(solutions), task_id, task_problems)
        if task_problems:
            problems.extend(task_problems)
        elif task is not None:
            tasks[task_id] = task

    if raw_solutions is not None:
        reported = {p.task_id for p in problems}  # e.g. a task id given twice in the challenges
        for task_id in raw_solutions:
            if task_id not in raw_tasks and task_id not in reported:
                problems.append(Problem(os.fspath(solutions), task_id, None, f"not in {path_str}"))
    return tasks, problems


def load_tasks(path: str | os.PathLike, solutions: str | os.PathLike | None = None) -> dict[str, Task]:
    """Like read_tasks, but any problem at all is an error: training on half a dataset is worse than stopping."""
    return _all_or_error(*read_tasks(path, solutions))


def read_examples(path: str | os.PathLike) -> tuple[dict[str, ExamplePool], list[Problem]]:
    """Every valid example pool in PATH (RE-ARC's layout: a folder of ``<task_id>.json`` files, or
    one such file, each a JSON list of examples) and every problem found, as read_tasks does."""
    path_str = os.fspath(path)
    problems: list[Problem] = []
    if os.path.isdir(path_str):
        raw_pools = _read_folder(path_str, problems)
    else:
        data = _read_json(path_str, problems)
        raw_pools = None if data is None else {Path(path_str).stem: (path_str, data)}
    pools: dict[str, ExamplePool] = {}
    for task_id, (file, raw) in (raw_pools or {}).items():
        pool = _parse_pool(raw, file, task_id, problems)
        if pool is not None:
            pools[task_id] = pool
    return pools, problems


def read_dataset(path: str | os.PathLike, solutions: str | os.PathLike | None = None,
                 ) -> tuple[dict[str, Task] | dict[str, ExamplePool], list[Problem]]:
    """The tasks in PATH (read_tasks), or its example pools when PATH is in RE-ARC's layout (read_examples)."""
    if not _in_example_layout(os.fspath(path)):
        return read_tasks(path, solutions)
    pools, problems = read_examples(path)
    if solutions is not None:
        problems.append(Problem(os.fspath(solutions), None, None,
                                f"a solutions file does not go with {os.fspath(path)}: its examples hold their outputs"))
    return pools, problems


def load_dataset(path: str | os.PathLike, solutions: str | os.PathLike | None = None,
                 ) -> dict[str, Task] | dict[str, ExamplePool]:
    """Like read_dataset, but any problem at all is an error (see load_tasks)."""
    return _all_or_error(*read_dataset(path, solutions))


def _all_or_error(items: dict, problems: list[Problem]) -> dict:
    if problems:
        raise DataError(problems)
    return items


def _in_example_layout(path: str) -> bool:
    """Whether PATH is in RE-ARC's layout: its JSON (for a folder, its first file's) is a list, where a
    task file or a file of tasks is an object. Only the first characters are read: this decides how
    to read a dataset, before reading it."""
    if os.path.isdir(path):
        names = _json_names(path)
        if not names:
            return False
        path = os.path.join(path, names[0])
    try:
        with open(path, "rb") as f:
            head = f.read(1024)
    except OSError:
        return False  # the reader that follows reports it
    return head.lstrip(b" \t\r\n").startswith(b"[")


def _read_json(file: str, problems: list[Problem]):
    """The parsed JSON of FILE, or None after recording why it could not be read."""
    data, reason = load_json(file, object_pairs_hook=_DictWithDuplicates)
    if reason is not None:
        problems.append(Problem(file, None, None, "no such file or folder" if reason == "no such file" else reason))
    return data


class _DictWithDuplicates(dict):
    """A JSON object that remembers keys given twice: json keeps only the last one silently,
    which would hide a task (or a pair's grid) when files are concatenated by hand."""

    def __init__(self, pairs):
        super().__init__(pairs)
        self.duplicates = []
        if len(self) < len(pairs):  # rare, so the quadratic count does not matter
            keys = [k for k, _ in pairs]
            self.duplicates = sorted({k for k in keys if keys.count(k) > 1})


def _duplicates(obj) -> list:
    return getattr(obj, "duplicates", [])


def _is_single_task(data: dict) -> bool:
    # A collection maps ids to task objects, so a "train" key holding a non-object marks one task.
    return "train" in data and not isinstance(data["train"], dict)


def _read_collection(file: str, problems: list[Problem]) -> dict[str, tuple[str, object]] | None:
    data = _read_json(file, problems)
    if data is None:
        return None
    if not isinstance(data, dict):
        problems.append(Problem(file, None, None, f"top level is {_kind(data)}, expected an object of tasks"))
        return None
    if _is_single_task(data):
        return {Path(file).stem: (file, data)}
    for key in _duplicates(data):
        problems.append(Problem(file, key, None, "appears more than once in the file; only the last copy would be read"))
    if not data:
        problems.append(Problem(file, None, None, "contains no tasks"))
        return None
    return {task_id: (file, raw) for task_id, raw in data.items() if task_id not in _duplicates(data)}


def _json_names(folder: str) -> list[str]:
    return sorted(n for n in os.listdir(folder) if n.endswith(".json") and not n.startswith("."))


def _read_folder(folder: str, problems: list[Problem]) -> dict[str, tuple[str, object]] | None:
    """(file, parsed JSON) of every readable .json file in FOLDER by task id (the file name's stem)."""
    names = _json_names(folder)
    if not names:
        subfolders = sorted(n for n in os.listdir(folder) if os.path.isdir(os.path.join(folder, n)))
        hint = f" (subfolders are not read; pass one of: {', '.join(subfolders)})" if subfolders else ""
        problems.append(Problem(folder, None, None, f"no .json task files{hint}"))
        return None
    raw_tasks: dict[str, tuple[str, object]] = {}
    for name in names:
        file = os.path.join(folder, name)
        task_id = name[: -len(".json")]
        file_problems: list[Problem] = []
        data = _read_json(file, file_problems)
        # The id is known from the file name, so a broken file is this task's problem.
        for p in file_problems:
            problems.append(Problem(p.file, task_id, p.where, p.message))
        if data is not None:
            raw_tasks[task_id] = (file, data)
    return raw_tasks


def _read_task_folder(folder: str, problems: list[Problem]) -> dict[str, tuple[str, object]] | None:
    raw_tasks = _read_folder(folder, problems)
    if raw_tasks is None:
        return None
    for task_id, (file, data) in list(raw_tasks.items()):
        if isinstance(data, dict) and "train" not in data and "test" not in data:
            problems.append(Problem(file, task_id, None, 'not a single task (no "train" or "test"); pass a file of many tasks by itself'))
            del raw_tasks[task_id]
    return raw_tasks


def _read_solutions(file: str, problems: list[Problem]) -> dict | None:
    data = _read_json(file, problems)
    if data is None:
        return None
    if not isinstance(data, dict):
        problems.append(Problem(file, None, None, f"top level is {_kind(data)}, expected an object of task ids"))
        return None
    for key in _duplicates(data):
        problems.append(Problem(file, key, None, "appears more than once in the file; only the last copy would be read"))
    return data


# ---------------------------------------------------------------- validation


def _parse_task(raw, file: str, task_id: str, problems: list[Problem]) -> Task | None:
    def problem(where, message):
        problems.append(Problem(file, task_id, where, message))

    n_before = len(problems)
    if not isinstance(raw, dict):
        problem(None, f"task is {_kind(raw)}, expected an object with \"train\" and \"test\"")
        return None
    for key in _duplicates(raw):
        problem(None, f'key "{key}" appears more than once')
    pairs: dict[str, list[Pair]] = {}
    for part in ("train", "test"):
        if part not in raw:
            problem(None, f'missing "{part}"')
            continue
        items = raw[part]
        if not isinstance(items, list):
            problem(part, f"is {_kind(items)}, expected a list of pairs")
            continue
        if not items:
            problem(part, f"no {part} pairs")
            continue
        parsed = [_parse_pair(item, part == "train", f"{part}[{i}]", problem) for i, item in enumerate(items)]
        pairs[part] = [p for p in parsed if p is not None]
    if len(problems) > n_before:
        return None
    return Task(task_id, pairs["train"], pairs["test"], source=file)


def _parse_pool(raw, file: str, task_id: str, problems: list[Problem]) -> ExamplePool | None:
    def problem(where, message):
        problems.append(Problem(file, task_id, where, message))

    if not isinstance(raw, list):
        problem(None, f"is {_kind(raw)}, expected a list of examples (RE-ARC's layout)")
        return None
    n_before = len(problems)
    examples = [_parse_pair(item, True, f"example[{i}]", problem) for i, item in enumerate(raw)]
    if len(raw) < 2:
        problem(None, f"{len(raw)} examples; drawing a task takes at least 2 (train pairs and a test pair)")
    if len(problems) > n_before:
        return None
    return ExamplePool(task_id, examples, source=file)


def _parse_pair(raw, needs_output: bool, where: str, problem) -> Pair | None:
    if not isinstance(raw, dict):
        problem(where, f"pair is {_kind(raw)}, expected an object")
        return None
    for key in _duplicates(raw):
        problem(where, f'key "{key}" appears more than once')
    ok = True
    grids = {}
    for key in ("input", "output"):
        value = raw.get(key)
        if key == "output" and value is None and not needs_output:
            grids[key] = None  # a hidden test output
            continue
        if key not in raw:
            problem(where, f'missing "{key}"')
            ok = False
            continue
        message = grid_problem(value)
        if message:
            problem(f"{where}.{key}", message)
            ok = False
        else:
            grids[key] = as_grid(value)
    return Pair(grids["input"], grids["output"]) if ok else None


def grid_problem(grid) -> str | None:
    """Why GRID is not a valid ARC grid, or None when it is."""
    if not isinstance(grid, list):
        return f"grid is {_kind(grid)}, expected a list of rows"
    if not grid:
        return "grid has 0 rows"
    if len(grid) > MAX_SIDE:
        return f"grid has {len(grid)} rows, at most {MAX_SIDE} allowed"
    for r, row in enumerate(grid):
        if not isinstance(row, list):
            return f"row {r} is {_kind(row)}, expected a list of cells"
    width = len(grid[0])
    for r, row in enumerate(grid):
        if len(row) != width:
            return f"not rectangular (row {r} has {len(row)} cells, row 0 has {width})"
    if width == 0:
        return "grid has 0 columns"
    if width > MAX_SIDE:
        return f"grid has {width} columns, at most {MAX_SIDE} allowed"
    for r, row in enumerate(grid):
        # Fast check first; the cell-by-cell loop only runs to name the bad cell.
        if set(map(type, row)) == {int} and min(row) >= 0 and max(row) < N_COLOURS:
            continue
        for c, v in enumerate(row):
            if type(v) is not int:  # bool is a subclass of int, but true/false is not a colour
                return f"cell at row {r}, column {c} is {_kind(v)} ({json.dumps(v)}), expected an int 0-{N_COLOURS - 1}"
            if not 0 <= v < N_COLOURS:
                return f"cell at row {r}, column {c} is {v}, outside 0-{N_COLOURS - 1}"
    return None


def _apply_solution(task: Task | None, solutions: dict, file: str, task_id: str, problems: list[Problem]) -> Task | None:
    """TASK with its test outputs taken from SOLUTIONS; problems when they do not fit."""
    if task_id not in solutions:
        problems.append(Problem(file, task_id, None, "no solution for this task"))
        return None
    outputs = solutions[task_id]
    if not isinstance(outputs, list):
        problems.append(Problem(file, task_id, None, f"solution is {_kind(outputs)}, expected a list of test output grids"))
        return None
    if task is None:  # the challenge itself is broken and already reported; nothing to match against
        return None
    if len(outputs) != len(task.test):
        problems.append(Problem(file, task_id, None, f"expected {len(task.test)} test outputs, solutions has {len(outputs)}"))
        return None
    test = []
    for i, (pair, output) in enumerate(zip(task.test, outputs)):
        message = grid_problem(output)
        if message:
            problems.append(Problem(file, task_id, f"test[{i}].output", message))
            continue
        grid = as_grid(output)
        if pair.output is not None and not grids_equal(pair.output, grid):
            problems.append(Problem(file, task_id, f"test[{i}].output", f"differs from the test output inline in {task.source}"))
            continue
        test.append(Pair(pair.input, grid))
    if len(test) != len(task.test):
        return None
    return Task(task.id, task.train, test, source=task.source)


def _kind(value) -> str:
    """VALUE's JSON type, as a user who wrote the file would call it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "a number"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


# ---------------------------------------------------------------- checking (the check-data subcommand)


def check_data(path: str | os.PathLike, solutions: str | os.PathLike | None = None, out: TextIO | None = None) -> int:
    """Print every problem and a one-line summary; 0 when the data is clean, 1 otherwise."""
    out = sys.stdout if out is None else out  # looked up at call time so redirection works
    items, problems = read_dataset(path, solutions)
    for p in problems:
        print(p, file=out)
    if _in_example_layout(os.fspath(path)):
        # No example is a test pair until a training sample draws one, so the examples are counted.
        counted = f"{sum(len(pool.examples) for pool in items.values())} examples"
    else:
        counted = f"{sum(p.output is not None for t in items.values() for p in t.test)} test outputs"
    print(f"{len(items)} tasks, {counted}, {len(problems)} problems", file=out)
    return 1 if problems else 0


# ---------------------------------------------------------------- choosing tasks


def select_tasks(tasks: Mapping[str, Task], ids: Iterable[str]) -> dict[str, Task]:
    """The tasks named by IDS, in that order; unknown or repeated ids are an error."""
    ids = list(ids)
    problems = []
    seen: set[str] = set()
    for task_id in ids:
        if task_id not in tasks:
            problems.append(Problem(None, task_id, None, f"unknown task id (not among the {len(tasks)} loaded tasks)"))
        elif task_id in seen:
            problems.append(Problem(None, task_id, None, "listed more than once"))
        seen.add(task_id)
    if problems:
        raise DataError(problems)
    return {task_id: tasks[task_id] for task_id in ids}


def sample_task_ids(tasks: Iterable[str], n: int, seed: int) -> list[str]:
    """N distinct task ids chosen at random, the same for the same ids and seed whatever their order.

    A permutation prefix is used so that a larger N with the same seed extends a smaller sample.
    """
    ids = sorted(tasks)
    if not 0 <= n <= len(ids):
        raise ValueError(f"cannot sample {n} task ids from {len(ids)}")
    order = np.random.default_rng(seed).permutation(len(ids))
    return [ids[i] for i in order[:n]]


# ---------------------------------------------------------------- dataset mixing


def _default_name(path: str | os.PathLike) -> str:
    p = Path(path)
    name = p.stem if p.suffix == ".json" else p.name
    return name.removesuffix("_challenges")


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset of a mix; also an entry of the training config's data.datasets (hence str: a Path works too)."""

    path: str  # a challenges file, an inline-outputs file, a folder of task files or of RE-ARC example lists
    solutions: str | None = None  # only with a challenges file or a folder of task files
    weight: float = 1.0  # how often it is drawn, relative to the other datasets' weights
    name: str | None = None  # None: from the file or folder name, e.g. "arc-agi_training"
    # Datasets (paths) whose task ids are left out of this one. Corpora overlap: ARC-AGI-2 training
    # holds most ARC-AGI-1 training and evaluation tasks under the same ids, so a model validated on
    # ARC-AGI-1 evaluation must leave those out, and a mix of both would count them twice.
    exclude: list[str] = field(default_factory=list)

    def __post_init__(self):
        if self.name is None:
            object.__setattr__(self, "name", _default_name(self.path))


Items = Mapping[str, Task] | Mapping[str, ExamplePool]  # one dataset: tasks, or pools to draw tasks from


def _excluding(items: Items, paths: Iterable[str]) -> Items:
    """ITEMS less those whose task ids are in the datasets at PATHS (their test outputs are not needed)."""
    dropped = {task_id for path in paths for task_id in load_dataset(path)}
    return {task_id: item for task_id, item in items.items() if task_id not in dropped}


class DatasetMix:
    """Several datasets sampled by weight: pick a dataset in proportion to its weight, then a task
    uniformly (from an example pool, a task drawn afresh)."""

    def __init__(self, specs: Sequence[DatasetSpec]):
        specs = list(specs)
        # Check the cheap things before loading anything.
        self._check([s.name for s in specs], [s.weight for s in specs])
        self._setup([(s.name, _excluding(load_dataset(s.path, s.solutions), s.exclude), s.weight) for s in specs])

    @classmethod
    def from_tasks(cls, datasets: Sequence[tuple[str, Items, float]]) -> "DatasetMix":
        """A mix of already loaded datasets, given as (name, tasks or example pools, weight)."""
        mix = cls.__new__(cls)
        cls._check([d[0] for d in datasets], [d[2] for d in datasets])
        mix._setup(list(datasets))
        return mix

    @staticmethod
    def _check(names: list[str], weights: list) -> None:
        if not names:
            raise ValueError("a dataset mix needs at least one dataset")
        for name, weight in zip(names, weights):
            if isinstance(weight, bool) or not isinstance(weight, numbers.Real) or not math.isfinite(weight) or weight <= 0:
                raise ValueError(f"dataset {name!r}: weight must be a finite number > 0, got {weight!r}")
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"dataset names must be unique, repeated: {', '.join(repeated)} (set name= on the specs)")

    def _setup(self, datasets: list[tuple[str, Items, float]]) -> None:
        for name, tasks, _ in datasets:
            if not tasks:
                raise ValueError(f"dataset {name!r} has no tasks")
        self._names = [name for name, _, _ in datasets]
        self._weights = [float(weight) for _, _, weight in datasets]
        self._tasks = [dict(tasks) for _, tasks, _ in datasets]
        # Sorted ids: the pick must not depend on the order the files listed their tasks in.
        self._ids = [sorted(tasks) for _, tasks, _ in datasets]
        self._p = np.array(self._weights) / sum(self._weights)

    @property
    def names(self) -> list[str]:
        return list(self._names)

    def __len__(self) -> int:
        return sum(len(ids) for ids in self._ids)

    def pick_named(self, rng: np.random.Generator) -> tuple[str, Task]:
        """(dataset name, task) chosen with RNG: the same generator state always gives the same answer."""
        i = int(rng.choice(len(self._names), p=self._p))
        ids = self._ids[i]
        item = self._tasks[i][ids[int(rng.integers(len(ids)))]]
        # The draw from a pool uses the same generator, so it too is fixed by the generator's state.
        return self._names[i], item.draw_task(rng) if isinstance(item, ExamplePool) else item

    def pick(self, rng: np.random.Generator) -> Task:
        return self.pick_named(rng)[1]

    def _pool_sizes(self, i: int) -> list[int] | None:
        """The number of examples of each pool of dataset I (in id order), or None for a dataset of tasks."""
        items = self._tasks[i]
        if not isinstance(next(iter(items.values())), ExamplePool):
            return None
        return [len(items[task_id].examples) for task_id in self._ids[i]]

    def describe(self) -> str:
        parts = []
        for i, (name, ids, weight, p) in enumerate(zip(self._names, self._ids, self._weights, self._p)):
            sizes = self._pool_sizes(i)
            examples = "" if sizes is None else f" drawn from {sum(sizes)} examples"
            parts.append(f"{name} ({len(ids)} tasks{examples}, weight {weight:g}, {p:.0%})")
        return f"{len(self)} tasks from {len(parts)} datasets: " + ", ".join(parts)

    def fingerprint(self) -> str:
        """A short stable hash of names, weights and task ids (and pool sizes, which the draws depend on),
        to tie a sample stream to the mix it came from."""
        payload = []
        for i, (name, weight, ids) in enumerate(zip(self._names, self._weights, self._ids)):
            sizes = self._pool_sizes(i)
            payload.append([name, weight, ids] if sizes is None else [name, weight, ids, sizes])
        text = json.dumps(payload, separators=(",", ":"), ensure_ascii=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
