"""Relation rules (programs/relation_rules.py): each learner on small hand-made pairs, a new input, and a case it declines."""

from arc24.programs import relation_rules as R
from learner_cases import G, fits


# ---------------------------------------------------------------- objects acted on by their place

BELOW_GOES = [  # everything below the full line of 2 is deleted, above stays
    ([[1, 0, 3, 0], [2, 2, 2, 2], [0, 3, 0, 1], [0, 3, 0, 0]],
     [[1, 0, 3, 0], [2, 2, 2, 2], [0, 0, 0, 0], [0, 0, 0, 0]]),
    ([[0, 0, 0, 0], [0, 4, 0, 0], [0, 0, 0, 0], [5, 5, 5, 5], [4, 0, 0, 4]],
     [[0, 0, 0, 0], [0, 4, 0, 0], [0, 0, 0, 0], [5, 5, 5, 5], [0, 0, 0, 0]]),
]


def test_place_objects_deletes_what_lies_below_the_line():
    """Learned from two grids with lines of different colours and rows, applied to a third."""
    fitted = fits(R.learn_place_objects, BELOW_GOES)
    assert fitted is not None and "line:rows" in fitted.text
    test = G([[3, 0, 0], [0, 0, 6], [7, 7, 7], [0, 6, 0]])
    assert fitted.apply(test).tolist() == [[3, 0, 0], [0, 0, 6], [7, 7, 7], [0, 0, 0]]


def test_place_objects_keeps_what_is_enclosed():
    """Frames and loose objects deleted, what a frame encloses kept."""
    frame = [[0, 0, 0, 0, 0, 0], [0, 1, 1, 1, 1, 0], [0, 1, 0, 0, 1, 0], [0, 1, 0, 3, 1, 0],
             [0, 1, 1, 1, 1, 0], [4, 0, 0, 0, 0, 0]]
    kept = [[0] * 6 for _ in range(6)]
    kept[3][3] = 3
    frame2 = [[5, 0, 0, 0, 0], [0, 2, 2, 2, 0], [0, 2, 6, 2, 0], [0, 2, 2, 2, 0], [0, 0, 0, 0, 5]]
    kept2 = [[0] * 5 for _ in range(5)]
    kept2[2][2] = 6
    fitted = fits(R.learn_place_objects, [(frame, kept), (frame2, kept2)])
    assert fitted is not None and "enclosed" in fitted.text
    test = G([[7, 0, 0, 0, 0], [0, 8, 8, 8, 0], [0, 8, 9, 8, 0], [0, 8, 8, 8, 0], [0, 0, 0, 0, 0]])
    assert fitted.apply(test).tolist() == [[0] * 5, [0] * 5, [0, 0, 9, 0, 0], [0] * 5, [0] * 5]


def test_place_objects_declines_one_action_for_all():
    """Every object deleted, wherever it lies: no place decides it."""
    pairs = [(a, [[v if v in (2, 5) else 0 for v in row] for row in a]) for a, _ in BELOW_GOES]
    assert fits(R.learn_place_objects, pairs) is None


# ---------------------------------------------------------------- rays that run into something

WALL = [
    ([[0, 0, 0, 5, 0], [3, 0, 0, 5, 0], [0, 0, 0, 5, 0], [0, 0, 0, 5, 3]],
     [[0, 0, 0, 5, 0], [3, 3, 3, 5, 0], [0, 0, 0, 5, 0], [0, 0, 0, 5, 3]]),
    ([[0, 0, 0, 0], [1, 1, 1, 1], [0, 0, 0, 0], [0, 6, 0, 0]],
     [[0, 0, 0, 0], [1, 1, 1, 1], [0, 6, 0, 0], [0, 6, 0, 0]]),
]


def test_rays_to_contact_draws_only_lines_that_meet_the_wall():
    """A cell's lines that run off the grid are not drawn; the one that meets the wall is, in a colour never seen."""
    fitted = fits(R.learn_rays_to_contact, WALL)
    assert fitted is not None and "minor" in fitted.text
    test = G([[0, 0, 0, 0, 0], [0, 0, 0, 0, 4], [2, 2, 2, 2, 2], [0, 0, 0, 0, 0]])
    assert fitted.apply(test).tolist() == [[0, 0, 0, 0, 0], [0, 0, 0, 0, 4], [2, 2, 2, 2, 2], [0, 0, 0, 0, 0]]
    test = G([[0, 0, 0, 0, 0], [0, 4, 0, 0, 0], [0, 0, 0, 0, 0], [2, 2, 2, 2, 2], [0, 0, 0, 0, 0]])
    assert fitted.apply(test)[:, 1].tolist() == [0, 4, 4, 2, 0]


def test_rays_to_contact_declines_lines_to_the_edge():
    """A line drawn to the grid's edge is no ray that meets something."""
    pairs = [([[0, 0, 0], [4, 0, 0], [0, 0, 0]], [[0, 0, 0], [4, 4, 4], [0, 0, 0]]),
             ([[0, 0, 0], [0, 0, 0], [7, 0, 0]], [[0, 0, 0], [0, 0, 0], [7, 7, 7]])]
    assert fits(R.learn_rays_to_contact, pairs) is None


# ---------------------------------------------------------------- a hidden shape raised

HIDDEN = [  # a bar under another bar, brought to the front
    ([[0, 2, 0, 0], [1, 2, 1, 1], [1, 2, 1, 1], [0, 2, 0, 0]],
     [[0, 2, 0, 0], [1, 1, 1, 1], [1, 1, 1, 1], [0, 2, 0, 0]]),
    ([[0, 0, 3, 0, 0], [0, 0, 3, 0, 0], [4, 4, 3, 4, 4], [0, 0, 3, 0, 0]],
     [[0, 0, 3, 0, 0], [0, 0, 3, 0, 0], [4, 4, 4, 4, 4], [0, 0, 3, 0, 0]]),
]


def test_raise_hidden_brings_the_hidden_bar_to_the_front():
    """The bar cut by another is painted whole over it, in a grid of new colours."""
    fitted = fits(R.learn_raise_hidden, HIDDEN)
    assert fitted is not None and "front" in fitted.text
    test = G([[0, 6, 6, 0], [0, 6, 6, 0], [5, 5, 5, 5], [0, 6, 6, 0]])
    assert fitted.apply(test).tolist() == [[0, 6, 6, 0], [0, 6, 6, 0], [5, 6, 6, 5], [0, 6, 6, 0]]


def test_raise_hidden_crops_the_hidden_shape():
    """The output is the hidden bar alone, its box cropped."""
    pairs = [(a, [[1, 1, 1, 1], [1, 1, 1, 1]]) for a, _ in HIDDEN[:1]] + [(HIDDEN[1][0], [[4, 4, 4, 4, 4]])]
    fitted = fits(R.learn_raise_hidden, pairs)
    assert fitted is not None and "crop" in fitted.text


def test_raise_hidden_declines_when_nothing_is_hidden():
    """Two bars side by side hide nothing."""
    pairs = [([[1, 1, 0, 2], [1, 1, 0, 2]], [[1, 1, 0, 1], [1, 1, 0, 1]])]
    assert fits(R.learn_raise_hidden, pairs) is None
