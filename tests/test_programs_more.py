"""More rules (programs/more_rules.py) and the objects' speck count: each learner on small hand-made pairs, a case it declines."""

import numpy as np

from arc24.programs import more_rules as M
from arc24.programs import objects as O
from learner_cases import G, fits


# ---------------------------------------------------------------- depth


def test_depth_counts_rings_from_the_rim():
    """A 5x5 block is rim 1, then 2, then its centre 3; background around it is its own region."""
    g = np.zeros((7, 7), dtype=np.int8)
    g[1:6, 1:6] = 1
    d = M.depth(g, diagonal=False)
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
    fitted = M.learn_depth_recolour([a, b], [a_out, b_out])
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
    assert M.learn_depth_recolour([a], [a_out]) is None


# ---------------------------------------------------------------- the colour a line holds


def test_line_colour_takes_the_rows_other_colour():
    """Grey cells turn to the one other colour in their row."""
    pairs = [([[8, 0, 5, 5], [2, 5, 0, 0]], [[8, 0, 8, 8], [2, 2, 0, 0]]),
             ([[3, 5, 0, 0], [0, 0, 0, 0]], [[3, 3, 0, 0], [0, 0, 0, 0]])]
    fitted = fits(M.learn_line_colour, pairs)
    assert fitted is not None and "'rows'" in fitted.text
    assert fitted.apply(G([[5, 0, 4], [0, 0, 0], [7, 5, 5]])).tolist() == [[4, 0, 4], [0, 0, 0], [7, 7, 7]]


def test_line_colour_declines_when_two_colours_move():
    """Only one colour's cells may change."""
    pairs = [([[8, 0, 5, 6]], [[8, 0, 8, 8]])]
    assert fits(M.learn_line_colour, pairs) is None


# ---------------------------------------------------------------- checkerboards


def test_checker_inside_a_rectangle():
    """A solid 4x5 rectangle keeps its rim; its inside alternates with the background."""
    g = np.zeros((6, 7), dtype=np.int8)
    g[1:5, 1:6] = 2
    out = M.checker_inside(g, 0, 0)
    assert out[1].tolist() == [0, 2, 2, 2, 2, 2, 0]
    assert out[2].tolist() == [0, 2, 0, 2, 0, 2, 0]
    assert out[3].tolist() == [0, 2, 2, 0, 2, 2, 0]
    fitted = M.learn_checker_inside([g], [out])
    assert fitted is not None and fitted.text.endswith(", 0)")


def test_checker_inside_declines_painting():
    """A change to a colour other than background is not a checkerboard."""
    g = np.zeros((5, 5), dtype=np.int8)
    g[0:5, 0:5] = 2
    o = g.copy()
    o[2, 2] = 3
    assert M.learn_checker_inside([g], [o]) is None


# ---------------------------------------------------------------- masked tiles


def test_masked_tile_on_the_least_frequent_colour():
    """The copy goes where the grid's rarest colour lies."""
    g = G([[9, 9, 6], [3, 8, 8], [8, 3, 3]])
    out = M.masked_tile(g, "least", False, 0)
    assert out.shape == (9, 9)
    assert (out[0:3, 6:9] == g).all() and (out[0:3, 0:6] == 0).all() and (out[3:9] == 0).all()
    fitted = M.learn_masked_tile([g], [out])
    assert fitted is not None and "'least'" in fitted.text


def test_masked_tile_swapped_copies():
    """Swapped copies: background and the one colour exchanged in each block."""
    g = G([[0, 7], [7, 7]])
    out = M.masked_tile(g, "fg", True, 0)
    assert out.tolist() == [[0, 0, 7, 0], [0, 0, 0, 0], [7, 0, 7, 0], [0, 0, 0, 0]]


def test_masked_tile_declines_other_shapes():
    """The output must be the grid's side squared."""
    g = G([[1, 0], [0, 1]])
    assert M.learn_masked_tile([g], [np.tile(g, (3, 3))]) is None


# ---------------------------------------------------------------- scaled by a count


def test_scale_by_count_of_colours():
    """Upscaled by how many colours the grid has: two colours double, three triple."""
    a, b = G([[1, 6], [6, 6]]), G([[4, 7], [8, 4]])
    pairs = [(a, np.kron(a, np.ones((2, 2), dtype=np.int8))), (b, np.kron(b, np.ones((3, 3), dtype=np.int8)))]
    fitted = M.learn_scale_by_count([p for p, _ in pairs], [q for _, q in pairs])
    assert fitted is not None and "'upscale', 'colours'" in fitted.text
    assert fitted.apply(G([[5]])).tolist() == [[5]]
    assert fitted.apply(G([[1, 2, 3, 4]])).shape == (4, 16)


def test_scale_by_count_declines_a_fixed_ratio():
    """One ratio in every pair is the plain upscale's."""
    a, b = G([[1, 6], [6, 6]]), G([[4, 7], [7, 4]])
    outs = [np.kron(a, np.ones((2, 2), dtype=np.int8)), np.kron(b, np.ones((2, 2), dtype=np.int8))]
    assert M.learn_scale_by_count([a, b], outs) is None


# ---------------------------------------------------------------- the objects' specks


def test_keep_objects_by_speck_count():
    """Objects with more than one speck of another colour are deleted, whatever their size."""
    empty = [[0] * 6] * 3  # background must be the commonest colour
    a = G([[1, 1, 0, 8, 1, 1], [1, 8, 0, 1, 1, 1], [1, 1, 0, 1, 1, 8]] + empty)
    a_out = G([[1, 1, 0, 0, 0, 0], [1, 8, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0]] + empty)
    b = G([[1, 1, 1, 0, 8, 1], [1, 8, 1, 0, 1, 1], [1, 1, 1, 0, 1, 8]] + empty)
    b_out = G([[1, 1, 1, 0, 0, 0], [1, 8, 1, 0, 0, 0], [1, 1, 1, 0, 0, 0]] + empty)
    assert O._properties(O.objects(a, "8m", 0))["n_minor"] == [1, 2]
    fitted = O.learn_keep_objects([a, b], [a_out, b_out])
    assert fitted is not None and "n_minor" in fitted.text
    test = G([[1, 8, 0, 1, 1], [1, 1, 0, 8, 1], [8, 1, 0, 1, 1]] + [[0] * 5] * 3)
    kept = G([[0, 0, 0, 1, 1], [0, 0, 0, 8, 1], [0, 0, 0, 1, 1]] + [[0] * 5] * 3)
    assert fitted.apply(test).tolist() == kept.tolist()
