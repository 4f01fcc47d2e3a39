"""Arrangement rules (programs/arrangement_rules.py): each learner on small hand-made pairs, a new input, and a case it declines."""

import numpy as np

from arc24.programs import arrangement_rules as A
from learner_cases import G, fits


def _frame(h, w, at, c, shape):
    g = np.zeros(shape, dtype=np.int8)
    y, x = at
    g[y:y + h, x:x + w] = c
    g[y + 1:y + h - 1, x + 1:x + w - 1] = 0
    return g


# ---------------------------------------------------------------- centres


def test_mark_centre_paints_each_objects_centre_in_its_colour():
    """Hollow frames get their own colour at their centre; learned on two grids, applied to a third."""
    a, b = _frame(5, 5, (1, 1), 3, (8, 8)), _frame(3, 5, (0, 2), 4, (6, 8))
    a_out, b_out = a.copy(), b.copy()
    a_out[3, 3], b_out[1, 4] = 3, 4
    fitted = A.learn_mark_centre([a, b], [a_out, b_out])
    assert fitted is not None and "'objects'" in fitted.text
    c = _frame(3, 3, (0, 0), 2, (9, 9)) + _frame(5, 3, (4, 5), 6, (9, 9))
    want = c.copy()
    want[1, 1], want[6, 6] = 2, 6
    assert (fitted.apply(c) == want).all()


def test_mark_centre_of_the_grid():
    """An empty odd-sided grid gets a 2 at its centre."""
    pairs = [([[0] * 3] * 3, [[0, 0, 0], [0, 2, 0], [0, 0, 0]]),
             ([[0] * 5] * 5, [[0] * 5, [0] * 5, [0, 0, 2, 0, 0], [0] * 5, [0] * 5])]
    fitted = fits(A.learn_mark_centre, pairs)
    assert fitted is not None and "'grid'" in fitted.text
    assert fitted.apply(G([[0] * 7] * 7))[3, 3] == 2


def test_move_to_centre_between_lines():
    """The lone cell moves halfway between two full rows, keeping its column."""
    pairs = [([[1, 1, 1, 1], [0, 0, 0, 0], [0, 0, 0, 0], [0, 5, 0, 0], [1, 1, 1, 1]],
              [[1, 1, 1, 1], [0, 0, 0, 0], [0, 5, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1]]),
             ([[0, 0, 0], [2, 2, 2], [0, 0, 4], [0, 0, 0], [0, 0, 0], [2, 2, 2]],
              [[0, 0, 0], [2, 2, 2], [0, 0, 0], [0, 0, 4], [0, 0, 0], [2, 2, 2]])]
    fitted = fits(A.learn_mark_centre, pairs)
    assert fitted is not None and "'across'" in fitted.text
    test = G([[3, 0, 0, 0, 3], [3, 0, 0, 0, 3], [3, 0, 0, 0, 3], [3, 7, 0, 0, 3]])
    assert fitted.apply(test).tolist() == [[3, 0, 0, 0, 3], [3, 0, 0, 0, 3], [3, 0, 0, 0, 3], [3, 0, 7, 0, 3]]


def test_mark_centre_declines_an_off_centre_mark():
    """A mark beside the centre is no centre."""
    pairs = [([[0] * 3] * 3, [[0, 0, 0], [2, 0, 0], [0, 0, 0]]), ([[0] * 5] * 5, [[0] * 5, [0] * 5, [2, 0, 0, 0, 0], [0] * 5, [0] * 5])]
    assert fits(A.learn_mark_centre, pairs) is None


# ---------------------------------------------------------------- shapes copied onto markers of their colour


