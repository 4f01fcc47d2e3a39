"""The ensemble rules (voting.ENSEMBLES) that make two attempts from the program search's answers and
the model's, on hand-made predictions; and the settings of the program search and the ensemble,
checked before any work (SolveConfig.check)."""

import numpy as np
import pytest

from arc24.config import ConfigError
from arc24.solving.config import ProgramSettings, SolveConfig, TTFTSettings
from arc24.solving.predictions import Prediction
from arc24.solving.voting import ENSEMBLES, SELECTIONS, ensemble_ranking, rank_predictions, vote

P1, P2 = [[1, 1], [1, 1]], [[2, 2], [2, 2]]  # the programs' answers, simplest first
M1, M2, M3 = [[3]], [[4, 4]], [[5], [5]]  # the model's, by votes: 3, 2, 1


def program(grid, text, score=None, generalises=True) -> Prediction:
    return Prediction("t", 0, {}, np.array(grid, np.int8), text=text, reason=None, logprob_mean=0.0, n_tokens=0,
                      source="programs", program=text, score=score, generalises=generalises)


def model(grid, logprob=-0.1, score=None, view=0) -> Prediction:
    return Prediction("t", 0, {"dihedral": view}, np.array(grid, np.int8), "text", None, logprob, 5,
                      weights="ttft", score=score)


def model_votes(scores=None) -> list[Prediction]:
    """M1 three votes, M2 two, M3 one; each grid's predictions share its score, as scored runs write."""
    scores = scores or {}
    return ([model(M1, -0.3, scores.get("M1"), v) for v in range(3)]
            + [model(M2, -0.2, scores.get("M2"), v) for v in range(2)] + [model(M3, -0.1, scores.get("M3"))])


def shown(ranking) -> list[tuple]:
    """A ranking as plain values (a Candidate holds a numpy grid, which == cannot compare)."""
    return [(c.grid.tolist(), c.votes, c.logprob_mean, c.score, c.source, c.program) for c in ranking]


def grids(result) -> list:
    return [c.grid.tolist() for c in result.ranking]


PROGRAMS = [program(P1, "O = flip_h(I)"), program(P2, "O = rot180(I)")]


def test_every_rule_is_tested():
    assert set(ENSEMBLES) == {"programs-first", "first-and-fits", "first-each", "model-first", "score"}


def test_programs_first_puts_every_program_answer_before_the_model():
    result = vote(PROGRAMS + model_votes(), ensemble="programs-first")
    assert grids(result) == [P1, P2, M1, M2, M3]
    assert result.attempt_1.tolist() == P1 and result.attempt_2.tolist() == P2
    first = result.ranking[0]
    assert first.source == "programs" and first.program == "O = flip_h(I)"
    assert [c.source for c in result.ranking] == ["programs", "programs", "model", "model", "model"]
    assert [c.votes for c in result.ranking[2:]] == [3, 2, 1]
    assert result.n_valid == 8 and result.n_invalid == 0


def test_programs_first_puts_a_program_that_only_memorised_its_pairs_after_the_model():
    memorised = program(P1, "O = local_rule(I, ...)", generalises=False)
    result = vote([memorised, program(P2, "O = rot180(I)")] + model_votes(), ensemble="programs-first")
    assert grids(result) == [P2, M1, M2, M3, P1]
    assert result.ranking[-1].program == "O = local_rule(I, ...)" and not result.ranking[-1].generalises
    # first-each trusts the first program whatever it learned
    result = vote([memorised] + model_votes(), ensemble="first-each")
    assert grids(result) == [P1, M1, M2, M3]


def test_first_and_fits_keeps_the_programs_first_answer_and_their_fits_before_the_model():
    memorised = program(P1, "O = map_colours(I, {1: 2})", generalises=False)
    # The first answer stays first though leave-one-out could not confirm it (programs-first: after the model)
    result = vote([memorised, program(P2, "O = rot180(I)")] + model_votes(), ensemble="first-and-fits")
    assert grids(result) == [P1, P2, M1, M2, M3]
    assert grids(vote([memorised, program(P2, "O = rot180(I)")] + model_votes(), ensemble="programs-first")) \
        == [P2, M1, M2, M3, P1]
    # A second answer that does not generalise waits behind the model's (first-each: behind its first only)
    result = vote([program(P1, "O = flip_h(I)"), program(P2, "O = local_rule(I)", generalises=False)]
                  + model_votes(), ensemble="first-and-fits")
    assert grids(result) == [P1, M1, M2, M3, P2]
    assert result.attempt_1.tolist() == P1 and result.attempt_2.tolist() == M1


