"""Patterns (programs/patterns.py): periodic completion and continuation, and the crop_region learner."""

import time
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arc24.data.task import Pair, Task
from arc24.programs import patterns as pt
from arc24.programs.dsl import TaskFacts


def G(rows) -> np.ndarray:
    return np.array(rows, dtype=np.int8)


def task(pairs, tests, tid="t") -> Task:
    return Task(tid, [Pair(G(i), G(o)) for i, o in pairs], [Pair(G(i), G(o)) for i, o in tests])


def tiled(motif: np.ndarray, h: int, w: int, shear: int = 0) -> np.ndarray:
    """MOTIF repeated over H x W, each band of its rows shifted SHEAR columns on from the one above."""
    py, px = motif.shape
    ys, xs = np.indices((h, w))
    return motif[ys % py, (xs - shear * (ys // py)) % px].astype(np.int8)


# ---------------------------------------------------------------- lattices


def test_find_lattice_plain_and_sheared():
    g = tiled(G([[1, 2, 3], [4, 5, 6]]), 8, 9)
    assert pt.find_lattice(g) == (2, 0, 3)
    diag = tiled(G([[1, 2, 3, 4, 5]]), 10, 10, shear=1)  # diagonal stripes
    py, s, px = pt.find_lattice(diag)
    assert (py, px) == (1, 5) and s % 5 == 1
    with pytest.raises(ValueError):
        pt.find_lattice(np.arange(16, dtype=np.int8).reshape(4, 4) % 10)  # nothing repeats


def test_classes_repeat_with_the_lattice():
    keys = pt.classes((4, 6), (2, 0, 3))
    assert keys[0, 0] == keys[2, 3] and keys[1, 1] == keys[3, 4] and keys[0, 0] != keys[1, 0]


# ---------------------------------------------------------------- completion


def test_complete_pattern_fills_holes():
    full = tiled(G([[1, 2, 3], [3, 1, 2]]), 9, 9)
    g = full.copy()
    g[2:4, 3:6] = 0
    assert np.array_equal(pt.pattern_crop(g, 0), full[2:4, 3:6])
    g[7, 0] = 0
    assert np.array_equal(pt.complete_pattern(g, 0), full)
    assert not np.array_equal(pt.pattern_crop(g, 0), full[2:4, 3:6])


def test_complete_pattern_sheared_pattern():
    full = tiled(G([[1, 3, 5, 7, 2, 4, 6]]), 14, 14, shear=-1)
    g = full.copy()
    g[4:8, 5:9] = 0
    assert np.array_equal(pt.complete_pattern(g, 0), full)


def test_complete_pattern_keeps_a_noisy_border():
    field = tiled(G([[1, 2, 3, 4]]), 16, 16, shear=1)
    field[0, :] = 5  # a border the pattern does not follow
    field[:, 0] = 5
    g = field.copy()
    g[6:9, 6:10] = 0
    g[0, 3:6] = 0  # holes in the border
    g[9:11, 0] = 0
    assert np.array_equal(pt.complete_pattern(g, 0), field)


def test_complete_pattern_refuses_mostly_noise_and_no_pattern():
    with pytest.raises(ValueError):
        pt.complete_pattern(G([[0, 0, 0], [0, 1, 0]]), 0)
    rng = np.random.default_rng(1)
    g = rng.integers(1, 10, (12, 12)).astype(np.int8)
    g[3:5, 3:5] = 0
    with pytest.raises(ValueError):
        pt.complete_pattern(g, 0)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**31 - 1))
def test_holes_in_a_periodic_grid_are_restored(py, px, seed):
    rng = np.random.default_rng(seed)
    motif = rng.integers(1, 10, (py, px)).astype(np.int8)
    full = tiled(motif, 3 * py + 3, 3 * px + 3)
    pt_lattice = pt.find_lattice(full)
    assert pt_lattice[0] in (None, *range(1, py + 1)) and (pt_lattice[2] or 99) <= px
    g = full.copy()
    holes = rng.random(g.shape) < 0.05
    g[holes] = 0
    assert np.array_equal(pt.complete_pattern(g, 0), full)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 12), st.integers(1, 12), st.integers(0, 2**31 - 1))
def test_completion_leaves_a_grid_without_the_colour_unchanged(h, w, seed):
    g = np.random.default_rng(seed).integers(1, 10, (h, w)).astype(np.int8)
    assert np.array_equal(pt.complete_pattern(g, 0), g)


def test_completion_is_fast_on_a_full_grid():
    full = tiled(np.random.default_rng(2).integers(1, 10, (5, 7)), 30, 30)
    g = full.copy()
    g[10:16, 4:12] = 0
    pt.complete_pattern(g, 0)
    began = time.perf_counter()
    for _ in range(20):
        pt.complete_pattern(g, 0)
    assert (time.perf_counter() - began) / 20 < 0.02  # < 2 ms alone; loose for a shared machine


# ---------------------------------------------------------------- continuation


def test_continue_pattern_rows_to_a_fixed_size():
    g = G([[0, 1, 0], [1, 1, 0], [0, 1, 0], [0, 1, 1], [0, 1, 0], [1, 1, 0]])
    out = pt.continue_pattern(g, 9, 3)
    assert out.tolist()[6:] == [[0, 1, 0], [0, 1, 1], [0, 1, 0]] and np.array_equal(out[:6], g)
    assert np.array_equal(pt.continue_pattern_by(g, Fraction(3, 2), Fraction(1)), out)
    with pytest.raises(ValueError):
        pt.continue_pattern(G([[1, 2], [3, 4]]), 2, 4)  # nothing repeats across


