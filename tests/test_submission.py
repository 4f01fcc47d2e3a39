import io
import json
import os

import numpy as np
import pytest
from data_paths import ARC1

from arc24.data.task import Pair, Task
from arc24.data.tasks import grid_problem
from arc24.files import write_json_atomic
from arc24.solving.submission import (
    build_submission,
    combine_main,
    combine_submissions,
    placeholder_grid,
    validate_submission,
    validate_submission_main,
    write_submission,
)
from arc24.solving.voting import VoteResult

SAMPLE = f"{ARC1}/sample_submission.json"
TEST_CHALLENGES = f"{ARC1}/arc-agi_test_challenges.json"

G1 = [[1, 2], [3, 4]]
G2 = [[5, 6]]
G3 = [[7]]
G4 = [[8, 8], [8, 8]]
P = placeholder_grid()


@pytest.fixture
def challenges(tmp_path):
    """Two tasks: "a" with one test input, "b" with two."""
    pair = {"input": [[0]], "output": [[1]]}
    data = {"a": {"train": [pair], "test": [{"input": [[0]]}]},
            "b": {"train": [pair], "test": [{"input": [[0]]}, {"input": [[1]]}]}}
    path = tmp_path / "challenges.json"
    path.write_text(json.dumps(data))
    return path


def valid() -> dict:
    return {"a": [{"attempt_1": G1, "attempt_2": G2}],
            "b": [{"attempt_1": G1, "attempt_2": G1}, {"attempt_1": G3, "attempt_2": P}]}


def problems_of(tmp_path, challenges, submission) -> list[str]:
    path = tmp_path / "submission.json"
    path.write_text(submission if isinstance(submission, str) else json.dumps(submission))
    return validate_submission(path, challenges)


# ---------------------------------------------------------------- validation


def test_sample_submission_is_valid():
    assert validate_submission(SAMPLE, TEST_CHALLENGES) == []


def test_valid_submission(tmp_path, challenges):
    assert problems_of(tmp_path, challenges, valid()) == []


def test_missing_and_extra_tasks(tmp_path, challenges):
    sub = valid()
    del sub["a"]
    sub["zz"] = [{"attempt_1": G1, "attempt_2": G1}]
    assert problems_of(tmp_path, challenges, sub) == [
        "task a: missing", "task zz: not in the challenges (unknown extra task)"]


def test_wrong_number_of_test_entries(tmp_path, challenges):
    sub = valid()
    sub["b"] = sub["b"][:1]
    assert problems_of(tmp_path, challenges, sub) == ["task b: 1 test entries, expected 2"]
    sub["b"] = {"attempt_1": G1}
    assert problems_of(tmp_path, challenges, sub) == ["task b: not a list of test entries"]


def test_missing_attempts_and_bad_entries(tmp_path, challenges):
    sub = valid()
    sub["b"] = [{"attempt_1": G1}, [G1, G1]]
    assert problems_of(tmp_path, challenges, sub) == [
        "task b test 0: missing attempt_2", "task b test 1: not an object with attempt_1 and attempt_2"]
    sub["b"] = [{"attempt_1": G1, "attempt_2": G1, "attempt_3": G1}, {"attempt_1": G1, "attempt_2": G1}]
    assert problems_of(tmp_path, challenges, sub) == ["task b test 0: unexpected key 'attempt_3'"]


@pytest.mark.parametrize(
    "grid, message",
    [
        ([[1, 10]], "cell at row 0, column 1 is 10, outside 0-9"),
        ([[-1]], "cell at row 0, column 0 is -1, outside 0-9"),
        ([[1.0]], "is a float (1.0), expected an int 0-9"),
        ([[True]], "is a boolean (true), expected an int 0-9"),
        ([["1"]], 'is a string ("1"), expected an int 0-9'),
        ([[1, 2], [3]], "not rectangular (row 1 has 1 cells, row 0 has 2)"),
        ([], "grid has 0 rows"),
        ([[]], "grid has 0 columns"),
        ([[0] * 31], "grid has 31 columns, at most 30 allowed"),
        ([[0]] * 31, "grid has 31 rows, at most 30 allowed"),
        ([1, 2], "row 0 is a number, expected a list of cells"),
        ("[[1]]", "grid is a string, expected a list of rows"),
        (None, "grid is null, expected a list of rows"),
    ],
)
def test_invalid_grids(tmp_path, challenges, grid, message):
    sub = valid()
    sub["b"][1]["attempt_2"] = grid
    problems = problems_of(tmp_path, challenges, sub)
    assert len(problems) == 1
    assert problems[0].startswith("task b test 1: attempt_2 is an invalid grid: ") and message in problems[0]
    assert grid_problem(grid) is not None and grid_problem([[0] * 30] * 30) is None


def test_invalid_json_names_line_and_column(tmp_path, challenges):
    problems = problems_of(tmp_path, challenges, '{"a": [\n  {"attempt_1": [[1]],}\n]}')
    assert len(problems) == 1
    assert "submission" in problems[0] and "invalid JSON at line 2, column 23" in problems[0]
    assert problems_of(tmp_path, challenges, "[]") == [
        f"submission {tmp_path / 'submission.json'}: not a JSON object mapping task ids to lists"]
    assert "no such file" in validate_submission(tmp_path / "missing.json", challenges)[0]


