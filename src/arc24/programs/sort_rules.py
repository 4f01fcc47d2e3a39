"""Sort rules: objects laid side by side put in order of a property.

- `sort_objects`: objects laid side by side along the rows or the columns put in order of a property (size,
  or cells off their main colour), ascending or descending, keeping the gaps between them; each keeps its
  place across that axis. Objects are cut by colour and 4 neighbours, by any colour and 8 neighbours, or are all
  the cells of a colour: each cut that fits is kept, and a new grid takes the first that applies.

The learner checks that what it fitted reproduces every train output, and declines otherwise.
"""

from __future__ import annotations

import numpy as np

from arc24.programs.dsl import Fitted, Grid, Learner
from arc24.programs.fitting import edited_in_place, reproduces, task_bg
from arc24.programs.objects import MAX_OBJECTS, Obj, colour_groups, objects

# ---------------------------------------------------------------- objects sorted along an axis

_SORT_KEYS = {"size": lambda o: o.size, "specks": lambda o: int((o.values != o.colour).sum())}


def _in_a_line(objs: list[Obj], axis: int) -> list[Obj] | None:
    """OBJS in order along AXIS (0: down the rows, 1: along the columns) when their extents there do not
    overlap, else None."""
    ordered = sorted(objs, key=lambda o: o.bbox[axis])
    if all(a.bbox[axis + 2] <= b.bbox[axis] for a, b in zip(ordered, ordered[1:])):
        return ordered
    return None


def sort_objects(g: Grid, mode: str, axis: int, key: str, descending: bool, bg: int) -> Grid:
    """G's objects (MODE, or "colour": all cells of a colour), side by side along AXIS, reordered so KEY rises (or falls) along it, the gaps between
    them kept, each in its place across AXIS; ValueError when they overlap along AXIS or two share a KEY."""
    objs = colour_groups(g, bg) if mode == "colour" else objects(g, mode, bg)
    if not 1 < len(objs) <= MAX_OBJECTS:
        raise ValueError("no line of objects")
    if axis < 0:  # whichever axis they lie along
        lines = [a for a in (0, 1) if _in_a_line(objs, a) is not None]
        if len(lines) != 1:
            raise ValueError("no single axis")
        axis = lines[0]
    ordered = _in_a_line(objs, axis)
    if ordered is None:
        raise ValueError("no line of objects")
    values = [_SORT_KEYS[key](o) for o in ordered]
    if len(set(values)) != len(values):
        raise ValueError("a tie")
    gaps = [b.bbox[axis] - a.bbox[axis + 2] for a, b in zip(ordered, ordered[1:])]
    out = np.full_like(g, bg)
    at = ordered[0].bbox[axis]
    for k, o in enumerate(sorted(ordered, key=lambda o: _SORT_KEYS[key](o), reverse=descending)):
        shift = at - o.bbox[axis]
        ys, xs = (o.ys + shift, o.xs) if axis == 0 else (o.ys, o.xs + shift)
        out[ys, xs] = o.values
        at += o.bbox[axis + 2] - o.bbox[axis] + (gaps[k] if k < len(gaps) else 0)
    return out


def sort_objects_first(g: Grid, ways: list[tuple], bg: int) -> Grid:
    """G sorted (see sort_objects) the first of WAYS (mode, axis, key, descending) that applies to it."""
    for mode, axis, key, descending in ways:
        try:
            return sort_objects(g, mode, axis, key, descending, bg)
        except ValueError:
            continue
    raise ValueError("no way applies")


def learn_sort_objects(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """Objects in a row or column reordered by a property, as every train pair shows; every way of cutting the
    grid into objects that fits is kept, in order, and a new grid takes the first that applies to it."""
    if not edited_in_place(grids, outputs):
        return None
    bg = task_bg(grids)
    ways = []
    for key in _SORT_KEYS:
        for descending in (False, True):
            for axis in (1, 0, -1):
                for mode in ("8m", "4", "colour"):
                    if reproduces(lambda g: sort_objects(g, mode, axis, key, descending, bg), grids, outputs):
                        ways.append((mode, axis, key, descending))
            if ways:  # one property and one direction: the others would sort the same pairs differently
                return Fitted(f"sort_objects_first(x, {ways}, {bg})", lambda g: sort_objects_first(g, ways, bg))
    return None


# ---------------------------------------------------------------- colours listed in order

_ORDERS = ("rows", "rows_back", "columns", "columns_back", "most", "fewest")


PRIMITIVES: list = []  # learners only
LEARNERS = [Learner("sort_objects", learn_sort_objects, cost=2, on_every_state=False)]
