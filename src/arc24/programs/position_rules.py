"""Position rules: objects moved to an edge or a wall, acted on by their place in the order, the one over the
centre; counts drawn as bars.

- `move_to_boundary`: every object slides to the grid's nearest edge (along the rows, the columns, or
  either), or every object but the largest slides straight toward the largest (a wall) until it touches it.
- `object_by_rank`: the objects ordered down the rows (or along the columns): the first (topmost, leftmost),
  the last and the others each kept, deleted, recoloured one colour, or recoloured the first's or the
  last's colour, by a table role -> action.
- `count_bar`: the output is a bar of one colour as long as a count of the input (objects, cells, colours,
  cells of the rarest colour, specks): a row, a column or a square of that side, or a fixed grid filled in
  reading order (by rows or by columns) with that many cells.
- `centre_object`: the object over the centre of the grid or of its content (nearest it when several are;
  a frame round all the content left out) cropped, cropped alone, kept alone or deleted.

Each learner checks that what it fitted reproduces every train output, and declines otherwise.
"""

from __future__ import annotations

import numpy as np

from arc24.programs.dsl import Fitted, Grid, Learner
from arc24.programs.fitting import edited_in_place, reproduces, task_bg
from arc24.programs.objects import MAX_OBJECTS, Obj, colour_groups, crop_box, objects, slide_offset

_MODES = ("4", "8", "8m", "colour")


def _objects(g: Grid, mode: str, bg: int) -> list[Obj]:
    """G's objects in MODE (see objects.MODES), or "colour": all cells of a colour as one; ValueError when too many."""
    objs = colour_groups(g, bg) if mode == "colour" else objects(g, mode, bg)
    if len(objs) > MAX_OBJECTS:
        raise ValueError("too many objects")
    return objs


def _same_counts(grids: list[Grid], outputs: list[Grid]) -> bool:
    """Every pair keeps how many cells of each colour it has (a move neither makes nor loses cells)."""
    return all((np.bincount(g.ravel(), minlength=10) == np.bincount(o.ravel(), minlength=10)).all()
               for g, o in zip(grids, outputs))


# ---------------------------------------------------------------- objects moved to an edge or a wall


def _to_edge(obj: Obj, axes: str) -> tuple[int, int]:
    """The offset that takes OBJ to the grid's nearest edge along AXES ("rows": up or down, "columns", "both")."""
    h, w = obj.grid_shape
    top, left, bottom, right = obj.bbox
    ways = []
    if axes in ("rows", "both"):
        ways += [(top, (-top, 0)), (h - bottom, (h - bottom, 0))]
    if axes in ("columns", "both"):
        ways += [(left, (0, -left)), (w - right, (0, w - right))]
    ways.sort(key=lambda t: t[0])
    if ways[0][0] == ways[1][0] and ways[0][1] != ways[1][1]:
        raise ValueError("two edges as near")
    return ways[0][1]


def _toward_wall(g: Grid, obj: Obj, wall: Obj, bg: int) -> tuple[int, int]:
    """How far OBJ slides straight toward WALL (which must lie across its rows or columns) before it meets a cell."""
    top, left, bottom, right = obj.bbox
    wt, wl, wb, wr = wall.bbox
    if left < wr and wl < right:
        direction = "down" if wt >= bottom else "up" if wb <= top else None
    elif top < wb and wt < bottom:
        direction = "right" if wl >= right else "left" if wr <= left else None
    else:
        direction = None
    if direction is None:
        raise ValueError("the wall is not in line")
    return slide_offset(g, obj, direction, bg)


def move_to_boundary(g: Grid, mode: str, target: str, bg: int) -> Grid:
    """G's objects (MODE) moved: TARGET "edge:<axes>" each to its nearest edge, "wall" each toward the one largest object."""
    objs = _objects(g, mode, bg)
    if target == "wall":
        sizes = sorted((o.size for o in objs), reverse=True)
        if len(sizes) < 2 or sizes[0] == sizes[1]:
            raise ValueError("no one wall")
        wall = max(objs, key=lambda o: o.size)
        offsets = [(0, 0) if o is wall else _toward_wall(g, o, wall, bg) for o in objs]
    else:
        offsets = [_to_edge(o, target.split(":")[1]) for o in objs]
        if mode == "colour":  # a colour's cells go together only where each of its pieces would go the same way
            for o, way in zip(objs, offsets):
                pieces = objects(np.where(g == o.colour, g, bg).astype(np.int8), "8", bg)
                if any(np.sign(_to_edge(p, target.split(":")[1])).tolist() != np.sign(way).tolist() for p in pieces):
                    raise ValueError("the pieces of a colour go different ways")
    out = g.copy()
    for o in objs:
        out[o.ys, o.xs] = bg
    for o, (dy, dx) in zip(objs, offsets):
        out[o.ys + dy, o.xs + dx] = o.values
    return out


