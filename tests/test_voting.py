import numpy as np
import pytest

from arc24.data.task import grids_equal
from arc24.solving.predictions import Prediction
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
    assert [(c.votes, round(c.logprob_mean, 3)) for c in result.ranking] == [(3, -0.8), (1, -0.01), (1, -0.05)]
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
    assert result.ranking[0].votes == 2 and result.ranking[0].logprob_mean == pytest.approx(-0.3)


def test_different_shapes_are_not_merged():
    # Same cells in row-major order, different shapes: distinct answers.
    result = vote([pred([[1, 2, 3, 4]], -0.1), pred([[1, 2], [3, 4]], -0.2), pred([[1], [2], [3], [4]], -0.3)])
    assert [c.grid.shape for c in result.ranking] == [(1, 4), (2, 2), (4, 1)]
    assert all(c.votes == 1 for c in result.ranking)


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


def scored(grid, score, logprob=-0.1):
    p = pred(grid, logprob)
    p.score = score
    return p


def test_score_picks_a_minority_answer_that_every_view_finds_likely():
    """The right answer (A) is a minority of the greedy answers, but the most likely under the scoring
    views: `score` picks it first, `vote` does not."""
    predictions = [scored(B, -2.5), scored(B, -2.5), scored(B, -2.5), scored(A, -0.4), scored(C, -6.0)]
    assert same(vote(predictions, "vote").attempt_1, B)
    result = vote(predictions, "score")
    assert same(result.attempt_1, A) and same(result.attempt_2, B)
    assert [c.score for c in result.ranking] == [-0.4, -2.5, -6.0]
    assert same(vote(predictions, "vote-score").attempt_1, B)  # votes first
    # score + log(vote share): A: -0.4 + log(1/5) = -2.01; B: -2.5 + log(3/5) = -3.01
    assert same(vote(predictions, "score-vote").attempt_1, A)


def test_vote_score_breaks_vote_ties_by_score():
    predictions = [scored(A, -3.0, logprob=-0.01), scored(B, -1.0, logprob=-0.5)]
    assert same(vote(predictions, "vote").attempt_1, A)  # the greedy answer was more confident
    assert same(vote(predictions, "vote-score").attempt_1, B)


def test_unscored_candidates_rank_last_under_score():
    predictions = [pred(A), pred(A), scored(B, -5.0)]
    assert same(vote(predictions, "score").attempt_1, B)


def test_unknown_selection_is_an_error():
    with pytest.raises(ValueError, match="unknown selection 'best'"):
        vote([pred(A)], "best")
