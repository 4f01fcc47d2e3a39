"""Reading and validating ARC data, choosing tasks, mixing datasets (real files from /work/shared/data)."""

from __future__ import annotations

import copy
import io
import json
import math
import os
import shutil

import data_paths
import numpy as np
import pytest

from arc24.data.task import MAX_SIDE, ExamplePool
from arc24.data.tasks import (
    DataError,
    DatasetMix,
    DatasetSpec,
    Problem,
    check_data,
    load_dataset,
    load_tasks,
    read_examples,
    read_tasks,
    sample_task_ids,
    select_tasks,
)

DATA = data_paths.SHARED_DATA
CONCEPT = str(data_paths.CONCEPT)

TRAIN = f"{DATA}/arc-agi-1/arc-agi_training_challenges.json"
TRAIN_SOL = f"{DATA}/arc-agi-1/arc-agi_training_solutions.json"
EVAL = f"{DATA}/arc-agi-1/arc-agi_evaluation_challenges.json"
EVAL_SOL = f"{DATA}/arc-agi-1/arc-agi_evaluation_solutions.json"
HIDDEN = f"{DATA}/arc-agi-1/arc-agi_test_challenges.json"
ARC2 = data_paths.ARC2
REARC = str(data_paths.REARC)

GOOD_A, BAD, GOOD_B = "007bbfb7", "00d62c1b", "017c7c7b"
TWO_TESTS = "239be575"  # a training task with two test inputs


@pytest.fixture(scope="module")
def raw_train():
    with open(TRAIN) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def raw_train_sol():
    with open(TRAIN_SOL) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def train_tasks():
    return load_tasks(TRAIN, TRAIN_SOL)


def write_json(path, obj) -> str:
    path.write_text(json.dumps(obj))
    return str(path)


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def as_json(tasks) -> dict:
    return {k: t.to_json() for k, t in tasks.items()}


# ---------------------------------------------------------------- the real data


def test_training_with_solutions(train_tasks):
    tasks, problems = read_tasks(TRAIN, TRAIN_SOL)
    assert problems == []
    assert len(tasks) == 400
    assert all(p.output is not None for t in tasks.values() for p in t.test)
    grid = tasks[GOOD_A].train[0].input
    assert grid.ndim == 2 and grid.dtype == np.int8
    assert tasks[GOOD_A].source == TRAIN


def test_evaluation_with_solutions(capsys):
    assert check_data(EVAL, EVAL_SOL) == 0
    assert capsys.readouterr().out == "400 tasks, 419 test outputs, 0 problems\n"


def test_conceptarc_inline_outputs(capsys):
    assert check_data(CONCEPT) == 0
    summary = capsys.readouterr().out
    with capsys.disabled():
        print(f"\nConceptARC: {summary.strip()}")
    assert summary == "528 tasks, 528 test outputs, 0 problems\n"


def test_hidden_test_outputs_are_optional():
    tasks = load_tasks(HIDDEN)
    assert len(tasks) == 100
    assert all(p.output is None for t in tasks.values() for p in t.test)
    assert all(p.output is not None for t in tasks.values() for p in t.train)


def test_folder_of_task_files(tmp_path, raw_train, raw_train_sol, train_tasks):
    ids = sorted(raw_train)[:5]
    folder = tmp_path / "training"
    folder.mkdir()
    for task_id in ids:
        task = copy.deepcopy(raw_train[task_id])
        for pair, output in zip(task["test"], raw_train_sol[task_id]):
            pair["output"] = output
        write_json(folder / f"{task_id}.json", task)
    (folder / "README.md").write_text("not a task")
    (folder / "nested").mkdir()  # subfolders are not read
    write_json(folder / "nested" / "zzz.json", raw_train[ids[0]])

    tasks = load_tasks(folder)
    assert list(tasks) == ids
    assert as_json(tasks) == as_json({k: train_tasks[k] for k in ids})
    assert tasks[ids[0]].source == os.path.join(str(folder), f"{ids[0]}.json")

    # One task file can also be given by itself.
    single = load_tasks(folder / f"{ids[1]}.json")
    assert list(single) == [ids[1]]


