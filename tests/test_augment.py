import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from arc24.data.augment import (
    Augmentation,
    dihedral,
    dihedral_inverse,
    inference_augmentations,
    random_augmentation,
    random_colour_map,
)
from arc24.data.task import Pair, Task

FEW = settings(max_examples=40, deadline=None)


@st.composite
def grids(draw, max_side=30):
    shape = (draw(st.integers(1, max_side)), draw(st.integers(1, max_side)))
    return draw(arrays(np.int8, shape, elements=st.integers(0, 9)))


@st.composite
def tasks(draw, min_train=1, max_train=4):
    small = grids(max_side=8)
    train = [Pair(draw(small), draw(small)) for _ in range(draw(st.integers(min_train, max_train)))]
    test = [Pair(draw(small), draw(st.none() | small)) for _ in range(draw(st.integers(1, 2)))]
    return Task("t", train, test)


def colour_maps(background):
    return st.integers(0, 2**32 - 1).map(lambda s: random_colour_map(np.random.default_rng(s), background))


augmentations = st.builds(
    Augmentation,
    dihedral=st.integers(0, 7),
    colour_map=st.booleans().flatmap(colour_maps),
)


def numbered_task(n_train, n_test, test_outputs=True):
    """Pairs whose input is a 1x1 grid holding a unique number, so pairs can be told apart."""
    def pair(i):
        return Pair(np.array([[i]], np.int8), np.array([[i]], np.int8))
    train = [pair(i) for i in range(n_train)]
    test = [pair(n_train + i) if test_outputs else Pair(np.array([[n_train + i]], np.int8))
            for i in range(n_test)]
    return Task("numbered", train, test)


def ids(pairs):
    return [int(p.input[0, 0]) for p in pairs]


# -- dihedral ---------------------------------------------------------------


@FEW
@given(grids(), st.integers(0, 7))
def test_dihedral_inverse_round_trip(grid, k):
    assert np.array_equal(dihedral(dihedral(grid, k), dihedral_inverse(k)), grid)


def test_dihedral_transforms_are_the_8_distinct_symmetries():
    g = np.arange(6, dtype=np.int8).reshape(2, 3)
    assert np.array_equal(dihedral(g, 0), g)
    assert np.array_equal(dihedral(g, 1), np.rot90(g))
    assert np.array_equal(dihedral(g, 4), g.T)
    assert np.array_equal(dihedral(g, 5), np.flipud(g))
    assert np.array_equal(dihedral(g, 6), np.array([[5, 2], [4, 1], [3, 0]]))
    assert np.array_equal(dihedral(g, 7), np.fliplr(g))
    results = {dihedral(g, k).tobytes() + bytes(dihedral(g, k).shape) for k in range(8)}
    assert len(results) == 8
    assert all(dihedral_inverse(k) == k for k in range(4, 8))


def test_dihedral_rejects_bad_index():
    with pytest.raises(ValueError):
        dihedral(np.zeros((2, 2), np.int8), 8)
    with pytest.raises(ValueError):
        dihedral_inverse(-1)


# -- grids ------------------------------------------------------------------


@FEW
@given(grids(), st.integers(0, 7), st.booleans().flatmap(colour_maps))
def test_reverse_undoes_apply(grid, k, colour_map):
    aug = Augmentation(dihedral=k, colour_map=colour_map)
    out = aug.apply_grid(grid)
    assert out.dtype == np.int8
    assert np.array_equal(aug.reverse_grid(out), grid)


@FEW
@given(augmentations, grids())
def test_reverse_works_on_any_grid(aug, grid):
    # a predicted grid need not have the input's shape; reverse then apply must give it back
    assert np.array_equal(aug.apply_grid(aug.reverse_grid(grid)), grid)


def test_colour_map_semantics():
    cmap = (0, 2, 1, 3, 4, 5, 6, 7, 8, 9)
    aug = Augmentation(colour_map=cmap)
    assert aug.apply_grid(np.array([[0, 1, 2]], np.int8)).tolist() == [[0, 2, 1]]


def test_invalid_augmentations_raise():
    with pytest.raises(ValueError, match="colour_map"):
        Augmentation(colour_map=(0, 0, 1, 2, 3, 4, 5, 6, 7, 8))
    with pytest.raises(ValueError, match="dihedral"):
        Augmentation(dihedral=9)
    with pytest.raises(ValueError, match="order"):
        Augmentation(order=(0, 2))
    with pytest.raises(ValueError, match="target"):
        Augmentation(target=-1)
    with pytest.raises(ValueError, match="values"):
        Augmentation().apply_grid(np.array([[10]]))


# -- tasks ------------------------------------------------------------------


@FEW
@given(tasks(), augmentations)
def test_apply_task_transforms_every_grid(task, aug):
    new = aug.apply_task(task)
    assert len(new.train) == len(task.train) and len(new.test) == len(task.test)
    for old, p in zip(task.train + task.test, new.train + new.test):
        assert np.array_equal(p.input, aug.apply_grid(old.input))
        if old.output is None:
            assert p.output is None
        else:
            assert np.array_equal(p.output, aug.apply_grid(old.output))


def test_order_reorders_train_and_keeps_test():
    task = numbered_task(3, 2, test_outputs=False)
    new = Augmentation(order=(2, 0, 1)).apply_task(task)
    assert ids(new.train) == [2, 0, 1]
    assert ids(new.test) == [3, 4]
    assert new.test[0].output is None


