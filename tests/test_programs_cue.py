"""Cue rules (programs/cue_rules.py): each learner on small hand-made pairs, a new input, and a case it declines."""

from arc24.programs import cue_rules as R
from learner_cases import G, fits


# ---------------------------------------------------------------- colours swapped by a key in the grid

SWAP_BY_KEY = [
    ([[1, 2, 0, 0, 0], [3, 4, 0, 0, 0], [0, 0, 0, 1, 3], [0, 0, 2, 4, 0]],
     [[1, 2, 0, 0, 0], [3, 4, 0, 0, 0], [0, 0, 0, 2, 4], [0, 0, 1, 3, 0]]),
    ([[5, 6, 0, 0], [7, 8, 0, 0], [0, 0, 0, 0], [0, 6, 5, 8]],
     [[5, 6, 0, 0], [7, 8, 0, 0], [0, 0, 0, 0], [0, 5, 6, 7]]),
]


def test_legend_recolour_swaps_the_pairs_of_a_new_key():
    """The key's rows pair colours, swapped both ways; a new grid's own key is read, not the train pairs' colours."""
    fitted = fits(R.learn_legend_recolour, SWAP_BY_KEY)
    assert fitted is not None and "'rows', 'swap'" in fitted.text
    test = G([[0, 0, 0, 0, 0], [0, 0, 0, 9, 3], [0, 0, 0, 1, 2], [2, 0, 0, 0, 0], [3, 9, 1, 0, 0]])
    assert fitted.apply(test).tolist() == [[0, 0, 0, 0, 0], [0, 0, 0, 9, 3], [0, 0, 0, 1, 2], [1, 0, 0, 0, 0],
                                           [9, 3, 2, 0, 0]]


def test_legend_recolour_declines_a_fixed_colour_map():
    """The colours change the same way whatever the grid holds, with no key: not this rule."""
    pairs = [([[1, 0], [0, 1]], [[2, 0], [0, 2]]), ([[0, 1, 1]], [[0, 2, 2]])]
    assert fits(R.learn_legend_recolour, pairs) is None


# ---------------------------------------------------------------- shapes mirrored across a line

MIRROR_SWAPPED = [
    ([[0, 2, 3], [0, 0, 2], [1, 1, 1], [0, 0, 0], [0, 0, 0]],
     [[0, 3, 2], [0, 0, 3], [1, 1, 1], [0, 0, 2], [0, 2, 3]]),
    ([[0, 0, 0, 5, 0, 0, 0], [0, 0, 0, 5, 0, 4, 6]],
     [[0, 0, 0, 5, 0, 0, 0], [6, 4, 0, 5, 0, 6, 4]]),
]


def test_mirror_across_line_copies_each_shape_to_the_other_side():
    """The copy keeps the colours, the original has its two colours swapped, across a row or a column."""
    fitted = fits(R.learn_mirror_across_line, MIRROR_SWAPPED)
    assert fitted is not None and "'swap', 'keep'" in fitted.text
    test = G([[0, 0, 0, 0], [8, 8, 8, 8], [0, 7, 9, 0]])
    assert fitted.apply(test).tolist() == [[0, 7, 9, 0], [8, 8, 8, 8], [0, 9, 7, 0]]


def test_mirror_across_line_declines_a_copy_beside_the_shape():
    """The copy lands beside the shape, not at its reflection across the line."""
    pairs = [([[0, 0, 0], [1, 1, 1], [2, 0, 0]], [[0, 0, 0], [1, 1, 1], [2, 2, 0]]),
             ([[3, 0], [4, 4], [0, 0]], [[3, 3], [4, 4], [0, 0]])]
    assert fits(R.learn_mirror_across_line, pairs) is None


# ---------------------------------------------------------------- sequences of objects continued

STAIRS = [
    ([[1, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0]],
     [[1, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 2, 0],
      [0, 0, 0, 0, 0, 0]]),
    ([[0, 1, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0]],
     [[0, 1, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 2]]),
]


def test_continue_sequence_carries_the_step_to_the_edge():
    """Two cells one step apart are continued with that step, in the new colour, on a grid with another step."""
    fitted = fits(R.learn_continue_sequence, STAIRS)
    assert fitted is not None and "continue_sequence" in fitted.text
    test = G([[0] * 7, [1, 0, 0, 0, 0, 0, 0], [0] * 7, [0, 1, 0, 0, 0, 0, 0], [0] * 7, [0] * 7, [0] * 7])
    out = fitted.apply(test)
    assert out[5, 2] == 2 and out[(out == 2)].size == 1


def test_continue_sequence_cycles_the_colours():
    """Stripes of two colours go on alternating to the edge."""
    pairs = [([[2, 0, 8, 0, 0, 0, 0]], [[2, 0, 8, 0, 2, 0, 8]]), ([[0, 3, 0, 0, 4, 0, 0, 0, 0, 0]],
                                                                   [[0, 3, 0, 0, 4, 0, 0, 3, 0, 0]])]
    fitted = fits(R.learn_continue_sequence, pairs)
    assert fitted is not None and "'cycle'" in fitted.text
    assert fitted.apply(G([[5, 6, 0, 0, 0]])).tolist() == [[5, 6, 5, 6, 5]]


def test_continue_sequence_declines_uneven_steps():
    """The objects are not evenly spaced: no one step to carry on."""
    pairs = [([[1, 1, 0, 1, 0, 0, 0, 0]], [[1, 1, 0, 1, 0, 0, 1, 0]]),
             ([[1, 0, 0, 1, 1, 0, 0, 0]], [[1, 0, 0, 1, 1, 0, 0, 1]])]
    assert fits(R.learn_continue_sequence, pairs) is None