def test_folder_with_solutions_file(tmp_path, raw_train, raw_train_sol):
    ids = sorted(raw_train)[:3]
    for task_id in ids:
        write_json(tmp_path / f"{task_id}.json", raw_train[task_id])
    sol = write_json(tmp_path.parent / "folder_sol.json", {k: raw_train_sol[k] for k in ids})
    tasks = load_tasks(tmp_path, sol)
    assert all(p.output is not None for t in tasks.values() for p in t.test)


def test_folder_problems(tmp_path, raw_train):
    (tmp_path / "training").mkdir()
    tasks, problems = read_tasks(tmp_path)
    assert tasks == {}
    assert "no .json task files" in problems[0].message and "training" in problems[0].message

    write_json(tmp_path / "good.json", raw_train[GOOD_A])
    (tmp_path / "broken.json").write_text('{"train": [')
    write_json(tmp_path / "many.json", {GOOD_A: raw_train[GOOD_A]})
    tasks, problems = read_tasks(tmp_path)
    assert list(tasks) == ["good"]
    by_task = {p.task_id: p for p in problems}
    assert set(by_task) == {"broken", "many"}
    assert by_task["broken"].file == str(tmp_path / "broken.json")
    assert "invalid JSON at line 1, column 12" in by_task["broken"].message
    assert "not a single task" in by_task["many"].message


@pytest.mark.parametrize("split, summary", [("training", "1000 tasks, 1076 test outputs, 0 problems\n"),
                                            ("evaluation", "120 tasks, 167 test outputs, 0 problems\n")])
def test_arc_agi_2_folders(capsys, split, summary):
    assert check_data(ARC2 / split) == 0
    assert capsys.readouterr().out == summary


# ---------------------------------------------------------------- RE-ARC: example pools


@pytest.fixture(scope="module")
def re_arc():
    return load_dataset(REARC)


def example_key(pair) -> tuple:
    """What tells one example from another (RE-ARC's examples are distinct)."""
    return tuple((g.shape, g.tobytes()) for g in (pair.input, pair.output))


@pytest.mark.slow
def test_re_arc_check_data(capsys):
    # Its examples hold their outputs and none is a test pair until a sample draws one: examples are counted.
    assert check_data(REARC) == 0
    assert capsys.readouterr().out == "400 tasks, 16000 examples, 0 problems\n"


@pytest.mark.slow
def test_re_arc_is_read_as_example_pools(re_arc, train_tasks):
    assert set(re_arc) == set(train_tasks)  # generated from the ARC-AGI-1 training tasks
    pool = re_arc[GOOD_A]
    assert isinstance(pool, ExamplePool) and pool.id == GOOD_A
    assert pool.source == os.path.join(REARC, f"{GOOD_A}.json")
    assert all(len(p.examples) == 40 for p in re_arc.values())
    assert all(e.output is not None and e.input.dtype == np.int8 for e in pool.examples)
    assert len({example_key(e) for e in pool.examples}) == 40
    single, problems = read_examples(f"{REARC}/{GOOD_A}.json")  # one file by itself
    assert problems == [] and list(single) == [GOOD_A]
    assert [example_key(e) for e in single[GOOD_A].examples] == [example_key(e) for e in pool.examples]


def test_re_arc_is_not_tasks():
    # Code that needs a test pair (solving, scoring) gets one clear problem, not 400 broken tasks.
    tasks, problems = read_tasks(REARC)
    assert tasks == {}
    message = 'holds lists of examples (RE-ARC\'s layout), not tasks with "train" and "test": only a training mix can use it'
    assert [str(p) for p in problems] == [f"{REARC}: {message}"]
    with pytest.raises(DataError, match="RE-ARC"):
        load_tasks(REARC)


@pytest.fixture
def re_arc_copy(tmp_path):
    """Three RE-ARC files in a folder of their own, to break."""
    folder = tmp_path / "tasks"
    folder.mkdir()
    for task_id in (GOOD_A, BAD, GOOD_B):
        shutil.copy(f"{REARC}/{task_id}.json", folder)
    return folder


