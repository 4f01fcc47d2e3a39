"""Position rules (programs/position_rules.py): each learner on small hand-made pairs, a new input, and a case it declines."""

from arc24.programs import position_rules as P
from learner_cases import G, fits


# ---------------------------------------------------------------- objects moved to an edge or a wall

TO_EDGES = [
    ([[0, 0, 0, 0, 0, 0, 0], [0, 1, 0, 0, 2, 2, 0], [0, 1, 0, 0, 0, 0, 0]],
     [[0, 0, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 2, 2], [1, 0, 0, 0, 0, 0, 0]]),
    ([[0, 0, 3, 0, 0, 0], [0, 0, 0, 0, 4, 0], [0, 0, 0, 0, 0, 0]],
     [[3, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 4], [0, 0, 0, 0, 0, 0]]),
]


def test_move_to_boundary_sends_each_object_to_its_nearest_side():
    """Objects go left or right, whichever edge is nearer, on a grid they were never seen on."""
    fitted = fits(P.learn_move_to_boundary, TO_EDGES)
    assert fitted is not None and "edge:columns" in fitted.text
    test = G([[0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 5, 0, 0, 6, 6, 0]])
    assert fitted.apply(test).tolist() == [[0] * 8, [5, 0, 0, 0, 0, 0, 6, 6]]


