"""Reversible task augmentations: dihedral transforms, colour permutations and pair order.

A model sees a task under an `Augmentation`; a grid it predicts for the augmented task is
mapped back to the original task's frame with `Augmentation.reverse_grid`, so predictions
from many views of one task can be voted on.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from arc24.data.task import N_COLOURS, Grid, Pair, Task, check_grid

# The 8 symmetries of the square. Rotations are anticlockwise (np.rot90's sense);
# 4-7 are the reflections, each its own inverse.
_DIHEDRAL = (
    lambda g: g,  # 0: identity
    lambda g: np.rot90(g, 1),  # 1: rotate 90 degrees anticlockwise
    lambda g: np.rot90(g, 2),  # 2: rotate 180 degrees
    lambda g: np.rot90(g, 3),  # 3: rotate 270 degrees anticlockwise (90 clockwise)
    lambda g: g.T,  # 4: transpose (reflect in the main diagonal)
    lambda g: g[::-1, :],  # 5: flip upside down (reflect in the horizontal axis)
    lambda g: np.rot90(g, 2).T,  # 6: anti-transpose (reflect in the anti-diagonal)
    lambda g: g[:, ::-1],  # 7: flip left-right (reflect in the vertical axis)
)
N_DIHEDRAL = len(_DIHEDRAL)

IDENTITY_COLOURS = tuple(range(N_COLOURS))


def _check_dihedral(k: int) -> None:
    if isinstance(k, bool) or not (isinstance(k, (int, np.integer)) and 0 <= k < N_DIHEDRAL):
        raise ValueError(f"dihedral transform must be an integer in 0..{N_DIHEDRAL - 1}, got {k!r}")


def dihedral(grid: Grid, k: int) -> Grid:
    """Grid under dihedral transform k (see the table above); a fresh array, never a view."""
    _check_dihedral(k)
    return np.array(_DIHEDRAL[k](np.asarray(grid)), copy=True)


def dihedral_inverse(k: int) -> int:
    """The transform that undoes transform k."""
    _check_dihedral(k)
    if 1 <= k <= 3:
        return 4 - k
    return int(k)


def _is_permutation(values, n: int) -> bool:
    return sorted(values) == list(range(n))


def _inverse_permutation(perm: tuple[int, ...]) -> tuple[int, ...]:
    inverse = [0] * len(perm)
    for i, p in enumerate(perm):
        inverse[p] = i
    return tuple(inverse)


def _map_colours(grid: np.ndarray, colour_map: tuple[int, ...]) -> Grid:
    return np.asarray(colour_map, dtype=np.int8)[grid]


@dataclass(frozen=True)
class Augmentation:
    """A reversible view of a task.

    `dihedral`: one of the 8 transforms of `dihedral()`.
    `colour_map`: a permutation of 0-9; colour c becomes colour_map[c].
    `order`, `target`: which pairs are shown, and in what order (see `apply_task`).
    """

    dihedral: int = 0
    colour_map: tuple[int, ...] = IDENTITY_COLOURS
    order: tuple[int, ...] | None = None
    target: int | None = None

    def __post_init__(self):
        _check_dihedral(self.dihedral)
        # Normalise lists/numpy values to plain int tuples so equality and hashing behave.
        object.__setattr__(self, "dihedral", int(self.dihedral))
        object.__setattr__(self, "colour_map", tuple(int(c) for c in self.colour_map))
        if not _is_permutation(self.colour_map, N_COLOURS):
            raise ValueError(f"colour_map must be a permutation of 0..{N_COLOURS - 1}, got {self.colour_map}")
        if self.order is not None:
            object.__setattr__(self, "order", tuple(int(i) for i in self.order))
            if not _is_permutation(self.order, len(self.order)):
                raise ValueError(f"order must be a permutation of 0..n-1, got {self.order}")
        if self.target is not None:
            object.__setattr__(self, "target", int(self.target))
            if self.target < 0:
                raise ValueError(f"target must be a non-negative pair index, got {self.target}")

    # -- grids -----------------------------------------------------------------

    def apply_grid(self, grid: Grid) -> Grid:
        return dihedral(_map_colours(check_grid(grid), self.colour_map), self.dihedral)

    def reverse_grid(self, grid: Grid) -> Grid:
        """Map a grid of the augmented task (of any shape) back to the original task's frame."""
        unmapped = _map_colours(check_grid(grid), _inverse_permutation(self.colour_map))
        return dihedral(unmapped, dihedral_inverse(self.dihedral))

    # -- tasks -----------------------------------------------------------------

    def apply_task(self, task: Task) -> Task:
        """The task with every grid (inputs and outputs, train and test) transformed, pairs rearranged.

        With `target` None: train pairs are reordered by `order` (when given, a permutation of
        range(len(task.train))), and test pairs are kept as they are.
        With `target` set: the pool is `task.train` followed by the test pairs that have outputs;
        the new test is `[pool[target]]` and the new train is the other pool pairs (in pool order)
        rearranged by `order` (when given, a permutation of range(len(pool) - 1)): new train[i] is
        remaining[order[i]]. Test pairs without outputs are dropped.
        """
        train, test = self._arrange_pairs(task)
        return dataclasses.replace(task, train=[self._apply_pair(p) for p in train],
                                   test=[self._apply_pair(p) for p in test])

    def _apply_pair(self, pair: Pair) -> Pair:
        output = None if pair.output is None else self.apply_grid(pair.output)
        return Pair(self.apply_grid(pair.input), output)

    def _arrange_pairs(self, task: Task) -> tuple[list[Pair], list[Pair]]:
        if self.target is None:
            return _reorder(list(task.train), self.order), list(task.test)
        pool = target_pool(task)
        if self.target >= len(pool):
            raise ValueError(f"target {self.target} is out of range: task {task.id} has {len(pool)} pairs with outputs")
        if len(pool) < 2:
            raise ValueError(f"task {task.id} needs at least 2 pairs with outputs to swap the target")
        remaining = pool[: self.target] + pool[self.target + 1:]
        return _reorder(remaining, self.order), [pool[self.target]]

    # -- serialisation ---------------------------------------------------------

    def to_dict(self) -> dict:
        return {
            "dihedral": self.dihedral,
            "colour_map": list(self.colour_map),
            "order": None if self.order is None else list(self.order),
            "target": self.target,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Augmentation:
        order = d.get("order")
        return cls(
            dihedral=d.get("dihedral", 0),
            colour_map=tuple(d.get("colour_map", IDENTITY_COLOURS)),
            order=None if order is None else tuple(order),
            target=d.get("target"),
        )

    def describe(self) -> str:
        """Short label, e.g. 'd3 c[0,5,2,3,4,1,6,7,8,9] o[2,0,1] t1' (o and t only when set)."""
        parts = [f"d{self.dihedral}", "c[" + ",".join(map(str, self.colour_map)) + "]"]
        if self.order is not None:
            parts.append("o[" + ",".join(map(str, self.order)) + "]")
        if self.target is not None:
            parts.append(f"t{self.target}")
        return " ".join(parts)


def target_pool(task: Task) -> list[Pair]:
    """The pairs that can serve as the question when swapping the target: train, then solved test pairs."""
    return list(task.train) + [p for p in task.test if p.output is not None]


def _reorder(pairs: list[Pair], order: tuple[int, ...] | None) -> list[Pair]:
    if order is None:
        return pairs
    if len(order) != len(pairs):
        raise ValueError(f"order {order} has {len(order)} entries but there are {len(pairs)} example pairs")
    return [pairs[i] for i in order]


def random_colour_map(rng: np.random.Generator, permute_background: bool = False) -> tuple[int, ...]:
    """A random permutation of the colours; colour 0 (background) stays put unless permute_background."""
    if permute_background:
        return tuple(int(c) for c in rng.permutation(N_COLOURS))
    return (0,) + tuple(int(c) + 1 for c in rng.permutation(N_COLOURS - 1))


def random_augmentation(
    rng: np.random.Generator,
    task: Task,
    *,
    dihedral: bool = True,
    colours: bool = True,
    permute_background: bool = False,
    shuffle_train: bool = True,
    swap_target: bool = False,
) -> Augmentation:
    """A random augmentation for training; deterministic given the rng state.

    With swap_target the target is uniform over every pair with an output (train and test);
    it is left unset when the task has fewer than 2 such pairs, as there would be no examples.
    """
    k = int(rng.integers(N_DIHEDRAL)) if dihedral else 0
    colour_map = random_colour_map(rng, permute_background) if colours else IDENTITY_COLOURS
    target = None
    n_examples = len(task.train)
    pool_size = len(target_pool(task))
    if swap_target and pool_size >= 2:
        target = int(rng.integers(pool_size))
        n_examples = pool_size - 1
    order = tuple(int(i) for i in rng.permutation(n_examples)) if shuffle_train else None
    return Augmentation(dihedral=k, colour_map=colour_map, order=order, target=target)


def inference_augmentations(n: int, seed: int, task: Task, dihedral: bool = True) -> list[Augmentation]:
    """n distinct views for predicting the test outputs of `task`; deterministic in seed.

    View i uses dihedral transform i % 8. The first 8 views keep the colours and train order
    (so view 0 is the identity); later ones add a random colour permutation (background fixed)
    and a random train order. Targets are never swapped: the test pairs stay the questions.
    dihedral=False: every view keeps the task's orientation; view 0 is the identity, the others
    permute the colours and the train order.
    """
    if n < 0:
        raise ValueError(f"number of views must be >= 0, got {n}")
    rng = np.random.default_rng(seed)
    n_train = len(task.train)
    views: list[Augmentation] = []
    seen: set[tuple] = set()
    for i in range(n):
        k = i % N_DIHEDRAL if dihedral else 0
        if i < N_DIHEDRAL and (dihedral or i == 0):
            view = Augmentation(dihedral=k)
        else:
            view = _new_random_view(rng, k, n_train, seen)
        seen.add(_view_key(view, n_train))
        views.append(view)
    return views


def _view_key(view: Augmentation, n_train: int) -> tuple:
    # order None and the identity order give the same view
    order = view.order if view.order is not None else tuple(range(n_train))
    return view.dihedral, view.colour_map, order


def _new_random_view(rng: np.random.Generator, k: int, n_train: int, seen: set[tuple]) -> Augmentation:
    # 9! colour maps make a collision rare; the cap only guards against an impossible request.
    for _ in range(1000):
        view = Augmentation(dihedral=k, colour_map=random_colour_map(rng),
                            order=tuple(int(i) for i in rng.permutation(n_train)))
        if _view_key(view, n_train) not in seen:
            return view
    raise ValueError("could not find a new distinct augmentation; too many views requested")