def _set_example(index: int, key: str, value):
    def corrupt(examples):
        if key:
            examples[index][key] = value
        else:
            examples[index] = value
        return examples

    return corrupt


def _del_input(examples):
    del examples[3]["input"]
    return examples


BAD_EXAMPLES = [
    # (corruption, where reported, message fragment)
    (_set_example(7, "output", [[1, 2], [3]]), "example[7].output", "not rectangular (row 1 has 1 cells, row 0 has 2)"),
    (_set_example(0, "input", [[1, 10]]), "example[0].input", "cell at row 0, column 1 is 10, outside 0-9"),
    (_set_example(39, "output", None), "example[39].output", "grid is null, expected a list of rows"),
    (_del_input, "example[3]", 'missing "input"'),
    (_set_example(2, "", "pair"), "example[2]", "pair is a string, expected an object"),
    (lambda examples: examples[:1], None, "1 examples; drawing a task takes at least 2"),
    (lambda examples: {"train": examples, "test": []}, None, "is an object, expected a list of examples"),
]


@pytest.mark.parametrize("corrupt, where, fragment", BAD_EXAMPLES, ids=[c[2][:30] for c in BAD_EXAMPLES])
def test_bad_re_arc_example_is_one_line_naming_file_task_and_example(re_arc_copy, corrupt, where, fragment):
    file = re_arc_copy / f"{BAD}.json"
    write_json(file, corrupt(json.loads(file.read_text())))
    pools, problems = read_examples(re_arc_copy)
    assert sorted(pools) == [GOOD_A, GOOD_B]
    assert len(problems) == 1, problems
    p = problems[0]
    assert (p.file, p.task_id, p.where) == (str(file), BAD, where)
    assert fragment in p.message
    assert str(p).startswith(f"{file}: task {BAD}: " + (f"{where}: " if where else ""))

    out = io.StringIO()
    assert check_data(re_arc_copy, out=out) == 1
    assert out.getvalue().splitlines() == [str(p), "2 tasks, 80 examples, 1 problems"]
    with pytest.raises(DataError) as e:
        DatasetMix([DatasetSpec(str(re_arc_copy))])
    assert str(e.value) == str(p)


def test_broken_re_arc_file_and_a_solutions_file(re_arc_copy):
    (re_arc_copy / f"{BAD}.json").write_text('[{"input": [[1]],')
    _, problems = read_examples(re_arc_copy)
    assert [(p.task_id, p.message.startswith("invalid JSON at line 1")) for p in problems] == [(BAD, True)]
    (re_arc_copy / f"{BAD}.json").unlink()
    out = io.StringIO()
    assert check_data(re_arc_copy, TRAIN_SOL, out=out) == 1
    assert out.getvalue().splitlines()[0] == f"{TRAIN_SOL}: a solutions file does not go with {re_arc_copy}: its examples hold their outputs"


def test_drawn_task_is_distinct_examples_of_its_pool(re_arc):
    pool = re_arc[GOOD_A]
    index = {example_key(e): i for i, e in enumerate(pool.examples)}
    rng = np.random.default_rng(0)
    n_train, chosen = set(), set()
    for _ in range(200):
        task = pool.draw_task(rng)
        assert (task.id, task.source, len(task.test)) == (GOOD_A, pool.source, 1)
        used = [index[example_key(p)] for p in task.train + task.test]
        assert len(set(used)) == len(used)
        n_train.add(len(task.train))
        chosen.add(tuple(used))
    assert n_train == {2, 3, 4, 5}
    assert len(chosen) == 200
    # The same generator state draws the same task.
    same = [pool.draw_task(np.random.default_rng(7)).to_json() for _ in range(2)]
    assert same[0] == same[1]
    # Bounded by the examples there are: 2 make one train pair and the test pair.
    for n, expected in ((2, {1}), (3, {2}), (4, {2, 3})):
        small = ExamplePool("small", pool.examples[:n])
        assert {len(small.draw_task(rng).train) for _ in range(50)} == expected


