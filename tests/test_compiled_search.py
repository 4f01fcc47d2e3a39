"""The compiled program search (programs/core, programs/native.py) and how solver.py uses it.

Hand-made tasks on real grids: one that only stacking pieces solves, one it must decline, one whose
pair shows the rule wrongly (a partial fit), one answered by another pair's output, one on a
background colour that the search sees as 0 and answers mapped back, and a search killed with -9
mid-way that leaves no process behind and then runs whole.
"""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from arc24.data.task import Pair, Task
from arc24.programs import native
from arc24.programs import ProgramSettings
from arc24.programs.solver import background_map, solve
from arc24.solving.programs import search_outcome
from processes import HAS_PROC, alive, children, wait_until_gone

RNG = np.random.default_rng(7)


def shapes(h: int, w: int, colours=(1, 2, 3), n: int = 3, bg: int = 0) -> np.ndarray:
    g = np.full((h, w), bg, dtype=np.int8)
    for _ in range(n):
        r, c = RNG.integers(0, h - 2), RNG.integers(0, w - 2)
        g[r:r + RNG.integers(1, 3), c:c + RNG.integers(1, 3)] = RNG.choice(colours)
    return g


def mirrored_overlay(g: np.ndarray) -> np.ndarray:
    """The grid with its left-right mirror laid under it: no one function makes it, two pieces do."""
    out = g[:, ::-1].copy()
    out[g != 0] = g[g != 0]
    return out


def make_task(inputs, rule, n_train=3, id="t") -> Task:
    pairs = [Pair(g, rule(g)) for g in inputs]
    return Task(id, pairs[:n_train], pairs[n_train:])


def test_pieces_stacked_on_one_another_solve_what_no_single_program_makes():
    inputs = [shapes(6, 7, n=3) for _ in range(4)]
    task = make_task(inputs, mirrored_overlay)
    result, = native.search_task(task, seconds=5, max_depth=2)
    best = result.candidates[0]
    assert best.goods == 3 and best.pieces >= 2 and "stack(" in best.program
    assert np.array_equal(best.answer, task.test[0].output)
    assert result.output_shape == (6, 7)


def test_outputs_unrelated_to_the_inputs_are_declined():
    inputs = [shapes(5, 5) for _ in range(4)]
    noise = {id(g): RNG.integers(0, 10, (5, 5)).astype(np.int8) for g in inputs}
    task = make_task(inputs, lambda g: noise[id(g)])
    result, = native.search_task(task, seconds=2, max_depth=2)
    assert all(c.goods < 3 for c in result.candidates)
    assert solve(task, ProgramSettings(seconds=2, searches="compiled")).ranked == [[]]


def test_a_pair_that_shows_the_rule_wrongly_does_not_hide_it_but_ranks_it_as_a_partial_fit():
    inputs = [shapes(5, 6, n=3) for _ in range(4)]
    task = make_task(inputs, lambda g: g[:, ::-1].copy())
    task.train[2] = Pair(task.train[2].input, RNG.integers(1, 10, (5, 6)).astype(np.int8))
    result, = native.search_task(task, seconds=3, max_depth=2)
    assert all(c.goods < 3 for c in result.candidates)
    flipped = [c for c in result.candidates if np.array_equal(c.answer, task.test[0].output)]
    assert flipped and flipped[0].goods == 2
    # A partial fit answers, but is not a program that fits: programs.skip_model still runs the model.
    outcome = search_outcome(task, ProgramSettings(seconds=2, searches="compiled"))
    assert outcome.answers[0] and outcome.program == "" and outcome.health()["fit"] == "no program fits"


def test_other_pairs_outputs_are_pieces_of_their_own():
    constant = RNG.integers(1, 10, (4, 4)).astype(np.int8)
    task = make_task([shapes(4, 4, n=2) for _ in range(4)], lambda g: constant.copy())
    result, = native.search_task(task, seconds=2, max_depth=1)
    given = [c for c in result.candidates if "output_of_pair(" in c.program]
    assert given and np.array_equal(given[0].answer, constant)


