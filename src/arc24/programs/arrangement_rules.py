"""Arrangement rules: where things go and in what order: centres marked, shapes copied onto their colour's
markers, objects sorted, colours listed in order.

- `mark_centre`: the centre cell of the grid, of its content's bounding box, or of each object's, painted
  one colour or the object's own; or the grid's one smallest object moved there (on both axes, or only across
  the full rows or columns it lies between).
- `stamp_by_colour`: each lone cell replaced by a copy of the one larger object of its colour, the copy's
  centre or one of its corners on the cell (`stamp_template` copies one template onto every marker).
- `sort_objects`: objects laid side by side along the rows or the columns put in order of a property (size,
  or cells off their main colour), ascending or descending, keeping the gaps between them; each keeps its
  place across that axis. Objects are cut by colour and 4 neighbours, by any colour and 8 neighbours, or are all
  the cells of a colour: each cut that fits is kept, and a new grid takes the first that applies.
- `colour_sequence`: the output is one row or column listing the colours of the objects in the order their
  first cells come, read by rows or by columns (forward or backward), or the colours by how many cells they have.

Each learner checks that what it fitted reproduces every train output, and declines otherwise.
"""

from __future__ import annotations

import numpy as np

from arc24.programs.dsl import Fitted, Grid, Learner
from arc24.programs.fitting import edited_in_place, painted_colours, reproduces, task_bg
from arc24.programs.objects import MAX_OBJECTS, Obj, box_centre, colour_groups, objects

# ---------------------------------------------------------------- centres


def _content_box(g: Grid, bg: int) -> tuple[int, int, int, int]:
    """The bounding box of G's cells that are not background; ValueError when there are none."""
    ys, xs = np.nonzero(g != bg)
    if not len(ys):
        raise ValueError("no content")
    return int(ys.min()), int(xs.min()), int(ys.max()) + 1, int(xs.max()) + 1


def _marker(g: Grid, bg: int) -> Obj:
    """G's one smallest object (one colour, 8 neighbours) among two or more; ValueError when two tie."""
    objs = objects(g, "8", bg)
    sizes = sorted(o.size for o in objs)
    if len(objs) < 2 or len(objs) > MAX_OBJECTS or sizes[0] == sizes[1]:
        raise ValueError("no single smallest object")
    return min(objs, key=lambda o: o.size)


def _shift_to(lo: int, hi: int, target_lo: int, target_hi: int) -> int:
    """How far the run LO..HI-1 moves to share its middle with TARGET_LO..TARGET_HI-1; ValueError when it cannot."""
    twice = (target_lo + target_hi) - (lo + hi)
    if twice % 2:
        raise ValueError("no common middle")
    return twice // 2


def mark_centre(g: Grid, region: str, c: int, bg: int) -> Grid:
    """G with the centre of REGION ("grid", "content", "objects") painted C (-1: each object's own colour)."""
    out = g.copy()
    if region == "objects":
        objs = objects(g, "8m", bg)
        if not objs or len(objs) > MAX_OBJECTS or any(o.size == 1 for o in objs):
            raise ValueError("no objects, or specks that may be parts of one")
        for o in objs:
            y, x = box_centre(o.bbox)
            out[y, x] = o.colour if c < 0 else c
        return out
    y, x = box_centre((0, 0, *g.shape) if region == "grid" else _content_box(g, bg))
    out[y, x] = c
    return out


def move_to_centre(g: Grid, axes: str, bg: int) -> Grid:
    """G's smallest object moved so its centre is the centre of the rest's bounding box; AXES "both" on both
    axes, "across" only across the rest when that is made of full rows (or full columns), lines it lies between."""
    m = _marker(g, bg)
    out = g.copy()
    out[m.ys, m.xs] = bg
    top, left, bottom, right = _content_box(out, bg)
    rest = out != bg
    move_y = move_x = True
    if axes == "across":
        full_rows, full_cols = rest.all(1), rest.all(0)
        if full_rows.any() and (full_rows == rest.any(1)).all():
            move_x = False
        elif full_cols.any() and (full_cols == rest.any(0)).all():
            move_y = False
        else:
            raise ValueError("no lines across the grid")
    dy = _shift_to(m.bbox[0], m.bbox[2], top, bottom) if move_y else 0
    dx = _shift_to(m.bbox[1], m.bbox[3], left, right) if move_x else 0
    out[m.ys + dy, m.xs + dx] = m.values
    return out


