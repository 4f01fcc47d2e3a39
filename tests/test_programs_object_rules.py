"""Object rules (programs/object_rules.py): each learner on small hand-made pairs, a case it declines, one search."""

import numpy as np

from arc24.data.task import Pair, Task
from arc24.programs import object_rules as R
from arc24.programs.search import SearchBudget, search


def G(rows):
    return np.array(rows, dtype=np.int8)


def fits(learner, pairs):
    return learner([G(a) for a, _ in pairs], [G(b) for _, b in pairs])


def test_learners_are_listed_and_slow():
    assert {rule.name for rule in R.LEARNERS} == {"move_objects", "recolour_by_relation", "draw_rays",
                                                  "connect_pairs", "box_objects", "crop_picked"}
    assert all(rule.cost == 2 and not rule.on_every_state for rule in R.LEARNERS)
    assert R.PRIMITIVES == []


# ---------------------------------------------------------------- move


def test_move_by_colour():
    pairs = [([[1, 0, 0, 0], [0, 0, 2, 0], [0, 0, 0, 0]], [[0, 1, 0, 0], [0, 0, 0, 0], [0, 0, 2, 0]]),
             ([[0, 0, 0, 0], [2, 0, 1, 0], [0, 0, 0, 0]], [[0, 0, 0, 0], [0, 0, 0, 1], [2, 0, 0, 0]])]
    fitted = fits(R.learn_move_objects, pairs)
    assert fitted is not None and "move_objects" in fitted.text
    test = G([[0, 0, 0, 2], [0, 0, 0, 0], [1, 0, 0, 0]])
    assert fitted.apply(test).tolist() == [[0, 0, 0, 0], [0, 0, 0, 2], [0, 1, 0, 0]]


def test_slide_until_it_meets_something():
    pairs = [([[0, 0, 0, 0, 0], [1, 0, 0, 0, 3], [0, 0, 0, 0, 0]], [[0, 0, 0, 0, 0], [0, 0, 0, 1, 3], [0, 0, 0, 0, 0]]),
             ([[1, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]], [[0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0]])]
    fitted = fits(R.learn_move_objects, pairs)
    assert fitted is not None and "slide_objects" in fitted.text
    out = fitted.apply(G([[1, 0, 3, 0, 0, 0], [0, 1, 0, 0, 0, 0]]))
    assert out.tolist() == [[0, 1, 3, 0, 0, 0], [0, 0, 0, 0, 0, 1]]


def test_slides_stack_nearest_first():
    g = G([[0, 0], [1, 0], [0, 0], [1, 0]])
    objs = R.objects(g, "4", 0)
    assert R._slide_all(g, objs, ["up", "up"], 0).tolist() == [[1, 0], [1, 0], [0, 0], [0, 0]]
    assert R._slide_all(g, objs, ["down", "down"], 0).tolist() == [[0, 0], [0, 0], [1, 0], [1, 0]]


def test_move_declines_when_counts_change():
    pairs = [([[1, 0], [0, 0]], [[1, 1], [0, 0]])]
    assert fits(R.learn_move_objects, pairs) is None
    assert fits(R.learn_move_objects, [([[1, 0]], [[1, 0, 0]])]) is None


# ---------------------------------------------------------------- recolour


RING = [[1, 1, 1], [1, 0, 1], [1, 1, 1]]


def test_recolour_by_holes():
    pad = [[0] * 6] * 3
    a = [[1, 1, 1, 0, 1, 1], [1, 0, 1, 0, 1, 1], [1, 1, 1, 0, 0, 0]] + pad
    b = [[2, 2, 2, 0, 1, 1], [2, 0, 2, 0, 1, 1], [2, 2, 2, 0, 0, 0]] + pad
    c = [[1, 1, 0, 1, 1, 1], [1, 1, 0, 1, 0, 1], [0, 0, 0, 1, 1, 1]] + pad
    d = [[1, 1, 0, 2, 2, 2], [1, 1, 0, 2, 0, 2], [0, 0, 0, 2, 2, 2]] + pad
    fitted = fits(R.learn_recolour_by_relation, [(a, b), (c, d)])
    assert fitted is not None and ("'holes'" in fitted.text or "'has_hole'" in fitted.text)
    e = [[1, 1, 1, 0, 0], [1, 0, 1, 0, 1], [1, 1, 1, 0, 0], [0, 0, 0, 0, 0]]
    assert fitted.apply(G(e)).tolist() == [[2, 2, 2, 0, 0], [2, 0, 2, 0, 1], [2, 2, 2, 0, 0], [0, 0, 0, 0, 0]]