def test_stamp_by_colour_copies_each_colours_shape_centred_on_its_markers():
    """A plus of 2 and a cross of 3: each lone cell becomes its colour's shape, centred on it."""
    plus, cross = [[0, 2, 0], [2, 2, 2], [0, 2, 0]], [[3, 0, 3], [0, 3, 0], [3, 0, 3]]

    def grid(shapes, markers, shape=(9, 9)):
        g = np.zeros(shape, dtype=np.int8)
        for s, (y, x) in shapes:
            g[y - 1:y + 2, x - 1:x + 2] = s
        for c, (y, x) in markers:
            g[y, x] = c
        return g

    a = grid([(plus, (1, 1)), (cross, (1, 6))], [(2, (6, 6)), (3, (6, 1))])
    a_out = grid([(plus, (1, 1)), (cross, (1, 6)), (plus, (6, 6)), (cross, (6, 1))], [])
    b = grid([(cross, (4, 4))], [(3, (1, 1))], (6, 6))
    b_out = grid([(cross, (4, 4)), (cross, (1, 1))], [], (6, 6))
    fitted = A.learn_stamp_by_colour([a, b], [a_out, b_out])
    assert fitted is not None and "'centre'" in fitted.text
    c = grid([(plus, (7, 7))], [(2, (2, 2)), (2, (2, 6))])
    assert (fitted.apply(c) == grid([(plus, (7, 7)), (plus, (2, 2)), (plus, (2, 6))], [])).all()


def test_stamp_by_colour_declines_when_markers_stay():
    """A marker left alone is no copy."""
    a = G([[2, 2, 0, 0], [2, 2, 0, 0], [0, 0, 0, 0], [0, 0, 0, 2]])
    a_out = a.copy()
    a_out[0, 3] = 5
    assert A.learn_stamp_by_colour([a], [a_out]) is None


# ---------------------------------------------------------------- objects sorted along an axis


def test_sort_objects_by_size_along_the_row():
    """Objects put in order of size, smallest first, the gaps between them kept in their order."""
    pairs = [([[1, 1, 1, 0, 2, 0, 3, 3], [1, 1, 1, 0, 0, 0, 3, 3]],
              [[2, 0, 3, 3, 0, 1, 1, 1], [0, 0, 3, 3, 0, 1, 1, 1]]),
             ([[4, 4, 0, 5, 5, 5, 5, 0, 6]], [[6, 0, 4, 4, 0, 5, 5, 5, 5]])]
    fitted = fits(A.learn_sort_objects, pairs)
    assert fitted is not None and "'size'" in fitted.text
    assert fitted.apply(G([[7, 7, 0, 0, 8, 0, 9, 9, 9]])).tolist() == [[8, 0, 0, 7, 7, 0, 9, 9, 9]]


def test_sort_objects_declines_when_the_order_is_no_sort():
    """Swapped neighbours that no property orders the same way in both pairs."""
    pairs = [([[1, 0, 2, 2]], [[2, 2, 0, 1]]), ([[3, 3, 0, 4]], [[4, 0, 3, 3]])]
    assert fits(A.learn_sort_objects, pairs) is None


# ---------------------------------------------------------------- colours listed in order


def test_colour_sequence_reads_nested_shapes_outside_in():
    """The colours of nested frames from the outside in, as a row."""
    a = _frame(5, 5, (0, 0), 5, (5, 5)) + _frame(3, 3, (1, 1), 3, (5, 5))
    a[2, 2] = 2
    b = _frame(4, 4, (1, 1), 4, (6, 6)) + _frame(2, 2, (2, 2), 1, (6, 6))
    fitted = A.learn_colour_sequence([a, b], [G([[5, 3, 2]]), G([[4, 1]])])
    assert fitted is not None and "'rows'" in fitted.text
    c = _frame(3, 3, (0, 0), 7, (3, 3))
    c[1, 1] = 8
    assert fitted.apply(c).tolist() == [[7, 8]]


def test_colour_sequence_declines_an_unordered_list():
    """The same colours listed in two orders no reading gives."""
    pairs = [([[1, 2, 3]], [[2, 1, 3]]), ([[1, 2, 3]], [[3, 1, 2]])]
    assert fits(A.learn_colour_sequence, pairs) is None
