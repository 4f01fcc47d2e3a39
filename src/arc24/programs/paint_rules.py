"""Paint rules: in-place edits that copy a template onto markers, fill the holes of shapes, join objects alike.

- `stamp_template`: the grid's one template (its largest object of several cells) copied onto each lone
  marker cell, anchored by the template's centre or by its own cell of the marker's colour; the copy as it is,
  or in the marker's colour.
- `fill_holes`: each hole (background cut off from the grid's edge) filled with a colour, or left, by one of
  its properties: its size, width, height, their parity, whether it is a rectangle or a square, the colour round it.
- `connect_objects`: objects alike (in shape, or in colour) whose centres share a row, column or diagonal joined
  by a line over the background between them, in one colour or their own.

Each learner checks that what it fitted reproduces every train output, and declines otherwise.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from arc24.programs.dsl import Fitted, Grid, Learner
from arc24.programs.fitting import edited_in_place, painted_colours, reproduces, task_bg
from arc24.programs.objects import Obj, box_centre, objects, reach_edge

# ---------------------------------------------------------------- a template stamped on markers


def _template_and_markers(g: Grid, bg: int) -> tuple[Obj, list[Obj]]:
    """The one largest object of several cells (8 neighbours, any colours) and the lone cells round it."""
    objs = objects(g, "8m", bg)
    markers = [o for o in objs if o.size == 1]
    shapes = [o for o in objs if o.size > 1]
    if not shapes or not markers:
        raise ValueError("no template or no marker")
    sizes = sorted((o.size for o in shapes), reverse=True)
    if len(sizes) > 1 and sizes[0] == sizes[1]:
        raise ValueError("no single template")
    return max(shapes, key=lambda o: o.size), markers


def _anchor(template: Obj, anchor: str, colour: int) -> tuple[int, int]:
    """The template's cell that lands on a marker: its bounding box's centre, or its one cell of COLOUR."""
    if anchor == "centre":
        return box_centre(template.bbox)
    at = np.nonzero(template.values == colour)[0]
    if len(at) != 1:
        raise ValueError("no single anchor cell")
    return int(template.ys[at[0]]), int(template.xs[at[0]])


def stamp_template(g: Grid, anchor: str, paint: str, bg: int) -> Grid:
    """A copy of G's template (see _template_and_markers) on each marker, its ANCHOR cell on the marker; PAINT
    "copy" keeps its colours, "drop" leaves out its cells of the marker's colour, "marker" paints it in that colour."""
    template, markers = _template_and_markers(g, bg)
    out = g.copy()
    h, w = g.shape
    for m in markers:
        y, x = int(m.ys[0]), int(m.xs[0])
        ay, ax = _anchor(template, anchor, m.colour)
        ys, xs = template.ys + y - ay, template.xs + x - ax
        values = np.full_like(template.values, m.colour) if paint == "marker" else template.values.copy()
        if paint == "drop":
            values[values == m.colour] = bg
        inside = (ys >= 0) & (ys < h) & (xs >= 0) & (xs < w)  # a copy near the edge is cut off there
        out[ys[inside], xs[inside]] = values[inside]
    return out