def test_first_each_takes_the_first_answer_of_each_source():
    result = vote(PROGRAMS + model_votes(), ensemble="first-each")
    assert grids(result) == [P1, M1, P2, M2, M3]
    assert result.attempt_1.tolist() == P1 and result.attempt_2.tolist() == M1


def test_model_first_puts_the_model_before_the_programs():
    result = vote(PROGRAMS + model_votes(), ensemble="model-first")
    assert grids(result) == [M1, M2, M3, P1, P2]
    assert result.attempt_1.tolist() == M1 and result.attempt_2.tolist() == M2


def test_score_ranks_the_program_answers_by_their_score_among_the_models():
    programs = [program(P1, "O = flip_h(I)", score=-2.0), program(P2, "O = rot180(I)", score=-0.1)]
    model_predictions = model_votes({"M1": -1.0, "M2": -0.5, "M3": -3.0})
    result = vote(programs + model_predictions, selection="score", ensemble="score")
    assert grids(result) == [P2, M2, M1, P1, M3]
    assert [c.score for c in result.ranking] == [-0.1, -0.5, -1.0, -2.0, -3.0]
    assert result.ranking[0].source == "programs" and result.ranking[0].program == "O = rot180(I)"
    # The rule ranks by score whatever the model's selection: a vote-ranked model list is re-sorted too
    assert grids(vote(programs + model_predictions, selection="vote", ensemble="score")) == [P2, M2, M1, P1, M3]


def test_score_with_unscored_program_answers_puts_them_last_in_their_order():
    result = vote(PROGRAMS + model_votes({"M1": -1.0, "M2": -0.5, "M3": -3.0}), selection="score", ensemble="score")
    assert grids(result) == [M2, M1, M3, P1, P2]


@pytest.mark.parametrize("ensemble, order", [
    ("programs-first", [P1, M2, M1, M3]),
    ("first-and-fits", [P1, M2, M1, M3]),
    ("first-each", [P1, M1, M2, M3]),
    ("model-first", [M1, M2, M3, P1]),
])
def test_a_grid_both_sources_give_is_one_candidate_with_the_models_votes_and_the_programs_text(ensemble, order):
    # The program's second answer is the model's M2: one candidate, in the place of its better rank
    programs = [program(P1, "O = flip_h(I)"), program(M2, "O = tile(I, 2, 1)")]
    result = vote(programs + model_votes(), ensemble=ensemble)
    assert grids(result) == order
    both = [c for c in result.ranking if c.grid.tolist() == M2]
    assert len(both) == 1
    c = both[0]
    assert (c.source, c.votes, c.program) == ("programs+model", 2, "O = tile(I, 2, 1)")
    assert c.logprob_mean == pytest.approx(-0.2)  # the model's answers', not the program's 0.0
    assert sum(c.source == "programs+model" for c in result.ranking) == 1


def test_a_shared_grid_keeps_the_models_score_under_the_score_rule():
    programs = [program(M2, "O = tile(I, 2, 1)", score=-0.5)]
    result = vote(programs + model_votes({"M1": -1.0, "M2": -0.5, "M3": -3.0}), selection="score", ensemble="score")
    assert grids(result) == [M2, M1, M3]
    assert shown(result.ranking[:1]) == [(M2, 2, pytest.approx(-0.2), -0.5, "programs+model", "O = tile(I, 2, 1)")]


def test_ensemble_ranking_merges_whichever_source_comes_first():
    programs = rank_predictions([program(M1, "O = crop(I)")], "vote")
    models = rank_predictions(model_votes(), "vote")
    for rule in ENSEMBLES:
        merged = ensemble_ranking(programs, models, rule)
        first = [c for c in merged if c.grid.tolist() == M1]
        assert len(merged) == 3 and len(first) == 1, rule
        assert (first[0].source, first[0].votes, first[0].program) == ("programs+model", 3, "O = crop(I)"), rule


