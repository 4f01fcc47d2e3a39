"""Recolour rules: cells recoloured in place by where they lie: their depth in their region, their line, their rectangle.

- `depth_recolour`: each cell's colour looked up from (its colour, how deep it lies in its one-colour region):
  the rings of a shape painted from its rim inward (onion layers). Depth 1 is the rim: a cell with a
  neighbour (4 or 8) of another colour, or on the grid's edge.
- `line_colour`: cells of one colour take the one other colour (not background) their row, or column, holds.
- `checker_inside`: the inside of each filled rectangle made a checkerboard with the background.

Each learner checks that what it fitted reproduces every train output, and declines otherwise.
"""

from __future__ import annotations

import numpy as np

from arc24.programs.dsl import Fitted, Grid, Learner
from arc24.programs.fitting import edited_in_place, reproduces, task_bg
from arc24.programs.objects import objects

MAX_DEPTH = 15


# ---------------------------------------------------------------- depth inside a region


def depth(g: Grid, diagonal: bool) -> np.ndarray:
    """Each cell's depth in its one-colour region: 1 on its rim, 2 just inside, ... (at most MAX_DEPTH)."""
    h, w = g.shape
    padded = np.full((h + 2, w + 2), -1, dtype=np.int16)
    padded[1:-1, 1:-1] = g
    steps = [(-1, 0), (1, 0), (0, -1), (0, 1)] + ([(-1, -1), (-1, 1), (1, -1), (1, 1)] if diagonal else [])
    rim = np.zeros((h, w), bool)
    for dy, dx in steps:
        rim |= padded[1 + dy:1 + dy + h, 1 + dx:1 + dx + w] != g
    out = np.where(rim, 1, 0)
    inside = ~rim
    for d in range(2, MAX_DEPTH + 1):
        if not inside.any():
            break
        # a cell is at depth d when a neighbour of its colour lies at depth d - 1
        near = np.zeros((h + 2, w + 2), bool)
        near[1:-1, 1:-1] = out == d - 1
        reach = np.zeros((h, w), bool)
        for dy, dx in steps:
            reach |= near[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
        now = inside & reach
        out[now] = d
        inside &= ~now
    out[inside] = MAX_DEPTH
    return out


def _depth_keys(g: Grid, diagonal: bool) -> np.ndarray:
    return g.astype(np.int64) * 16 + depth(g, diagonal)


def _layered(table: dict[int, int], bg: int) -> bool:
    """Whether a (colour, depth) -> colour table paints some colour's layers apart, beyond what simpler rules say:
    not a colour map (one colour at every depth), nor a rim kept round an emptied inside (`hollow`)."""
    by_colour: dict[int, dict[int, int]] = {}
    for key, v in table.items():
        by_colour.setdefault(key // 16, {})[key % 16] = v
    for c, layers in by_colour.items():
        inner = {v for d, v in layers.items() if d > 1}
        if len(set(layers.values())) > 1 and inner != {bg}:
            return True
    return False


def learn_depth_recolour(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """Each cell's colour from its colour and its depth in its one-colour region, background left as it is."""
    if not edited_in_place(grids, outputs):
        return None
    bg = task_bg(grids)
    if any(((g != o) & (g == bg)).any() for g, o in zip(grids, outputs)):
        return None
    for diagonal in (False, True):
        keys = [_depth_keys(g, diagonal) for g in grids]
        fg = [g != bg for g in grids]
        k = np.concatenate([a[m] for a, m in zip(keys, fg)])
        o = np.concatenate([b[m] for b, m in zip(outputs, fg)]).astype(np.int64)
        pairs = np.unique(k * 16 + o)
        ks = pairs >> 4
        if (ks[1:] == ks[:-1]).any():
            continue
        table = dict(zip(ks.tolist(), (pairs & 15).tolist()))
        if not _layered(table, bg):
            continue

        def apply(g: Grid, diagonal=diagonal, table=table) -> Grid:
            keys = _depth_keys(g, diagonal)
            out = g.copy()
            for y, x in zip(*np.nonzero(g != bg)):
                out[y, x] = table[int(keys[y, x])]  # KeyError: a depth the pairs never showed
            return out

        if reproduces(apply, grids, outputs):
            shown = {(key // 16, key % 16): v for key, v in table.items()}
            return Fitted(f"depth_recolour(x, {'8' if diagonal else '4'}, {shown}, {bg})", apply)
    return None


# ---------------------------------------------------------------- the colour a line holds


def line_colour(g: Grid, c: int, axis: str, bg: int) -> Grid:
    """Cells of colour C take the one other colour (not BG) that their row (AXIS "rows") or column holds."""
    t = g if axis == "rows" else g.T
    out = t.copy()
    for y in range(t.shape[0]):
        others = set(t[y].tolist()) - {bg, c}
        if len(others) == 1:
            row = out[y]
            row[t[y] == c] = others.pop()
    return out if axis == "rows" else out.T


def learn_line_colour(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """Cells of one colour recoloured to the one other colour their row, or column, holds."""
    if not edited_in_place(grids, outputs):
        return None
    bg = task_bg(grids)
    moved = {int(v) for g, o in zip(grids, outputs) for v in g[g != o].tolist()}
    if len(moved) != 1 or bg in moved:
        return None
    c = moved.pop()
    for axis in ("rows", "columns"):
        def apply(g: Grid, axis=axis) -> Grid:
            return line_colour(g, c, axis, bg)

        if reproduces(apply, grids, outputs):
            return Fitted(f"line_colour(x, {c}, {axis!r}, {bg})", apply)
    return None


# ---------------------------------------------------------------- checkerboards inside rectangles


def checker_inside(g: Grid, bg: int, phase: int) -> Grid:
    """Inside each solid one-colour rectangle (its rim kept), cells whose row + column from its corner has parity PHASE become BG."""
    out = g.copy()
    for obj in objects(g, "4", bg):
        top, left, bottom, right = obj.bbox
        if obj.size != (bottom - top) * (right - left) or bottom - top < 3 or right - left < 3:
            continue
        ys, xs = np.mgrid[top + 1:bottom - 1, left + 1:right - 1]
        hit = (ys - top + xs - left) % 2 == phase
        out[ys[hit], xs[hit]] = bg
    return out


def learn_checker_inside(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """The inside of each solid rectangle made a checkerboard with the background, in one phase."""
    if not edited_in_place(grids, outputs):
        return None
    bg = task_bg(grids)
    if any(((g != o) & (o != bg)).any() for g, o in zip(grids, outputs)):
        return None  # only cells turned to background
    for phase in (0, 1):
        def apply(g: Grid, phase=phase) -> Grid:
            return checker_inside(g, bg, phase)

        if reproduces(apply, grids, outputs):
            return Fitted(f"checker_inside(x, {bg}, {phase})", apply)
    return None


# ---------------------------------------------------------------- for the search

PRIMITIVES: list = []  # learners only
LEARNERS = [
    Learner("depth_recolour", learn_depth_recolour, cost=2, on_every_state=False),
    Learner("line_colour", learn_line_colour, cost=2, on_every_state=False),
    Learner("checker_inside", learn_checker_inside, cost=2, on_every_state=False),
]