def learn_stamp_template(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """The template copied onto every lone marker cell, anchored and painted as every train pair shows."""
    if not edited_in_place(grids, outputs):
        return None
    bg = task_bg(grids)
    for anchor in ("centre", "colour"):
        for paint in ("copy", "drop", "marker"):
            def apply(g: Grid, anchor=anchor, paint=paint) -> Grid:
                return stamp_template(g, anchor, paint, bg)

            if reproduces(apply, grids, outputs):
                return Fitted(f"stamp_template(x, {anchor!r}, {paint!r}, {bg})", apply)
    return None


# ---------------------------------------------------------------- holes filled by what they are


def holes(g: Grid, bg: int) -> list[Obj]:
    """G's holes: the 4-connected runs of background that cannot reach the grid's edge through background."""
    free = g == bg
    return objects((free & ~reach_edge(free)).astype(np.int8), "4", 0)


def _rim_colour(g: Grid, hole: Obj, bg: int) -> int:
    """The most frequent colour on the cells next to HOLE (4 neighbours); -1 when two tie."""
    h, w = g.shape
    seen: Counter = Counter()
    for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        ys, xs = hole.ys + dy, hole.xs + dx
        ok = (ys >= 0) & (ys < h) & (xs >= 0) & (xs < w)
        seen.update(v for v in g[ys[ok], xs[ok]].tolist() if v != bg)
    top = seen.most_common(2)
    return top[0][0] if len(top) == 1 or top[0][1] > top[1][1] else -1


def hole_properties(g: Grid, found: list[Obj], bg: int) -> dict[str, list]:
    """For each property, its value for each hole in FOUND; the simplest first (the fit takes the first that works)."""
    heights = [o.bbox[2] - o.bbox[0] for o in found]
    widths = [o.bbox[3] - o.bbox[1] for o in found]
    rect = [o.size == hh * ww for o, hh, ww in zip(found, heights, widths)]
    return {
        "is_square": [r and hh == ww for r, hh, ww in zip(rect, heights, widths)],
        "is_rectangle": [*rect],
        "rim_colour": [_rim_colour(g, o, bg) for o in found],
        "parity": [(hh % 2, ww % 2) for hh, ww in zip(heights, widths)],
        "size": [o.size for o in found],
        "height": heights,
        "width": widths,
        "is_largest": [o.size == max(o2.size for o2 in found) for o in found],
        "is_smallest": [o.size == min(o2.size for o2 in found) for o in found],
    }


def fill_holes(g: Grid, prop: str, table: dict, bg: int) -> Grid:
    """Each hole of G painted TABLE[its PROP] (see hole_properties); KeyError for a value TABLE lacks."""
    found = holes(g, bg)
    out = g.copy()
    for hole, v in zip(found, hole_properties(g, found, bg)[prop] if found else []):
        out[hole.ys, hole.xs] = table[v]
    return out


def learn_fill_holes(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """Each hole filled in one colour (background: left) as a table of one of its properties, the same in every pair."""
    if not edited_in_place(grids, outputs):
        return None
    bg = task_bg(grids)
    cases = []
    for g, o in zip(grids, outputs):
        found = holes(g, bg)
        targets = []
        for hole in found:
            seen = o[hole.ys, hole.xs]
            if (seen != seen[0]).any():
                return None
            targets.append(int(seen[0]))
        cases.append((hole_properties(g, found, bg) if found else {}, targets))
    names = next((list(props) for props, _ in cases if props), [])
    for prop in names:
        table: dict = {}
        if all(table.setdefault(v, t) == t for props, ts in cases for v, t in zip(props.get(prop, []), ts)):
            if len(set(table.values())) < 2:
                continue  # one colour for every hole is fill_enclosed's

            def apply(g: Grid, prop=prop, table=table) -> Grid:
                return fill_holes(g, prop, table, bg)

            if reproduces(apply, grids, outputs):
                return Fitted(f"fill_holes(x, {prop!r}, {table}, {bg})", apply)
    return None


# ---------------------------------------------------------------- objects joined centre to centre


def _centre(obj: Obj) -> tuple[int, int] | None:
    """OBJ's bounding box's centre cell, or None when its box has an even side."""
    try:
        return box_centre(obj.bbox)
    except ValueError:
        return None


_AXES = {"straight": ((0, 1), (1, 0)), "diagonal": ((1, 1), (1, -1)), "any": ((0, 1), (1, 0), (1, 1), (1, -1))}


def _gap(g: Grid, a: Obj, b: Obj, steps, bg: int) -> list[tuple[int, int]]:
    """The background cells between A and B on the line through their centres (when it is one of STEPS), or []."""
    ca, cb = _centre(a), _centre(b)
    if ca is None or cb is None:
        return []
    dy, dx = cb[0] - ca[0], cb[1] - ca[1]
    n = max(abs(dy), abs(dx))
    if n == 0 or (dy % n or dx % n):
        return []
    step = (dy // n, dx // n)
    if step not in steps and (-step[0], -step[1]) not in steps:
        return []
    line = [(ca[0] + k * step[0], ca[1] + k * step[1]) for k in range(n + 1)]
    cells_a = set(zip(a.ys.tolist(), a.xs.tolist()))
    cells_b = set(zip(b.ys.tolist(), b.xs.tolist()))
    last_a = max(k for k, c in enumerate(line) if c in cells_a) if cells_a & set(line) else 0
    first_b = min(k for k, c in enumerate(line) if c in cells_b) if cells_b & set(line) else n
    gap = line[last_a + 1:first_b]
    if not gap or any(g[y, x] != bg for y, x in gap):
        return []  # something lies between them: they are no neighbours
    return gap


def connect_objects(g: Grid, twins: str, axes: str, c: int, bg: int) -> Grid:
    """Objects alike (TWINS "shape" or "colour") whose centres share a line of AXES joined by a line of C (-1: their colour)."""
    objs = [o for o in objects(g, "8", bg) if _centre(o) is not None]
    out = g.copy()
    for i, a in enumerate(objs):
        for b in objs[i + 1:]:
            if (a.shape_key if twins == "shape" else a.colour) != (b.shape_key if twins == "shape" else b.colour):
                continue
            for y, x in _gap(g, a, b, _AXES[axes], bg):
                out[y, x] = a.colour if c < 0 else c
    return out


def learn_connect_objects(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """Objects alike whose centres share a row, column or diagonal joined by a line, as every train pair shows."""
    if not edited_in_place(grids, outputs):
        return None
    bg = task_bg(grids)
    painted = painted_colours(grids, outputs)
    if len(painted) != 1 or any(((g != o) & (g != bg)).any() for g, o in zip(grids, outputs)):
        return None  # one colour painted, on background only
    c = painted.pop()
    for twins in ("shape", "colour"):
        for axes in _AXES:
            for colour in (c, -1):
                def apply(g: Grid, twins=twins, axes=axes, colour=colour) -> Grid:
                    return connect_objects(g, twins, axes, colour, bg)

                if reproduces(apply, grids, outputs):
                    return Fitted(f"connect_objects(x, {twins!r}, {axes!r}, {colour}, {bg})", apply)
    return None


# ---------------------------------------------------------------- for the search

PRIMITIVES: list = []  # learners only
LEARNERS = [
    Learner("stamp_template", learn_stamp_template, cost=2, on_every_state=False),
    Learner("fill_holes", learn_fill_holes, cost=2, on_every_state=False),
    Learner("connect_objects", learn_connect_objects, cost=2, on_every_state=False),
]
