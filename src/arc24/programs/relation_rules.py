"""Relation rules: objects acted on by where they lie, rays that run until they meet something, hidden shapes raised.

- `place_objects`: each object kept, deleted or recoloured by its place relative to a reference: above or
  below (left or right of) the grid's one full line, or the box of one colour's cells; inside or outside that
  box; enclosed by another object, or itself a frame (an object with holes), or neither. The reference stays.
- `rays_to_contact`: cells of some colours (all but the commonest, a fixed few, or all) cast lines of their colour over the background in a set of
  directions (vertical, horizontal, the four straight, the four diagonal, all eight, or along a line object's
  own axis); a line is drawn only
  where it runs into another cell, never where it runs off the grid.
- `raise_hidden`: the colour partly hidden under others (its bounding box holds no background but other
  colours; the least visible one when several are) painted over its whole bounding box: in the grid, alone
  on the background, or cropped to that box.

Each learner checks that what it fitted reproduces every train output, and declines otherwise.
"""

from __future__ import annotations

import numpy as np

from arc24.programs.dsl import Fitted, Grid, Learner
from arc24.programs.fitting import edited_in_place, painted_colours, reproduces, task_bg
from arc24.programs.objects import MAX_OBJECTS, Obj, hole_count, objects, reach_edge

# ---------------------------------------------------------------- objects acted on by their place


def full_line(g: Grid, bg: int) -> tuple[str, int]:
    """G's one full row or column of one colour (not BG), as ("rows", its row) or ("columns", its column)."""
    rows = [y for y in range(g.shape[0]) if g[y, 0] != bg and (g[y] == g[y, 0]).all()]
    cols = [x for x in range(g.shape[1]) if g[0, x] != bg and (g[:, x] == g[0, x]).all()]
    if len(rows) + len(cols) != 1:
        raise ValueError("not one full line")
    return ("rows", rows[0]) if rows else ("columns", cols[0])


def _reference(g: Grid, ref: str, bg: int) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The reference's cells (a mask) and its box (top, left, bottom, right): REF "line" or a colour's digit."""
    if ref == "line":
        axis, k = full_line(g, bg)
        mask = np.zeros(g.shape, bool)
        if axis == "rows":
            mask[k] = True
            return mask, (k, 0, k + 1, g.shape[1])
        mask[:, k] = True
        return mask, (0, k, g.shape[0], k + 1)
    mask = g == int(ref)
    if not mask.any():
        raise ValueError("no reference")
    ys, xs = np.nonzero(mask)
    return mask, (int(ys.min()), int(xs.min()), int(ys.max()) + 1, int(xs.max()) + 1)


def _side(lo: int, hi: int, start: int, stop: int) -> str:
    """Where the span [LO, HI) lies against [START, STOP): "before", "after" or "across"."""
    return "before" if hi <= start else "after" if lo >= stop else "across"


def _enclosed(obj: Obj, outside: np.ndarray) -> bool:
    """Whether no background next to OBJ (8 neighbours) reaches the grid's edge, and OBJ does not touch it."""
    if obj.touches_border:
        return False
    h, w = outside.shape
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if outside[np.clip(obj.ys + dy, 0, h - 1), np.clip(obj.xs + dx, 0, w - 1)].any():
                return False
    return True


def places(g: Grid, how: str, bg: int) -> tuple[list[Obj], list[str], np.ndarray]:
    """G's objects (8 neighbours, one colour; the reference left out), each one's place, and the reference's cells.

    HOW: "enclosed" (places "inside", "frame", "outside"), or "<ref>:<kind>" with REF "line" or a colour and
    KIND "rows" (before / after / across the reference's rows), "columns", or "box" (inside / outside / across)."""
    if how == "enclosed":
        objs = objects(g, "8", bg)
        outside = reach_edge(g == bg)
        kinds = ["inside" if _enclosed(o, outside) else "frame" if hole_count(o) else "outside" for o in objs]
        return objs, kinds, np.zeros(g.shape, bool)
    ref, kind = how.split(":")
    mask, (top, left, bottom, right) = _reference(g, ref, bg)
    objs = objects(np.where(mask, bg, g).astype(np.int8), "8", bg)
    found = []
    for o in objs:
        t, l, b, r = o.bbox
        if kind == "rows":
            found.append(_side(t, b, top, bottom))
        elif kind == "columns":
            found.append(_side(l, r, left, right))
        else:
            inside = t >= top and b <= bottom and l >= left and r <= right
            apart = b <= top or t >= bottom or r <= left or l >= right
            found.append("inside" if inside else "outside" if apart else "across")
    return objs, found, mask


