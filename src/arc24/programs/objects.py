"""Object-level primitives and learners: connected objects, selectors, gravity, fills, outlines, lines, counts.

An *object* is a connected set of cells that are not background, found with 4 or 8 neighbours
and of one colour or of several (`MODES`). The background is a parameter the task gives: the
most frequent colour of its inputs (`_bg`), which is steadier than each grid's own most frequent
colour when the objects crowd a small grid. Each primitive is a small pure function with a
one-line docstring; `PRIMITIVES` offers each only where the task's outputs leave it a chance.

The learners (`LEARNERS`) end a program: they recolour each object by one of its properties, or
keep or delete objects by one, as a table property -> colour (or keep / delete) read off the train
pairs, consistent in every pair; a grid whose objects show a value the table lacks is refused.
What the other modules' object learners share is public here too: the objects' properties and
relations (`properties`, `all_properties`, `hole_count`), picking one by a property
(`pick_objects`), cropping its box (`crop_box`), how far it slides (`slide_offset`, `toward`), the
cells that reach the edge (`reach_edge`), a colour's cells as one object (`colour_groups`).

The search's branching factor limits its depth, so some functions here are left out of
`PRIMITIVES`: `keep_object` and `remove_object` (the `keep_objects` learner says what they would
as a last step) and `paint_rim` (rare).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from arc24.programs.dsl import Fitted, Grid, Learner, Primitive, TaskFacts
from arc24.programs.fitting import task_bg

# ---------------------------------------------------------------- objects

# How to cut a grid into objects: "4" one colour, 4 neighbours; "8" one colour, 8 neighbours;
# "4m" / "8m" several colours (every cell that is not background), 4 or 8 neighbours.
MODES = ("4", "8", "4m", "8m")


@dataclass(frozen=True, eq=False)
class Obj:
    """A connected object: its cells (rows YS, columns XS), their colours, its main colour and bounding box."""

    ys: np.ndarray
    xs: np.ndarray
    values: np.ndarray
    colour: int  # its most frequent colour
    bbox: tuple[int, int, int, int]  # top, left, bottom, right (the last two past the end)
    grid_shape: tuple[int, int]

    @property
    def size(self) -> int:
        return len(self.ys)

    @property
    def mask(self) -> np.ndarray:
        top, left, bottom, right = self.bbox
        m = np.zeros((bottom - top, right - left), bool)
        m[self.ys - top, self.xs - left] = True
        return m

    @cached_property
    def shape_key(self) -> tuple:
        m = self.mask
        return m.shape, m.tobytes()

    @property
    def n_colours(self) -> int:
        return len(set(self.values.tolist()))

    @property
    def touches_border(self) -> bool:
        top, left, bottom, right = self.bbox
        return top == 0 or left == 0 or bottom == self.grid_shape[0] or right == self.grid_shape[1]


def _offsets(width: int, diagonal: bool) -> list[int]:
    steps = [-width, width, -1, 1]
    return steps + [-width - 1, -width + 1, width - 1, width + 1] if diagonal else steps


def _components(flat: list, skip: list, width: int, diagonal: bool, multi: bool) -> list[list[int]]:
    """Connected runs of cells of a padded, flattened grid: each a list of flat indices (SKIP: cells left out)."""
    seen = list(skip)
    offsets, found = _offsets(width, diagonal), []
    for start, done in enumerate(seen):
        if done:
            continue
        colour, stack, cells = flat[start], [start], []
        seen[start] = True
        while stack:
            i = stack.pop()
            cells.append(i)
            for d in offsets:
                j = i + d
                if not seen[j] and (multi or flat[j] == colour):
                    seen[j] = True
                    stack.append(j)
        found.append(cells)
    return found


def _padded(g: Grid) -> tuple[list, int]:
    padded = np.full((g.shape[0] + 2, g.shape[1] + 2), -1, dtype=np.int16)
    padded[1:-1, 1:-1] = g
    return padded.ravel().tolist(), g.shape[1] + 2


def box_centre(box: tuple[int, int, int, int]) -> tuple[int, int]:
    """The centre cell of a bounding box (top, left, bottom, right); ValueError when a side is even (no centre cell)."""
    top, left, bottom, right = box
    if (bottom - top) % 2 == 0 or (right - left) % 2 == 0:
        raise ValueError("no centre cell")
    return (top + bottom) // 2, (left + right) // 2


# A rule over a grid's objects (a table by their properties, a place, an order) declines beyond this many:
# such a grid is noise, not a few shapes, and its objects cost more and mislead more than they tell.
MAX_OBJECTS = 30


def objects(g: Grid, mode: str, bg: int) -> list[Obj]:
    """The grid's objects in MODE (see MODES), background BG left out, in reading order of their first cell."""
    flat, width = _padded(g)
    multi = mode.endswith("m")
    found = []
    for cells in _components(flat, [v == -1 or v == bg for v in flat], width, mode.startswith("8"), multi):
        ys = [i // width - 1 for i in cells]
        xs = [i % width - 1 for i in cells]
        values = [flat[i] for i in cells]
        colour = Counter(values).most_common(1)[0][0] if multi else values[0]
        found.append(Obj(np.array(ys), np.array(xs), np.array(values), colour,
                         (min(ys), min(xs), max(ys) + 1, max(xs) + 1), g.shape))
    return found


def paint(g: Grid, obj: Obj, c: int) -> Grid:
    """The grid with OBJ's cells painted colour C."""
    out = g.copy()
    out[obj.ys, obj.xs] = c
    return out


# ---------------------------------------------------------------- selectors


def _only(objs: list[Obj], key) -> Obj:
    """The one object with the highest KEY; ValueError when none is, or when two tie."""
    scored = sorted(((key(o), k) for k, o in enumerate(objs)), key=lambda t: t[0], reverse=True)
    if not scored or (len(scored) > 1 and scored[0][0] == scored[1][0]):
        raise ValueError("no single object")
    return objs[scored[0][1]]


def _unique_by(objs: list[Obj], prop) -> Obj:
    """The one object whose PROP no other object shares."""
    counts = Counter(prop(o) for o in objs)
    alone = [o for o in objs if counts[prop(o)] == 1]
    if len(alone) != 1:
        raise ValueError("no single object")
    return alone[0]


SELECTORS = {
    "largest": lambda objs: _only(objs, lambda o: o.size),
    "smallest": lambda objs: _only(objs, lambda o: -o.size),
    "top": lambda objs: _only(objs, lambda o: -o.bbox[0]),
    "bottom": lambda objs: _only(objs, lambda o: o.bbox[2]),
    "left": lambda objs: _only(objs, lambda o: -o.bbox[1]),
    "right": lambda objs: _only(objs, lambda o: o.bbox[3]),
    "unique_colour": lambda objs: _unique_by(objs, lambda o: o.colour),
    "unique_shape": lambda objs: _unique_by(objs, lambda o: o.shape_key),
    "most_colours": lambda objs: _only(objs, lambda o: o.n_colours),
}


def select(g: Grid, which: str, mode: str, bg: int) -> Obj:
    """The object SELECTORS[WHICH] picks among the grid's objects."""
    return SELECTORS[which](objects(g, mode, bg))


def crop_object(g: Grid, which: str, mode: str, bg: int) -> Grid:
    """The bounding box of the selected object."""
    top, left, bottom, right = select(g, which, mode, bg).bbox
    return g[top:bottom, left:right]


def keep_object(g: Grid, which: str, mode: str, bg: int) -> Grid:
    """Only the selected object kept; everything else becomes background."""
    obj = select(g, which, mode, bg)
    out = np.full_like(g, bg)
    out[obj.ys, obj.xs] = g[obj.ys, obj.xs]
    return out


def remove_object(g: Grid, which: str, mode: str, bg: int) -> Grid:
    """The selected object becomes background."""
    return paint(g, select(g, which, mode, bg), bg)


def _colour_counts(g: Grid, bg: int) -> np.ndarray:
    counts = np.bincount(g.ravel(), minlength=10).astype(np.int64)
    counts[bg] = 0
    return counts


def _extreme_colour(g: Grid, bg: int, most: bool) -> int:
    counts = _colour_counts(g, bg)
    present = [c for c in range(10) if counts[c]]
    best = (max if most else min)(counts[c] for c in present)
    winners = [c for c in present if counts[c] == best]
    if len(winners) != 1:
        raise ValueError("no single colour")
    return winners[0]


def keep_major_colour(g: Grid, bg: int) -> Grid:
    """Only the most frequent colour other than background kept."""
    return np.where(g == _extreme_colour(g, bg, True), g, bg).astype(np.int8)


def keep_minor_colour(g: Grid, bg: int) -> Grid:
    """Only the least frequent colour other than background kept."""
    return np.where(g == _extreme_colour(g, bg, False), g, bg).astype(np.int8)


def crop_major_colour(g: Grid, bg: int) -> Grid:
    """The bounding box of the most frequent colour other than background."""
    ys, xs = np.nonzero(g == _extreme_colour(g, bg, True))
    return g[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


def crop_minor_colour(g: Grid, bg: int) -> Grid:
    """The bounding box of the least frequent colour other than background."""
    ys, xs = np.nonzero(g == _extreme_colour(g, bg, False))
    return g[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


# ---------------------------------------------------------------- gravity

# Each direction as the quarter turns that make it "down", and back.
_TURNS = {"down": 0, "left": 1, "up": 2, "right": 3}


def _as_down(fn, g: Grid, direction: str, *args) -> Grid:
    k = _TURNS[direction]
    return np.rot90(fn(np.rot90(g, k), *args), -k)


def _fall_down(g: Grid, bg: int) -> Grid:
    order = np.argsort(g != bg, axis=0, kind="stable")
    return np.take_along_axis(g, order, axis=0)


def gravity(g: Grid, direction: str, bg: int) -> Grid:
    """Every cell that is not background falls toward DIRECTION's side, in its column or row, keeping order."""
    return _as_down(_fall_down, g, direction, bg)


def _drop_objects(g: Grid, bg: int) -> Grid:
    h, w = g.shape
    out = [[bg] * w for _ in range(h)]
    for obj in sorted(objects(g, "8m", bg), key=lambda o: -o.bbox[2]):
        cells = list(zip(obj.ys.tolist(), obj.xs.tolist(), obj.values.tolist()))
        low: dict = {}
        for y, x, _ in cells:
            low[x] = max(low.get(x, y), y)
        fall = h
        for x, y in low.items():
            k = 0
            while y + k + 1 < h and out[y + k + 1][x] == bg:
                k += 1
            fall = min(fall, k)
        for y, x, v in cells:
            out[y + fall][x] = v
    return np.array(out, dtype=np.int8)


def drop_objects(g: Grid, direction: str, bg: int) -> Grid:
    """Every object (8 neighbours, any colours) slides toward DIRECTION until it meets another or the edge."""
    return _as_down(_drop_objects, g, direction, bg)


def toward(obj: Obj, target: np.ndarray) -> tuple[int, int]:
    """The unit step from OBJ toward the nearest TARGET cell that shares a row or column with it."""
    ty, tx = np.nonzero(target)
    dy, dx = ty[None, :] - obj.ys[:, None], tx[None, :] - obj.xs[:, None]
    far = 10 ** 6
    dist = np.where((dy == 0) | (dx == 0), np.abs(dy) + np.abs(dx), far)
    if not dist.size or dist.min() == far:
        raise ValueError("nothing in line")
    i, j = np.unravel_index(dist.argmin(), dist.shape)
    return int(np.sign(dy[i, j])), int(np.sign(dx[i, j]))


def move_until_touch(g: Grid, a: int, b: int, bg: int) -> Grid:
    """Each object of colour A slides straight toward colour B until it touches it."""
    out = g.copy()
    h, w = g.shape
    for obj in objects(g, "8", bg):
        if obj.colour != a:
            continue
        dy, dx = toward(obj, out == b)
        out[obj.ys, obj.xs] = bg
        ys, xs = obj.ys, obj.xs
        while True:
            ny, nx = ys + dy, xs + dx
            if ny.min() < 0 or nx.min() < 0 or ny.max() >= h or nx.max() >= w or (out[ny, nx] != bg).any():
                break
            ys, xs = ny, nx
        out[ys, xs] = a
    return out


# ---------------------------------------------------------------- fills and outlines


def reach_edge(free: np.ndarray) -> np.ndarray:
    """The FREE cells joined to the grid's edge through FREE cells (4 neighbours)."""
    h, w = free.shape
    ring = np.zeros((h + 4, w + 4), bool)  # a free ring round the grid, a blocked one round that
    ring[1:-1, 1:-1] = True
    ring[2:-2, 2:-2] = free
    width = w + 4
    flat = ring.ravel().tolist()
    reached = [False] * len(flat)
    stack = [width + 1]
    reached[width + 1] = True
    while stack:
        i = stack.pop()
        for j in (i - width, i + width, i - 1, i + 1):
            if flat[j] and not reached[j]:
                reached[j] = True
                stack.append(j)
    return np.array(reached).reshape(h + 4, w + 4)[2:-2, 2:-2]


def fill_enclosed(g: Grid, c: int, bg: int) -> Grid:
    """Background cells that cannot reach the grid's edge through background become colour C."""
    free = g == bg
    return np.where(free & ~reach_edge(free), c, g).astype(np.int8)


def _interior(g: Grid, bg: int) -> np.ndarray:
    fg = np.pad(g != bg, 1)
    return fg[1:-1, 1:-1] & fg[:-2, 1:-1] & fg[2:, 1:-1] & fg[1:-1, :-2] & fg[1:-1, 2:]


def hollow(g: Grid, bg: int) -> Grid:
    """Cells whose four neighbours are all foreground become background (the grid's edge counts as background)."""
    return np.where(_interior(g, bg), bg, g).astype(np.int8)


def paint_interior(g: Grid, c: int, bg: int) -> Grid:
    """Cells whose four neighbours are all foreground become colour C."""
    return np.where(_interior(g, bg), c, g).astype(np.int8)


def paint_rim(g: Grid, c: int, bg: int) -> Grid:
    """Foreground cells with a background neighbour (or on the edge) become colour C."""
    return np.where((g != bg) & ~_interior(g, bg), c, g).astype(np.int8)


def halo(g: Grid, c: int, bg: int) -> Grid:
    """Background cells next to the foreground (8 neighbours) become colour C."""
    fg = np.pad(g != bg, 1)
    h, w = g.shape
    near = np.zeros((h, w), bool)
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            near |= fg[dy:dy + h, dx:dx + w]
    return np.where(near & (g == bg), c, g).astype(np.int8)


# ---------------------------------------------------------------- lines


def _cast_down(g: Grid, source: np.ndarray, bg: int) -> Grid:
    h, w = g.shape
    last = np.maximum.accumulate(np.where(source, np.arange(h)[:, None], -1), axis=0)
    colour = g[np.maximum(last, 0), np.arange(w)[None, :]]
    return np.where((g == bg) & (last >= 0), colour, g).astype(np.int8)


def _cast(g: Grid, source: np.ndarray, direction: str, bg: int) -> Grid:
    if direction == "horizontal":
        return _cast(_cast(g, source, "right", bg), source, "left", bg)
    if direction == "vertical":
        return _cast(_cast(g, source, "down", bg), source, "up", bg)
    k = _TURNS[direction]
    return np.rot90(_cast_down(np.rot90(g, k), np.rot90(source, k), bg), -k)


def extend(g: Grid, direction: str, bg: int) -> Grid:
    """Every foreground cell casts a line of its colour over the background to the edge in DIRECTION."""
    return _cast(g, g != bg, direction, bg)


def extend_colour(g: Grid, c: int, direction: str, bg: int) -> Grid:
    """Every cell of colour C casts a line of C over the background to the edge in DIRECTION."""
    return _cast(g, g == c, direction, bg)


def _connect_rows(g: Grid, bg: int) -> Grid:
    out = g.copy()
    for y, row in enumerate(g.tolist()):
        first, last = {}, {}
        for x, v in enumerate(row):
            if v != bg:
                first.setdefault(v, x)
                last[v] = x
        for v, x0 in first.items():
            if last[v] > x0 + 1:
                span = out[y, x0:last[v] + 1]
                span[span == bg] = v
    return out


def connect(g: Grid, axis: str, bg: int) -> Grid:
    """Cells of one colour in a row (AXIS "rows"), a column ("columns") or both are joined by a line of it."""
    out = g
    if axis in ("rows", "both"):
        out = _connect_rows(out, bg)
    if axis in ("columns", "both"):
        out = _connect_rows(out.T, bg).T
    return out


# ---------------------------------------------------------------- counts into sizes


def count(g: Grid, what: str, shape: str, bg: int) -> Grid:
    """A row, column or square of side N in the main foreground colour: N its cells, objects or colours (WHAT)."""
    counts = _colour_counts(g, bg)
    n = {"cells": lambda: int(counts.sum()), "objects": lambda: len(objects(g, "8", bg)),
         "colours": lambda: int((counts > 0).sum())}[what]()
    colour = int(counts.argmax())
    size = {"row": (1, n), "column": (n, 1), "square": (n, n)}[shape]
    return np.full(size, colour, dtype=np.int8)


# ---------------------------------------------------------------- parameters from the task


def _bg(facts: TaskFacts) -> int:
    """The task's background: the most frequent colour of its inputs."""
    return facts.input_colours[0]


def _paint_colours(facts: TaskFacts) -> list[int]:
    return [c for c in facts.output_colours if c != _bg(facts)]


def _fg_colours(facts: TaskFacts) -> list[int]:
    return [c for c in facts.input_colours if c != _bg(facts)]


def _smaller(facts: TaskFacts) -> bool:
    return not facts.same_shape and all(r[0] <= 1 and r[1] <= 1 for r in facts.ratios)


_CROP_SELECTORS = tuple(SELECTORS)
_OBJECT_MODES = ("4", "8m")
_DIRECTIONS = ("down", "up", "left", "right")


def _crops(facts: TaskFacts):
    if not _smaller(facts):
        return []
    return [(s, m, _bg(facts)) for s in _CROP_SELECTORS for m in _OBJECT_MODES]


def _same_bg(facts: TaskFacts):
    return [(_bg(facts),)] if facts.same_shape else []


def _smaller_bg(facts: TaskFacts):
    return [(_bg(facts),)] if _smaller(facts) else []


def _directions(facts: TaskFacts):
    return [(d, _bg(facts)) for d in _DIRECTIONS] if facts.same_shape else []


def _paints(facts: TaskFacts):
    return [(c, _bg(facts)) for c in _paint_colours(facts)] if facts.same_shape else []


def _extends(facts: TaskFacts):
    return [(d, _bg(facts)) for d in _DIRECTIONS + ("horizontal", "vertical")] if facts.same_shape else []


def _colour_extends(facts: TaskFacts):
    if not facts.same_shape or len(_fg_colours(facts)) < 2:
        return []  # with one foreground colour, `extend` already says it
    return [(c, d, _bg(facts)) for c in _fg_colours(facts) for d in ("horizontal", "vertical")]


def _connects(facts: TaskFacts):
    return [(a, _bg(facts)) for a in ("both", "rows", "columns")] if facts.same_shape else []


def _moves(facts: TaskFacts):
    if not facts.same_shape:
        return []
    colours = _fg_colours(facts)
    if len(colours) > 3:
        return []
    return [(a, b, _bg(facts)) for a in colours for b in colours if a != b]


def _counts(facts: TaskFacts):
    """Only when the outputs' shapes vary, are small, and all rows, all columns or all squares."""
    shapes = facts.output_shapes
    if facts.same_shape or len(set(shapes)) < 2 or max(max(s) for s in shapes) > 10:
        return []
    for kind, ok in (("row", lambda s: s[0] == 1), ("column", lambda s: s[1] == 1), ("square", lambda s: s[0] == s[1])):
        if all(ok(s) for s in shapes):
            return [(what, kind, _bg(facts)) for what in ("cells", "objects", "colours")]
    return []


# ---------------------------------------------------------------- what the object learners share

# A direction's name -> its unit step (row, column): the four straight ones, then the four diagonal ones too.
STEPS4 = {"down": (1, 0), "up": (-1, 0), "left": (0, -1), "right": (0, 1)}
STEPS8 = {**STEPS4, "down_left": (1, -1), "down_right": (1, 1), "up_left": (-1, -1), "up_right": (-1, 1)}

# The properties (of `all_properties`) whose values are ordered: an object may be picked by the largest or smallest.
ORDERED_PROPERTIES = ("size", "height", "width", "holes", "n_colours", "shape_count", "colour_count")


def colour_groups(g: Grid, bg: int) -> list[Obj]:
    """G's cells of each colour but BG as one object, connected or not (a dotted outline is one shape)."""
    found = []
    for c in np.unique(g).tolist():
        if c != bg:
            ys, xs = np.nonzero(g == c)
            found.append(Obj(ys, xs, g[ys, xs], c, (int(ys.min()), int(xs.min()), int(ys.max()) + 1,
                                                    int(xs.max()) + 1), g.shape))
    return found


def properties(objs: list[Obj]) -> dict[str, list]:
    """For each property, its value for each of OBJS."""
    sizes = [o.size for o in objs]
    ranks = {s: k for k, s in enumerate(sorted(set(sizes), reverse=True))}
    shapes = [o.shape_key for o in objs]
    shape_counts = Counter(shapes)
    return {
        "is_largest": [s == max(sizes) for s in sizes],
        "is_smallest": [s == min(sizes) for s in sizes],
        "touches_border": [o.touches_border for o in objs],
        "size": sizes,
        "size_rank": [ranks[s] for s in sizes],
        "colour": [o.colour for o in objs],
        "shape": shapes,
        "unique_shape": [shape_counts[k] == 1 for k in shapes],
        "height": [o.bbox[2] - o.bbox[0] for o in objs],
        "width": [o.bbox[3] - o.bbox[1] for o in objs],
        # of an object of several colours: how many of its cells are not its main colour (its specks)
        "n_minor": [int((o.values != o.colour).sum()) for o in objs],
    }


def hole_count(obj: Obj) -> int:
    """How many connected pockets of cells not in OBJ lie inside it (4 neighbours)."""
    free = ~obj.mask
    inside = free & ~reach_edge(free)
    if not inside.any():
        return 0
    return len(objects(inside.astype(np.int8), "4", 0))


def _relations(g: Grid, objs: list[Obj], bg: int) -> dict[str, list]:
    """Properties of each object that depend on its surroundings."""
    h, w = g.shape
    fg = g != bg
    free = ~fg
    outside = reach_edge(free)
    shapes = Counter(o.shape_key for o in objs)
    colours = Counter(o.colour for o in objs)
    sizes = Counter(o.size for o in objs)
    common = max(shapes.values())
    touch, holes, enclosed = [], [], []
    for o in objs:
        own = np.zeros((h, w), bool)
        own[o.ys, o.xs] = True
        near = np.zeros((h + 2, w + 2), bool)
        for dy, dx in STEPS8.values():
            near[1 + dy:1 + dy + h, 1 + dx:1 + dx + w] |= own
        ring = near[1:-1, 1:-1] & ~own
        touch.append(tuple(sorted(set(g[ring & fg].tolist()))))
        holes.append(hole_count(o))
        # enclosed: no path of background from the object's side to the grid's edge
        enclosed.append(bool((ring & free).any()) and not bool((ring & outside).any()))
    out = {
        "holes": holes,
        "has_hole": [n > 0 for n in holes],
        "touches": touch,
        "touches_any": [bool(t) for t in touch],
        "enclosed": enclosed,
        "shape_count": [shapes[o.shape_key] for o in objs],
        "common_shape": [shapes[o.shape_key] == common for o in objs],
        "colour_count": [colours[o.colour] for o in objs],
        "size_shared": [sizes[o.size] > 1 for o in objs],
        "n_colours": [o.n_colours for o in objs],
    }
    for c in sorted(set(g[fg].tolist())):
        out[f"touches_{c}"] = [c in t for t in touch]
    return out


def all_properties(g: Grid, objs: list[Obj], bg: int, relations: bool) -> dict[str, list]:
    """For each property, its value for each of OBJS; with RELATIONS, also those that depend on G and the other objects."""
    props = properties(objs)
    if relations:
        props.update(_relations(g, objs, bg))
    return props


def pick_objects(values: list, rule: str, arg) -> list[int]:
    """The indices of the objects RULE picks by VALUES: one, or (for "common") those that share the most
    common value; ValueError when it picks none, or several it should not."""
    if rule == "max":
        best = max(values)
        hits = [k for k, v in enumerate(values) if v == best]
    elif rule == "min":
        best = min(values)
        hits = [k for k, v in enumerate(values) if v == best]
    elif rule == "unique":
        counts = Counter(values)
        hits = [k for k, v in enumerate(values) if counts[v] == 1]
    elif rule == "common":
        counts = Counter(values)
        top = max(counts.values())
        hits = [k for k, v in enumerate(values) if counts[v] == top]
        if len({values[k] for k in hits}) == 1 and top > 1:
            return hits
    else:  # "is"
        hits = [k for k, v in enumerate(values) if v == arg]
    if len(hits) != 1:
        raise ValueError("no single object")
    return hits


def crop_box(g: Grid, obj: Obj, bg: int, alone) -> Grid:
    """OBJ's bounding box of G: as it is (ALONE False), OBJ's cells alone on background (True), or inside
    its one-cell rim ("inside")."""
    top, left, bottom, right = obj.bbox
    if alone == "inside":
        if bottom - top < 3 or right - left < 3:
            raise ValueError("no inside")
        return g[top + 1:bottom - 1, left + 1:right - 1]
    if not alone:
        return g[top:bottom, left:right]
    out = np.full((bottom - top, right - left), bg, dtype=g.dtype)
    out[obj.ys - top, obj.xs - left] = obj.values
    return out


def slide_offset(g: Grid, obj: Obj, direction: str, bg: int) -> tuple[int, int]:
    """How far OBJ slides in DIRECTION (or "toward" the nearest cell in line) over background before it meets
    a cell or the edge."""
    h, w = g.shape
    if direction == "toward":
        own = np.zeros((h, w), bool)
        own[obj.ys, obj.xs] = True
        try:
            dy, dx = toward(obj, (g != bg) & ~own)
        except ValueError:
            return 0, 0
    else:
        dy, dx = STEPS4[direction] if isinstance(direction, str) else direction
    top, left, bottom, right = obj.bbox
    room = {(1, 0): h - bottom, (-1, 0): top, (0, 1): w - right, (0, -1): left}[(dy, dx)]
    if room == 0:
        return 0, 0
    own = np.zeros((h, w), bool)
    own[obj.ys, obj.xs] = True
    blocked = (g != bg) & ~own
    ks = np.arange(1, room + 1)
    hit = blocked[obj.ys[None, :] + dy * ks[:, None], obj.xs[None, :] + dx * ks[:, None]].any(1)
    k = int(hit.argmax()) if hit.any() else room
    return dy * k, dx * k


# ---------------------------------------------------------------- learners


def _learn_table(cases: list[tuple[dict, list]]) -> str | None:
    """The first property whose value gives every object's target, in every pair; None if none does.

    CASES holds, per pair, its objects' property values and their targets."""
    for prop in cases[0][0]:
        table: dict = {}
        if all(table.setdefault(v, t) == t for values, targets in cases for v, t in zip(values[prop], targets)):
            if len(set(table.values())) > 1:
                return prop, table
    return None


def _fit_objects(grids: list[Grid], outputs: list[Grid], target_of, apply_target, label: str) -> Fitted | None:
    """Shared by the object learners: cut objects, read each one's target, learn a property table."""
    if any(g.shape != o.shape for g, o in zip(grids, outputs)):
        return None
    bg = task_bg(grids)
    for g, o in zip(grids, outputs):
        changed = g != o
        if (changed & (g == bg)).any():
            return None  # the background changed: no object learner says that
    if not any((g != o).any() for g, o in zip(grids, outputs)):
        return None
    for mode in ("4", "8", "8m"):
        cases = []
        for g, o in zip(grids, outputs):
            objs = objects(g, mode, bg)
            targets = [target_of(obj, o, bg) for obj in objs]
            if not objs or any(t is None for t in targets):
                break
            cases.append((properties(objs), targets))
        else:
            learned = _learn_table(cases)
            if learned is None:
                continue
            prop, table = learned

            def apply(g: Grid, prop=prop, table=table, mode=mode) -> Grid:
                objs = objects(g, mode, bg)
                out = g.copy()
                for obj, v in zip(objs, properties(objs)[prop]):
                    out = apply_target(out, obj, table[v], bg)  # KeyError: a value the pairs never showed
                return out

            shown = {k: v for k, v in table.items() if not isinstance(k, tuple)}
            return Fitted(f"{label}(x, {mode!r}, {prop!r}, {shown if len(shown) == len(table) else '...'}, {bg})", apply)
    return None


def _recolour_target(obj: Obj, o: Grid, bg: int):
    seen = o[obj.ys, obj.xs]
    if (seen != seen[0]).any() or seen[0] == bg:
        return None
    return "keep" if (seen == obj.values).all() else int(seen[0])


def _recolour_apply(out: Grid, obj: Obj, target, bg: int) -> Grid:
    return out if target == "keep" else paint(out, obj, target)


def learn_recolour_objects(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """Each object recoloured by one of its properties, as one table property -> colour in every pair."""
    if any(g.shape != o.shape for g, o in zip(grids, outputs)):
        return None
    return _fit_objects(grids, outputs, _recolour_target, _recolour_apply, "recolour_objects")


def _keep_target(obj: Obj, o: Grid, bg: int):
    seen = o[obj.ys, obj.xs]
    if (seen == obj.values).all():
        return True
    return False if (seen == bg).all() else None


def _keep_apply(out: Grid, obj: Obj, target, bg: int) -> Grid:
    return out if target else paint(out, obj, bg)


def learn_keep_objects(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """Objects kept or deleted by one of their properties, as one table property -> keep in every pair."""
    if any(g.shape != o.shape for g, o in zip(grids, outputs)):
        return None
    return _fit_objects(grids, outputs, _keep_target, _keep_apply, "keep_objects")


# ---------------------------------------------------------------- for the search

PRIMITIVES = [
    Primitive("crop_object", crop_object, _crops),
    Primitive("crop_major_colour", crop_major_colour, _smaller_bg),
    Primitive("crop_minor_colour", crop_minor_colour, _smaller_bg),
    Primitive("keep_major_colour", keep_major_colour, _same_bg),
    Primitive("keep_minor_colour", keep_minor_colour, _same_bg),
    Primitive("gravity", gravity, _directions),
    Primitive("drop_objects", drop_objects, _directions),
    Primitive("fill_enclosed", fill_enclosed, _paints),
    Primitive("hollow", hollow, _same_bg),
    Primitive("paint_interior", paint_interior, _paints),
    Primitive("halo", halo, _paints),
    Primitive("extend", extend, _extends),
    Primitive("extend_colour", extend_colour, _colour_extends),
    Primitive("connect", connect, _connects),
    Primitive("move_until_touch", move_until_touch, _moves),
    Primitive("count", count, _counts),
]
LEARNERS = [
    Learner("recolour_objects", learn_recolour_objects, cost=2, on_every_state=False),
    Learner("keep_objects", learn_keep_objects, cost=2, on_every_state=False),
]
