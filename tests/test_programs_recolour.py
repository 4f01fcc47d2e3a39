"""Recolour rules (programs/recolour_rules.py): each learner on small hand-made pairs, a case it declines."""

import numpy as np

from arc24.programs import recolour_rules as R
from learner_cases import G, fits


# ---------------------------------------------------------------- depth


def test_depth_counts_rings_from_the_rim():
    """A 5x5 block is rim 1, then 2, then its centre 3; background around it is its own region."""
    g = np.zeros((7, 7), dtype=np.int8)
    g[1:6, 1:6] = 1
    d = R.depth(g, diagonal=False)
    assert d[1, 1] == 1 and d[2, 2] == 2 and d[3, 3] == 3 and d[2, 3] == 2
    assert d[0, 0] == 1 and d[3, 0] == 1


def test_depth_recolour_paints_layers_and_generalises():
    """Rims kept, the next ring 2, the centre 3, learned from two squares and applied to a third."""
    a = G([[0, 0, 0, 0, 0], [0, 1, 1, 1, 0], [0, 1, 1, 1, 0], [0, 1, 1, 1, 0], [0, 0, 0, 0, 0]])
    a_out = G([[0, 0, 0, 0, 0], [0, 1, 1, 1, 0], [0, 1, 2, 1, 0], [0, 1, 1, 1, 0], [0, 0, 0, 0, 0]])
    b = np.zeros((7, 7), dtype=np.int8)
    b[1:6, 1:6] = 1
    b_out = b.copy()
    b_out[2:5, 2:5] = 2
    b_out[3, 3] = 3
    fitted = R.learn_depth_recolour([a, b], [a_out, b_out])
    assert fitted is not None and "depth_recolour" in fitted.text
    test = np.zeros((6, 8), dtype=np.int8)
    test[0:5, 1:6] = 1
    out = fitted.apply(test)
    assert out[0, 1] == 1 and out[1, 2] == 2 and out[2, 3] == 3 and out[5, 0] == 0


def test_depth_recolour_leaves_hollowing_to_hollow():
    """A rim kept round an emptied inside is `hollow`'s, not a layered recolouring."""
    a = np.zeros((5, 5), dtype=np.int8)
    a[1:4, 1:4] = 2
    a_out = a.copy()
    a_out[2, 2] = 0
    assert R.learn_depth_recolour([a], [a_out]) is None


# ---------------------------------------------------------------- the colour a line holds


def test_line_colour_takes_the_rows_other_colour():
    """Grey cells turn to the one other colour in their row."""
    pairs = [([[8, 0, 5, 5], [2, 5, 0, 0]], [[8, 0, 8, 8], [2, 2, 0, 0]]),
             ([[3, 5, 0, 0], [0, 0, 0, 0]], [[3, 3, 0, 0], [0, 0, 0, 0]])]
    fitted = fits(R.learn_line_colour, pairs)
    assert fitted is not None and "'rows'" in fitted.text
    assert fitted.apply(G([[5, 0, 4], [0, 0, 0], [7, 5, 5]])).tolist() == [[4, 0, 4], [0, 0, 0], [7, 7, 7]]


def test_line_colour_declines_when_two_colours_move():
    """Only one colour's cells may change."""
    pairs = [([[8, 0, 5, 6]], [[8, 0, 8, 8]])]
    assert fits(R.learn_line_colour, pairs) is None


# ---------------------------------------------------------------- checkerboards


def test_checker_inside_a_rectangle():
    """A solid 4x5 rectangle keeps its rim; its inside alternates with the background."""
    g = np.zeros((6, 7), dtype=np.int8)
    g[1:5, 1:6] = 2
    out = R.checker_inside(g, 0, 0)
    assert out[1].tolist() == [0, 2, 2, 2, 2, 2, 0]
    assert out[2].tolist() == [0, 2, 0, 2, 0, 2, 0]
    assert out[3].tolist() == [0, 2, 2, 0, 2, 2, 0]
    fitted = R.learn_checker_inside([g], [out])
    assert fitted is not None and fitted.text.endswith(", 0)")


def test_checker_inside_declines_painting():
    """A change to a colour other than background is not a checkerboard."""
    g = np.zeros((5, 5), dtype=np.int8)
    g[0:5, 0:5] = 2
    o = g.copy()
    o[2, 2] = 3
    assert R.learn_checker_inside([g], [o]) is None