def test_a_task_on_a_background_colour_is_searched_with_it_as_0_and_answered_in_its_own_colours():
    def largest_cropped(g):  # the largest shape (colour 2 here), cropped: its hole stays the background
        rows, cols = np.nonzero(g == 2)
        return g[rows.min():rows.max() + 1, cols.min():cols.max() + 1]

    inputs = []
    for k in range(4):
        g = np.full((9, 9), 5, dtype=np.int8)
        g[1 + k % 2:4 + k % 2, 1 + k // 2:5 + k // 2] = 2
        g[2 + k % 2, 2 + k // 2] = 5
        g[6:8, 6:8] = 3
        inputs.append(g)
    task = make_task(inputs, largest_cropped)
    assert tuple(background_map(task)[:6]) == (5, 1, 2, 3, 4, 0)
    result = solve(task, ProgramSettings(seconds=4, searches="compiled"))
    first = result.attempts(0)[0]
    assert np.array_equal(first.answer, task.test[0].output), first.program
    assert 5 in first.answer  # mapped back: the hole is the task's background, not 0


def test_a_malformed_request_is_an_error_that_says_so():
    binary = native.binary()
    done = subprocess.run([str(binary), "search"], input="2 3 100\n1\n3 3 1 2\n", capture_output=True, text=True)
    assert done.returncode == 2 and "could not be read" in done.stderr
    with pytest.raises(native.NativeError, match="no function named no_such"):
        native.apply_many([("no_such", native_image(), None)])


def native_image():
    from arc24.programs.image_functions import Image

    return Image(np.array([[1]], dtype=np.int8), 0, 0)


KILLED = """
import sys
from arc24.data.task import Pair, Task
import numpy as np
from arc24.programs import native
rng = np.random.default_rng(1)
pairs = [Pair(rng.integers(0, 10, (30, 30)).astype(np.int8), rng.integers(0, 10, (30, 30)).astype(np.int8))
         for _ in range(4)]
print("searching", flush=True)
native.search_task(Task("big", pairs[:3], pairs[3:]), seconds=600, max_depth=4, max_states=10**8)
"""


@pytest.mark.skipif(not HAS_PROC, reason="finds the search process through Linux's /proc")
def test_kill_9_mid_search_leaves_no_search_behind_and_the_search_then_runs_whole():
    native.binary()  # built before, so that the process killed is the search, not the compiler
    runner = subprocess.Popen([sys.executable, "-c", KILLED], stdout=subprocess.PIPE, text=True)
    try:
        assert runner.stdout.readline().strip() == "searching"
        deadline = time.monotonic() + 30
        while not (searches := children(runner.pid)):
            assert time.monotonic() < deadline, "no search process started"
            time.sleep(0.05)
        time.sleep(0.5)
        assert all(alive(p) for p in searches)
        os.kill(runner.pid, signal.SIGKILL)
        runner.wait()
        wait_until_gone(searches, 10, "the compiled search outlived the process that started it by 10 s")
    finally:
        if runner.poll() is None:
            runner.kill()
    inputs = [shapes(6, 7) for _ in range(4)]
    task = make_task(inputs, mirrored_overlay)
    result, = native.search_task(task, seconds=5, max_depth=2)
    assert np.array_equal(result.candidates[0].answer, task.test[0].output)


@pytest.mark.parametrize("name", ["plain", "normalised", "transposed"])
def test_every_view_maps_its_answers_back_to_the_tasks_own_frame_and_colours(name):
    from arc24.programs.solver import VIEWS

    inputs = [shapes(5, 7, colours=(2, 4, 6), bg=8) for _ in range(4)]
    task = make_task(inputs, lambda g: np.where(g == 4, 1, g)[:3])
    view = VIEWS[name](task)
    seen = view.task.test[0].output
    assert not np.array_equal(seen, task.test[0].output)  # the background, at least, is another colour
    assert np.array_equal(view.answer(0, seen), task.test[0].output)
    assert all(sorted(m.tolist()) == list(range(10)) for m in view.maps)


def test_a_view_that_renumbers_nothing_is_the_plain_view_and_is_searched_once():
    from arc24.programs.solver import normalised_view, plain_view, transposed_view

    one_colour = make_task([shapes(5, 5, colours=(3,)) for _ in range(4)], lambda g: g[::-1].copy())
    assert normalised_view(one_colour).same_as(plain_view(one_colour))
    assert not transposed_view(one_colour).same_as(plain_view(one_colour))
    # the commonest colour is 2 in one pair, 3 in the other: the normalised view makes it one colour
    a = np.zeros((4, 4), dtype=np.int8)
    a[0, :3], a[1, 0] = 2, 1
    b = np.zeros((4, 4), dtype=np.int8)
    b[0, :3], b[1, 0] = 3, 1
    marked = lambda g: np.where(g == 1, 5, 0).astype(np.int8)  # noqa: E731
    swapped = Task("s", [Pair(a, marked(a)), Pair(b, marked(b))], [Pair(a, marked(a))])
    assert not normalised_view(swapped).same_as(plain_view(swapped))


def test_a_search_that_is_not_one_of_the_choices_is_refused_before_any_work():
    from arc24.config import ConfigError
    from arc24.solving.config import SolveConfig, from_dict

    with pytest.raises(ConfigError, match="programs.searches must be one of both, compiled, learners, got 'fast'"):
        from_dict(SolveConfig, {"programs": {"searches": "fast"}}).check()


def test_seconds_0_fit_the_deadline_and_the_competition_run_searches_deeper():
    from arc24.solving.config import ProgramSettings, SolveConfig
    from arc24.solving.programs import for_the_competition, seconds_fitting_the_deadline

    config = SolveConfig(deadline_hours=12, safety_margin_minutes=60)
    # 240 tasks, 3 processes beside the GPUs: 11 h x 0.8 x 3 / 240 = 396 s a task
    assert seconds_fitting_the_deadline(config, 240, 3, beside_model=True) == 396.0
    assert seconds_fitting_the_deadline(config, 3, 2, beside_model=False) == 600.0  # at most 10 minutes
    assert seconds_fitting_the_deadline(SolveConfig(deadline_hours=1, safety_margin_minutes=0), 10_000, 1,
                                        beside_model=False) == 10.0  # at least 10 s
    chosen = for_the_competition(ProgramSettings(compiled_depth=2))
    assert (chosen.seconds, chosen.compiled_depth, chosen.max_states) == (0.0, 2, 2_000_000)  # a user's value stays