def test_continue_pattern_two_ways():
    g = tiled(G([[1, 2], [3, 4]]), 3, 3)
    assert np.array_equal(pt.continue_pattern(g, 5, 6), tiled(G([[1, 2], [3, 4]]), 5, 6))


# ---------------------------------------------------------------- parameters


def test_parameters_follow_the_outputs():
    same = TaskFacts.of(task([([[1, 0], [2, 1]], [[1, 2], [2, 1]])], [([[1, 0]], [[1, 2]])]))
    assert pt._fill_params(same) == [(0,)] and pt._crop_params(same) == [] and pt._shape_params(same) == []
    pairs = [([[1], [2]], [[1], [2], [1]]), ([[3], [4]], [[3], [4], [3]])]
    grow = TaskFacts.of(task(pairs, [([[5], [6]], [[5], [6], [5]])]))
    assert pt._shape_params(grow) == [(3, 1)] and pt._fill_params(grow) == [] and pt._ratio_params(grow) == []
    smaller = TaskFacts.of(task([([[1, 0], [2, 1]], [[2]])], [([[1, 0]], [[2]])]))
    assert pt._crop_params(smaller) == [(1,), (0,)] and pt._shape_params(smaller) == []


# ---------------------------------------------------------------- crop_region


def test_frames_found():
    g = G([[0, 0, 0, 0, 0, 0],
           [0, 3, 3, 3, 3, 0],
           [0, 3, 1, 2, 3, 0],
           [0, 3, 3, 3, 3, 0],
           [0, 0, 0, 0, 0, 3]])
    assert pt.frames(g, 3) == [(slice(1, 4), slice(1, 5))]
    assert pt.locate(g, ("frame", 3, "only"), 0).tolist() == [[1, 2]]


def test_learn_crop_region_by_frame_colour():
    def pair(rng):
        g = rng.integers(0, 3, (10, 10)).astype(np.int8)
        y, x = rng.integers(0, 5, 2)
        g[y:y + 5, x:x + 5] = 4
        inside = rng.integers(5, 8, (3, 3)).astype(np.int8)
        g[y + 1:y + 4, x + 1:x + 4] = inside
        return g, inside

    rng = np.random.default_rng(3)
    pairs = [pair(rng) for _ in range(3)]
    fitted = pt.learn_crop_region([g for g, _ in pairs], [o for _, o in pairs])
    assert fitted is not None
    g, o = pair(rng)
    assert np.array_equal(fitted.apply(g), o)


def test_learn_crop_region_by_object_property():
    a = G([[0, 0, 0, 0, 0], [0, 2, 2, 0, 5], [0, 2, 0, 0, 5], [0, 0, 0, 0, 0], [7, 0, 0, 0, 0]])
    b = G([[5, 5, 0, 0, 0], [0, 0, 0, 2, 0], [0, 0, 2, 2, 2], [0, 0, 0, 0, 0], [3, 3, 3, 3, 0]])
    fitted = pt.learn_crop_region([a, b], [G([[2, 2], [2, 0]]), G([[0, 2, 0], [2, 2, 2]])])
    assert fitted is not None and "colour" in fitted.text
    c = G([[0, 0, 0, 0], [0, 2, 0, 0], [0, 2, 0, 1], [0, 0, 0, 0]])
    assert fitted.apply(c).tolist() == [[2], [2]]


def test_learn_crop_region_declines():
    a, b = G([[1, 2], [3, 4]]), G([[5, 6], [7, 8]])
    assert pt.learn_crop_region([a, b], [G([[9]]), G([[9]])]) is None  # not in the grid
    assert pt.learn_crop_region([a], [a]) is None  # same shape: not a crop


def test_learn_crop_region_anomaly():
    def pair(rng, y, x):
        full = tiled(rng.permutation(np.arange(1, 6)).astype(np.int8)[None], 12, 12, shear=1)
        g = full.copy()
        patch = rng.integers(6, 10, (2, 3)).astype(np.int8)
        g[y:y + 2, x:x + 3] = patch
        return g, full[y:y + 2, x:x + 3]

    rng = np.random.default_rng(4)
    pairs = [pair(rng, 2, 3), pair(rng, 6, 7)]
    fitted = pt.learn_crop_region([g for g, _ in pairs], [o for _, o in pairs])
    assert fitted is not None and "anomaly" in fitted.text
    g, o = pair(rng, 5, 1)
    assert np.array_equal(fitted.apply(g), o)


# ---------------------------------------------------------------- the search


def test_search_solves_a_pattern_completion_task():
    from arc24.programs import patterns
    from arc24.programs.learners import LEARNERS
    from arc24.programs.search import SearchBudget, search

    rng = np.random.default_rng(5)

    def pair():
        full = tiled(rng.integers(1, 6, (2, 3)).astype(np.int8), 8, 9)
        g = full.copy()
        y, x = rng.integers(0, 6, 2)
        g[y:y + 2, x:x + 3] = 8
        return g, full

    t = task([pair() for _ in range(3)], [pair()])
    result = search(t, SearchBudget(seconds=10, max_depth=1), primitives=patterns.PRIMITIVES,
                    learners=LEARNERS + patterns.LEARNERS)
    assert result.best is not None and "complete_pattern(I, 8)" in result.best.program
    assert np.array_equal(result.best.answers[0], t.test[0].output)
