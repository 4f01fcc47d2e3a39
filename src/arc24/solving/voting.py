"""Voting: the predictions of all augmented views of one test input become two attempts.

Identical grids (same shape and values, already mapped back to the original frame) are one
candidate; a candidate's votes are how many views produced it. Candidates are ranked by votes,
ties broken by the mean log-probability of their predictions (higher first): with few views,
the model's confidence separates candidates that the count cannot. Unparseable predictions
do not vote, but are counted.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from arc24.data.task import Grid
from arc24.solving.inference import Prediction


@dataclass(frozen=True)
class VoteResult:
    attempt_1: Grid | None  # None when no prediction was valid
    attempt_2: Grid | None  # the runner-up; attempt_1 again when there is a single candidate
    ranking: list[tuple[Grid, int, float]] = field(default_factory=list)  # (grid, votes, mean logprob), best first
    n_valid: int = 0
    n_invalid: int = 0

    @property
    def margin(self) -> int:
        """Votes of the first candidate minus those of the second (0 when there is none)."""
        if not self.ranking:
            return 0
        second = self.ranking[1][1] if len(self.ranking) > 1 else 0
        return self.ranking[0][1] - second


def _grid_key(grid: Grid) -> tuple:
    return grid.shape, grid.astype("int8", copy=False).tobytes()


def _sortable(logprob: float) -> float:
    return -math.inf if math.isnan(logprob) else logprob


def rank_grids(candidates: Iterable[tuple[Grid, float]]) -> list[tuple[Grid, int, float]]:
    """Distinct grids of (grid, log-probability) pairs as (grid, votes, mean log-probability), best first.

    The one ranking rule, used for the attempts and for the vote_1/vote_2 metrics alike. A NaN
    log-probability counts as -inf; candidates equal in votes and log-probability keep the
    order they were first seen in (sorted() is stable), so the ranking is deterministic.
    """
    groups: dict[tuple, list] = {}  # insertion order: first seen first
    for grid, logprob in candidates:
        groups.setdefault(_grid_key(grid), [grid]).append(_sortable(logprob))
    ranking = [(g[0], len(g) - 1, sum(g[1:]) / (len(g) - 1)) for g in groups.values()]
    ranking.sort(key=lambda c: (-c[1], -c[2]))
    return ranking


def vote(predictions: Iterable[Prediction]) -> VoteResult:
    """Rank the distinct grids predicted for ONE test input (ValueError if they mix test inputs)."""
    predictions = list(predictions)
    inputs = {(p.task_id, p.test_index) for p in predictions}
    if len(inputs) > 1:
        raise ValueError(f"vote() takes the predictions of one test input, got {sorted(inputs)}")
    valid = [p for p in predictions if p.grid is not None]
    ranking = rank_grids((p.grid, p.logprob_mean) for p in valid)
    attempt_1 = ranking[0][0] if ranking else None
    attempt_2 = ranking[1][0] if len(ranking) > 1 else attempt_1
    return VoteResult(attempt_1, attempt_2, ranking, n_valid=len(valid), n_invalid=len(predictions) - len(valid))


def vote_all(predictions: Iterable[Prediction]) -> dict[tuple[str, int], VoteResult]:
    """vote() for every test input present, keyed by (task_id, test_index)."""
    by_input: dict[tuple[str, int], list[Prediction]] = {}
    for p in predictions:
        by_input.setdefault((p.task_id, p.test_index), []).append(p)
    return {key: vote(group) for key, group in by_input.items()}
