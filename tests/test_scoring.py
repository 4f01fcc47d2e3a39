"""Scoring a submission, the score command, and the metrics over raw predictions.

Every expected value below is worked out by hand in the comments next to it.
"""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest
from data_paths import ARC1

from arc24.data.task import Pair, Task, as_grid, grid_to_list
from arc24.evaluation.scoring import (
    METRICS,
    ScoreReport,
    output_metrics,
    parse_attempt,
    prediction_metrics,
    score_main,
    score_submission,
    vote_ranking,
)
from arc24.solving.predictions import Prediction

EVAL = f"{ARC1}/arc-agi_evaluation_challenges.json"
EVAL_SOL = f"{ARC1}/arc-agi_evaluation_solutions.json"

G1 = [[1, 2], [3, 4]]
G2 = [[5]]
G3 = [[0, 0, 0]]
WRONG = [[9, 9], [9, 9]]


def make_task(task_id: str, outputs: list) -> Task:
    """A task whose test outputs are OUTPUTS (lists of lists; None for a hidden one)."""
    train = [Pair(as_grid([[0]]), as_grid([[1]]))]
    test = [Pair(as_grid([[7]]), None if o is None else as_grid(o)) for o in outputs]
    return Task(task_id, train, test)


def attempts(a1, a2=None) -> dict:
    return {"attempt_1": a1, "attempt_2": a2}


# ---------------------------------------------------------------- score_submission


def test_one_output_solved_by_either_attempt():
    tasks = {"a": make_task("a", [G1]), "b": make_task("b", [G1]), "c": make_task("c", [G1])}
    sub = {"a": [attempts(G1, WRONG)], "b": [attempts(WRONG, G1)], "c": [attempts(WRONG, WRONG)]}
    report = score_submission(sub, tasks)
    assert report.per_task == {
        "a": {"score": 1.0, "solved": [True]},
        "b": {"score": 1.0, "solved": [True]},
        "c": {"score": 0.0, "solved": [False]},
    }
    assert report.score == pytest.approx(2 / 3)
    assert report.score_per_output == pytest.approx(2 / 3)
    assert (report.tasks, report.outputs, report.solved_outputs) == (3, 3, 2)
    assert report.missing == [] and report.extra == []


def test_several_outputs_task_scores_its_share_and_per_output_differs():
    # Task "multi": 3 outputs, 2 solved -> 2/3. Task "one": 1 output, solved -> 1.
    # score = (2/3 + 1) / 2 = 5/6; per output = 3 solved / 4 outputs = 3/4.
    tasks = {"multi": make_task("multi", [G1, G2, G3]), "one": make_task("one", [G2])}
    sub = {
        "multi": [attempts(G1), attempts(WRONG, WRONG), attempts(None, G3)],
        "one": [attempts(G2, G2)],
    }
    report = score_submission(sub, tasks)
    assert report.per_task["multi"] == {"score": pytest.approx(2 / 3), "solved": [True, False, True]}
    assert report.score == pytest.approx(5 / 6)
    assert report.score_per_output == pytest.approx(3 / 4)
    assert (report.tasks, report.outputs, report.solved_outputs) == (2, 4, 3)


def test_attempts_order_matters_only_per_test_input():
    # The attempts for test input 0 are not used for test input 1, even if they would match it.
    tasks = {"t": make_task("t", [G1, G2])}
    report = score_submission({"t": [attempts(G2, G2), attempts(G1, G1)]}, tasks)
    assert report.per_task["t"]["solved"] == [False, False]


def test_missing_tasks_score_zero_and_extra_tasks_are_ignored():
    # Reference a, b, c, d; the submission has a (solved) and b (wrong) and z (not in the reference).
    # score = (1 + 0 + 0 + 0) / 4.
    tasks = {k: make_task(k, [G1]) for k in "abcd"}
    sub = {"a": [attempts(G1)], "b": [attempts(WRONG)], "z": [attempts(G1)]}
    report = score_submission(sub, tasks)
    assert report.score == pytest.approx(0.25)
    assert report.missing == ["c", "d"]
    assert report.extra == ["z"]
    assert report.per_task["c"] == {"score": 0.0, "solved": [False]}
    assert report.tasks == 4 and report.outputs == 4 and report.solved_outputs == 1


