"""Paint rules (programs/paint_rules.py): each learner on small hand-made pairs, a new input, and a case it declines."""

import numpy as np

from arc24.programs import paint_rules as P
from learner_cases import G, fits


# ---------------------------------------------------------------- a template stamped on markers

T = [[1, 2, 1], [2, 3, 2], [1, 2, 1]]  # a 3x3 template, centre 3


def _grid_with(shape, template_at, markers, colour=5):
    g = np.zeros(shape, dtype=np.int8)
    y, x = template_at
    g[y:y + 3, x:x + 3] = T
    for my, mx in markers:
        g[my, mx] = colour
    return g


def _stamped(g, markers):
    out = g.copy()
    for my, mx in markers:
        out[my - 1:my + 2, mx - 1:mx + 2] = T
    return out


def test_stamp_template_copies_onto_each_marker_and_generalises():
    """The template's centre lands on each grey marker, learned from two grids, applied to a third with two markers."""
    a = _grid_with((8, 8), (0, 0), [(5, 5)])
    b = _grid_with((9, 7), (5, 3), [(1, 1)])
    fitted = P.learn_stamp_template([a, b], [_stamped(a, [(5, 5)]), _stamped(b, [(1, 1)])])
    assert fitted is not None and "'centre'" in fitted.text
    c = _grid_with((10, 10), (0, 6), [(5, 2), (7, 7)])
    assert (fitted.apply(c) == _stamped(c, [(5, 2), (7, 7)])).all()


def test_stamp_template_anchors_on_its_cell_of_the_marker_colour():
    """A template holding one grey cell is copied with that cell on the marker, the grey left out."""
    a = G([[1, 5, 0, 0, 0], [1, 1, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 5, 0], [0, 0, 0, 0, 0]])
    a_out = G([[1, 5, 0, 0, 0], [1, 1, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 1, 1, 0]])
    b = G([[0, 0, 0, 0], [0, 5, 0, 0], [0, 0, 0, 0], [0, 0, 1, 5], [0, 0, 1, 1]])
    b_out = G([[0, 0, 0, 0], [1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 1, 5], [0, 0, 1, 1]])
    fitted = P.learn_stamp_template([a, b], [a_out, b_out])
    assert fitted is not None and "'colour', 'drop'" in fitted.text
    c = G([[0, 0, 0, 1, 5], [0, 0, 0, 1, 1], [0, 0, 0, 0, 0], [0, 5, 0, 0, 0], [0, 0, 0, 0, 0]])
    assert fitted.apply(c).tolist() == [[0, 0, 0, 1, 5], [0, 0, 0, 1, 1], [0, 0, 0, 0, 0], [1, 0, 0, 0, 0], [1, 1, 0, 0, 0]]


def test_stamp_template_declines_what_it_cannot_paint():
    """A marker that merely changes colour is no stamp."""
    a = _grid_with((8, 8), (0, 0), [(5, 5)])
    out = a.copy()
    out[5, 5] = 7
    assert P.learn_stamp_template([a], [out]) is None


# ---------------------------------------------------------------- holes filled by what they are


def _box(shape, top, left, h, w, colour=1):
    g = np.zeros(shape, dtype=np.int8)
    g[top:top + h, left:left + w] = colour
    g[top + 1:top + h - 1, left + 1:left + w - 1] = 0
    return g


def test_holes_are_background_cut_off_from_the_edge():
    g = _box((6, 6), 1, 1, 4, 4)
    found = P.holes(g, 0)
    assert len(found) == 1 and found[0].size == 4


def test_fill_holes_by_squareness_generalises():
    """Square holes filled red, other holes left, learned from boxes and applied to new ones."""
    a = _box((12, 12), 0, 0, 4, 4) | _box((12, 12), 5, 5, 4, 6)  # a 2x2 hole and a 2x4 one
    a_out = a.copy()
    a_out[1:3, 1:3] = 2
    b = _box((12, 12), 1, 6, 5, 5) | _box((12, 12), 7, 0, 3, 5)  # a 3x3 hole and a 1x3 one
    b_out = b.copy()
    b_out[2:5, 7:10] = 2
    fitted = P.learn_fill_holes([a, b], [a_out, b_out])
    assert fitted is not None and "'is_square'" in fitted.text
    c = _box((14, 14), 0, 0, 6, 6) | _box((14, 14), 8, 2, 4, 8)  # a 4x4 hole and a 2x6 one
    expected = c.copy()
    expected[1:5, 1:5] = 2
    assert (fitted.apply(c) == expected).all()


def test_fill_holes_declines_a_hole_painted_in_two_colours():
    a = _box((6, 6), 0, 0, 5, 4)
    a_out = a.copy()
    a_out[1, 1:3] = 2
    a_out[2:4, 1:3] = 3
    assert P.learn_fill_holes([a], [a_out]) is None


def test_fill_holes_declines_one_colour_for_every_hole():
    """Every hole filled alike is fill_enclosed's, not a table's."""
    a = _box((6, 6), 0, 0, 4, 4)
    a_out = a.copy()
    a_out[1:3, 1:3] = 2
    assert P.learn_fill_holes([a], [a_out]) is None


# ---------------------------------------------------------------- objects joined centre to centre

PLUS = [[0, 3, 0], [3, 3, 3], [0, 3, 0]]


def _with_pluses(shape, corners):
    g = np.zeros(shape, dtype=np.int8)
    for y, x in corners:
        g[y:y + 3, x:x + 3] |= np.array(PLUS, dtype=np.int8)
    return g


def test_connect_objects_joins_twins_in_a_row_and_generalises():
    """Pluses in one row are joined arm to arm with red, learned from two grids and applied to a column."""
    a = _with_pluses((5, 12), [(1, 0), (1, 8)])
    a_out = a.copy()
    a_out[2, 3:8] = 2
    b = _with_pluses((9, 9), [(0, 0), (6, 6)])  # on a diagonal: left alone in the straight rule
    b2 = _with_pluses((3, 9), [(0, 0), (0, 5)])
    b2_out = b2.copy()
    b2_out[1, 3:5] = 2
    fitted = P.learn_connect_objects([a, b, b2], [a_out, b, b2_out])
    assert fitted is not None and "'straight'" in fitted.text
    c = _with_pluses((10, 5), [(0, 1), (7, 1)])
    expected = c.copy()
    expected[3:7, 2] = 2
    assert (fitted.apply(c) == expected).all()


def test_connect_objects_declines_a_line_that_is_not_between_objects():
    a = _with_pluses((5, 12), [(1, 0), (1, 8)])
    a_out = a.copy()
    a_out[0, 3:8] = 2
    assert P.learn_connect_objects([a], [a_out]) is None
