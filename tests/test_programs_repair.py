"""Repair rules (programs/repair_rules.py): each learner on small hand-made pairs, a new input, and a case it declines."""

import numpy as np

from arc24.programs import repair_rules as R
from learner_cases import G, fits


# ---------------------------------------------------------------- shapes completed by their symmetries

RING = [[0, 0, 0, 0, 0, 0, 0],
        [0, 2, 2, 2, 2, 2, 0],
        [0, 2, 0, 0, 0, 2, 0],
        [0, 2, 0, 0, 0, 2, 0],
        [0, 2, 2, 2, 2, 2, 0],
        [0, 0, 0, 0, 0, 0, 0]]
BROKEN_RING = [[0, 0, 0, 0, 0, 0, 0],
               [0, 2, 0, 0, 2, 2, 0],
               [0, 2, 0, 0, 0, 2, 0],
               [0, 2, 0, 0, 0, 2, 0],
               [0, 2, 2, 2, 2, 2, 0],
               [0, 0, 0, 0, 0, 0, 0]]
PLUS = [[0, 0, 0, 0, 0, 0],
        [0, 0, 3, 0, 0, 0],
        [0, 3, 4, 3, 0, 0],
        [0, 0, 3, 0, 0, 0],
        [0, 0, 0, 0, 0, 0]]
BROKEN_PLUS = [[0, 0, 0, 0, 0, 0],
               [0, 0, 3, 0, 0, 0],
               [0, 3, 4, 0, 0, 0],
               [0, 0, 3, 0, 0, 0],
               [0, 0, 0, 0, 0, 0]]


def test_complete_mirror_adds_missing_cells():
    f = fits(R.learn_complete_mirror, [(BROKEN_RING, RING), (BROKEN_PLUS, PLUS)])
    assert f is not None and "'add'" in f.text
    new = G(np.zeros((7, 8)))
    new[1:6, 2:7] = [[5, 5, 5, 5, 5], [5, 6, 6, 6, 5], [5, 6, 0, 6, 5], [5, 6, 6, 0, 5], [5, 5, 0, 5, 5]]
    want = new.copy()
    want[1:6, 2:7] = [[5, 5, 5, 5, 5], [5, 6, 6, 6, 5], [5, 6, 0, 6, 5], [5, 6, 6, 6, 5], [5, 5, 5, 5, 5]]
    assert (f.apply(new) == want).all()


def test_complete_mirror_cleans_specks():
    noisy = G(RING)
    noisy[1, 3] = 7  # on the ring: the mirror says 2
    noisy[3, 3] = 7  # inside: the mirror says background
    noisy[5, 0] = 8
    f = fits(R.learn_complete_mirror, [(noisy, RING), (G(RING), RING)])
    assert f is not None and "'clean'" in f.text
    plus = np.where(G(PLUS) > 0, 3, 0).astype(np.int8)  # a one-colour plus: a colour of one cell is a speck
    noisy = plus.copy()
    noisy[1, 2], noisy[0, 5] = 9, 9
    assert (f.apply(noisy) == plus).all()


def test_complete_mirror_declines_an_asymmetric_change():
    out = G(BROKEN_RING)
    out[1, 2] = 2  # one missing cell added, the other left: no symmetry says that
    assert fits(R.learn_complete_mirror, [(BROKEN_RING, out)]) is None


# ---------------------------------------------------------------- shapes squared to their boxes


def test_box_shapes_fills_boxes_and_erases_specks():
    g = G([[0, 0, 0, 0, 0, 0, 0],
           [0, 4, 4, 0, 0, 0, 5],
           [0, 4, 0, 0, 0, 0, 0],
           [0, 4, 4, 4, 0, 0, 0],
           [0, 0, 0, 0, 3, 3, 0],
           [5, 0, 0, 0, 3, 0, 0]])
    o = G([[0, 0, 0, 0, 0, 0, 0],
           [0, 4, 4, 4, 0, 0, 0],
           [0, 4, 4, 4, 0, 0, 0],
           [0, 4, 4, 4, 0, 0, 0],
           [0, 0, 0, 0, 3, 3, 0],
           [0, 0, 0, 0, 3, 3, 0]])
    f = fits(R.learn_box_shapes, [(g, o)])
    assert f is not None and "'fill'" in f.text
    new = G([[6, 6, 0, 0, 0], [6, 0, 0, 1, 0], [0, 0, 0, 0, 0], [0, 2, 0, 2, 0], [0, 2, 2, 0, 0]])
    want = G([[6, 6, 0, 0, 0], [6, 6, 0, 0, 0], [0, 0, 0, 0, 0], [0, 2, 2, 2, 0], [0, 2, 2, 2, 0]])
    assert (f.apply(new) == want).all()


def test_box_shapes_outlines_a_broken_frame():
    g = G([[0, 0, 0, 0, 0, 0], [0, 1, 0, 1, 1, 0], [0, 1, 0, 0, 0, 0], [0, 1, 1, 0, 1, 0], [0, 0, 0, 0, 0, 0]])
    o = G([[0, 0, 0, 0, 0, 0], [0, 1, 1, 1, 1, 0], [0, 1, 0, 0, 1, 0], [0, 1, 1, 1, 1, 0], [0, 0, 0, 0, 0, 0]])
    f = fits(R.learn_box_shapes, [(g, o)])
    assert f is not None and "'outline'" in f.text
    new = G([[7, 0, 0, 7], [0, 0, 0, 0], [0, 0, 0, 0], [7, 0, 7, 7]])
    assert (f.apply(new) == G([[7, 7, 7, 7], [7, 0, 0, 7], [7, 0, 0, 7], [7, 7, 7, 7]])).all()


def test_box_shapes_declines_a_shape_left_unboxed():
    g = G([[1, 1, 0], [1, 0, 0], [0, 0, 0]])
    o = G([[1, 1, 0], [1, 1, 0], [0, 0, 2]])  # a new cell no box explains
    assert fits(R.learn_box_shapes, [(g, o)]) is None


# ---------------------------------------------------------------- noisy patterns


def test_repair_pattern_outvotes_noise():
    clean = G([[1, 2, 1, 2, 1, 2], [3, 3, 3, 3, 3, 3]] * 3)
    noisy = clean.copy()
    noisy[0, 1], noisy[3, 4], noisy[4, 0] = 5, 1, 3
    f = fits(R.learn_repair_pattern, [(noisy, clean)])
    assert f is not None
    new = G([[4, 4, 4, 4, 4], [6, 7, 6, 7, 6]] * 3)
    want = new.copy()
    new[1, 1], new[2, 3] = 6, 9
    assert (f.apply(new) == want).all()


def test_repair_pattern_declines_a_changed_pattern():
    g = G([[1, 2, 1, 2], [1, 2, 1, 2]])
    assert fits(R.learn_repair_pattern, [(g, G([[2, 1, 2, 1], [2, 1, 2, 1]]))]) is None
