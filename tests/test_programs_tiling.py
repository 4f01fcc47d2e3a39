"""Tiling rules (programs/tiling_rules.py): each learner on small hand-made pairs, a case it declines."""

import numpy as np

from arc24.programs import tiling_rules as T
from learner_cases import G


# ---------------------------------------------------------------- masked tiles


def test_masked_tile_on_the_least_frequent_colour():
    """The copy goes where the grid's rarest colour lies."""
    g = G([[9, 9, 6], [3, 8, 8], [8, 3, 3]])
    out = T.masked_tile(g, "least", False, 0)
    assert out.shape == (9, 9)
    assert (out[0:3, 6:9] == g).all() and (out[0:3, 0:6] == 0).all() and (out[3:9] == 0).all()
    fitted = T.learn_masked_tile([g], [out])
    assert fitted is not None and "'least'" in fitted.text


def test_masked_tile_swapped_copies():
    """Swapped copies: background and the one colour exchanged in each block."""
    g = G([[0, 7], [7, 7]])
    out = T.masked_tile(g, "fg", True, 0)
    assert out.tolist() == [[0, 0, 7, 0], [0, 0, 0, 0], [7, 0, 7, 0], [0, 0, 0, 0]]


def test_masked_tile_declines_other_shapes():
    """The output must be the grid's side squared."""
    g = G([[1, 0], [0, 1]])
    assert T.learn_masked_tile([g], [np.tile(g, (3, 3))]) is None


# ---------------------------------------------------------------- scaled by a count


def test_scale_by_count_of_colours():
    """Upscaled by how many colours the grid has: two colours double, three triple."""
    a, b = G([[1, 6], [6, 6]]), G([[4, 7], [8, 4]])
    pairs = [(a, np.kron(a, np.ones((2, 2), dtype=np.int8))), (b, np.kron(b, np.ones((3, 3), dtype=np.int8)))]
    fitted = T.learn_scale_by_count([p for p, _ in pairs], [q for _, q in pairs])
    assert fitted is not None and "'upscale', 'colours'" in fitted.text
    assert fitted.apply(G([[5]])).tolist() == [[5]]
    assert fitted.apply(G([[1, 2, 3, 4]])).shape == (4, 16)


def test_scale_by_count_declines_a_fixed_ratio():
    """One ratio in every pair is the plain upscale's."""
    a, b = G([[1, 6], [6, 6]]), G([[4, 7], [7, 4]])
    outs = [np.kron(a, np.ones((2, 2), dtype=np.int8)), np.kron(b, np.ones((2, 2), dtype=np.int8))]
    assert T.learn_scale_by_count([a, b], outs) is None