def test_mix_with_re_arc(re_arc, train_tasks):
    mix = DatasetMix.from_tasks([("arc", train_tasks, 1.0), ("re-arc", re_arc, 1.0)])
    assert "re-arc (400 tasks drawn from 16000 examples, weight 1, 50%)" in mix.describe()

    def picks(m, seed):
        rng = np.random.default_rng(seed)
        return [(name, task.to_json()) for name, task in (m.pick_named(rng) for _ in range(50))]

    assert picks(mix, 3) == picks(mix, 3)
    drawn = [task for name, task in picks(mix, 3) if name == "re-arc"]
    assert len(drawn) > 10 and all(len(t["test"]) == 1 for t in drawn)
    # The draws depend on each pool's size, so the fingerprint does too.
    fewer = dict(re_arc, **{GOOD_A: ExamplePool(GOOD_A, re_arc[GOOD_A].examples[:39])})
    assert DatasetMix.from_tasks([("arc", train_tasks, 1.0), ("re-arc", fewer, 1.0)]).fingerprint() != mix.fingerprint()


@pytest.mark.slow
def test_exclude_leaves_out_the_tasks_of_other_datasets(re_arc_copy):
    # ARC-AGI-2 training holds 391 ARC-AGI-1 training and 376 ARC-AGI-1 evaluation tasks under the same ids.
    assert len(DatasetMix([DatasetSpec(str(ARC2 / "training"))])) == 1000
    assert len(DatasetMix([DatasetSpec(str(ARC2 / "training"), exclude=[TRAIN, EVAL])])) == 1000 - 391 - 376
    with pytest.raises(ValueError, match="'tasks' has no tasks"):
        DatasetMix([DatasetSpec(str(re_arc_copy), exclude=[TRAIN])])  # RE-ARC's ids are ARC-AGI-1 training's


# ---------------------------------------------------------------- bad tasks


def test_problem_line_is_the_documented_example(tmp_path, monkeypatch, raw_train):
    data = {GOOD_A: copy.deepcopy(raw_train[GOOD_A])}
    data[GOOD_A]["train"][2]["output"] = [[1, 2, 3], [1, 2, 3, 4]]
    write_json(tmp_path / "arc-agi_training_challenges.json", data)
    monkeypatch.chdir(tmp_path)  # the path is reported as given, here relative
    _, problems = read_tasks("arc-agi_training_challenges.json")
    assert [str(p) for p in problems] == [
        "arc-agi_training_challenges.json: task 007bbfb7: train[2].output: not rectangular (row 1 has 4 cells, row 0 has 3)"
    ]


def _set(where: str, value):
    """A corruption that sets e.g. "train[1].input" (or a task key, or the whole task when where is "")."""

    def corrupt(task):
        if not where:
            return value
        part, _, rest = where.partition("[")
        if not rest:
            task[part] = value
            return task
        index, _, key = rest.partition("].")
        if not key:
            task[part][int(index.rstrip("]"))] = value
        elif value is _DELETE:
            del task[part][int(index)][key]
        else:
            task[part][int(index)][key] = value
        return task

    return corrupt


_DELETE = object()
TALL = [[0]] * (MAX_SIDE + 1)
WIDE = [[0] * (MAX_SIDE + 1)]