def learn_mark_centre(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """A centre marked (one painted colour, or objects' own) or the smallest object moved to one, as every pair shows."""
    if not edited_in_place(grids, outputs):
        return None
    bg = task_bg(grids)
    painted = painted_colours(grids, outputs) - {bg}
    for axes in ("both", "across"):
        def apply(g: Grid, axes=axes) -> Grid:
            return move_to_centre(g, axes, bg)

        if reproduces(apply, grids, outputs):
            return Fitted(f"move_to_centre(x, {axes!r}, {bg})", apply)
    if any(((g != o) & (g != bg)).any() for g, o in zip(grids, outputs)):
        return None  # marks go on background
    colours = ([painted.pop()] if len(painted) == 1 else []) + [-1]  # one colour painted, or the objects' own
    for region in ("grid", "content", "objects"):
        for c in colours:
            if c < 0 and region != "objects":
                continue

            def apply(g: Grid, region=region, c=c) -> Grid:
                return mark_centre(g, region, c, bg)

            if reproduces(apply, grids, outputs):
                return Fitted(f"mark_centre(x, {region!r}, {c}, {bg})", apply)
    return None


# ---------------------------------------------------------------- shapes copied onto markers of their colour

_ANCHORS = ("centre", "top_left", "top_right", "bottom_left", "bottom_right")


def _anchor_cell(box: tuple[int, int, int, int], anchor: str) -> tuple[int, int]:
    """The cell of bounding box BOX that ANCHOR names."""
    top, left, bottom, right = box
    if anchor == "centre":
        return box_centre(box)
    return (top if anchor.startswith("top") else bottom - 1), (left if anchor.endswith("left") else right - 1)


def stamp_by_colour(g: Grid, anchor: str, bg: int) -> Grid:
    """Each lone cell of G overwritten by a copy of the one larger object whose main colour is its colour, the
    copy's ANCHOR cell on it (cut off at the grid's edge); KeyError when a lone cell's colour has no such object."""
    objs = objects(g, "8m", bg)
    lone = [o for o in objs if o.size == 1]
    shapes = [o for o in objs if o.size > 1]
    if not lone or not shapes or len(objs) > MAX_OBJECTS:
        raise ValueError("no markers or no shapes")
    by_colour: dict[int, Obj] = {}
    for colour in {o.colour for o in shapes}:
        alike = [o for o in shapes if o.colour == colour]
        if len(alike) == 1:
            by_colour[colour] = alike[0]
    out = g.copy()
    h, w = g.shape
    for m in lone:
        out[m.ys, m.xs] = bg  # the copy's own cell there (background, in a hollow shape) replaces the marker
    for m in lone:
        t = by_colour[m.colour]
        ay, ax = _anchor_cell(t.bbox, anchor)
        ys, xs = t.ys + int(m.ys[0]) - ay, t.xs + int(m.xs[0]) - ax
        inside = (ys >= 0) & (ys < h) & (xs >= 0) & (xs < w)
        out[ys[inside], xs[inside]] = t.values[inside]
    return out


def learn_stamp_by_colour(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """Each lone cell replaced by its colour's shape, anchored as every train pair shows."""
    if not edited_in_place(grids, outputs):
        return None
    bg = task_bg(grids)
    for anchor in _ANCHORS:
        def apply(g: Grid, anchor=anchor) -> Grid:
            return stamp_by_colour(g, anchor, bg)

        if reproduces(apply, grids, outputs):
            return Fitted(f"stamp_by_colour(x, {anchor!r}, {bg})", apply)
    return None


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


def colours_in_order(g: Grid, order: str, bg: int) -> list[int]:
    """The colours of G's objects (one colour, 4 neighbours) in ORDER of their first cell read by rows or columns
    (or backward); or G's colours but BG by how many cells each has ("most", "fewest": ValueError on a tie)."""
    if order in ("most", "fewest"):
        counts = np.bincount(g.ravel(), minlength=10)
        counts[bg] = 0
        present = [c for c in range(10) if counts[c]]
        if len({int(counts[c]) for c in present}) != len(present):
            raise ValueError("a tie")
        return sorted(present, key=lambda c: -counts[c] if order == "most" else counts[c])
    objs = objects(g, "4", bg)
    if len(objs) > MAX_OBJECTS:
        raise ValueError("too many objects")
    h, w = g.shape
    flat = [(o.ys * w + o.xs) if order.startswith("rows") else (o.xs * h + o.ys) for o in objs]
    firsts = [int(f.max()) if order.endswith("back") else -int(f.min()) for f in flat]
    return [o.colour for _, o in sorted(zip(firsts, objs), key=lambda t: -t[0])]


def colour_sequence(g: Grid, order: str, column: bool, bg: int) -> Grid:
    """G's colours but BG in ORDER (see colours_in_order), as one row (or one COLUMN)."""
    seq = colours_in_order(g, order, bg)
    if not seq:
        raise ValueError("no colours")
    row = np.array([seq], dtype=np.int8)
    return row.T.copy() if column else row


def learn_colour_sequence(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """The output one row (or column) of the input's colours in an order every train pair shows."""
    if all(o.shape[0] == 1 for o in outputs) and any(o.shape[1] > 1 for o in outputs):
        column = False
    elif all(o.shape[1] == 1 for o in outputs) and any(o.shape[0] > 1 for o in outputs):
        column = True
    else:
        return None
    bg = task_bg(grids)
    for order in _ORDERS:
        def apply(g: Grid, order=order) -> Grid:
            return colour_sequence(g, order, column, bg)

        if reproduces(apply, grids, outputs):
            return Fitted(f"colour_sequence(x, {order!r}, {column}, {bg})", apply)
    return None


# ---------------------------------------------------------------- for the search

PRIMITIVES: list = []  # learners only
LEARNERS = [
    Learner("mark_centre", learn_mark_centre, cost=2, on_every_state=False),
    Learner("stamp_by_colour", learn_stamp_by_colour, cost=2, on_every_state=False),
    Learner("sort_objects", learn_sort_objects, cost=2, on_every_state=False),
    Learner("colour_sequence", learn_colour_sequence, cost=2, on_every_state=False),
]
