"""The in-memory ARC task: grids are 2-D numpy integer arrays, pairs hold an input and maybe an output."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

Grid = np.ndarray  # 2-D, integer values 0-9, each side 1-30

MAX_SIDE = 30
N_COLOURS = 10


def as_grid(rows) -> Grid:
    """A list of lists (already validated) as a compact integer array."""
    return np.asarray(rows, dtype=np.int8).reshape(len(rows), -1) if len(rows) else np.zeros((0, 0), np.int8)


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
