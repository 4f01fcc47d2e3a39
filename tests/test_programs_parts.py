"""Parts (programs/parts.py): splitting grids, combining the parts, symmetry completion, and their learners."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from arc24.data.task import Pair, Task
from arc24.programs import parts
from arc24.programs.dsl import TaskFacts


def G(rows) -> np.ndarray:
    return np.array(rows, dtype=np.int8)


def task(pairs, tests, tid="t") -> Task:
    return Task(tid, [Pair(G(i), G(o)) for i, o in pairs], [Pair(G(i), G(o)) for i, o in tests])


# ---------------------------------------------------------------- splitting


def test_equal_cells_with_and_without_separators():
    assert parts.cell_bounds(6, 2) == [(0, 3), (3, 6)]
    assert parts.cell_bounds(7, 2) == [(0, 3), (4, 7)]  # a one-cell separator
    assert parts.cell_bounds(11, 3) == [(0, 3), (4, 7), (8, 11)]
    with pytest.raises(ValueError):
        parts.cell_bounds(7, 3)
    g = G([[1, 0, 5, 0, 2], [0, 1, 5, 2, 0]])
    left, right = parts.hsplit(g, 2)
    assert left.tolist() == [[1, 0], [0, 1]] and right.tolist() == [[0, 2], [2, 0]]
    assert [p.tolist() for p in parts.vsplit(G([[1], [2], [3], [4]]), 2)] == [[[1], [2]], [[3], [4]]]
    assert [p.tolist() for p in parts.quarters(G([[1, 2], [3, 4]]))] == [[[1]], [[2]], [[3]], [[4]]]


def test_split_by_separator_lines():
    g = G([[1, 0, 5, 0, 0, 0],
           [5, 5, 5, 5, 5, 5],
           [0, 0, 5, 2, 2, 0],
           [0, 3, 5, 0, 2, 0]])
    assert parts.separator_colour(g) == 5
    got = parts.split_lines(g)
    assert [p.tolist() for p in got] == [[[1, 0]], [[0, 0, 0]], [[0, 0], [0, 3]], [[2, 2, 0], [0, 2, 0]]]
    edge = G([[1, 5, 0, 3, 3], [0, 5, 2, 3, 3], [0, 5, 0, 3, 3]])  # 3 fills two edge columns: no cut
    assert parts.separator_colour(edge) == 5
    with pytest.raises(ValueError):
        parts.split_lines(G([[0, 1], [0, 0]]))  # only background lines
    with pytest.raises(ValueError):
        parts.same_shape_parts(g, "lines")  # parts of two shapes


def test_splits_offered_only_when_parts_can_be_the_outputs():
    pair = (G([[1, 0, 5, 0, 1], [0, 1, 5, 1, 1]]), G([[0, 0], [0, 3]]))
    facts = TaskFacts.of(task([pair, pair], [(pair[0], pair[1])]))
    assert parts._splits(facts) == ["h2"]
    assert ("h2", 3) in parts._combine_params(facts) and len(parts._combine_params(facts)) == 1  # 3 is new
    same = TaskFacts.of(task([(pair[0], pair[0])], [(pair[0], pair[0])]))
    assert parts._splits(same) == [] and parts._combine_params(same) == []
    quarters = TaskFacts.of(task([(np.zeros((7, 7), np.int8), np.zeros((3, 3), np.int8))], [(G([[0]]), G([[0]]))]))
    assert parts._splits(quarters) == ["q4"]
    lines = TaskFacts.of(task([(np.zeros((7, 11), np.int8), np.zeros((3, 3), np.int8))], [(G([[0]]), G([[0]]))]))
    assert parts._splits(lines) == ["lines"]


# ---------------------------------------------------------------- combining


AB = G([[1, 1, 0, 4, 0, 1, 0],
        [0, 1, 0, 4, 1, 1, 0]])  # two 2x3 parts either side of a column of 4


def test_boolean_combinations():
    assert parts.parts_and(AB, "h2", 7).tolist() == [[0, 7, 0], [0, 7, 0]]
    assert parts.parts_or(AB, "h2", 7).tolist() == [[7, 7, 0], [7, 7, 0]]
    assert parts.parts_xor(AB, "h2", 7).tolist() == [[7, 0, 0], [7, 0, 0]]
    assert parts.parts_nor(AB, "h2", 7).tolist() == [[0, 0, 7], [0, 0, 7]]


def test_overlays_and_choices():
    g = G([[1, 0, 2, 2, 0, 0], [0, 0, 0, 2, 3, 3]])  # three 2x2 parts, no separator
    assert parts.parts_overlay(g, "h3").tolist() == [[2, 2], [3, 3]]
    assert parts.parts_underlay(g, "h3").tolist() == [[1, 2], [3, 2]]
    assert parts.most_cells_part(g, "h3").tolist() == [[2, 2], [0, 2]]
    assert parts.fewest_cells_part(g, "h3").tolist() == [[1, 0], [0, 0]]
    odd = G([[1, 1, 0, 1, 1, 0, 2, 1], [0, 1, 0, 0, 1, 0, 0, 1]])  # 1 1 | 1 1 | 2 1 by separator columns
    odd[:, [2, 5]] = 5
    assert parts.odd_part(odd, "lines").tolist() == [[2, 1], [0, 1]]
    assert parts.common_part(odd, "lines").tolist() == [[1, 1], [0, 1]]
    assert parts.most_colours_part(odd, "lines").tolist() == [[2, 1], [0, 1]]
    with pytest.raises(ValueError):
        parts.fewest_colours_part(odd, "lines")  # two parts tie
    assert parts.fill_parts_with_overlay(G([[1, 0, 5, 0, 2]]), "h2").tolist() == [[1, 2, 5, 1, 2]]


@settings(max_examples=40, deadline=None)
@given(arrays(np.int8, st.tuples(st.integers(1, 6), st.integers(1, 6)), elements=st.integers(0, 4)),
       st.integers(2, 4), st.booleans(), st.booleans())
def test_identical_parts_overlay_to_the_part(part, n, across, separated):
    sep = np.full((part.shape[0], 1) if across else (1, part.shape[1]), 9, np.int8)
    pieces = [part] + [x for _ in range(n - 1) for x in ([sep, part] if separated else [part])]
    g = np.hstack(pieces) if across else np.vstack(pieces)
    how = f"{'h' if across else 'v'}{n}"
    assert np.array_equal(parts.parts_overlay(g, how), part)
    assert np.array_equal(parts.parts_underlay(g, how), part)
    assert np.array_equal(parts.common_part(g, how), part) or n == 1


# ---------------------------------------------------------------- symmetry


def test_completes_mirror_symmetry_with_an_offset_axis():
    full = G([[3, 1, 2, 2, 1],
              [3, 4, 5, 5, 4],
              [3, 1, 2, 2, 1]])  # mirror-symmetric about the line between columns 2 and 3
    noisy = full.copy()
    noisy[0, 4] = noisy[1, 2] = 8
    assert np.array_equal(parts.complete_symmetry(noisy, 8), full)
    big = np.vstack([full, full[::-1]])  # and top to bottom
    block = big.copy()
    block[1:3, 3:5] = 8
    assert parts.symmetry_crop(block, 8).tolist() == [[5, 4], [2, 1]]


def test_completes_diagonal_and_turn_symmetry():
    g = G([[1, 2, 3], [2, 4, 5], [3, 5, 6]])  # symmetric in the main diagonal only
    noisy = g.copy()
    noisy[2, 1] = 0
    assert np.array_equal(parts.complete_symmetry(noisy, 0), g)
    turn = G([[1, 2, 1], [2, 3, 2], [1, 2, 1]])
    noisy = turn.copy()
    noisy[0, 0] = noisy[1, 0] = 7
    assert np.array_equal(parts.complete_symmetry(noisy, 7), turn)
    assert np.array_equal(parts.complete_symmetry(turn, 7), turn)  # nothing to fill
    with pytest.raises(ValueError):
        parts.complete_symmetry(G([[7, 7], [7, 1]]), 7)  # more noise than pattern


MIRRORS = {"h": lambda m: m[:, ::-1], "v": lambda m: m[::-1], "hv": lambda m: m[::-1, ::-1], "t": lambda m: m.T}


def symmetric(g: np.ndarray, kind: str) -> np.ndarray:
    """G made symmetric under KIND by copying one half (triangle) over the other."""
    if kind == "t":
        g = g[: min(g.shape), : min(g.shape)]
        return (np.triu(g) + np.triu(g, 1).T).astype(np.int8)
    if "h" in kind:
        g = np.hstack([g, g[:, ::-1]])
    if "v" in kind:
        g = np.vstack([g, g[::-1]])
    return g


@settings(max_examples=60, deadline=None)
@given(st.integers(3, 10), st.integers(3, 8), st.sampled_from(list(MIRRORS)), st.integers(0, 2**16))
def test_symmetry_completion(h, w, kind, seed):
    rng = np.random.default_rng(seed)
    full = symmetric(rng.integers(0, 6, (h, w)).astype(np.int8), kind)
    assert np.array_equal(parts.complete_symmetry(full, 9), full)  # nothing to fill: unchanged
    holes = rng.random(full.shape) < 0.1
    holes &= ~MIRRORS[kind](holes)  # a hole's mirror image is never a hole
    if holes.any():
        noisy = np.where(holes, 9, full).astype(np.int8)
        filled = parts.complete_symmetry(noisy, 9)
        # The known cells stay, and the grid becomes symmetric: this kind's completion, or another
        # symmetry's when the holes leave the grid consistent with both (a small grid can be).
        assert np.array_equal(filled[~holes], full[~holes])
        assert any(filled.shape == mirror(filled).shape and np.array_equal(mirror(filled), filled)
                   for mirror in MIRRORS.values())
        if np.array_equal(MIRRORS[kind](filled), filled):  # each hole's mirror is known: one answer
            assert np.array_equal(filled, full)


# ---------------------------------------------------------------- learners


def test_overlay_learner_finds_the_order():
    def make(a, b, c):
        return np.hstack([a, np.full((2, 1), 5, np.int8), b, np.full((2, 1), 5, np.int8), c])

    a1, b1, c1 = G([[1, 1], [0, 0]]), G([[2, 0], [2, 0]]), G([[0, 3], [3, 3]])
    a2, b2, c2 = G([[1, 0], [1, 1]]), G([[2, 2], [0, 0]]), G([[3, 3], [0, 3]])
    # priority: part 1 (b) over part 0 (a) over part 2 (c)
    out1, out2 = G([[2, 1], [2, 3]]), G([[2, 2], [1, 1]])
    fitted = parts.learn_overlay([make(a1, b1, c1), make(a2, b2, c2)], [out1, out2])
    assert fitted is not None and "overlay_parts" in fitted.text
    new = make(G([[1, 0], [0, 0]]), G([[0, 0], [0, 2]]), G([[3, 3], [3, 3]]))
    assert fitted.apply(new).tolist() == [[1, 3], [3, 2]]
    assert parts.learn_overlay([make(a1, b1, c1)], [G([[7, 7], [7, 7]])]) is None


def test_parts_table_learns_a_truth_table():
    grids = [AB, G([[0, 0, 1, 4, 1, 0, 1], [1, 0, 0, 4, 0, 0, 0]])]
    outputs = [parts.parts_xor(g, "h2", 6) for g in grids]
    fitted = parts.learn_parts_table(grids, outputs)
    assert fitted is not None
    new = G([[1, 0, 0, 4, 1, 1, 0], [0, 0, 1, 4, 0, 1, 1]])
    assert np.array_equal(fitted.apply(new), parts.parts_xor(new, "h2", 6))


# ---------------------------------------------------------------- the search


def test_search_solves_a_split_and_xor_task():
    from arc24.programs.search import SearchBudget, search

    rng = np.random.default_rng(0)

    def pair():
        a, b = (rng.random((3, 3)) < 0.5).astype(np.int8), (rng.random((3, 3)) < 0.5).astype(np.int8) * 2
        g = np.vstack([a, np.full((1, 3), 5, np.int8), b])
        return g, np.where((a > 0) ^ (b > 0), 3, 0).astype(np.int8)

    t = task([pair() for _ in range(3)], [pair()])
    result = search(t, SearchBudget(seconds=10, max_depth=2))
    assert result.best is not None and "parts_xor(I, 'v2', 3)" in result.best.program
    assert np.array_equal(result.attempts(0)[0].answers[0], t.test[0].output)
