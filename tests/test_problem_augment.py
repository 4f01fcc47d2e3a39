import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from arc24.data.problem_augment import (
    KINDS,
    ProblemAugmentation,
    random_problem_augmentation,
)
from arc24.data.task import Pair, Task

FEW = settings(max_examples=40, deadline=None)


@st.composite
def grids(draw, max_side=30):
    shape = (draw(st.integers(1, max_side)), draw(st.integers(1, max_side)))
    return draw(arrays(np.int8, shape, elements=st.integers(0, 9)))


@st.composite
def tasks(draw, max_side=7):
    small = grids(max_side=max_side)
    train = [Pair(draw(small), draw(small)) for _ in range(draw(st.integers(1, 3)))]
    test = [Pair(draw(small), draw(st.none() | small)) for _ in range(draw(st.integers(1, 2)))]
    return Task("t", train, test)


problem_augmentations = st.one_of(
    st.builds(ProblemAugmentation, st.just("geometric"), st.sampled_from(["input", "output"]),
              dihedral=st.integers(1, 7)),
    st.builds(ProblemAugmentation, st.just("padding"), st.sampled_from(["input", "output"]),
              width=st.integers(1, 3), colour=st.integers(0, 9)),
    st.builds(ProblemAugmentation, st.just("upscale"), st.sampled_from(["input", "output"]),
              factor=st.integers(2, 4)),
    st.builds(ProblemAugmentation, st.just("mirror"), st.sampled_from(["input", "output"]),
              axis=st.sampled_from(["horizontal", "vertical"])),
)


@FEW
@given(problem_augmentations, grids())
def test_reverse_undoes_apply(aug, grid):
    assert np.array_equal(aug.reverse_grid(aug.apply_grid(grid)), grid)


def test_each_kind_by_example():
    g = np.array([[1, 2]], np.int8)
    assert ProblemAugmentation("geometric", dihedral=4).apply_grid(g).tolist() == [[1], [2]]
    assert ProblemAugmentation("padding", width=1, colour=5).apply_grid(g).tolist() == [
        [5, 5, 5, 5], [5, 1, 2, 5], [5, 5, 5, 5]]
    assert ProblemAugmentation("upscale", factor=2).apply_grid(g).tolist() == [[1, 1, 2, 2], [1, 1, 2, 2]]
    assert ProblemAugmentation("mirror", axis="horizontal").apply_grid(g).tolist() == [[1, 2, 2, 1]]
    assert ProblemAugmentation("mirror", axis="vertical").apply_grid(g).tolist() == [[1, 2], [1, 2]]


@pytest.mark.parametrize("aug,grid", [
    (ProblemAugmentation("padding", width=1, colour=5), [[5, 5], [5, 5]]),  # too small
    (ProblemAugmentation("padding", width=1, colour=5), [[5, 5, 5], [5, 1, 5], [5, 5, 4]]),  # border
    (ProblemAugmentation("upscale", factor=2), [[1, 1, 1]]),  # shape
    (ProblemAugmentation("upscale", factor=2), [[1, 1], [1, 2]]),  # block not uniform
    (ProblemAugmentation("mirror", axis="horizontal"), [[1, 2, 1]]),  # odd width
    (ProblemAugmentation("mirror", axis="horizontal"), [[1, 2, 1, 2]]),  # not a mirror
    (ProblemAugmentation("mirror", axis="vertical"), [[1], [2]]),
])
def test_reverse_rejects_impossible_grids(aug, grid):
    with pytest.raises(ValueError):
        aug.reverse_grid(np.array(grid, np.int8))


def test_invalid_parameters_raise():
    for kwargs in [dict(kind="blur"), dict(kind="padding", side="both"), dict(kind="geometric", dihedral=0),
                   dict(kind="padding", width=0), dict(kind="upscale", factor=1),
                   dict(kind="mirror", axis="diagonal")]:
        with pytest.raises(ValueError):
            ProblemAugmentation(**kwargs)


@FEW
@given(tasks(), problem_augmentations)
def test_apply_task_transforms_one_side(task, aug):
    new, applied = aug.apply_task(task)
    assert applied  # grids up to 7x7 always fit (7 * 4 <= 30)
    for old, p in zip(task.train + task.test, new.train + new.test):
        changed, kept = (p.input, p.output), (old.input, old.output)
        if aug.side == "output":
            changed, kept = changed[::-1], kept[::-1]
        if kept[0] is None:
            assert changed[0] is None
        else:
            assert np.array_equal(changed[0], aug.apply_grid(kept[0]))
        assert changed[1] is kept[1]  # the other side is untouched
    assert [p.output is None for p in new.test] == [p.output is None for p in task.test]


@pytest.mark.parametrize("aug", [
    ProblemAugmentation("padding", "input", width=1),
    ProblemAugmentation("upscale", "input", factor=2),
    ProblemAugmentation("mirror", "input", axis="vertical"),
])
def test_apply_task_declines_when_too_big(aug):
    big = Pair(np.zeros((29, 16), np.int8), np.zeros((2, 2), np.int8))
    task = Task("t", [Pair(np.zeros((3, 3), np.int8), np.zeros((3, 3), np.int8)), big], [big])
    new, applied = aug.apply_task(task)
    assert not applied and new is task


def test_random_problem_augmentation_probability_and_determinism():
    task = Task("t", [Pair(np.zeros((3, 4), np.int8), np.ones((2, 2), np.int8))], [Pair(np.zeros((3, 4), np.int8))])
    rng = np.random.default_rng(0)
    draws = [random_problem_augmentation(rng, task, 0.5) for _ in range(400)]
    assert 120 < sum(d is None for d in draws) < 280
    assert {d.kind for d in draws if d is not None} == set(KINDS)
    assert {d.side for d in draws if d is not None} == {"input", "output"}
    rng2 = np.random.default_rng(0)
    assert draws == [random_problem_augmentation(rng2, task, 0.5) for _ in range(400)]
    assert random_problem_augmentation(rng, task, 0.0) is None
    for d in draws:
        if d is not None:
            assert d.apply_task(task)[1]  # sizes are chosen to fit


def test_random_problem_augmentation_weights():
    task = Task("t", [Pair(np.zeros((3, 3), np.int8), np.zeros((3, 3), np.int8))], [])
    rng = np.random.default_rng(0)
    kinds = {random_problem_augmentation(rng, task, 1.0, {"upscale": 1.0}).kind for _ in range(20)}
    assert kinds == {"upscale"}
    with pytest.raises(ValueError):
        random_problem_augmentation(rng, task, 1.0, {"blur": 1.0})
    with pytest.raises(ValueError):
        random_problem_augmentation(rng, task, 1.0, {"upscale": 0.0})


def test_random_problem_augmentation_skips_kinds_that_cannot_fit():
    full = Pair(np.zeros((30, 30), np.int8), np.zeros((30, 30), np.int8))
    task = Task("t", [full], [full])
    rng = np.random.default_rng(0)
    assert {random_problem_augmentation(rng, task, 1.0).kind for _ in range(50)} == {"geometric"}
    assert random_problem_augmentation(rng, task, 1.0, {"upscale": 1.0}) is None
