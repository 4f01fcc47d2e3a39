"""Sort rules (programs/sort_rules.py): the learner on small hand-made pairs, a new input, and a case it declines."""

from arc24.programs import sort_rules as A
from learner_cases import G, fits


def test_sort_objects_by_size_along_the_row():
    """Objects put in order of size, smallest first, the gaps between them kept in their order."""
    pairs = [([[1, 1, 1, 0, 2, 0, 3, 3], [1, 1, 1, 0, 0, 0, 3, 3]],
              [[2, 0, 3, 3, 0, 1, 1, 1], [0, 0, 3, 3, 0, 1, 1, 1]]),
             ([[4, 4, 0, 5, 5, 5, 5, 0, 6]], [[6, 0, 4, 4, 0, 5, 5, 5, 5]])]
    fitted = fits(A.learn_sort_objects, pairs)
    assert fitted is not None and "'size'" in fitted.text
    assert fitted.apply(G([[7, 7, 0, 0, 8, 0, 9, 9, 9]])).tolist() == [[8, 0, 0, 7, 7, 0, 9, 9, 9]]


def test_sort_objects_declines_when_the_order_is_no_sort():
    """Swapped neighbours that no property orders the same way in both pairs."""
    pairs = [([[1, 0, 2, 2]], [[2, 2, 0, 1]]), ([[3, 3, 0, 4]], [[4, 0, 3, 3]])]
    assert fits(A.learn_sort_objects, pairs) is None