def test_recolour_to_marker():
    a = [[5, 5, 5, 0, 0], [5, 3, 5, 0, 0], [0, 0, 0, 0, 0]]
    b = [[3, 3, 3, 0, 0], [3, 3, 3, 0, 0], [0, 0, 0, 0, 0]]
    c = [[0, 0, 0, 0, 0], [0, 5, 5, 0, 0], [0, 5, 4, 0, 0]]
    d = [[0, 0, 0, 0, 0], [0, 4, 4, 0, 0], [0, 4, 4, 0, 0]]
    fitted = fits(R.learn_recolour_by_relation, [(a, b), (c, d)])
    assert fitted is not None and "recolour_to_marker" in fitted.text
    assert fitted.apply(G([[5, 5, 0], [7, 5, 0], [0, 0, 0]])).tolist() == [[7, 7, 0], [7, 7, 0], [0, 0, 0]]


def test_recolour_to_twin():
    a = [[1, 1, 0, 0, 0], [0, 0, 0, 4, 4], [0, 0, 0, 0, 0], [1, 0, 0, 0, 0], [1, 0, 6, 0, 0], [0, 0, 6, 0, 0]]
    b = [[4, 4, 0, 0, 0], [0, 0, 0, 4, 4], [0, 0, 0, 0, 0], [6, 0, 0, 0, 0], [6, 0, 6, 0, 0], [0, 0, 6, 0, 0]]
    fitted = fits(R.learn_recolour_by_relation, [(a, b)])
    assert fitted is not None and fitted.text.startswith("recolour_to_twin")


def test_recolour_declines_when_background_changes():
    assert fits(R.learn_recolour_by_relation, [([[1, 0], [0, 0]], [[1, 2], [0, 0]])]) is None


# ---------------------------------------------------------------- lines


def test_draw_rays_diagonal_until_obstacle():
    a = [[0, 0, 0, 0], [0, 0, 4, 0], [0, 0, 0, 0], [3, 0, 0, 0]]
    b = [[0, 0, 0, 0], [0, 0, 4, 0], [0, 3, 0, 0], [3, 0, 0, 0]]
    a2 = [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [3, 0, 0, 0]]
    b2 = [[0, 0, 0, 3], [0, 0, 3, 0], [0, 3, 0, 0], [3, 0, 0, 0]]
    fitted = fits(R.learn_draw_rays, [(a, b), (a2, b2)])
    assert fitted is not None and "up_right" in fitted.text
    assert fitted.apply(G([[0, 0, 0], [0, 0, 0], [0, 3, 0]])).tolist() == [[0, 0, 0], [0, 0, 3], [0, 3, 0]]


def test_draw_rays_declines_when_cells_change():
    assert fits(R.learn_draw_rays, [([[1, 0], [0, 0]], [[2, 0], [0, 0]])]) is None


def test_connect_pairs_diagonal_and_vertical_first():
    a = [[2, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 2]]
    b = [[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0], [0, 0, 0, 2]]
    fitted = fits(R.learn_connect_pairs, [(a, b)])
    assert fitted is not None and "d" in fitted.text.split("'")[1]
    a = [[0, 1, 0], [3, 0, 3], [0, 1, 0]]
    b = [[0, 1, 0], [3, 1, 3], [0, 1, 0]]
    fitted = fits(R.learn_connect_pairs, [(a, b)])
    assert fitted is not None and fitted.text.startswith("connect_pairs(x, 'v")