def test_validate_main_prints_first_problems_and_summary(tmp_path, challenges):
    out = io.StringIO()
    assert validate_submission_main(SAMPLE, TEST_CHALLENGES, out) == 0
    assert "valid submission for 100 tasks" in out.getvalue()

    extra = {f"x{i}": [] for i in range(25)}
    path = tmp_path / "many.json"
    path.write_text(json.dumps({**valid(), **extra}))
    out = io.StringIO()
    assert validate_submission_main(path, challenges, out) == 1
    lines = out.getvalue().splitlines()
    assert len(lines) == 22  # 20 problems, the count of the others, the summary
    assert lines[20] == "... and 5 more problems" and "INVALID, 25 problem(s)" in lines[21]


# ---------------------------------------------------------------- building and writing


def test_build_submission_with_placeholders():
    tasks = {
        "a": Task("a", [Pair(np.zeros((1, 1), np.int8))], [Pair(np.zeros((1, 1), np.int8))]),
        "b": Task("b", [Pair(np.zeros((1, 1), np.int8))], [Pair(np.zeros((1, 1), np.int8))] * 3),
    }
    g1, g2 = np.array(G1, np.int8), np.array(G2, np.int8)
    votes = {("a", 0): VoteResult(g1, g2), ("b", 1): VoteResult(g2, g2), ("b", 2): VoteResult(None, None)}
    submission, placeholders = build_submission(tasks, votes)
    assert submission == {
        "a": [{"attempt_1": G1, "attempt_2": G2}],
        "b": [{"attempt_1": P, "attempt_2": P}, {"attempt_1": G2, "attempt_2": G2}, {"attempt_1": P, "attempt_2": P}],
    }
    assert placeholders == [("b", 0), ("b", 2)]
    assert all(type(v) is int for v in submission["a"][0]["attempt_1"][0])  # plain ints, JSON-ready


def test_write_json_atomic_leaves_no_temp_files(tmp_path):
    path = tmp_path / "submission.json"
    write_submission(valid(), path)
    assert json.loads(path.read_text()) == valid()
    write_json_atomic({"replaced": True}, path)
    assert json.loads(path.read_text()) == {"replaced": True}
    assert os.listdir(tmp_path) == ["submission.json"]
    # A failure half-way keeps the old file and cleans up the temporary one.
    with pytest.raises(TypeError):
        write_json_atomic({"bad": {1, 2}}, path)
    assert json.loads(path.read_text()) == {"replaced": True}
    assert os.listdir(tmp_path) == ["submission.json"]


# ---------------------------------------------------------------- combining


def entry(a1, a2) -> list[dict]:
    return [{"attempt_1": a1, "attempt_2": a2}]


def test_combine_first_attempts():
    a = {"t": entry(G1, G2), "only_a": entry(G3, G3)}
    b = {"t": entry(G3, G4), "only_b": entry(G4, G1)}
    combined = combine_submissions(a, b)
    assert combined == {"t": entry(G1, G3), "only_a": entry(G3, G3), "only_b": entry(G4, G1)}
    assert list(combined) == ["t", "only_a", "only_b"]
    # agreeing first attempts: A's runner-up is kept
    assert combine_submissions({"t": entry(G1, G2)}, {"t": entry(G1, G4)})["t"] == entry(G1, G2)
    # ...unless A has none, then B's
    assert combine_submissions({"t": entry(G1, G1)}, {"t": entry(G1, G4)})["t"] == entry(G1, G4)
    # a placeholder is never preferred over a real answer
    assert combine_submissions({"t": entry(P, P)}, {"t": entry(G3, G4)})["t"] == entry(G3, G4)
    assert combine_submissions({"t": entry(G1, G2)}, {"t": entry(P, P)})["t"] == entry(G1, G2)
    assert combine_submissions({"t": entry(P, P)}, {"t": entry(P, P)})["t"] == entry(P, P)


def test_combine_fill():
    assert combine_submissions({"t": entry(G1, G2)}, {"t": entry(G3, G4)}, "fill")["t"] == entry(G1, G2)
    assert combine_submissions({"t": entry(G1, P)}, {"t": entry(G3, G4)}, "fill")["t"] == entry(G1, G3)
    assert combine_submissions({"t": entry(G1, P)}, {"t": entry(G1, G4)}, "fill")["t"] == entry(G1, G4)


def test_combine_rejects_mismatches():
    with pytest.raises(ValueError, match="unknown combine mode"):
        combine_submissions({}, {}, "a-then-b")
    with pytest.raises(ValueError, match="task t: the submissions have 1 and 2 test entries"):
        combine_submissions({"t": entry(G1, G1)}, {"t": entry(G1, G1) * 2})


def test_combine_main(tmp_path):
    a, b, out_path = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "out.json"
    a.write_text(json.dumps({"t": entry(G1, G2)}))
    b.write_text(json.dumps({"t": entry(G3, G4)}))
    out = io.StringIO()
    assert combine_main(a, b, out_path, "first-attempts", out) == 0
    assert json.loads(out_path.read_text()) == {"t": entry(G1, G3)}
    assert "1 tasks, 1 test entries" in out.getvalue()
    b.write_text("{oops")
    out = io.StringIO()
    assert combine_main(a, b, tmp_path / "never.json", out=out) == 1
    assert "invalid JSON at line 1, column 2" in out.getvalue() and not (tmp_path / "never.json").exists()