BAD_CASES = [
    # (corruption, where reported, message fragment)
    (_set("", [1, 2]), None, "task is a list, expected an object"),
    (lambda t: {"test": t["test"]}, None, 'missing "train"'),
    (lambda t: {"train": t["train"]}, None, 'missing "test"'),
    (_set("train", []), "train", "no train pairs"),
    (_set("test", []), "test", "no test pairs"),
    (_set("train", {"input": [[1]]}), "train", "is an object, expected a list of pairs"),
    (_set("train[1]", "pair"), "train[1]", "pair is a string, expected an object"),
    (_set("train[0].input", _DELETE), "train[0]", 'missing "input"'),
    (_set("train[1].output", _DELETE), "train[1]", 'missing "output"'),
    (_set("train[1].output", None), "train[1].output", "grid is null, expected a list of rows"),
    (_set("test[0].input", _DELETE), "test[0]", 'missing "input"'),
    (_set("train[0].input", 5), "train[0].input", "grid is a number, expected a list of rows"),
    (_set("train[0].input", [[1, 2], 3]), "train[0].input", "row 1 is a number, expected a list of cells"),
    (_set("train[1].output", [[1, 2, 3], [1, 2, 3, 4]]), "train[1].output", "not rectangular (row 1 has 4 cells, row 0 has 3)"),
    (_set("train[0].input", [[1, 10]]), "train[0].input", "cell at row 0, column 1 is 10, outside 0-9"),
    (_set("train[0].input", [[1], [-1]]), "train[0].input", "cell at row 1, column 0 is -1, outside 0-9"),
    (_set("train[0].input", [[1, "2"]]), "train[0].input", 'cell at row 0, column 1 is a string ("2")'),
    (_set("train[0].input", [[1.0]]), "train[0].input", "cell at row 0, column 0 is a float (1.0)"),
    (_set("train[0].input", [[0, True]]), "train[0].input", "cell at row 0, column 1 is a boolean (true)"),
    (_set("train[0].input", []), "train[0].input", "grid has 0 rows"),
    (_set("train[0].input", [[], []]), "train[0].input", "grid has 0 columns"),
    (_set("train[0].input", TALL), "train[0].input", "grid has 31 rows, at most 30 allowed"),
    (_set("test[0].input", WIDE), "test[0].input", "grid has 31 columns, at most 30 allowed"),
    (_set("test[0].output", [[3, None]]), "test[0].output", "cell at row 0, column 1 is null"),
]


@pytest.mark.parametrize("corrupt, where, fragment", BAD_CASES, ids=[c[2][:40] for c in BAD_CASES])
def test_bad_task_is_reported_and_the_others_load(tmp_path, raw_train, corrupt, where, fragment):
    data = {k: copy.deepcopy(raw_train[k]) for k in (GOOD_A, BAD, GOOD_B)}
    data[BAD] = corrupt(data[BAD])
    file = write_json(tmp_path / "bad.json", data)

    tasks, problems = read_tasks(file)
    assert list(tasks) == [GOOD_A, GOOD_B]
    assert len(problems) == 1, problems
    p = problems[0]
    assert (p.file, p.task_id, p.where) == (file, BAD, where)
    assert fragment in p.message
    assert str(p).startswith(f"{file}: task {BAD}: ")

    out = io.StringIO()
    assert check_data(file, out=out) == 1
    assert out.getvalue().splitlines() == [str(p), "2 tasks, 0 test outputs, 1 problems"]
    with pytest.raises(DataError) as e:
        load_tasks(file)
    assert str(e.value) == str(p)


def test_all_problems_in_a_task_are_reported(tmp_path, raw_train):
    task = copy.deepcopy(raw_train[BAD])
    task["train"][0]["input"] = [[11]]
    task["test"][0]["input"] = [[]]
    _, problems = read_tasks(write_json(tmp_path / "two.json", {BAD: task}))
    assert [p.where for p in problems] == ["train[0].input", "test[0].input"]


def test_test_output_null_means_hidden(tmp_path, raw_train):
    task = copy.deepcopy(raw_train[BAD])
    task["test"][0]["output"] = None
    tasks = load_tasks(write_json(tmp_path / "hidden.json", {BAD: task}))
    assert tasks[BAD].test[0].output is None


# ---------------------------------------------------------------- bad files