def _target(obj: Obj, o: Grid, bg: int):
    """What became of OBJ in the output O: "keep", "delete", a colour, or None (something else)."""
    seen = o[obj.ys, obj.xs]
    if (seen == obj.values).all():
        return "keep"
    if (seen != seen[0]).any():
        return None
    return "delete" if seen[0] == bg else int(seen[0])


def place_objects(g: Grid, how: str, table: dict, bg: int) -> Grid:
    """Each object of G (see places) kept, deleted or recoloured as TABLE says for its place; KeyError for a place it lacks."""
    objs, kinds, _ = places(g, how, bg)
    out = g.copy()
    for obj, kind in zip(objs, kinds):
        act = table[kind]
        if act != "keep":
            out[obj.ys, obj.xs] = bg if act == "delete" else act
    return out


def _place_options(grids: list[Grid], bg: int) -> list[str]:
    """The ways to place objects worth trying: the full line, each colour every grid holds, enclosure."""
    shared = set.intersection(*(set(np.unique(g).tolist()) for g in grids)) - {bg}
    hows = [f"line:{k}" for k in ("rows", "columns")]
    hows += [f"{c}:{k}" for c in sorted(shared) for k in ("rows", "columns", "box")]
    return hows + ["enclosed"]


def learn_place_objects(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """Objects kept, deleted or recoloured by their place against a line, a colour's box, or a frame round them."""
    if not edited_in_place(grids, outputs):
        return None
    bg = task_bg(grids)
    if any(((g != o) & (g == bg)).any() for g, o in zip(grids, outputs)):
        return None  # only objects change
    for how in _place_options(grids, bg):
        table: dict = {}
        try:
            for g, o in zip(grids, outputs):
                objs, kinds, mask = places(g, how, bg)
                if len(objs) > MAX_OBJECTS or (g[mask] != o[mask]).any():
                    raise ValueError("too many objects, or the reference changed")
                for obj, kind in zip(objs, kinds):
                    if table.setdefault(kind, _target(obj, o, bg)) != _target(obj, o, bg) or table[kind] is None:
                        raise ValueError("no one action per place")
        except ValueError:
            continue
        if len(set(table.values())) < 2:
            continue  # one action for every object says nothing of places

        def apply(g: Grid, how=how, table=table) -> Grid:
            return place_objects(g, how, table, bg)

        if reproduces(apply, grids, outputs):
            return Fitted(f"place_objects(x, {how!r}, {table}, {bg})", apply)
    return None


# ---------------------------------------------------------------- rays that run into something

_STEPS = {"vertical": ((1, 0), (-1, 0)), "horizontal": ((0, 1), (0, -1)),
          "straight": ((1, 0), (-1, 0), (0, 1), (0, -1)), "diagonal": ((1, 1), (1, -1), (-1, 1), (-1, -1))}
_STEPS["all"] = _STEPS["straight"] + _STEPS["diagonal"]


def _ray_to_contact(g: Grid, y: int, x: int, dy: int, dx: int, bg: int) -> list[tuple[int, int]]:
    """The background cells from (Y, X) stepping (DY, DX) up to the first other cell; [] when it runs off the grid."""
    h, w = g.shape
    cells = []
    y, x = y + dy, x + dx
    while 0 <= y < h and 0 <= x < w:
        if g[y, x] != bg:
            return cells
        cells.append((y, x))
        y, x = y + dy, x + dx
    return []


def _sources(g: Grid, sources, bg: int) -> np.ndarray:
    """The cells that cast rays: SOURCES "all" (every colour), "minor" (all but the commonest colour), or a tuple of colours."""
    if sources == "all":
        return g != bg
    if sources == "minor":
        counts = np.bincount(g.ravel(), minlength=10)
        counts[bg] = 0
        if (counts == counts.max()).sum() != 1:
            raise ValueError("no single commonest colour")
        return (g != bg) & (g != int(counts.argmax()))
    source = np.isin(g, sources)
    if not source.any():
        raise ValueError("none of the colours that cast")  # a grid of new colours: the rule cannot say
    return source


def _along(g: Grid, bg: int) -> dict[tuple[int, int], tuple]:
    """Each cell of a straight line object (one colour, one cell wide, two or more long): the steps along its line."""
    steps = {}
    for o in objects(g, "8", bg):
        top, left, bottom, right = o.bbox
        if o.size >= 2 and o.size == (bottom - top) * (right - left) and min(bottom - top, right - left) == 1:
            axis = _STEPS["horizontal" if bottom - top == 1 else "vertical"]
            steps.update({(int(y), int(x)): axis for y, x in zip(o.ys, o.xs)})
    return steps


def rays_to_contact(g: Grid, sources, directions: str, bg: int) -> Grid:
    """Cells of SOURCES (see _sources) cast rays of their colour in DIRECTIONS ("along": a line's own axis), kept where they meet a cell."""
    out = g.copy()
    source = _sources(g, sources, bg)
    along = _along(g, bg) if directions == "along" else {}
    for y, x in zip(*np.nonzero(source)):
        for dy, dx in along.get((int(y), int(x)), ()) if directions == "along" else _STEPS[directions]:
            for cy, cx in _ray_to_contact(g, int(y), int(x), dy, dx, bg):
                if out[cy, cx] == bg:
                    out[cy, cx] = g[y, x]
    return out


def learn_rays_to_contact(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """Lines cast from cells of some colours in a set of directions, each drawn only where it runs into another cell."""
    if not edited_in_place(grids, outputs):
        return None
    bg = task_bg(grids)
    if any(((g != o) & (g != bg)).any() for g, o in zip(grids, outputs)):
        return None  # only background is painted
    if sum(int((g != bg).sum()) for g in grids) > 300:
        return None
    painted = tuple(sorted(painted_colours(grids, outputs)))
    for sources in ("minor", "all", painted):
        for directions in (*_STEPS, "along"):
            def apply(g: Grid, sources=sources, directions=directions) -> Grid:
                return rays_to_contact(g, sources, directions, bg)

            if reproduces(apply, grids, outputs):
                return Fitted(f"rays_to_contact(x, {sources!r}, {directions!r}, {bg})", apply)
    return None


# ---------------------------------------------------------------- a hidden shape raised


def hidden_colour(g: Grid, bg: int) -> tuple[int, tuple[int, int, int, int]]:
    """The colour partly hidden under others, and its box: its box holds no background but other colours (the least visible when several do)."""
    found = []
    for c in np.unique(g).tolist():
        if c == bg:
            continue
        ys, xs = np.nonzero(g == c)
        box = (int(ys.min()), int(xs.min()), int(ys.max()) + 1, int(xs.max()) + 1)
        inside = g[box[0]:box[2], box[1]:box[3]]
        if not (inside == bg).any() and (inside != c).any():
            found.append((len(ys) / inside.size, c, box))
    found.sort()
    if not found or (len(found) > 1 and found[0][0] == found[1][0]):
        raise ValueError("no single hidden colour")
    return found[0][1], found[0][2]


def raise_hidden(g: Grid, show: str, bg: int) -> Grid:
    """G's hidden colour (see hidden_colour) over its whole box; SHOW "front" in G, "alone" on background, "crop" its box."""
    c, (top, left, bottom, right) = hidden_colour(g, bg)
    if show == "crop":
        return np.full((bottom - top, right - left), c, dtype=np.int8)
    out = g.copy() if show == "front" else np.full_like(g, bg)
    out[top:bottom, left:right] = c
    return out


def learn_raise_hidden(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """The shape partly hidden under others painted whole over its box: in the grid, alone, or cropped."""
    bg = task_bg(grids)
    for show in ("front", "alone", "crop"):
        def apply(g: Grid, show=show) -> Grid:
            return raise_hidden(g, show, bg)

        if reproduces(apply, grids, outputs):
            return Fitted(f"raise_hidden(x, {show!r}, {bg})", apply)
    return None


# ---------------------------------------------------------------- for the search

PRIMITIVES: list = []  # learners only
LEARNERS = [
    Learner("place_objects", learn_place_objects, cost=2, on_every_state=False),
    Learner("rays_to_contact", learn_rays_to_contact, cost=2, on_every_state=False),
    Learner("raise_hidden", learn_raise_hidden, cost=2, on_every_state=False),
]