def test_empty_submission_and_empty_reference():
    tasks = {"a": make_task("a", [G1, G2])}
    report = score_submission({}, tasks)
    assert (report.score, report.score_per_output, report.missing) == (0.0, 0.0, ["a"])
    empty = score_submission({"a": []}, {})
    assert (empty.score, empty.tasks, empty.extra) == (0.0, 0, ["a"])


@pytest.mark.parametrize(
    "bad",
    [
        None,
        [],
        [[]],
        [[1, 2], [3]],  # ragged
        [[1, 2], [3, 10]],  # value out of range
        [[1, 2], [3, -1]],  # negative
        [[1, 2], [3, 4.0]],  # float
        [[True, 2], [3, 4]],  # a boolean is not a colour
        [["1", 2], [3, 4]],
        [1, 2, 3, 4],  # not a list of lists
        "[[1, 2], [3, 4]]",
        {"0": [1, 2]},
        [[1] * 31],  # wider than any ARC grid
    ],
)
def test_invalid_attempt_counts_wrong_never_crashes(bad):
    tasks = {"t": make_task("t", [G1])}
    assert parse_attempt(bad) is None
    assert score_submission({"t": [attempts(bad, bad)]}, tasks).per_task["t"]["solved"] == [False]
    # One invalid attempt does not spoil the other one.
    assert score_submission({"t": [attempts(bad, G1)]}, tasks).per_task["t"]["solved"] == [True]


@pytest.mark.parametrize(
    "entry",
    [
        "not a list",
        [],  # fewer entries than test inputs
        ["not a dict"],
        [{}],  # no attempt keys
        [{"attempt_3": G1}],
        {"attempt_1": G1},  # the dict without the list around it
    ],
)
def test_malformed_task_entry_counts_wrong(entry):
    tasks = {"t": make_task("t", [G1])}
    report = score_submission({"t": entry}, tasks)
    assert report.per_task["t"]["solved"] == [False]
    assert report.missing == []  # present, just wrong


def test_numpy_attempts_are_accepted():
    tasks = {"t": make_task("t", [G1])}
    assert score_submission({"t": [attempts(np.array(G1))]}, tasks).score == 1.0


def test_reference_may_be_plain_output_grids():
    sub = {"a": [attempts(G1), attempts(WRONG)]}
    from_tasks = score_submission(sub, {"a": make_task("a", [G1, G2])})
    from_grids = score_submission(sub, {"a": [as_grid(G1), as_grid(G2)]})
    assert from_tasks.to_json() == from_grids.to_json()


def test_reference_without_outputs_is_an_error():
    with pytest.raises(ValueError, match="h.*test\\[1\\]"):
        score_submission({}, {"h": make_task("h", [G1, None])})


def test_report_to_json():
    tasks = {"a": make_task("a", [G1, G2]), "b": make_task("b", [G1])}
    report = score_submission({"a": [attempts(G1), attempts(WRONG)], "x": []}, tasks)
    assert isinstance(report, ScoreReport)
    j = json.loads(json.dumps(report.to_json()))  # plain JSON types only
    assert j == {
        "score": pytest.approx(0.25),  # (1/2 + 0) / 2
        "score_per_output": pytest.approx(1 / 3),
        "tasks": 2,
        "outputs": 3,
        "solved_outputs": 1,
        "missing": ["b"],
        "extra": ["x"],
        "per_task": {"a": {"score": 0.5, "solved": [True, False]}, "b": {"score": 0.0, "solved": [False]}},
    }


# ---------------------------------------------------------------- score_main on real files