def test_invalid_json_names_line_and_column(tmp_path, capsys):
    path = tmp_path / "broken.json"
    path.write_text('{\n  "a": {"train": [],\n    "test": [}\n}\n')
    assert check_data(path) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{path}: invalid JSON at line 3, column 14: Expecting value", "0 tasks, 0 test outputs, 1 problems"]


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("[1, 2]", "holds lists of examples (RE-ARC's layout), not tasks"),
        ("{}", "contains no tasks"),
        (b"\xff\xfe{}", "not UTF-8 text"),
    ],
)
def test_bad_top_level(tmp_path, text, fragment):
    path = tmp_path / "top.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    tasks, problems = read_tasks(path)
    assert tasks == {}
    assert [(p.file, p.task_id, p.where) for p in problems] == [(str(path), None, None)]
    assert fragment in problems[0].message


def test_missing_path(tmp_path):
    path = str(tmp_path / "nowhere.json")
    tasks, problems = read_tasks(path)
    assert tasks == {} and [str(p) for p in problems] == [f"{path}: no such file or folder"]
    assert check_data(path, out=io.StringIO()) == 1


def test_duplicate_task_id_is_not_silently_dropped(tmp_path, raw_train):
    one, two = json.dumps(raw_train[BAD]), json.dumps(raw_train[GOOD_B])
    path = tmp_path / "dup.json"
    path.write_text(f'{{"{BAD}": {one}, "{GOOD_A}": {json.dumps(raw_train[GOOD_A])}, "{BAD}": {two}}}')
    tasks, problems = read_tasks(path)
    assert list(tasks) == [GOOD_A]
    assert [(p.task_id, "more than once" in p.message) for p in problems] == [(BAD, True)]
    # With solutions, the duplicated task is not reported a second time as missing from the challenges.
    sol = write_json(tmp_path / "sol.json", {k: [[[1]]] for k in (BAD, GOOD_A)})
    _, problems = read_tasks(path, sol)
    assert [p.task_id for p in problems] == [BAD]


# ---------------------------------------------------------------- solutions


@pytest.fixture
def small_files(tmp_path, raw_train, raw_train_sol):
    """A three-task challenges file (one task with two tests) and a way to write its solutions."""
    ids = [GOOD_A, TWO_TESTS, GOOD_B]
    challenges = write_json(tmp_path / "ch.json", {k: raw_train[k] for k in ids})

    def solutions(change=lambda s: s) -> str:
        return write_json(tmp_path / "sol.json", change(copy.deepcopy({k: raw_train_sol[k] for k in ids})))

    return challenges, solutions


def test_small_files_are_clean(small_files):
    challenges, solutions = small_files
    tasks = load_tasks(challenges, solutions())
    assert len(tasks[TWO_TESTS].test) == 2 and tasks[TWO_TESTS].test[1].output is not None


def _without(key):
    def change(s):
        del s[key]
        return s

    return change


def _with(key, value):
    def change(s):
        s[key] = value
        return s

    return change


SOLUTION_CASES = [
    (_without(TWO_TESTS), TWO_TESTS, None, "no solution for this task"),
    (_with("ffffffff", [[[1]]]), "ffffffff", None, "not in "),
    (lambda s: _with(TWO_TESTS, s[TWO_TESTS][:1])(s), TWO_TESTS, None, "expected 2 test outputs, solutions has 1"),
    (_with(TWO_TESTS, {"a": 1}), TWO_TESTS, None, "solution is an object, expected a list of test output grids"),
    (lambda s: _with(TWO_TESTS, [s[TWO_TESTS][0], [[1, 2], [3]]])(s), TWO_TESTS, "test[1].output", "not rectangular"),
]


@pytest.mark.parametrize("change, task_id, where, fragment", SOLUTION_CASES, ids=[c[3][:30] for c in SOLUTION_CASES])
def test_bad_solutions(small_files, change, task_id, where, fragment):
    challenges, solutions = small_files
    sol = solutions(change)
    tasks, problems = read_tasks(challenges, sol)
    assert len(problems) == 1, problems
    p = problems[0]
    assert (p.file, p.task_id, p.where) == (sol, task_id, where)
    assert fragment in p.message
    assert set(tasks) == {GOOD_A, TWO_TESTS, GOOD_B} - {task_id}
    assert check_data(challenges, sol, out=io.StringIO()) == 1


