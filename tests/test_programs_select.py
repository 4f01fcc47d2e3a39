"""Select rules (programs/select_rules.py): each learner on small hand-made pairs, a new input, and a case it declines."""

from arc24.programs import select_rules as S
from learner_cases import G, fits


# ---------------------------------------------------------------- a picked colour

BIG_SMALL = [
    ([[1, 1, 1, 0, 0], [1, 1, 1, 0, 2], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]], [[1, 1], [1, 1]]),
    ([[0, 3, 0, 0, 0], [0, 0, 0, 4, 4], [0, 0, 0, 4, 4], [0, 0, 0, 4, 4]], [[4, 4], [4, 4]]),
]


def test_picked_colour_takes_the_largest_objects_colour():
    """A 2x2 of the colour of the largest object, learned from two grids, applied to a third."""
    fitted = fits(S.learn_picked_colour, BIG_SMALL)
    assert fitted is not None and "picked_colour" in fitted.text
    test = G([[5, 0, 0, 0], [0, 0, 6, 6], [0, 0, 6, 6], [0, 5, 0, 0], [0, 0, 0, 0]])
    assert fitted.apply(test).tolist() == [[6, 6], [6, 6]]


def test_picked_colour_keeps_a_fixed_template():
    """Cells that are the same in every output stay; the others take the picked colour."""
    pairs = [(a, [[b[0][0], 0], [0, b[0][0]]]) for a, b in BIG_SMALL]
    fitted = fits(S.learn_picked_colour, pairs)
    assert fitted is not None
    test = G([[5, 0, 0, 0], [0, 0, 6, 6], [0, 0, 6, 6], [0, 5, 0, 0], [0, 0, 0, 0]])
    assert fitted.apply(test).tolist() == [[6, 0], [0, 6]]


def test_picked_colour_declines_a_colour_no_rule_picks():
    """An output colour the input does not hold is no picked colour."""
    pairs = [(a, [[7, 7], [7, 7]]) for a, _ in BIG_SMALL[:1]] + [(BIG_SMALL[1][0], [[8, 8], [8, 8]])]
    assert fits(S.learn_picked_colour, pairs) is None


def test_picked_colour_declines_one_colour_everywhere():
    """The same answer for every pair is the constant's, not a rule's."""
    pairs = [(a, [[1]]) for a, _ in BIG_SMALL]
    pairs[1] = ([[1, 1, 0], [1, 0, 2], [0, 0, 0]], [[1]])
    assert fits(S.learn_picked_colour, pairs) is None


# ---------------------------------------------------------------- counts drawn as cells


def test_count_cells_draws_each_colours_objects_in_reading_order():
    """Objects of 3 then of 2, as that many cells in a 2x3 grid, read by rows."""
    pairs = [
        ([[3, 0, 3, 0], [0, 0, 0, 0], [2, 2, 0, 3]], [[3, 3, 3], [2, 0, 0]]),
        ([[3, 0, 2, 0], [0, 0, 0, 0], [2, 0, 2, 0]], [[3, 2, 2], [2, 0, 0]]),
    ]
    fitted = fits(S.learn_count_cells, pairs)
    assert fitted is not None and "count_cells" in fitted.text
    test = G([[3, 3, 0, 2], [0, 0, 0, 0], [3, 0, 3, 0], [0, 0, 0, 0]])
    assert fitted.apply(test).tolist() == [[3, 3, 3], [2, 0, 0]]


def test_count_cells_declines_when_no_count_matches():
    """Two cells of 1 for one object of 1 of one cell: neither its objects nor its cells."""
    pairs = [([[1, 0, 0], [0, 0, 0]], [[1, 1, 0]]), ([[1, 0, 1], [0, 0, 0]], [[1, 1, 1]])]
    assert fits(S.learn_count_cells, pairs) is None


def test_draw_counts_by_columns():
    """Runs fill the first column before the second."""
    assert S.draw_counts((2, 2), [(4, 3)], "columns", 0).tolist() == [[4, 4], [4, 0]]


# ---------------------------------------------------------------- one colour per part


def test_part_colours_between_separator_lines():
    """Each block between grey lines becomes one cell of its commonest colour but background."""
    pairs = [
        ([[1, 0, 5, 0, 0], [1, 1, 5, 2, 0], [5, 5, 5, 5, 5], [0, 3, 5, 0, 0], [0, 0, 5, 0, 4]], [[1, 2], [3, 4]]),
        ([[0, 0, 5, 6, 6], [7, 0, 5, 0, 0], [5, 5, 5, 5, 5], [0, 0, 5, 8, 0], [0, 1, 5, 0, 0]], [[7, 6], [1, 8]]),
    ]
    fitted = fits(S.learn_part_colours, pairs)
    assert fitted is not None and "'lines'" in fitted.text
    test = G([[0, 2, 5, 0, 0, 5, 3, 0], [0, 0, 5, 9, 0, 5, 0, 0], [5] * 8, [4, 0, 5, 0, 0, 5, 0, 0], [0, 0, 5, 0, 0, 5, 0, 6]])
    assert fitted.apply(test).tolist() == [[2, 9, 3], [4, 0, 6]]


def test_part_colours_of_uniform_blocks():
    """Blocks of repeated rows and columns, each one cell."""
    pairs = [([[1, 1, 2], [1, 1, 2], [3, 3, 4]], [[1, 2], [3, 4]]),
             ([[5, 6, 6], [7, 8, 8]], [[5, 6], [7, 8]])]
    fitted = fits(S.learn_part_colours, pairs)
    assert fitted is not None and "'blocks'" in fitted.text
    assert fitted.apply(G([[2, 2, 2, 9], [4, 4, 4, 1], [4, 4, 4, 1]])).tolist() == [[2, 9], [4, 1]]


def test_part_colours_declines_when_the_parts_do_not_make_the_output():
    """An output the parts' colours do not give."""
    pairs = [([[1, 1, 2], [1, 1, 2], [3, 3, 4]], [[4, 3], [2, 1]]),
             ([[5, 6, 6], [7, 8, 8]], [[8, 7], [6, 5]])]
    assert fits(S.learn_part_colours, pairs) is None
