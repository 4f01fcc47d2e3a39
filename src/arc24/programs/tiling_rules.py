"""Tiling rules: the output made of copies of the grid: tiled where a colour of it lies, scaled or tiled by a count.

- `masked_tile`: a grid of copies of the grid, one where a picked colour lies in it (as `self_tile` does for
  its foreground): its most or least frequent colour, background, foreground; the copies' colours swapped or not.
- `scale_by_count`: the grid upscaled or tiled by how many colours it has, or by its side.

Each learner checks that what it fitted reproduces every train output, and declines otherwise.
"""

from __future__ import annotations

import numpy as np

from arc24.programs.dsl import Fitted, Grid, Learner
from arc24.programs.fitting import reproduces, task_bg


# ---------------------------------------------------------------- the grid tiled into blocks it picks


def _colour_counts(g: Grid) -> np.ndarray:
    counts = np.bincount(g.ravel(), minlength=10).astype(np.int64)
    return np.where(counts > 0, counts, -1)


def _unique_extreme(counts: np.ndarray, most: bool) -> int:
    present = counts[counts > 0]
    best = present.max() if most else present.min()
    if (counts == best).sum() != 1:
        raise ValueError("no single colour")
    return int(np.argmax(counts == best))


def block_picks(g: Grid, pick: str, bg: int) -> np.ndarray:
    """The cells of G that PICK chooses: "fg" (not BG), "bg", "most" or "least" (its most or least frequent colour)."""
    if pick == "fg":
        return g != bg
    if pick == "bg":
        return g == bg
    return g == _unique_extreme(_colour_counts(g), pick == "most")


def masked_tile(g: Grid, pick: str, swap: bool, bg: int) -> Grid:
    """A grid of blocks G's size: a copy of G (its two colours swapped, if SWAP) where PICK chooses G's cell, BG elsewhere."""
    block = g
    if swap:
        colours = set(g.ravel().tolist()) - {bg}
        if len(colours) != 1:
            raise ValueError("not one colour on background")
        c = colours.pop()
        block = np.where(g == bg, c, bg).astype(np.int8)
    mask = np.kron(block_picks(g, pick, bg), np.ones(g.shape, dtype=bool))
    return np.where(mask, np.tile(block, g.shape), bg).astype(np.int8)


def learn_masked_tile(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """The output is the grid's own size squared in blocks: a copy of it where a picked colour lies, background elsewhere."""
    if any(o.shape != (g.shape[0] ** 2, g.shape[1] ** 2) for g, o in zip(grids, outputs)):
        return None
    bg = task_bg(outputs)
    for swap in (False, True):
        for pick in ("fg", "bg", "most", "least"):
            def apply(g: Grid, pick=pick, swap=swap) -> Grid:
                return masked_tile(g, pick, swap, bg)

            if reproduces(apply, grids, outputs):
                return Fitted(f"masked_tile(x, {pick!r}, {swap}, {bg})", apply)
    return None


# ---------------------------------------------------------------- scaled by a count


def count_of(g: Grid, what: str) -> int:
    """How many colours G holds ("colours"), not counting its most frequent one ("fg_colours"), or its side ("side")."""
    n = len(np.unique(g))
    if what == "colours":
        return n
    if what == "fg_colours":
        return n - 1
    if g.shape[0] != g.shape[1]:
        raise ValueError("not square")
    return g.shape[0]


def scale_by_count(g: Grid, how: str, what: str) -> Grid:
    """G upscaled (HOW "upscale") or tiled ("tile") by a count WHAT of it (see count_of)."""
    k = count_of(g, what)
    if k < 1 or k * max(g.shape) > 30:
        raise ValueError("no room")
    return np.kron(g, np.ones((k, k), dtype=np.int8)) if how == "upscale" else np.tile(g, (k, k))


def learn_scale_by_count(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """The output is the grid upscaled or tiled, as many times as it has colours (or its side)."""
    ratios = {(o.shape[0] / g.shape[0], o.shape[1] / g.shape[1]) for g, o in zip(grids, outputs)}
    if any(ry != rx or ry != int(ry) for ry, rx in ratios) or len(ratios) < 2:
        return None  # one fixed ratio is the plain upscale's or tile's
    for how in ("upscale", "tile"):
        for what in ("colours", "fg_colours", "side"):
            def apply(g: Grid, how=how, what=what) -> Grid:
                return scale_by_count(g, how, what)

            if reproduces(apply, grids, outputs):
                return Fitted(f"scale_by_count(x, {how!r}, {what!r})", apply)
    return None


# ---------------------------------------------------------------- for the search

PRIMITIVES: list = []  # learners only
LEARNERS = [
    Learner("masked_tile", learn_masked_tile, cost=2),
    Learner("scale_by_count", learn_scale_by_count, cost=2),
]
