"""Problem augmentation: a reversible transform on only the inputs or only the outputs of a task.

Unlike `arc24.data.augment`, which shows the same task from another angle, this changes the
problem itself (e.g. "... and then upscale the answer by 2"), giving new training tasks.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from arc24.data.augment import N_DIHEDRAL, dihedral, dihedral_inverse
from arc24.data.task import MAX_SIDE, N_COLOURS, Grid, Pair, Task

KINDS = ("geometric", "padding", "upscale", "mirror")
SIDES = ("input", "output")
MIRROR_AXES = ("horizontal", "vertical")  # grid beside its left-right mirror / above its upside-down mirror

# Ranges the random draw uses; wider values make grids that rarely fit in 30x30.
MAX_PADDING = 3
MAX_FACTOR = 3


@dataclass(frozen=True)
class ProblemAugmentation:
    """One transform applied to every grid on one `side` of a task.

    Only the fields for its `kind` matter:
      geometric: `dihedral`, a non-identity transform 1..7 of `arc24.data.augment.dihedral`
      padding:   a border `width` cells wide of `colour` around the grid
      upscale:   every cell becomes a `factor` x `factor` block
      mirror:    the grid and its mirror side by side (`axis`='horizontal') or stacked ('vertical')
    """

    kind: str
    side: str = "output"
    dihedral: int = 1
    width: int = 1
    colour: int = 0
    factor: int = 2
    axis: str = "horizontal"

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.side not in SIDES:
            raise ValueError(f"side must be one of {SIDES}, got {self.side!r}")
        if self.kind == "geometric" and not 1 <= self.dihedral < N_DIHEDRAL:
            raise ValueError(f"geometric needs a non-identity dihedral transform 1..7, got {self.dihedral}")
        if self.kind == "padding" and (self.width < 1 or not 0 <= self.colour < N_COLOURS):
            raise ValueError(f"padding needs width >= 1 and colour 0..9, got {self.width}, {self.colour}")
        if self.kind == "upscale" and self.factor < 2:
            raise ValueError(f"upscale needs factor >= 2, got {self.factor}")
        if self.kind == "mirror" and self.axis not in MIRROR_AXES:
            raise ValueError(f"mirror axis must be one of {MIRROR_AXES}, got {self.axis!r}")

    def apply_grid(self, grid: Grid) -> Grid:
        grid = _as_2d(grid)
        if self.kind == "geometric":
            return dihedral(grid, self.dihedral)
        if self.kind == "padding":
            return np.pad(grid, self.width, constant_values=self.colour)
        if self.kind == "upscale":
            return _upscale(grid, self.factor)
        if self.axis == "horizontal":
            return np.concatenate([grid, grid[:, ::-1]], axis=1)
        return np.concatenate([grid, grid[::-1, :]], axis=0)

    def reverse_grid(self, grid: Grid) -> Grid:
        """The grid that `apply_grid` maps to `grid`; ValueError when there is none."""
        grid = _as_2d(grid)
        if self.kind == "geometric":
            return dihedral(grid, dihedral_inverse(self.dihedral))
        if self.kind == "padding":
            return self._unpad(grid)
        if self.kind == "upscale":
            return self._downscale(grid)
        return self._unmirror(grid)

    def _unpad(self, grid: np.ndarray) -> Grid:
        w = self.width
        if min(grid.shape) <= 2 * w:
            raise ValueError(f"grid of shape {grid.shape} is too small to carry a border of width {w}")
        inner = grid[w:-w, w:-w]
        if not np.array_equal(np.pad(inner, w, constant_values=self.colour), grid):
            raise ValueError(f"grid border is not all colour {self.colour}")
        return inner.copy()

    def _downscale(self, grid: np.ndarray) -> Grid:
        f = self.factor
        if grid.shape[0] % f or grid.shape[1] % f:
            raise ValueError(f"grid of shape {grid.shape} is not a multiple of the upscale factor {f}")
        small = grid[::f, ::f]
        if not np.array_equal(_upscale(small, f), grid):
            raise ValueError(f"grid is not made of uniform {f}x{f} blocks")
        return small.copy()

    def _unmirror(self, grid: np.ndarray) -> Grid:
        axis = 1 if self.axis == "horizontal" else 0
        if grid.shape[axis] % 2:
            raise ValueError(f"grid of shape {grid.shape} has an odd side along the {self.axis} mirror axis")
        half, mirrored = np.split(grid, 2, axis=axis)
        if not np.array_equal(np.flip(half, axis=axis), mirrored):
            raise ValueError(f"grid is not a {self.axis} mirror image of its first half")
        return half.copy()

    def apply_task(self, task: Task) -> tuple[Task, bool]:
        """(task with every grid on `side` transformed, True), or (task unchanged, False)
        when some transformed grid would have a side over MAX_SIDE."""
        pairs = [self._apply_pair(p) for p in task.train + task.test]
        grids = [g for p in pairs for g in (p.input, p.output) if g is not None]
        if any(max(g.shape) > MAX_SIDE for g in grids):
            return task, False
        n_train = len(task.train)
        return dataclasses.replace(task, train=pairs[:n_train], test=pairs[n_train:]), True

    def _apply_pair(self, pair: Pair) -> Pair:
        if self.side == "input":
            return Pair(self.apply_grid(pair.input), pair.output)
        output = None if pair.output is None else self.apply_grid(pair.output)
        return Pair(pair.input, output)

    def describe(self) -> str:
        params = {
            "geometric": f"d{self.dihedral}",
            "padding": f"w{self.width} c{self.colour}",
            "upscale": f"x{self.factor}",
            "mirror": self.axis,
        }[self.kind]
        return f"{self.kind} {self.side} {params}"


def _as_2d(grid: Grid) -> np.ndarray:
    grid = np.asarray(grid)
    if grid.ndim != 2:
        raise ValueError(f"a grid must be 2-D, got shape {grid.shape}")
    return grid


def _upscale(grid: np.ndarray, factor: int) -> np.ndarray:
    return np.repeat(np.repeat(grid, factor, axis=0), factor, axis=1)


def random_problem_augmentation(
    rng: np.random.Generator,
    task: Task,
    probability: float,
    weights: dict[str, float] | None = None,
) -> ProblemAugmentation | None:
    """With chance `probability`, a random problem augmentation for `task`, else None.

    `weights` gives each kind's relative chance (default: all equal; missing kinds get 0).
    Sizes (padding width, upscale factor) are drawn among those that keep the task within
    30x30; kinds with no such size are skipped, and None comes back when no kind fits.
    Deterministic given the rng state.
    """
    if not 0 <= probability <= 1:
        raise ValueError(f"probability must be in [0, 1], got {probability}")
    weights = _check_weights(weights)
    if rng.random() >= probability:
        return None
    side = SIDES[int(rng.integers(len(SIDES)))]
    longest = _longest_side(task, side)
    options = _fitting_options(longest)
    kinds = [k for k in KINDS if weights[k] > 0 and options[k]]
    if not kinds:
        return None
    p = np.array([weights[k] for k in kinds])
    kind = kinds[int(rng.choice(len(kinds), p=p / p.sum()))]
    choice = options[kind][int(rng.integers(len(options[kind])))]
    if kind == "padding":
        return ProblemAugmentation(kind, side, width=choice, colour=int(rng.integers(N_COLOURS)))
    field = {"geometric": "dihedral", "upscale": "factor", "mirror": "axis"}[kind]
    return ProblemAugmentation(kind, side, **{field: choice})


def _check_weights(weights: dict[str, float] | None) -> dict[str, float]:
    if weights is None:
        return {k: 1.0 for k in KINDS}
    unknown = set(weights) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown problem augmentation kinds {sorted(unknown)}; known: {KINDS}")
    if any(w < 0 for w in weights.values()) or not sum(weights.values()) > 0:
        raise ValueError(f"weights must be non-negative with a positive sum, got {weights}")
    return {k: float(weights.get(k, 0.0)) for k in KINDS}


def _longest_side(task: Task, side: str) -> int:
    grids = [p.input if side == "input" else p.output for p in task.train + task.test]
    return max((max(g.shape) for g in grids if g is not None), default=0)


def _fitting_options(longest: int) -> dict[str, list]:
    """For each kind, the parameter values that keep a grid with this longest side within MAX_SIDE
    (conservative for mirror, which only doubles one side)."""
    return {
        "geometric": list(range(1, N_DIHEDRAL)),
        "padding": [w for w in range(1, MAX_PADDING + 1) if longest + 2 * w <= MAX_SIDE],
        "upscale": [f for f in range(2, MAX_FACTOR + 1) if longest * f <= MAX_SIDE],
        "mirror": list(MIRROR_AXES) if 2 * longest <= MAX_SIDE else [],
    }