@pytest.mark.parametrize("ensemble", list(ENSEMBLES))
@pytest.mark.parametrize("selection", list(SELECTIONS))
def test_a_vote_of_the_model_alone_is_what_it_was_before_programs(selection, ensemble):
    predictions = model_votes({"M1": -1.0, "M2": -0.5, "M3": -3.0}) + [
        Prediction("t", 0, {}, None, "junk", "missing closing fence", -0.5, 4)]
    result = vote(predictions, selection, ensemble)
    assert shown(result.ranking) == shown(rank_predictions(predictions, selection))
    assert all(c.source == "model" and c.program == "" for c in result.ranking)
    assert result.attempt_1.tolist() == result.ranking[0].grid.tolist()
    assert result.attempt_2.tolist() == result.ranking[1].grid.tolist()
    assert (result.n_valid, result.n_invalid) == (6, 1)


def test_the_programs_alone_answer_simplest_first_and_a_single_answer_fills_both_attempts():
    result = vote(PROGRAMS)
    assert grids(result) == [P1, P2]
    one = vote(PROGRAMS[:1])
    assert one.attempt_1.tolist() == one.attempt_2.tolist() == P1


def test_an_unknown_rule_is_an_error():
    with pytest.raises(ValueError, match="unknown ensemble 'nope'"):
        vote(PROGRAMS + model_votes(), ensemble="nope")
    with pytest.raises(ValueError, match="unknown ensemble"):
        ensemble_ranking([], [], "nope")


# ---------------------------------------------------------------- the settings


def checked(**kw) -> None:
    kw.setdefault("ttft", TTFTSettings(lora="new"))
    SolveConfig(**kw).check()


def test_the_defaults_pass():
    checked()
    for rule in ENSEMBLES:
        checked(ensemble=rule, scoring_views=8)
    for solvers in ("both", "programs", "model"):
        checked(solvers=solvers)


@pytest.mark.parametrize("settings, named", [
    ({"solvers": "bad"}, "solvers must be one of both, programs, model, got 'bad'"),
    ({"ensemble": "bad"}, "ensemble must be one of"),
    ({"ensemble": "score"}, "ensemble=score"),
    ({"programs": ProgramSettings(seconds=-1)}, "programs.seconds must be at least 0 (0: fit the deadline), got -1"),
    ({"programs": ProgramSettings(seconds=float("nan"))}, "programs.seconds"),
    ({"programs": ProgramSettings(max_depth=-1)}, "programs.max_depth must be between 0 and 6"),
    ({"programs": ProgramSettings(max_depth=7)}, "programs.max_depth"),
    ({"programs": ProgramSettings(max_states=0)}, "programs.max_states"),
    ({"programs": ProgramSettings(workers=-1)}, "programs.workers"),
])
def test_a_bad_setting_is_a_config_error_naming_it(settings, named):
    with pytest.raises(ConfigError) as error:
        checked(**settings)
    assert named in str(error.value)
    if settings.get("ensemble") == "score":
        assert "scoring_views" in str(error.value)
    if settings.get("ensemble") == "bad":
        assert "'bad'" in str(error.value) and all(rule in str(error.value) for rule in ENSEMBLES)


def test_the_programs_alone_need_no_adapter():
    SolveConfig(solvers="programs").check()  # ttft.lora=continue, no adapter: no model is loaded
    for solvers in ("both", "model"):
        with pytest.raises(ConfigError, match="ttft.lora=continue needs a trained adapter"):
            SolveConfig(solvers=solvers).check()


def test_the_vote_margin_is_the_models_whatever_the_programs_rank():
    # M1 has 3 votes, M2 2: a margin of 1, though a program's answer (one "vote") ranks first.
    for ensemble in ENSEMBLES:
        assert vote(PROGRAMS + model_votes(), ensemble=ensemble).margin == 1
    assert vote(PROGRAMS, ensemble="first-each").margin == 0  # no model answer: no margin