@pytest.fixture(scope="module")
def eval_solutions():
    with open(EVAL_SOL) as f:
        return json.load(f)


def _write(path, data) -> str:
    path.write_text(json.dumps(data))
    return str(path)


def _run(*args, **kwargs) -> tuple[int, str]:
    out = io.StringIO()
    rc = score_main(*args, out=out, **kwargs)
    return rc, out.getvalue()


def test_score_main_perfect_submission(tmp_path, eval_solutions):
    perfect = {tid: [attempts(g, None) for g in grids] for tid, grids in eval_solutions.items()}
    sub = _write(tmp_path / "sub.json", perfect)
    rc, text = _run(sub, EVAL_SOL, as_json=True)
    assert rc == 0
    j = json.loads(text)
    assert j["score"] == 1.0 and j["score_per_output"] == 1.0
    assert (j["tasks"], j["outputs"], j["solved_outputs"]) == (400, 419, 419)
    assert j["missing"] == []
    # The same with the challenges given: loaded and cross-checked as full tasks.
    rc, text = _run(sub, EVAL_SOL, EVAL, as_json=True)
    assert rc == 0 and json.loads(text)["score"] == 1.0


def test_score_main_empty_submission(tmp_path):
    sub = _write(tmp_path / "sub.json", {})
    rc, text = _run(sub, EVAL_SOL, as_json=True)
    j = json.loads(text)
    assert rc == 0
    assert j["score"] == 0.0 and j["solved_outputs"] == 0 and j["outputs"] == 419
    assert len(j["missing"]) == 400


def test_score_main_readable_summary(tmp_path, eval_solutions):
    # Half the tasks given, all solved: score 200/400 = 0.5.
    ids = sorted(eval_solutions)[:200]
    sub = _write(tmp_path / "sub.json", {tid: [attempts(g) for g in eval_solutions[tid]] for tid in ids})
    rc, text = _run(sub, EVAL_SOL)
    assert rc == 0
    assert "score 0.5000 over 400 tasks" in text
    assert "missing 200 tasks" in text
    assert "... and 190 more" in text  # a long list is cut short


def test_score_main_inline_and_folder_task_sources(tmp_path):
    tasks = {"a": make_task("a", [G1]), "b": make_task("b", [G1, G2])}
    inline = _write(tmp_path / "inline.json", {tid: t.to_json() for tid, t in tasks.items()})
    folder = tmp_path / "folder"
    folder.mkdir()
    for tid, t in tasks.items():
        _write(folder / f"{tid}.json", t.to_json())
    # a solved; b: one of two outputs -> (1 + 0.5) / 2 = 0.75.
    sub = _write(tmp_path / "sub.json", {"a": [attempts(G1)], "b": [attempts(G1), attempts(WRONG)]})
    for source in (inline, str(folder)):
        rc, text = _run(sub, source, as_json=True)
        assert rc == 0, text
        assert json.loads(text)["score"] == pytest.approx(0.75)