def test_connect_pairs_declines():
    assert fits(R.learn_connect_pairs, [([[1, 0, 0]], [[1, 1, 1]])]) is None


# ---------------------------------------------------------------- boxes


def test_box_frame_in_one_colour():
    a = [[0, 0, 0, 0], [0, 5, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    b = [[4, 4, 4, 0], [4, 5, 4, 0], [4, 4, 4, 0], [0, 0, 0, 0]]
    a2 = [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 5]]
    b2 = [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 4, 4], [0, 0, 4, 5]]
    fitted = fits(R.learn_box_objects, [(a, b), (a2, b2)])
    assert fitted is not None and "'frame'" in fitted.text


def test_box_fill_by_colour():
    a = [[1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    b = [[1, 7, 1, 0], [7, 1, 7, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    fitted = fits(R.learn_box_objects, [(a, b)])
    assert fitted is not None and "'fill'" in fitted.text
    assert fits(R.learn_box_objects, [(a, [[1, 7, 1, 0], [7, 1, 7, 0], [0, 0, 0, 0], [0, 0, 0, 7]])]) is None


# ---------------------------------------------------------------- crops


def test_crop_the_odd_one_out():
    a = [[1, 1, 0, 1, 1, 0, 2, 0],
         [1, 1, 0, 1, 1, 0, 2, 2],
         [0, 0, 0, 0, 0, 0, 0, 0]]
    a2 = [[3, 0, 0, 3, 3, 0, 3, 3],
          [3, 3, 0, 3, 3, 0, 3, 3],
          [0, 0, 0, 0, 0, 0, 0, 0]]
    fitted = fits(R.learn_crop_picked, [(a, [[2, 0], [2, 2]]), (a2, [[3, 0], [3, 3]])])
    assert fitted is not None and "'unique'" in fitted.text
    test = G([[4, 4, 0, 6, 0], [0, 4, 0, 6, 6]])
    with np.testing.assert_raises(ValueError):  # two shapes, each once: no odd one out
        fitted.apply(test)
    test = G([[4, 4, 0, 4, 4, 0, 4, 0], [4, 4, 0, 4, 4, 0, 4, 4]])
    assert fitted.apply(test).tolist() == [[4, 0], [4, 4]]


def test_crop_declines_on_same_shapes_and_missing_crops():
    assert fits(R.learn_crop_picked, [([[1, 0]], [[1, 0]])]) is None
    assert fits(R.learn_crop_picked, [([[1, 0, 2]], [[5]])]) is None


# ---------------------------------------------------------------- search


def test_search_solves_a_move_with_object_rules():
    def pair(a, b):
        return Pair(G(a), G(b))

    train = [pair([[0, 0, 0, 0, 0], [1, 1, 0, 0, 3], [0, 0, 0, 0, 0]], [[0, 0, 0, 0, 0], [0, 0, 1, 1, 3], [0, 0, 0, 0, 0]]),
             pair([[0, 0, 0, 0], [1, 0, 0, 3], [0, 0, 0, 0]], [[0, 0, 0, 0], [0, 0, 1, 3], [0, 0, 0, 0]])]
    test = [pair([[1, 0, 0, 0, 0, 3], [0, 0, 0, 0, 0, 0]], [[0, 0, 0, 0, 1, 3], [0, 0, 0, 0, 0, 0]])]
    task = Task("slide", train, test)
    from arc24.programs import grids, learners, local_rules, objects, parts

    modules = (grids, parts, objects, learners, local_rules, R)
    result = search(task, SearchBudget(seconds=10, max_depth=1),
                    primitives=[p for m in modules for p in m.PRIMITIVES],
                    learners=[rule for m in modules for rule in m.LEARNERS])
    answers = [s.answers[0] for s in result.attempts(0)]
    assert any((a == test[0].output).all() for a in answers if a.shape == test[0].output.shape)