def test_inline_output_conflicting_with_solutions(tmp_path, raw_train, raw_train_sol):
    task = copy.deepcopy(raw_train[GOOD_A])
    task["test"][0]["output"] = [[1]]
    challenges = write_json(tmp_path / "ch.json", {GOOD_A: task})
    sol = write_json(tmp_path / "sol.json", {GOOD_A: raw_train_sol[GOOD_A]})
    _, problems = read_tasks(challenges, sol)
    assert [(p.where, "differs from the test output inline" in p.message) for p in problems] == [("test[0].output", True)]


@pytest.mark.parametrize("content, fragment", [(None, "no such file"), ("{oops", "invalid JSON at line 1, column 2"), ("[]", "top level is a list")])
def test_unreadable_solutions_file(tmp_path, small_files, content, fragment):
    challenges, _ = small_files
    sol = tmp_path / "other_sol.json"
    if content is not None:
        sol.write_text(content)
    tasks, problems = read_tasks(challenges, sol)
    assert tasks == {}
    assert [(p.file, p.task_id) for p in problems] == [(str(sol), None)]
    assert fragment in problems[0].message


def test_every_input_task_is_returned_or_reported(tmp_path, raw_train, raw_train_sol):
    """Many corruptions at once: no task may disappear without a problem naming it."""
    rng = np.random.default_rng(0)
    ids = sorted(raw_train)[:40]
    data = {k: copy.deepcopy(raw_train[k]) for k in ids}
    sol = {k: copy.deepcopy(raw_train_sol[k]) for k in ids}
    for i, task_id in enumerate(ids):
        corrupt = BAD_CASES[int(rng.integers(len(BAD_CASES)))][0]
        if i % 3 == 0:
            data[task_id] = corrupt(data[task_id])
        elif i % 3 == 1:
            sol[task_id] = sol[task_id] + sol[task_id]
    tasks, problems = read_tasks(write_json(tmp_path / "c.json", data), write_json(tmp_path / "s.json", sol))
    reported = {p.task_id for p in problems}
    assert set(tasks) | reported == set(ids)
    assert not set(tasks) & reported
    assert len(tasks) == len([i for i in range(len(ids)) if i % 3 == 2])


# ---------------------------------------------------------------- choosing tasks


def test_problem_and_data_error_text():
    p = Problem("f.json", "abc", "test[0].input", "grid has 0 rows")
    assert str(p) == "f.json: task abc: test[0].input: grid has 0 rows"
    assert str(Problem("f.json", None, None, "contains no tasks")) == "f.json: contains no tasks"
    assert str(DataError([p, p])) == f"{p}\n{p}"


def test_select_tasks(train_tasks):
    chosen = select_tasks(train_tasks, [GOOD_B, GOOD_A])
    assert list(chosen) == [GOOD_B, GOOD_A]
    assert chosen[GOOD_A] is train_tasks[GOOD_A]
    with pytest.raises(DataError) as e:
        select_tasks(train_tasks, [GOOD_A, "nope1", "nope2"])
    assert [p.task_id for p in e.value.problems] == ["nope1", "nope2"]
    assert "nope1" in str(e.value) and "nope2" in str(e.value)
    with pytest.raises(DataError, match="more than once"):
        select_tasks(train_tasks, [GOOD_A, GOOD_A])


def test_sample_task_ids(train_tasks):
    a = sample_task_ids(train_tasks, 20, seed=7)
    assert a == sample_task_ids(list(reversed(list(train_tasks))), 20, seed=7)  # order of the input does not matter
    assert len(set(a)) == 20 and set(a) <= set(train_tasks)
    assert a != sample_task_ids(train_tasks, 20, seed=8)
    assert sample_task_ids(train_tasks, 30, seed=7)[:20] == a  # a larger sample extends a smaller one
    assert sorted(sample_task_ids(train_tasks, 400, seed=1)) == sorted(train_tasks)
    with pytest.raises(ValueError):
        sample_task_ids(train_tasks, 401, seed=1)


# ---------------------------------------------------------------- dataset mixing