def test_score_main_file_errors_are_one_line_naming_the_file(tmp_path):
    good = _write(tmp_path / "sub.json", {})
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{not json")
    a_list = _write(tmp_path / "list.json", [1, 2])
    bad_grid = _write(tmp_path / "badsol.json", {"a": [[[1, 2], [3]]]})
    cases = [
        (str(tmp_path / "nope.json"), EVAL_SOL, None, "nope.json"),
        (str(bad_json), EVAL_SOL, None, "bad.json"),
        (a_list, EVAL_SOL, None, "list.json"),
        (good, str(tmp_path / "nosol.json"), None, "nosol.json"),
        (good, bad_grid, None, "badsol.json"),
        (good, EVAL, None, "arc-agi_evaluation_challenges.json"),  # challenges only: no outputs
        (good, str(tmp_path), None, str(tmp_path)),  # a folder with no task files
    ]
    for sub, sol, challenges, name in cases:
        rc, text = _run(sub, sol, challenges)
        assert rc == 2, (sub, sol, text)
        assert text.count("\n") == 1 and name in text, text


def test_score_main_writes_to_stdout_by_default(tmp_path, capsys):
    sub = _write(tmp_path / "sub.json", {})
    assert score_main(sub, EVAL_SOL) == 0
    assert "score 0.0000 over 400 tasks" in capsys.readouterr().out


# ---------------------------------------------------------------- prediction metrics


def rec(task_id, index, grid, logprob=None) -> Prediction:
    # An invalid grid is a prediction that did not parse, as to_prediction records it: grid None.
    return Prediction(task_id, index, {}, parse_attempt(grid), "", None,
                      -math.inf if logprob is None else logprob, 0)


def test_output_metrics_each_by_hand():
    truth = as_grid(G1)
    records = [
        rec("t", 0, G1),  # exact
        rec("t", 0, G1),  # exact
        rec("t", 0, [[1, 2], [3, 0]]),  # right shape, 3 of 4 cells
        rec("t", 0, [[1, 2]]),  # wrong shape: 0 cells even though the first row matches
        rec("t", 0, None),  # unparseable
        rec("t", 0, [[1, 2], [3]]),  # ragged: unparseable too
    ]
    m = output_metrics(records, truth)
    assert m["accuracy"] == pytest.approx(2 / 6)
    assert m["correct_pixels"] == pytest.approx((1 + 1 + 0.75 + 0 + 0 + 0) / 6)
    assert m["correct_size"] == pytest.approx(3 / 6)
    assert m["pass_n"] == 1.0
    assert m["vote_1"] == 1.0 and m["vote_2"] == 1.0  # G1 has 2 votes, the others 1
    assert m["unanswered"] == pytest.approx(2 / 6)
    assert m["predictions"] == 6


def test_correct_pixels_wrong_shape_is_zero():
    # A 2x3 grid that contains the 2x2 truth scores 0; a same-shape grid scores its share of equal cells.
    truth = as_grid(G1)
    assert output_metrics([rec("t", 0, [[1, 2, 0], [3, 4, 0]])], truth)["correct_pixels"] == 0.0
    assert output_metrics([rec("t", 0, [[1, 3], [2, 4]])], truth)["correct_pixels"] == 0.5  # diagonal matches
    assert output_metrics([rec("t", 0, [[1], [3]])], truth)["correct_size"] == 0.0


def test_vote_ties_broken_by_logprob():
    truth = as_grid(G1)
    other = WRONG
    # Two votes each; G1's mean logprob -0.6 beats -1.0.
    records = [rec("t", 0, other, -1.0), rec("t", 0, G1, -0.5), rec("t", 0, other, -1.0), rec("t", 0, G1, -0.7)]
    m = output_metrics(records, truth)
    assert (m["vote_1"], m["vote_2"]) == (1.0, 1.0)
    # Swap the scores: G1 loses the top spot but is still in the top two.
    records = [rec("t", 0, other, -0.5), rec("t", 0, G1, -1.0), rec("t", 0, other, -0.7), rec("t", 0, G1, -1.0)]
    m = output_metrics(records, truth)
    assert (m["vote_1"], m["vote_2"]) == (0.0, 1.0)
    # A missing logprob counts as -inf and pulls its whole group's mean down with it.
    records = [rec("t", 0, other, -5.0), rec("t", 0, G1, -0.1), rec("t", 0, other, -5.0), rec("t", 0, G1)]
    assert output_metrics(records, truth)["vote_1"] == 0.0


def test_votes_count_before_logprob_and_top_two_only():
    truth = as_grid(G1)
    b, c = [[7]], [[8]]
    # b: 3 votes; c: 2 votes (-0.1); G1: 2 votes (-9) -> ranking b, c, G1: truth is third.
    records = [rec("t", 0, b, -50.0)] * 3 + [rec("t", 0, c, -0.1)] * 2 + [rec("t", 0, G1, -9.0)] * 2
    m = output_metrics(records, truth)
    assert (m["vote_1"], m["vote_2"], m["pass_n"]) == (0.0, 0.0, 1.0)
    assert m["accuracy"] == pytest.approx(2 / 7)


def test_vote_ranking_excludes_unparseable_and_is_deterministic():
    records = [rec("t", 0, None), rec("t", 0, [[1], [2]]), rec("t", 0, [[1, 2]]), rec("t", 0, [[3, 10]]), rec("t", 0, [[1, 2]])]
    ranking = vote_ranking(records)
    # [[1, 2]] has 2 votes; [[1], [2]] (same cells, other shape) 1; None and the 10 are left out.
    assert [grid_to_list(g) for g in ranking] == [[[1, 2]], [[1], [2]]]
    # Equal votes and no logprobs: first seen first.
    assert [grid_to_list(g) for g in vote_ranking([rec("t", 0, G2), rec("t", 0, G3)])] == [G2, G3]
    assert vote_ranking([rec("t", 0, None)]) == []


def test_all_unparseable_output():
    m = output_metrics([rec("t", 0, None), rec("t", 0, "garbage")], as_grid(G1))
    assert m == {**{k: 0.0 for k in METRICS}, "unanswered": 1.0, "predictions": 2}


def test_prediction_metrics_average_per_task_then_over_tasks():
    tasks = {
        "one": make_task("one", [G1]),
        "two": make_task("two", [G1, G2]),
        "none": make_task("none", [G3]),
    }
    records = [
        # one[0]: one exact, one 3/4 cells -> accuracy 1/2, pixels 7/8, size 1, pass 1, unanswered 0
        rec("one", 0, G1, -0.1),
        rec("one", 0, [[1, 2], [3, 0]], -0.2),
        # two[0]: one unparseable, one wrong shape -> all 0 but unanswered 1/2
        rec("two", 0, None),
        rec("two", 0, [[1]]),
        # two[1]: no predictions -> all 0, unanswered 1
        rec("ghost", 0, G1),  # not a reference task
    ]
    m = prediction_metrics(records, tasks)
    one = {"accuracy": 0.5, "correct_pixels": 7 / 8, "correct_size": 1.0, "pass_n": 1.0, "vote_1": 1.0, "vote_2": 1.0, "unanswered": 0.0}
    # two = mean of its outputs [0..., unanswered 1/2] and [0..., unanswered 1]
    two = {k: 0.0 for k in METRICS} | {"unanswered": 0.75}
    none = {k: 0.0 for k in METRICS} | {"unanswered": 1.0}
    for name, expected in (("one", one), ("two", two), ("none", none)):
        for k in METRICS:
            assert m["per_task"][name][k] == pytest.approx(expected[k]), (name, k)
    for k in METRICS:
        assert m[k] == pytest.approx((one[k] + two[k] + none[k]) / 3), k
    assert m["no_predictions"] == [["two", 1], ["none", 0]]
    assert m["extra"] == ["ghost"]
    assert (m["tasks"], m["outputs"], m["predictions"]) == (3, 4, 4)
    assert len(m["per_task"]["two"]["outputs"]) == 2
    json.dumps(m)  # serialisable as is


def test_prediction_metrics_with_no_records_at_all():
    m = prediction_metrics([], {"a": make_task("a", [G1])})
    assert m["unanswered"] == 1.0 and m["accuracy"] == 0.0
    assert m["no_predictions"] == [["a", 0]]


def test_prediction_metrics_bad_test_index_is_an_error():
    with pytest.raises(ValueError, match="test_index 2"):
        prediction_metrics([rec("a", 2, G1)], {"a": make_task("a", [G1, G2])})


def test_nan_logprob_counts_as_missing():
    truth = as_grid(G1)
    records = [rec("t", 0, G1, math.nan), rec("t", 0, WRONG, -3.0)]
    assert output_metrics(records, truth)["vote_1"] == 0.0
