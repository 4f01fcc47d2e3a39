"""Choosing the two attempts for one test input from the predictions of all its augmented views.

Identical grids (same shape and values, already mapped back to the original frame) are one
candidate; a candidate's votes are how many views produced it, its logprob_mean the mean
log-probability of those greedy answers, and its score, when the run scored candidates
(likelihood.py), the mean log-probability of the candidate as the answer under the scoring
views. Candidates are ranked by a named selection (SELECTIONS); the first two are the attempts.
Unparseable predictions do not vote, but are counted.

The program search's answers (`source: programs`, solving/programs.py) are candidates too, one
per distinct answer of the simplest programs that fit every train pair. An *ensemble* rule
(ENSEMBLES) merges the two rankings: the model's, by the selection, and the programs', simplest
first. A grid both give is one candidate, in the place of its better rank, with the model's votes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from arc24.data.task import Grid
from arc24.solving.predictions import Prediction

# name: the rule, as `arc24 rescore --help` and the README show it.
SELECTIONS = {
    "vote": "most votes first; ties by the greedy answers' mean log-probability (the 2024 reference)",
    "score": "highest score under the scoring views first; ties by votes",
    "vote-score": "most votes first; ties by score",
    "score-vote": "score plus a vote prior: score + log(share of the votes)",
}


# name: the rule, as `arc24 rescore --help` and the README show it.
ENSEMBLES = {
    "programs-first": "the answers of programs that generalise first (a program fits every train pair, and its "
                      "learned step, if any, predicts each pair it was not fitted on; a partial fit never does), "
                      "then the model's, then the other programs'",
    "first-and-fits": "the programs' first answer, then the answers of programs that generalise (as "
                      "programs-first), then the model's, then the other programs'",
    "first-each": "the first answer of each source (the 2024 reference's rule): programs, then the model, "
                  "then the rest as programs-first",
    "model-first": "the model's answers first, then the programs'",
    "score": "one ranking by the model's score under the scoring views, the programs' answers scored too",
}
DEFAULT_ENSEMBLE = "first-and-fits"  # chosen on the whole suites (docs/defaults.md)


@dataclass(frozen=True)
class Candidate:
    grid: Grid
    votes: int
    logprob_mean: float  # of its greedy answers; NaN counts as -inf
    score: float | None = None  # mean log-probability as the answer under the scoring views
    source: str = "model"  # model, programs, or "programs+model" when both gave it
    program: str = ""  # the simplest program that gave it
    generalises: bool = True  # a program's: see predictions.Prediction


def grid_key(grid: Grid) -> tuple:
    return grid.shape, grid.astype("int8", copy=False).tobytes()


def _sortable(value: float | None) -> float:
    return -math.inf if value is None or math.isnan(value) else value


def _sort_key(selection: str, total_votes: int):
    if selection == "vote":
        return lambda c: (-c.votes, -_sortable(c.logprob_mean))
    if selection == "score":
        return lambda c: (-_sortable(c.score), -c.votes, -_sortable(c.logprob_mean))
    if selection == "vote-score":
        return lambda c: (-c.votes, -_sortable(c.score), -_sortable(c.logprob_mean))
    if selection == "score-vote":
        return lambda c: (-(_sortable(c.score) + math.log(max(c.votes, 1) / max(total_votes, 1))), -c.votes)
    raise ValueError(f"unknown selection {selection!r}; choose one of {', '.join(SELECTIONS)}")


def rank_predictions(predictions: Iterable[Prediction], selection: str = "vote") -> list[Candidate]:
    """The distinct parsed grids of PREDICTIONS as candidates, best first by SELECTION.

    The one ranking rule, used for the attempts and for the vote_1/vote_2 metrics alike.
    Candidates equal under the rule keep the order they were first seen in (sorted() is
    stable), so the ranking is deterministic. Unparseable predictions take no part.
    """
    groups: dict[tuple, list[Prediction]] = {}  # insertion order: first seen first
    for p in predictions:
        if p.grid is not None:
            groups.setdefault(grid_key(p.grid), []).append(p)
    candidates = []
    for group in groups.values():
        scores = [p.score for p in group if p.score is not None]
        candidates.append(Candidate(group[0].grid, len(group),
                                    sum(_sortable(p.logprob_mean) for p in group) / len(group),
                                    max(scores) if scores else None, group[0].source, group[0].program,
                                    group[0].generalises))
    total = sum(c.votes for c in candidates)
    return sorted(candidates, key=_sort_key(selection, total))


@dataclass(frozen=True)
class VoteResult:
    attempt_1: Grid | None  # None when no prediction was valid
    attempt_2: Grid | None  # the runner-up; attempt_1 again when there is a single candidate
    ranking: list[Candidate] = field(default_factory=list)  # best first
    n_valid: int = 0
    n_invalid: int = 0

    @property
    def margin(self) -> int:
        """Votes of the model's first candidate minus those of its second (0 when it has none).
        The programs' answers are left out: their one "vote" says nothing of the model's confidence."""
        model = [c for c in self.ranking if c.source == "model"]
        if not model:
            return 0
        second = model[1].votes if len(model) > 1 else 0
        return model[0].votes - second


def ensemble_ranking(programs: list[Candidate], model: list[Candidate], ensemble: str) -> list[Candidate]:
    """The programs' candidates (simplest first) and the model's (by its selection) as one ranking."""
    if ensemble == "programs-first":
        order = [c for c in programs if c.generalises] + model + [c for c in programs if not c.generalises]
    elif ensemble == "first-and-fits":
        # The search's best guess, whatever it learned (a colour map leave-one-out cannot confirm), and
        # every fit that generalises stay ahead of the model; a weaker answer does not.
        rest = programs[1:]
        order = programs[:1] + [c for c in rest if c.generalises] + model + [c for c in rest if not c.generalises]
    elif ensemble == "model-first":
        order = model + programs
    elif ensemble == "first-each":
        order = programs[:1] + model[:1] + programs[1:] + model[1:]
    elif ensemble == "score":
        order = sorted(programs + model, key=lambda c: -_sortable(c.score))
    else:
        raise ValueError(f"unknown ensemble {ensemble!r}; choose one of {', '.join(ENSEMBLES)}")
    merged: dict[tuple, Candidate] = {}
    for c in order:
        key = grid_key(c.grid)
        if key not in merged:
            merged[key] = c
        elif merged[key].source != c.source:  # both sources: the model's votes and score, the program's text
            first = merged[key]
            model_side, program_side = (first, c) if first.source == "model" else (c, first)
            merged[key] = Candidate(first.grid, model_side.votes, model_side.logprob_mean,
                                    model_side.score if model_side.score is not None else program_side.score,
                                    "programs+model", program_side.program, program_side.generalises)
    return list(merged.values())


def vote(predictions: Iterable[Prediction], selection: str = "vote", ensemble: str = DEFAULT_ENSEMBLE) -> VoteResult:
    """Rank the distinct grids predicted for ONE test input (ValueError if they mix test inputs)."""
    predictions = list(predictions)
    inputs = {(p.task_id, p.test_index) for p in predictions}
    if len(inputs) > 1:
        raise ValueError(f"vote() takes the predictions of one test input, got {sorted(inputs)}")
    valid = [p for p in predictions if p.grid is not None]
    programs = [p for p in valid if p.source == "programs"]
    ranking = rank_predictions([p for p in valid if p.source != "programs"], selection)
    if programs:
        # The search wrote them simplest first; as they tie on votes, the stable sort keeps that order.
        ranking = ensemble_ranking(rank_predictions(programs, "vote"), ranking, ensemble)
    attempt_1 = ranking[0].grid if ranking else None
    attempt_2 = ranking[1].grid if len(ranking) > 1 else attempt_1
    return VoteResult(attempt_1, attempt_2, ranking, n_valid=len(valid), n_invalid=len(predictions) - len(valid))


def vote_all(predictions: Iterable[Prediction], selection: str = "vote",
             ensemble: str = DEFAULT_ENSEMBLE) -> dict[tuple[str, int], VoteResult]:
    """vote() for every test input present, keyed by (task_id, test_index)."""
    by_input: dict[tuple[str, int], list[Prediction]] = {}
    for p in predictions:
        by_input.setdefault((p.task_id, p.test_index), []).append(p)
    return {key: vote(group, selection, ensemble) for key, group in by_input.items()}