def test_target_swap_layout():
    task = numbered_task(3, 1)
    new = Augmentation(order=(2, 0, 1), target=1).apply_task(task)
    assert ids(new.test) == [1]
    assert ids(new.train) == [3, 0, 2]  # remaining pool [0, 2, 3] in order (2, 0, 1)
    assert ids(Augmentation(target=3).apply_task(task).train) == [0, 1, 2]


@pytest.mark.parametrize("n_train,n_test", [(2, 1), (3, 2), (1, 1)])
def test_every_pair_can_be_the_target(n_train, n_test):
    task = numbered_task(n_train, n_test)
    for target in range(n_train + n_test):
        new = Augmentation(target=target).apply_task(task)
        assert ids(new.test) == [target]
        assert sorted(ids(new.train) + ids(new.test)) == list(range(n_train + n_test))


def test_target_swap_drops_unsolved_test_pairs_and_validates():
    task = Task("t", numbered_task(2, 0).train, [Pair(np.array([[7]], np.int8))])
    assert ids(Augmentation(target=0).apply_task(task).train) == [1]
    with pytest.raises(ValueError, match="out of range"):
        Augmentation(target=2).apply_task(task)
    with pytest.raises(ValueError, match="order"):
        Augmentation(order=(1, 0), target=0).apply_task(task)
    with pytest.raises(ValueError, match="order"):
        Augmentation(order=(0,)).apply_task(task)
    with pytest.raises(ValueError, match="at least 2"):
        Augmentation(target=0).apply_task(numbered_task(1, 0))


# -- serialisation ----------------------------------------------------------


@FEW
@given(augmentations, st.none() | st.permutations(range(4)), st.none() | st.integers(0, 4))
def test_to_dict_round_trip(aug, order, target):
    aug = Augmentation(aug.dihedral, aug.colour_map, None if order is None else tuple(order), target)
    assert Augmentation.from_dict(json.loads(json.dumps(aug.to_dict()))) == aug


def test_describe():
    aug = Augmentation(3, (0, 5, 2, 3, 4, 1, 6, 7, 8, 9), (2, 0, 1), 1)
    assert aug.describe() == "d3 c[0,5,2,3,4,1,6,7,8,9] o[2,0,1] t1"
    assert Augmentation().describe() == "d0 c[0,1,2,3,4,5,6,7,8,9]"


# -- random augmentations ---------------------------------------------------


@FEW
@given(tasks(), st.integers(0, 2**32 - 1))
def test_random_augmentation_keeps_background_and_is_deterministic(task, seed):
    aug = random_augmentation(np.random.default_rng(seed), task)
    assert aug == random_augmentation(np.random.default_rng(seed), task)
    assert aug.colour_map[0] == 0
    assert aug.target is None
    assert sorted(aug.order) == list(range(len(task.train)))
    aug.apply_task(task)  # valid for the task


def test_random_augmentation_options():
    task = numbered_task(3, 1)
    rng = np.random.default_rng(0)
    plain = random_augmentation(rng, task, dihedral=False, colours=False, shuffle_train=False)
    assert plain == Augmentation()
    backgrounds = {random_augmentation(rng, task, permute_background=True).colour_map[0] for _ in range(200)}
    assert backgrounds == set(range(10))


def test_swap_target_picks_every_pair_including_test():
    task = numbered_task(3, 2, test_outputs=True)
    rng = np.random.default_rng(1)
    targets = set()
    for _ in range(300):
        aug = random_augmentation(rng, task, swap_target=True)
        new = aug.apply_task(task)
        assert len(new.train) == 4 and len(new.test) == 1
        targets.add(aug.target)
    assert targets == set(range(5))


def test_swap_target_needs_two_solved_pairs():
    task = numbered_task(1, 1, test_outputs=False)
    aug = random_augmentation(np.random.default_rng(0), task, swap_target=True)
    assert aug.target is None


# -- inference views --------------------------------------------------------


@pytest.mark.parametrize("n_train", [1, 3])
def test_inference_augmentations(n_train):
    task = numbered_task(n_train, 1, test_outputs=False)
    views = inference_augmentations(96, 0, task)
    assert len(views) == 96
    assert views[0] == Augmentation()
    assert [v.dihedral for v in views] == [i % 8 for i in range(96)]
    assert len(set(views)) == 96
    assert all(v.colour_map[0] == 0 and v.target is None for v in views)
    assert views == inference_augmentations(96, 0, task)
    assert views != inference_augmentations(96, 1, task)
    for v in views:
        assert len(v.apply_task(task).test) == 1


def test_inference_augmentations_small_n():
    task = numbered_task(2, 1)
    assert inference_augmentations(0, 0, task) == []
    assert inference_augmentations(1, 0, task) == [Augmentation()]


def test_views_without_dihedral_keep_the_orientation():
    import numpy as np

    from arc24.data.augment import inference_augmentations
    from arc24.data.task import Pair, Task

    g = np.array([[1, 2, 3]], np.int8)
    task = Task(id="t", train=[Pair(g, g), Pair(g, g)], test=[Pair(g)])
    views = inference_augmentations(12, 0, task, dihedral=False)
    assert all(v.dihedral == 0 for v in views)
    assert views[0].colour_map == tuple(range(10)) and views[0].order is None  # view 0 is the identity
    assert len({(v.colour_map, v.order) for v in views}) == 12  # distinct views
    assert all(v.colour_map[0] == 0 for v in views)  # the background stays