def learn_move_to_boundary(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """Every object slid to its nearest edge (along rows, columns or either), or every object but the largest slid to it."""
    if not edited_in_place(grids, outputs) or not _same_counts(grids, outputs):
        return None
    bg = task_bg(grids)
    for target in ("edge:columns", "edge:rows", "edge:both", "wall"):
        for mode in ("8", "4", "8m", "colour"):
            def apply(g: Grid, mode=mode, target=target) -> Grid:
                return move_to_boundary(g, mode, target, bg)

            if reproduces(apply, grids, outputs):
                return Fitted(f"move_to_boundary(x, {mode!r}, {target!r}, {bg})", apply)
    return None


# ---------------------------------------------------------------- objects acted on by their place in the order


def roles(objs: list[Obj], axis: int) -> list[str]:
    """Each object's role along AXIS (0 down the rows, 1 along the columns): "first" (its start the one least),
    "last" (its end the one greatest), "only" (both), or "other"; objects that tie for first (or last) are others."""
    if not objs:
        raise ValueError("no objects")
    starts = [o.bbox[axis] for o in objs]
    ends = [o.bbox[axis + 2] for o in objs]
    first = starts.index(min(starts)) if starts.count(min(starts)) == 1 else -1
    last = ends.index(max(ends)) if ends.count(max(ends)) == 1 else -1
    return ["only" if k == first == last else "first" if k == first else "last" if k == last else "other"
            for k in range(len(objs))]


def _act(out: Grid, obj: Obj, action, colours: dict[str, int], bg: int) -> None:
    """Do ACTION ("keep", "delete", a colour, or "first"/"last": that object's colour) to OBJ in OUT."""
    if action == "delete":
        out[obj.ys, obj.xs] = bg
    elif action != "keep":
        out[obj.ys, obj.xs] = colours[action] if isinstance(action, str) else action


def by_rank(g: Grid, mode: str, axis: int, table: dict, bg: int) -> Grid:
    """G's objects (MODE) each acted on (see `_act`) as TABLE says for its role along AXIS (see `roles`)."""
    objs = _objects(g, mode, bg)
    found = roles(objs, axis)
    colours = {r: o.colour for o, r in zip(objs, found) if r in ("first", "last")}
    if "only" in found:
        colours = {"first": objs[0].colour, "last": objs[0].colour}
    for r in ("first", "last"):
        if r in table and table[r] != table.get("other") and r not in found and "only" not in found:
            raise ValueError(f"no one {r} object, which the rule sets apart")
    out = g.copy()
    for o, r in zip(objs, found):
        _act(out, o, table[r], colours, bg)  # KeyError: a role the pairs never showed
    return out


def _actions(obj: Obj, o: Grid, colours: dict[str, int], bg: int) -> list:
    """The actions that turn OBJ into what output O shows at its cells, simplest first."""
    seen = o[obj.ys, obj.xs]
    found = []
    if (seen == obj.values).all():
        found.append("keep")
    if (seen == bg).all():
        found.append("delete")
    if (seen == seen[0]).all() and seen[0] != bg:
        found += [r for r in ("first", "last") if colours.get(r) == seen[0]] + [int(seen[0])]
    return found


def learn_object_by_rank(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """Objects kept, deleted or recoloured as a table says for their role: first, last or other down the rows or along the columns."""
    if not edited_in_place(grids, outputs):
        return None
    bg = task_bg(grids)
    for mode in ("8", "4", "8m"):
        for axis in (0, 1):
            choices: dict[str, list] = {}
            try:
                for g, o in zip(grids, outputs):
                    objs = _objects(g, mode, bg)
                    found = roles(objs, axis)
                    colours = {r: b.colour for b, r in zip(objs, found) if r in ("first", "last")}
                    for b, r in zip(objs, found):
                        acts = _actions(b, o, colours, bg)
                        choices[r] = [a for a in choices.get(r, acts) if a in acts]
            except ValueError:
                continue
            if not choices or any(not acts for acts in choices.values()):
                continue
            table = {r: acts[0] for r, acts in choices.items()}
            if set(table.values()) == {"keep"}:
                continue

            def apply(g: Grid, mode=mode, axis=axis, table=table) -> Grid:
                return by_rank(g, mode, axis, table, bg)

            if reproduces(apply, grids, outputs):
                return Fitted(f"object_by_rank(x, {mode!r}, {('rows', 'columns')[axis]!r}, {table}, {bg})", apply)
    return None


# ---------------------------------------------------------------- counts drawn as bars


def _rarest(g: Grid, bg: int) -> int:
    """G's one least frequent colour but BG; ValueError on a tie."""
    counts = np.bincount(g.ravel(), minlength=10)
    counts[bg] = 0
    present = counts[counts > 0]
    if len(present) == 0 or (counts == present.min()).sum() != 1:
        raise ValueError("no one rarest colour")
    return int(np.argmax(counts == present.min()))


def counted(g: Grid, what: str, bg: int) -> int:
    """How many WHAT G holds: "objects<mode>", "cells", "colours", "rare_cells" (of its rarest colour), "specks" (cells
    neither BG nor its commonest colour)."""
    if what.startswith("objects"):
        return len(objects(g, what[7:], bg))
    fg = g[g != bg]
    if what == "cells":
        return int(fg.size)
    if what == "colours":
        return len(set(fg.tolist()))
    if what == "rare_cells":
        return int((g == _rarest(g, bg)).sum())
    counts = np.bincount(fg, minlength=10)
    return int(fg.size - counts.max()) if fg.size else 0  # "specks"


_COUNTS = ("objects4", "objects8", "objects8m", "cells", "colours", "rare_cells", "specks")


def draw_bar(n: int, c: int, layout: str, fill: int) -> Grid:
    """A bar of N cells of colour C: LAYOUT "row", "column", "square" (N by N), or "rows:<h>x<w>" / "columns:<h>x<w>"
    (a grid of that shape of FILL, filled with C in that reading order)."""
    if layout in ("row", "column", "square"):
        shape = {"row": (1, n), "column": (n, 1), "square": (n, n)}[layout]
        return np.full(shape, c, dtype=np.int8)
    order, size = layout.split(":")
    h, w = (int(v) for v in size.split("x"))
    if n > h * w:
        raise ValueError("more cells than the grid holds")
    flat = np.full(h * w, fill, dtype=np.int8)
    flat[:n] = c
    return flat.reshape(h, w) if order == "rows" else flat.reshape(w, h).T


def _bar_layouts(outputs: list[Grid]) -> list[tuple[str, int, int, list[int]]]:
    """Each (layout, colour, fill, counts) that draws every output as a bar."""
    found = []
    colours = {int(v) for o in outputs for v in np.unique(o)}
    if len(colours) == 1:
        c = colours.pop()
        for layout, side in (("row", lambda s: s[0] == 1 and s[1]), ("column", lambda s: s[1] == 1 and s[0]),
                             ("square", lambda s: s[0] == s[1] and s[0])):
            ns = [side(o.shape) for o in outputs]
            if all(ns):
                found.append((layout, c, c, ns))
        return found
    if len({o.shape for o in outputs}) != 1:
        return found
    h, w = outputs[0].shape
    for c in sorted(colours):
        for fill in sorted(colours - {c}):
            for order in ("rows", "columns"):
                ns = [int((o == c).sum()) for o in outputs]
                layout = f"{order}:{h}x{w}"
                if all((draw_bar(n, c, layout, fill) == o).all() for n, o in zip(ns, outputs)):
                    found.append((layout, c, fill, ns))
    return found


def learn_count_bar(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """A bar of one colour as long as a count of the input (objects, cells, colours, rarest colour's cells, specks)."""
    if any(o.size >= g.size for g, o in zip(grids, outputs)):
        return None
    bg = task_bg(grids)
    layouts = _bar_layouts(outputs)
    for layout, c, fill, ns in layouts:
        if len(set(ns)) < 2:
            continue  # one count everywhere is the constant's to say
        for what in _COUNTS:
            try:
                if any(counted(g, what, bg) != n for g, n in zip(grids, ns)):
                    continue
            except ValueError:
                continue

            def apply(g: Grid, what=what, layout=layout, c=c, fill=fill) -> Grid:
                return draw_bar(counted(g, what, bg), c, layout, fill)

            if reproduces(apply, grids, outputs):
                return Fitted(f"count_bar(x, {what!r}, {c}, {layout!r}, {fill}, {bg})", apply)
    return None


# ---------------------------------------------------------------- the object at the centre


def centre_object(g: Grid, mode: str, centre: str, bg: int) -> Obj:
    """The object (MODE; none whose box is the content's box, a frame round the rest) whose box holds the centre of
    the grid (CENTRE "grid") or of its content ("content") strictly inside, nearest it; ValueError when none or a tie."""
    objs = _objects(g, mode, bg)
    ys, xs = np.nonzero(g != bg)
    if not len(ys):
        raise ValueError("no content")
    content = (int(ys.min()), int(xs.min()), int(ys.max()) + 1, int(xs.max()) + 1)
    top, left, bottom, right = (0, 0) + g.shape if centre == "grid" else content
    cy, cx = (top + bottom) / 2, (left + right) / 2
    inner = [o for o in objs if o.bbox != content and o.bbox[0] < cy < o.bbox[2] and o.bbox[1] < cx < o.bbox[3]]
    dist = [abs((o.bbox[0] + o.bbox[2]) / 2 - cy) + abs((o.bbox[1] + o.bbox[3]) / 2 - cx) for o in inner]
    if not dist or dist.count(min(dist)) > 1:
        raise ValueError("no one object at the centre")
    return inner[dist.index(min(dist))]


def act_on_centre(g: Grid, mode: str, centre: str, action: str, bg: int) -> Grid:
    """The centre object (see `centre_object`): ACTION "crop", "crop_alone", "keep" (alone) or "delete"."""
    obj = centre_object(g, mode, centre, bg)
    if action.startswith("crop"):
        return crop_box(g, obj, bg, action == "crop_alone")
    out = g.copy() if action == "delete" else np.full_like(g, bg)
    out[obj.ys, obj.xs] = bg if action == "delete" else obj.values
    return out


def learn_centre_object(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """The object at the centre of the grid or of its content cropped, cropped alone, kept alone, or deleted."""
    same = all(g.shape == o.shape for g, o in zip(grids, outputs))
    if same and not edited_in_place(grids, outputs):
        return None
    if not same and any(o.shape[0] > g.shape[0] or o.shape[1] > g.shape[1] for g, o in zip(grids, outputs)):
        return None
    bg = task_bg(grids)
    for action in ("keep", "delete") if same else ("crop", "crop_alone"):
        for centre in ("grid", "content"):
            modes = [m for m in _MODES if reproduces(lambda g, m=m: act_on_centre(g, m, centre, action, bg), grids, outputs)]
            if not modes:
                continue

            # Every cut that fits is kept: on a grid where the first finds no one centre object, the next may
            def apply(g: Grid, modes=modes, centre=centre, action=action) -> Grid:
                for m in modes[:-1]:
                    try:
                        return act_on_centre(g, m, centre, action, bg)
                    except ValueError:
                        pass
                return act_on_centre(g, modes[-1], centre, action, bg)

            return Fitted(f"centre_object(x, {modes}, {centre!r}, {action!r}, {bg})", apply)
    return None


# ---------------------------------------------------------------- for the search

PRIMITIVES: list = []  # learners only
LEARNERS = [
    Learner("move_to_boundary", learn_move_to_boundary, cost=2, on_every_state=False),
    Learner("object_by_rank", learn_object_by_rank, cost=2, on_every_state=False),
    Learner("count_bar", learn_count_bar, cost=2, on_every_state=False),
    Learner("centre_object", learn_centre_object, cost=2, on_every_state=False),
]