@pytest.fixture(scope="module")
def mix():
    return DatasetMix([DatasetSpec(TRAIN, TRAIN_SOL, weight=3), DatasetSpec(CONCEPT)])


def test_spec_names():
    assert DatasetSpec(TRAIN).name == "arc-agi_training"
    assert DatasetSpec(CONCEPT).name == "ConceptARC"
    assert DatasetSpec(f"{DATA}/arc-agi-2/training/").name == "training"
    assert DatasetSpec(CONCEPT, name="concept").name == "concept"


def test_mix_basics(mix):
    assert mix.names == ["arc-agi_training", "ConceptARC"]
    assert len(mix) == 400 + 528
    text = mix.describe()
    assert "arc-agi_training (400 tasks, weight 3, 75%)" in text and "ConceptARC (528 tasks, weight 1, 25%)" in text


def test_mix_weights(mix):
    rng = np.random.default_rng(0)
    names = [mix.pick_named(rng)[0] for _ in range(2000)]
    share = names.count("arc-agi_training") / len(names)
    assert abs(share - 0.75) < 0.04


def test_mix_pick_is_deterministic(mix):
    def stream(m, seed):
        rng = np.random.default_rng(seed)
        return [m.pick(rng).id for _ in range(200)]

    assert stream(mix, 5) == stream(mix, 5)
    assert stream(mix, 5) != stream(mix, 6)
    # The same tasks in another dict order give the same stream and the same fingerprint.
    shuffled = DatasetMix.from_tasks(
        [(name, dict(reversed(list(tasks.items()))), w) for name, tasks, w in zip(mix.names, mix._tasks, [3, 1])]
    )
    assert stream(shuffled, 5) == stream(mix, 5)
    assert shuffled.fingerprint() == mix.fingerprint()


def test_fingerprint(mix, train_tasks):
    fp = mix.fingerprint()
    assert len(fp) == 16 and fp == mix.fingerprint()
    base = [("a", train_tasks, 1.0)]
    assert DatasetMix.from_tasks(base).fingerprint() == DatasetMix.from_tasks([("a", train_tasks, 1)]).fingerprint()
    assert DatasetMix.from_tasks(base).fingerprint() != DatasetMix.from_tasks([("a", train_tasks, 2.0)]).fingerprint()
    assert DatasetMix.from_tasks(base).fingerprint() != DatasetMix.from_tasks([("b", train_tasks, 1.0)]).fingerprint()
    fewer = dict(list(train_tasks.items())[1:])
    assert DatasetMix.from_tasks(base).fingerprint() != DatasetMix.from_tasks([("a", fewer, 1.0)]).fingerprint()


@pytest.mark.parametrize("weight", [0, -1.0, math.nan, math.inf, "2", True, None])
def test_bad_weights_fail_before_loading(weight):
    with pytest.raises(ValueError, match="dataset 'missing': weight must be a finite number > 0"):
        DatasetMix([DatasetSpec(TRAIN, TRAIN_SOL), DatasetSpec("/nowhere.json", weight=weight, name="missing")])


def test_mix_errors(tmp_path, train_tasks, raw_train):
    with pytest.raises(ValueError, match="'empty' has no tasks"):
        DatasetMix.from_tasks([("ok", train_tasks, 1.0), ("empty", {}, 1.0)])
    with pytest.raises(ValueError, match="at least one dataset"):
        DatasetMix([])
    with pytest.raises(ValueError, match="unique"):
        DatasetMix.from_tasks([("a", train_tasks, 1.0), ("a", train_tasks, 1.0)])
    bad = copy.deepcopy(raw_train[BAD])
    bad["train"] = []
    path = write_json(tmp_path / "bad.json", {BAD: bad})
    with pytest.raises(DataError, match=f"{path}: task {BAD}: train: no train pairs"):
        DatasetMix([DatasetSpec(path)])
    with pytest.raises(DataError, match="contains no tasks"):
        DatasetMix([DatasetSpec(write_json(tmp_path / "empty.json", {}))])
