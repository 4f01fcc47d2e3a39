"""Cue rules: edits that a cue drawn in the grid directs: colours swapped by a key, shapes mirrored across a
line, sequences of objects continued by their step.

- `legend_recolour`: the grid holds a key, a small solid block two cells across (a column of pairs, side by side, or
  a row of pairs, one above the other); every other cell of a colour the key pairs takes its partner's colour
  (read one way, the other, or swapped both ways). The key stays.
- `mirror_across_line`: the grid's one full row or column of one colour is a mirror: each object on one side is
  drawn again at its reflection on the other, the copy and the original each kept as they are or with their two
  colours swapped (or the original deleted: the object moved to its reflection).
- `continue_sequence`: objects alike in shape, one step apart (the same offset between each and the next), are
  continued with that step to the grid's edge (forward, or both ways), the copies in one colour or cycling through
  the objects' colours; a copy drawn whole only, or clipped at the edge.

Each learner checks that what it fitted reproduces every train output, and declines otherwise.
"""

from __future__ import annotations

import numpy as np

from arc24.programs.dsl import Fitted, Grid, Learner
from arc24.programs.fitting import edited_in_place, painted_colours, reproduces, task_bg
from arc24.programs.objects import MAX_OBJECTS, Obj, objects

MAX_KEY = 12  # cells: more and the block is a shape, not a key


def _objects(g: Grid, mode: str, bg: int) -> list[Obj]:
    """G's objects in MODE; ValueError when too many (noise, not a few shapes)."""
    objs = objects(g, mode, bg)
    if len(objs) > MAX_OBJECTS:
        raise ValueError("too many objects")
    return objs


def _supersets(grids: list[Grid], outputs: list[Grid], bg: int) -> bool:
    """Every pair only paints background cells: what the input holds stays."""
    return all(((g == o) | (g == bg)).all() for g, o in zip(grids, outputs))


# ---------------------------------------------------------------- colours swapped by a key in the grid


def _is_key(obj: Obj) -> bool:
    """OBJ is a solid block, two cells across one way, of several colours and few cells."""
    top, left, bottom, right = obj.bbox
    h, w = bottom - top, right - left
    return obj.size == h * w <= MAX_KEY and 2 in (h, w) and len(set(obj.values.tolist())) > 1


def find_key(g: Grid, bg: int) -> Obj:
    """G's one key (see `_is_key`; of several, the one touching the grid's edge); ValueError when none or a tie."""
    keys = [o for o in _objects(g, "8m", bg) if _is_key(o)]
    if len(keys) > 1:
        h, w = g.shape
        keys = [o for o in keys if o.bbox[0] == 0 or o.bbox[1] == 0 or o.bbox[2] == h or o.bbox[3] == w]
    if len(keys) != 1:
        raise ValueError("no one key")
    return keys[0]


def key_map(block: Grid, across: str, way: str) -> dict[int, int]:
    """The colour map BLOCK's pairs give: ACROSS "rows" (each row a pair, left and right) or "columns"; WAY "forward"
    (first -> second), "backward" or "swap" (both); ValueError when a colour has two partners."""
    pairs = block if across == "rows" else block.T
    if pairs.shape[1] != 2:
        raise ValueError("the key is not two cells across that way")
    found: dict[int, int] = {}
    for a, b in pairs.tolist():
        links = {"forward": [(a, b)], "backward": [(b, a)], "swap": [(a, b), (b, a)]}[way]
        for x, y in links:
            if found.get(x, y) != y or x == y:
                raise ValueError("a colour with two partners")
            found[x] = y
    return found


def legend_recolour(g: Grid, across: str, way: str, bg: int) -> Grid:
    """G's cells outside its key recoloured by the map the key gives (see `key_map`)."""
    key = find_key(g, bg)
    top, left, bottom, right = key.bbox
    mapping = key_map(g[top:bottom, left:right], across, way)
    lut = np.arange(10, dtype=np.int8)
    for a, b in mapping.items():
        lut[a] = b
    out = lut[g]
    out[top:bottom, left:right] = g[top:bottom, left:right]
    return out