def test_move_to_boundary_slides_toward_the_wall():
    """Every object but the largest slides straight toward it until it touches."""
    pairs = [
        ([[0, 0, 0, 0, 0], [0, 2, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [1, 1, 1, 1, 1]],
         [[0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 2, 0, 0, 0], [1, 1, 1, 1, 1]]),
        ([[3, 0, 0, 0, 0], [3, 0, 0, 4, 0], [3, 0, 0, 0, 0], [3, 0, 0, 0, 0]],
         [[3, 0, 0, 0, 0], [3, 4, 0, 0, 0], [3, 0, 0, 0, 0], [3, 0, 0, 0, 0]]),
    ]
    fitted = fits(P.learn_move_to_boundary, pairs)
    assert fitted is not None and "'wall'" in fitted.text
    test = G([[0, 0, 0, 6], [0, 0, 0, 6], [7, 0, 0, 6]])
    assert fitted.apply(test).tolist() == [[0, 0, 0, 6], [0, 0, 0, 6], [0, 0, 7, 6]]


def test_move_to_boundary_declines_a_move_no_rule_explains():
    """One object jumps to the far edge: no nearest edge or wall says that."""
    pairs = [([[0, 1, 0, 0, 0, 0]], [[0, 0, 0, 0, 0, 1]]), ([[0, 0, 0, 0, 2, 0]], [[2, 0, 0, 0, 0, 0]])]
    assert fits(P.learn_move_to_boundary, pairs) is None


# ---------------------------------------------------------------- objects acted on by their place in the order

DROP_TOP_AND_BOTTOM = [
    ([[1, 1, 0], [0, 0, 0], [0, 2, 0], [0, 0, 0], [0, 3, 3]], [[0, 0, 0], [0, 0, 0], [0, 2, 0], [0, 0, 0], [0, 0, 0]]),
    ([[4, 0, 0], [0, 0, 5], [0, 6, 0], [0, 0, 0], [7, 0, 0]], [[0, 0, 0], [0, 0, 5], [0, 6, 0], [0, 0, 0], [0, 0, 0]]),
]


def test_object_by_rank_deletes_the_topmost_and_the_bottommost():
    """The first and last objects down the rows go; the others stay."""
    fitted = fits(P.learn_object_by_rank, DROP_TOP_AND_BOTTOM)
    assert fitted is not None and "object_by_rank" in fitted.text
    test = G([[0, 8, 0, 0], [9, 0, 0, 0], [0, 0, 0, 2], [3, 3, 0, 0]])
    assert fitted.apply(test).tolist() == [[0, 0, 0, 0], [9, 0, 0, 0], [0, 0, 0, 2], [0, 0, 0, 0]]


def test_object_by_rank_declines_when_rank_says_nothing():
    """Which object goes depends on its colour, not its place: no table of roles fits both pairs."""
    pairs = [([[1, 0], [0, 0], [2, 0]], [[0, 0], [0, 0], [2, 0]]), ([[2, 0], [0, 0], [1, 0]], [[2, 0], [0, 0], [0, 0]])]
    assert fits(P.learn_object_by_rank, pairs) is None


# ---------------------------------------------------------------- counts drawn as bars


def test_count_bar_draws_the_number_of_objects_in_a_new_colour():
    """A 1x5 row with as many 4s as the input has objects."""
    pairs = [
        ([[1, 0, 2], [0, 0, 0], [3, 0, 0]], [[4, 4, 4, 0, 0]]),
        ([[1, 1, 0], [0, 0, 0], [0, 0, 2]], [[4, 4, 0, 0, 0]]),
    ]
    fitted = fits(P.learn_count_bar, pairs)
    assert fitted is not None and "count_bar" in fitted.text
    test = G([[5, 0, 6, 0], [0, 0, 0, 0], [7, 0, 8, 0]])
    assert fitted.apply(test).tolist() == [[4, 4, 4, 4, 0]]


def test_count_bar_declines_a_count_it_cannot_read():
    """The bars' lengths follow no count of the inputs."""
    pairs = [([[1, 0], [0, 0]], [[4, 4, 4]]), ([[1, 0], [0, 2]], [[4]])]
    assert fits(P.learn_count_bar, pairs) is None


# ---------------------------------------------------------------- the object at the centre


def test_centre_object_deletes_what_lies_at_the_centre():
    """The object over the grid's centre cell goes; the ones round it stay."""
    pairs = [
        ([[1, 0, 0], [0, 2, 0], [0, 0, 3]], [[1, 0, 0], [0, 0, 0], [0, 0, 3]]),
        ([[0, 0, 0, 0, 4], [0, 0, 0, 0, 0], [0, 0, 5, 0, 0], [0, 0, 0, 0, 0], [6, 0, 0, 0, 0]],
         [[0, 0, 0, 0, 4], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [6, 0, 0, 0, 0]]),
    ]
    fitted = fits(P.learn_centre_object, pairs)
    assert fitted is not None and "'delete'" in fitted.text
    test = G([[7, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 8, 8, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 9]])
    assert fitted.apply(test).tolist() == [[7, 0, 0, 0, 0], [0] * 5, [0] * 5, [0] * 5, [0, 0, 0, 0, 9]]


def test_centre_object_crops_the_object_inside_a_frame():
    """The object at the centre of the content, the frame round it left out, cropped."""
    frame = [[1, 1, 1, 1, 1], [1, 0, 0, 0, 1], [1, 0, 2, 0, 1], [1, 0, 0, 0, 1], [1, 1, 1, 1, 1]]
    other = [[0, 0, 0, 0, 0, 0, 0], [0, 3, 3, 3, 3, 3, 3], [0, 3, 0, 0, 0, 4, 3], [0, 3, 0, 5, 5, 0, 3],
             [0, 3, 0, 5, 5, 0, 3], [0, 3, 6, 0, 0, 0, 3], [0, 3, 3, 3, 3, 3, 3]]
    fitted = fits(P.learn_centre_object, [(frame, [[2]]), (other, [[5, 5], [5, 5]])])
    assert fitted is not None
    test = G([[7, 7, 7, 7, 7], [7, 8, 0, 0, 7], [7, 0, 9, 0, 7], [7, 0, 9, 0, 7], [7, 7, 7, 7, 7]])
    assert fitted.apply(test).tolist() == [[9], [9]]


def test_centre_object_declines_when_the_centre_is_empty():
    """Nothing lies over the centre: the output's object is picked by something else."""
    pairs = [([[1, 0, 0], [0, 0, 0], [0, 0, 2]], [[1]]), ([[0, 0, 3], [0, 0, 0], [4, 0, 0]], [[3]])]
    assert fits(P.learn_centre_object, pairs) is None
