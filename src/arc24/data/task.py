"""The in-memory ARC task: grids are 2-D numpy integer arrays, pairs hold an input and maybe an output.

An `ExamplePool` (RE-ARC) holds examples of one task's transformation with no train/test split;
training draws a `Task` from it afresh for every sample.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

Grid = np.ndarray  # 2-D, integer values 0-9, each side 1-30

MAX_SIDE = 30
N_COLOURS = 10


def as_grid(rows) -> Grid:
    """A list of lists (already validated) as a compact integer array."""
    return np.asarray(rows, dtype=np.int8).reshape(len(rows), -1) if len(rows) else np.zeros((0, 0), np.int8)


def check_grid(grid) -> Grid:
    """The grid as an int8 array, or ValueError if it cannot be a valid ARC grid.

    The one check of an in-memory grid (formats render it, augmentations transform it); the
    check of a grid read from JSON, which names the bad cell, is data.tasks.grid_problem.
    """
    arr = np.asarray(grid)
    if arr.ndim != 2:
        raise ValueError(f"a grid must be 2-D, got shape {arr.shape}")
    h, w = arr.shape
    if not (1 <= h <= MAX_SIDE and 1 <= w <= MAX_SIDE):
        raise ValueError(f"grid sides must be 1-{MAX_SIDE}, got {h}x{w}")
    if not np.issubdtype(arr.dtype, np.integer) or arr.min() < 0 or arr.max() >= N_COLOURS:
        raise ValueError(f"grid values must be integers 0-{N_COLOURS - 1}")
    return arr.astype(np.int8, copy=False)


def grid_to_list(grid: Grid) -> list[list[int]]:
    return [[int(v) for v in row] for row in np.asarray(grid)]


def grids_equal(a: Grid | None, b: Grid | None) -> bool:
    if a is None or b is None:
        return False
    return a.shape == b.shape and bool(np.array_equal(a, b))


@dataclass(frozen=True)
class Pair:
    input: Grid
    output: Grid | None = None  # None for a hidden test output


@dataclass(frozen=True)
class Task:
    id: str
    train: list[Pair]
    test: list[Pair]
    source: str = field(default="", compare=False)  # the file it came from, for messages

    def to_json(self, with_test_outputs: bool = True) -> dict:
        def pair(p: Pair, keep_output: bool) -> dict:
            d = {"input": grid_to_list(p.input)}
            if keep_output and p.output is not None:
                d["output"] = grid_to_list(p.output)
            return d

        return {
            "train": [pair(p, True) for p in self.train],
            "test": [pair(p, with_test_outputs) for p in self.test],
        }


# Most ARC tasks show 2 to 5 train pairs, so a task drawn from a pool shows as many.
MIN_DRAWN_TRAIN = 2
MAX_DRAWN_TRAIN = 5


@dataclass(frozen=True)
class ExamplePool:
    id: str
    examples: list[Pair]  # every one with its output; at least 2, so that a task can be drawn
    source: str = field(default="", compare=False)  # the file it came from, for messages

    def draw_task(self, rng: np.random.Generator) -> Task:
        """A task of 2-5 examples as train pairs and one more as the test pair, all distinct, chosen with RNG.

        Every choice comes from RNG, so a training sample seeded by its index stays a pure function of it.
        """
        n = len(self.examples)
        n_train = int(rng.integers(min(MIN_DRAWN_TRAIN, n - 1), min(MAX_DRAWN_TRAIN, n - 1) + 1))
        chosen = [self.examples[i] for i in rng.choice(n, size=n_train + 1, replace=False)]
        return Task(self.id, chosen[:-1], chosen[-1:], source=self.source)