def learn_legend_recolour(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """Cells recoloured by the colour pairs of a small key block drawn in the grid, the key left as it is."""
    if not edited_in_place(grids, outputs):
        return None
    bg = task_bg(grids)
    for across in ("rows", "columns"):
        for way in ("swap", "forward", "backward"):
            def apply(g: Grid, across=across, way=way) -> Grid:
                return legend_recolour(g, across, way, bg)

            if reproduces(apply, grids, outputs):
                return Fitted(f"legend_recolour(x, {across!r}, {way!r}, {bg})", apply)
    return None


# ---------------------------------------------------------------- shapes mirrored across a line


def mirror_line(g: Grid, bg: int) -> tuple[int, int]:
    """G's one full line of one colour but BG: (axis, index), axis 0 a row, 1 a column; ValueError when none or several."""
    rows = [(0, i) for i in range(g.shape[0]) if (g[i] == g[i, 0]).all() and g[i, 0] != bg]
    cols = [(1, j) for j in range(g.shape[1]) if (g[:, j] == g[0, j]).all() and g[0, j] != bg]
    if len(rows + cols) != 1:
        raise ValueError("no one line")
    return (rows + cols)[0]


def _swapped(values: np.ndarray) -> np.ndarray:
    """VALUES with their two colours exchanged (one colour stays); ValueError for more than two."""
    colours = sorted(set(values.tolist()))
    if len(colours) > 2:
        raise ValueError("more than two colours to swap")
    if len(colours) == 1:
        return values
    a, b = colours
    return np.where(values == a, b, a).astype(values.dtype)


def mirror_across_line(g: Grid, original: str, copy: str, bg: int) -> Grid:
    """Each object of G (any colour, 8 neighbours) drawn again reflected across G's one line (see `mirror_line`);
    ORIGINAL and COPY "keep" their colours or "swap" them (an object's two colours exchanged); ORIGINAL "delete": moved."""
    axis, at = mirror_line(g, bg)
    rest = g.copy()
    if axis == 0:
        rest[at] = bg
    else:
        rest[:, at] = bg
    out = g.copy()
    for o in _objects(rest, "8m", bg):
        out[o.ys, o.xs] = bg if original == "delete" else o.values if original == "keep" else _swapped(o.values)
        ys, xs = (2 * at - o.ys, o.xs) if axis == 0 else (o.ys, 2 * at - o.xs)
        if ys.min() < 0 or xs.min() < 0 or ys.max() >= g.shape[0] or xs.max() >= g.shape[1]:
            raise ValueError("the reflection leaves the grid")
        if ((ys == at) if axis == 0 else (xs == at)).any():
            raise ValueError("an object on the line")
        out[ys, xs] = o.values if copy == "keep" else _swapped(o.values)
    return out


def learn_mirror_across_line(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """Each object drawn again reflected across the grid's one full line, the copy or the original colour-swapped, or moved."""
    if not edited_in_place(grids, outputs):
        return None
    bg = task_bg(grids)
    for original in ("keep", "swap", "delete"):
        for copy in ("keep", "swap"):
            def apply(g: Grid, original=original, copy=copy) -> Grid:
                return mirror_across_line(g, original, copy, bg)

            if reproduces(apply, grids, outputs):
                return Fitted(f"mirror_across_line(x, {original!r}, {copy!r}, {bg})", apply)
    return None


# ---------------------------------------------------------------- sequences of objects continued


def sequence_step(objs: list[Obj]) -> tuple[int, int]:
    """The one offset between each of OBJS (alike in shape, ordered by place) and the next; ValueError when none."""
    if len(objs) < 2 or len({o.shape_key for o in objs}) != 1:
        raise ValueError("not a sequence of one shape")
    corners = [(o.bbox[0], o.bbox[1]) for o in objs]
    steps = {(b[0] - a[0], b[1] - a[1]) for a, b in zip(corners, corners[1:])}
    if len(steps) != 1 or steps == {(0, 0)}:
        raise ValueError("no one step")
    return steps.pop()


def continue_sequence(g: Grid, mode: str, ways: str, colour, whole: bool, bg: int) -> Grid:
    """G's objects (MODE), one step apart, copied on with that step to the edge (WAYS "forward" or "both"); the copies
    in COLOUR (an int) or "cycle" (the objects' colours in turn); WHOLE: only copies that fit in the grid are drawn."""
    objs = sorted(_objects(g, mode, bg), key=lambda o: (o.bbox[0], o.bbox[1]))
    if len({(o.bbox[1], o.bbox[0]) for o in objs}) == len(objs):
        by_columns = sorted(objs, key=lambda o: (o.bbox[1], o.bbox[0]))
        try:
            sequence_step(objs)
        except ValueError:
            objs = by_columns  # a sequence leftward-down reads in column order
    dy, dx = sequence_step(objs)
    h, w = g.shape
    out = g.copy()
    n = len(objs)
    runs = [(objs[-1], 1, n)] + ([(objs[0], -1, -1)] if ways == "both" else [])
    for start, sign, first in runs:
        for k in range(1, 2 * max(h, w)):
            src = objs[(first + sign * (k - 1)) % n] if colour == "cycle" else start
            ys = src.ys + start.bbox[0] + sign * k * dy - src.bbox[0]
            xs = src.xs + start.bbox[1] + sign * k * dx - src.bbox[1]
            inside = (ys >= 0) & (ys < h) & (xs >= 0) & (xs < w)
            if not inside.any() or (whole and not inside.all()):
                break
            out[ys[inside], xs[inside]] = src.values[inside] if colour == "cycle" else colour
    return out


def learn_continue_sequence(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """Objects alike in shape, evenly spaced, continued with their step to the edge in one colour or cycling their own."""
    if not edited_in_place(grids, outputs):
        return None
    bg = task_bg(grids)
    if not _supersets(grids, outputs, bg):
        return None
    new = painted_colours(grids, outputs)
    colours = ["cycle"] + (sorted(new) if len(new) == 1 else [])
    for mode in ("8", "8m", "4"):
        for ways in ("forward", "both"):
            for colour in colours:
                for whole in (True, False):
                    def apply(g: Grid, mode=mode, ways=ways, colour=colour, whole=whole) -> Grid:
                        return continue_sequence(g, mode, ways, colour, whole, bg)

                    if reproduces(apply, grids, outputs):
                        return Fitted(f"continue_sequence(x, {mode!r}, {ways!r}, {colour!r}, {whole}, {bg})", apply)
    return None


# ---------------------------------------------------------------- for the search

PRIMITIVES: list = []  # learners only
LEARNERS = [
    Learner("legend_recolour", learn_legend_recolour, cost=2, on_every_state=False),
    Learner("mirror_across_line", learn_mirror_across_line, cost=2, on_every_state=False),
    Learner("continue_sequence", learn_continue_sequence, cost=2, on_every_state=False),
]
