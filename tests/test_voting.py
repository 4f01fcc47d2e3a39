import numpy as np
import pytest

from arc24.data.task import grids_equal
from arc24.solving.inference import Prediction
from arc24.solving.voting import vote, vote_all

A = [[1, 2], [3, 4]]
B = [[4, 3], [2, 1]]
C = [[5]]


def pred(grid, logprob=-0.1, view=0, task_id="t", test_index=0) -> Prediction:
    if grid is None:
        return Prediction(task_id, test_index, {"dihedral": view}, None, "junk", "missing closing fence", logprob, 5)
    return Prediction(task_id, test_index, {"dihedral": view}, np.array(grid, np.int8), "text", None, logprob, 5)


def same(grid, rows) -> bool:
    return grids_equal(grid, np.array(rows, np.int8))


def test_majority_wins_over_confidence():
    result = vote([pred(A, -0.9), pred(B, -0.01), pred(A, -0.8), pred(C, -0.05), pred(A, -0.7)])
    assert same(result.attempt_1, A)
    assert same(result.attempt_2, B)  # B and C have one vote each; B is more confident
    assert [(votes, round(lp, 3)) for _, votes, lp in result.ranking] == [(3, -0.8), (1, -0.01), (1, -0.05)]
    assert result.margin == 2 and (result.n_valid, result.n_invalid) == (5, 0)


def test_tie_broken_by_mean_logprob():
    result = vote([pred(A, -0.5), pred(B, -0.2), pred(A, -0.5), pred(B, -0.3)])
    assert same(result.attempt_1, B) and same(result.attempt_2, A)
    assert result.margin == 0


def test_single_candidate_fills_both_attempts():
    result = vote([pred(A, view=0), pred(A, view=3), pred(None)])
    assert same(result.attempt_1, A) and same(result.attempt_2, A)
    assert len(result.ranking) == 1 and result.margin == 2
    assert (result.n_valid, result.n_invalid) == (2, 1)


def test_all_invalid_or_empty():
    result = vote([pred(None), pred(None)])
    assert result.attempt_1 is None and result.attempt_2 is None
    assert result.ranking == [] and result.margin == 0 and (result.n_valid, result.n_invalid) == (0, 2)
    assert vote([]).attempt_1 is None


def test_identical_grids_from_different_views_merge():
    # Views are already reversed to the original frame: equal grids are one candidate whatever the view.
    result = vote([pred(A, -0.2, view=1), pred(A, -0.4, view=5), pred(B, -0.01, view=0)])
    assert same(result.attempt_1, A)
    assert result.ranking[0][1] == 2 and result.ranking[0][2] == pytest.approx(-0.3)


def test_different_shapes_are_not_merged():
    # Same cells in row-major order, different shapes: distinct answers.
    result = vote([pred([[1, 2, 3, 4]], -0.1), pred([[1, 2], [3, 4]], -0.2), pred([[1], [2], [3], [4]], -0.3)])
    assert [g.shape for g, _, _ in result.ranking] == [(1, 4), (2, 2), (4, 1)]
    assert all(votes == 1 for _, votes, _ in result.ranking)


def test_full_tie_keeps_first_seen_order():
    result = vote([pred(B, -0.2), pred(A, -0.2)])
    assert same(result.attempt_1, B) and same(result.attempt_2, A)


def test_vote_takes_one_test_input():
    with pytest.raises(ValueError, match="one test input"):
        vote([pred(A, test_index=0), pred(A, test_index=1)])


def test_vote_all_groups_by_test_input():
    results = vote_all([pred(A, test_index=0), pred(B, test_index=1), pred(B, test_index=1), pred(A, task_id="u")])
    assert set(results) == {("t", 0), ("t", 1), ("u", 0)}
    assert same(results[("t", 1)].attempt_1, B) and results[("t", 1)].n_valid == 2
