"""Parts: grids split into cells and combined again, and symmetric patterns completed.

A grid is split into *parts* `HOW`: by its separator lines ("lines": full rows and columns of one
colour that is not the grid's background), into N equal cells across ("h2"-"h4") or down
("v2"-"v4"), or into quarters ("q4"), a one-cell separator between cells where the size leaves
room for one. A primitive here splits, then combines the parts into one grid: their foregrounds
(all but black, or else the parts' commonest colour) and-ed, or-ed, xor-ed or nor-ed, painted
colour C; overlaid; or one part chosen (the odd one out, the most common, the one with the most
or fewest cells or colours). The task's output shapes decide which splits are
offered, so a task whose outputs cannot be parts pays nothing for them. `fill_parts_with_overlay`
keeps the grid's shape: every cell becomes the overlay of them all.

`complete_symmetry` fills the cells of a noise colour so that the grid becomes symmetric, under each
mirror, turn and diagonal (axes near the middle) that the other cells obey, on at least half of
them; `symmetry_crop` answers what was under the noise instead.

Learners: `overlay_parts` (the parts laid over one another in an order learned from the pairs)
and `parts_table` (each output cell a function of the part cells at its place, learned).
"""

from __future__ import annotations

from fractions import Fraction
from itertools import product

import numpy as np

from arc24.programs.dsl import Fitted, Grid, Learner, Primitive, TaskFacts
from arc24.programs.grids import background

SPLITS_EQUAL = ("h2", "h3", "h4", "v2", "v3", "v4", "q4")

# ---------------------------------------------------------------- colours


def parts_background(parts: list[Grid]) -> int:
    """Black where the parts have any, else their most frequent colour."""
    counts = sum(np.bincount(p.ravel(), minlength=10) for p in parts)
    return 0 if counts[0] else int(counts.argmax())


# ---------------------------------------------------------------- splitting


def cell_bounds(size: int, n: int) -> list[tuple[int, int]]:
    """Where N equal cells lie along SIZE, a one-cell gap between them when SIZE leaves one."""
    if size % n == 0:
        step, width = size // n, size // n
    elif (size - n + 1) % n == 0 and size >= 2 * n - 1:
        step, width = (size + 1) // n, (size - n + 1) // n
    else:
        raise ValueError("no equal cells")
    return [(k * step, k * step + width) for k in range(n)]


def hsplit(g: Grid, n: int) -> list[Grid]:
    """N equal parts side by side."""
    return [g[:, a:b] for a, b in cell_bounds(g.shape[1], n)]


def vsplit(g: Grid, n: int) -> list[Grid]:
    """N equal parts one above another."""
    return [g[a:b] for a, b in cell_bounds(g.shape[0], n)]


def separator_colour(g: Grid) -> int:
    """The colour, not the grid's background, of full rows and columns that cut it into the most parts."""
    rows = {int(r[0]) for r in g if (r == r[0]).all()}
    cols = {int(c[0]) for c in g.T if (c == c[0]).all()}
    candidates = sorted((rows | cols) - {background(g)})
    if not candidates:
        raise ValueError("no separator lines")
    n_parts = [len(bands((g == c).all(1))) * len(bands((g == c).all(0))) for c in candidates]
    return candidates[int(np.argmax(n_parts))]


def bands(is_line: np.ndarray) -> list[tuple[int, int]]:
    """The runs of False in IS_LINE, as (start, stop)."""
    keep = np.flatnonzero(np.diff(np.concatenate([[0], (~is_line).astype(np.int8), [0]])))
    return [(int(a), int(b)) for a, b in zip(keep[::2], keep[1::2])]


def split_lines(g: Grid) -> list[Grid]:
    """The blocks between the grid's separator lines, in reading order."""
    s = separator_colour(g)
    rows, cols = bands((g == s).all(1)), bands((g == s).all(0))
    if len(rows) * len(cols) < 2:
        raise ValueError("one part")
    return [g[a:b, c:d] for a, b in rows for c, d in cols]


def quarters(g: Grid) -> list[Grid]:
    """The grid's four equal quarters in reading order."""
    return [q for half in vsplit(g, 2) for q in hsplit(half, 2)]


def split(g: Grid, how: str) -> list[Grid]:
    """The grid's parts, HOW: 'lines', 'q4' (quarters), or 'h'/'v' and a count of equal cells."""
    if how == "lines":
        return split_lines(g)
    if how == "q4":
        return quarters(g)
    return hsplit(g, int(how[1])) if how[0] == "h" else vsplit(g, int(how[1]))


def same_shape_parts(g: Grid, how: str) -> list[Grid]:
    """The parts of the grid HOW, which must all have one shape."""
    parts = split(g, how)
    if len({p.shape for p in parts}) != 1:
        raise ValueError("parts of different shapes")
    return parts


# ---------------------------------------------------------------- combining


def foregrounds(g: Grid, how: str) -> tuple[np.ndarray, int]:
    """The parts' foreground masks stacked, and the parts' background."""
    parts = same_shape_parts(g, how)
    bg = parts_background(parts)
    return np.stack([p != bg for p in parts]), bg


def parts_and(g: Grid, how: str, c: int) -> Grid:
    """Colour C where every part has foreground, background elsewhere."""
    masks, bg = foregrounds(g, how)
    return np.where(masks.all(0), c, bg).astype(np.int8)


def parts_or(g: Grid, how: str, c: int) -> Grid:
    """Colour C where any part has foreground, background elsewhere."""
    masks, bg = foregrounds(g, how)
    return np.where(masks.any(0), c, bg).astype(np.int8)


def parts_xor(g: Grid, how: str, c: int) -> Grid:
    """Colour C where an odd number of parts have foreground, background elsewhere."""
    masks, bg = foregrounds(g, how)
    return np.where(masks.sum(0) % 2 == 1, c, bg).astype(np.int8)


def parts_nor(g: Grid, how: str, c: int) -> Grid:
    """Colour C where no part has foreground, background elsewhere."""
    masks, bg = foregrounds(g, how)
    return np.where(masks.any(0), bg, c).astype(np.int8)


def overlay(parts: list[Grid], bg: int) -> Grid:
    """The parts laid one over another in order, background see-through."""
    out = parts[0].copy()
    for p in parts[1:]:
        out = np.where(p != bg, p, out)
    return out.astype(np.int8)


def parts_overlay(g: Grid, how: str) -> Grid:
    """The parts laid over one another, each later one on top."""
    parts = same_shape_parts(g, how)
    return overlay(parts, parts_background(parts))


def parts_underlay(g: Grid, how: str) -> Grid:
    """The parts laid over one another, each earlier one on top."""
    parts = same_shape_parts(g, how)
    return overlay(parts[::-1], parts_background(parts))


# ---------------------------------------------------------------- choosing one part


def _unique_best(scores: list) -> int:
    best = max(scores)
    if scores.count(best) != 1:
        raise ValueError("no single part")
    return scores.index(best)


def _copies(parts: list[Grid]) -> list[int]:
    keys = [(p.shape, p.tobytes()) for p in parts]
    return [keys.count(k) for k in keys]


def odd_part(g: Grid, how: str) -> Grid:
    """The one part that has no twin among the others, when the others do."""
    parts = split(g, how)
    copies = _copies(parts)
    if len(parts) < 3 or copies.count(1) != 1:
        raise ValueError("no odd part")
    return parts[copies.index(1)]


def common_part(g: Grid, how: str) -> Grid:
    """The part with the most twins."""
    parts = split(g, how)
    copies = _copies(parts)
    best = [p for p, n in zip(parts, copies) if n == max(copies)]
    if any(p.shape != best[0].shape or (p != best[0]).any() for p in best):
        raise ValueError("no single most common part")
    return best[0]


def _fg_cells(parts: list[Grid]) -> list[int]:
    bg = parts_background(parts)
    return [int((p != bg).sum()) for p in parts]


def _n_colours(parts: list[Grid]) -> list[int]:
    return [len(np.unique(p)) for p in parts]


def most_cells_part(g: Grid, how: str) -> Grid:
    """The part with the most foreground cells."""
    parts = split(g, how)
    return parts[_unique_best(_fg_cells(parts))]


def fewest_cells_part(g: Grid, how: str) -> Grid:
    """The part with the fewest foreground cells."""
    parts = split(g, how)
    return parts[_unique_best([-n for n in _fg_cells(parts)])]


def most_colours_part(g: Grid, how: str) -> Grid:
    """The part with the most colours."""
    parts = split(g, how)
    return parts[_unique_best(_n_colours(parts))]


def fewest_colours_part(g: Grid, how: str) -> Grid:
    """The part with the fewest colours."""
    parts = split(g, how)
    return parts[_unique_best([-n for n in _n_colours(parts)])]


# ---------------------------------------------------------------- parts put back in place


def _equal_layout(g: Grid, how: str):
    if how[0] not in "hv":
        raise ValueError("equal cells only")
    bounds = cell_bounds(g.shape[1] if how[0] == "h" else g.shape[0], int(how[1]))
    return bounds, (lambda a, b: (slice(None), slice(a, b))) if how[0] == "h" else (lambda a, b: (slice(a, b),))


def fill_parts_with_overlay(g: Grid, how: str) -> Grid:
    """Every equal part replaced by all the parts overlaid, separators left in place."""
    bounds, at = _equal_layout(g, how)
    parts = [g[at(a, b)] for a, b in bounds]
    merged = overlay(parts, parts_background(parts))
    out = g.copy()
    for a, b in bounds:
        out[at(a, b)] = merged
    return out


# ---------------------------------------------------------------- symmetry completion


_TURNS = {"flip_h": lambda g: g[:, ::-1], "flip_v": lambda g: g[::-1], "rot180": lambda g: g[::-1, ::-1],
          "transpose": lambda g: g.T, "antitranspose": lambda g: g[::-1, ::-1].T,
          "rot90": lambda g: np.rot90(g, 1), "rot270": lambda g: np.rot90(g, 3)}


def _shifts(kind: str, h: int, w: int) -> list[tuple[int, int]]:
    """Where a turned copy may lie on the grid so that turning about there is a symmetry."""
    if kind == "flip_h":
        return [(0, d) for d in range(-(w // 2), w // 2 + 1)]
    if kind == "flip_v":
        return [(d, 0) for d in range(-(h // 2), h // 2 + 1)]
    if kind == "transpose":
        return [(-d, d) for d in range(-(max(h, w) // 3), max(h, w) // 3 + 1)]
    if kind == "antitranspose":
        return [(d, d + h - w) for d in range(-(max(h, w) // 3), max(h, w) // 3 + 1)]
    cy, cx = ((w - h) // 2, (h - w) // 2) if kind != "rot180" else (0, 0)
    return [(cy + dy, cx + dx) for dy in range(-2, 3) for dx in range(-2, 3)]


def _windows(shape: tuple, turned_shape: tuple, dy: int, dx: int):
    """The overlap of a grid and a turned copy lying DY, DX on: its slices in each."""
    (h, w), (th, tw) = shape, turned_shape
    y0, y1, x0, x1 = max(0, -dy), min(h, th - dy), max(0, -dx), min(w, tw - dx)
    if y0 >= y1 or x0 >= x1:
        return None
    return (slice(y0, y1), slice(x0, x1)), (slice(y0 + dy, y1 + dy), slice(x0 + dx, x1 + dx))


def _shifted_copies(t: np.ndarray, shape: tuple, shifts: list[tuple[int, int]], fill) -> np.ndarray:
    """T (a turned grid) seen from a grid of SHAPE at each shift: t[y + dy, x + dx], FILL off its edge."""
    h, w = shape
    padded = np.pad(t, ((h, h), (w, w)), constant_values=fill)
    views = np.lib.stride_tricks.sliding_window_view(padded, (h, w))
    dy, dx = np.array(shifts).T
    return views[dy + h, dx + w]


def symmetries(g: Grid, known: np.ndarray) -> list[tuple[str, int, int]]:
    """The mirrors and turns (kind, shift) that KNOWN cells obey, on half of them at least; best kept first."""
    found, need, marked = [], known.sum() / 2, np.where(known, g, 10).astype(np.int8)
    for kind, turn in _TURNS.items():
        t = turn(marked)
        shifts = [(dy, dx) for dy, dx in _shifts(kind, *g.shape)
                  if -g.shape[0] <= dy <= t.shape[0] and -g.shape[1] <= dx <= t.shape[1]]
        if not shifts:
            continue
        seen = _shifted_copies(t, g.shape, shifts, 10)
        both = known & (seen != 10)
        support = both.sum((1, 2))
        ok = (support >= need) & ~(both & (seen != g)).any((1, 2))
        found += [(int(support[k]), kind, *shifts[k]) for k in np.flatnonzero(ok)]
    return [f[1:] for f in sorted(found, key=lambda f: -f[0])]


def complete_symmetry(g: Grid, c: int) -> Grid:
    """Cells of colour C filled from their mirror images, under every symmetry the rest obeys."""
    unknown = g == c
    if not unknown.any():
        return g.copy()
    if unknown.sum() * 2 > g.size:
        raise ValueError("more noise than pattern")
    found = symmetries(g, ~unknown)
    if not found:
        raise ValueError("no symmetry")
    out = g.copy()
    for _ in range(4):
        before = unknown.sum()
        for kind, dy, dx in found:
            turned, turned_known = _TURNS[kind](out), ~_TURNS[kind](unknown)
            here, there = _windows(g.shape, turned.shape, dy, dx)
            take = unknown[here] & turned_known[there]
            out[here][take] = turned[there][take]
            unknown[here] &= ~take
        if not unknown.any() or unknown.sum() == before:
            break
    return out


def symmetry_crop(g: Grid, c: int) -> Grid:
    """What the symmetry says lies under the block of colour C."""
    mask = g == c
    if not mask.any():
        raise ValueError("no block")
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    return complete_symmetry(g, c)[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


# ---------------------------------------------------------------- learners


def _parts_of(grids: list[Grid], outputs: list[Grid]) -> tuple[str, list[list[Grid]]] | None:
    """The first way of splitting that makes every grid's parts its output's shape (None when the
    outputs keep their grids' shape: no parts to combine)."""
    if any(o.shape == g.shape for g, o in zip(grids, outputs)):
        return None
    for how in ("lines",) + SPLITS_EQUAL:
        try:
            parts = [same_shape_parts(g, how) for g in grids]
        except ValueError:
            continue
        if all(p[0].shape == o.shape for p, o in zip(parts, outputs)) and len({len(p) for p in parts}) == 1:
            return how, parts
    return None


def learn_overlay(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """The parts laid over one another, in an order of parts that every pair agrees with."""
    found = _parts_of(grids, outputs)
    if found is None:
        return None
    how, all_parts = found
    n = len(all_parts[0])
    above = np.zeros((n, n), dtype=bool)  # above[i, j]: part i lies over part j somewhere
    for parts, o in zip(all_parts, outputs):
        bg = parts_background(parts)
        stack = np.stack(parts)
        fg = stack != bg
        shows = (stack == o) & fg
        if ((~fg.any(0)) & (o != bg)).any() or (fg.any(0) & ~shows.any(0)).any():
            return None
        for i, j in product(range(n), range(n)):
            if i != j:
                above[i, j] |= (shows[i] & fg[j] & (parts[j] != o)).any()
    order = _topological(above)
    if order is None:
        return None

    def apply(g: Grid) -> Grid:
        parts = same_shape_parts(g, how)
        return overlay([parts[k] for k in order], parts_background(parts))

    if not all(np.array_equal(apply(g), o) for g, o in zip(grids, outputs)):
        return None
    return Fitted(f"overlay_parts(x, {how!r}, {order})", apply)


def _topological(above: np.ndarray) -> list[int] | None:
    """Part indices bottom first such that each lies under every part above it, or None."""
    order, left = [], set(range(len(above)))
    while left:
        bottom = [j for j in sorted(left) if not any(above[j, k] for k in left if k != j)]
        if not bottom:
            return None
        order.append(bottom[0])
        left.remove(bottom[0])
    return order


def learn_parts_table(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """Each output cell a colour looked up from which parts have foreground there."""
    found = _parts_of(grids, outputs)
    if found is None:
        return None
    how, all_parts = found
    table: dict[int, int] = {}
    for parts, o in zip(all_parts, outputs):
        keys = _fg_key(parts)
        for k, v in set(zip(keys.ravel().tolist(), o.ravel().tolist())):
            if table.setdefault(k, v) != v:
                return None
    if len(set(table.values())) < 2:
        return None

    def apply(g: Grid) -> Grid:
        keys = _fg_key(same_shape_parts(g, how))
        return np.vectorize(lambda k: table[k], otypes=[np.int8])(keys)

    return Fitted(f"parts_table(x, {how!r}, {table})", apply)


def _fg_key(parts: list[Grid]) -> np.ndarray:
    bg = parts_background(parts)
    return sum((p != bg).astype(np.int64) << k for k, p in enumerate(parts))


# ---------------------------------------------------------------- parameters from the task


def input_shapes(facts: TaskFacts) -> list[tuple[int, int]]:
    """Each train input's shape, from its output's shape and the pair's ratio."""
    shapes = []
    for (oh, ow), (ry, rx) in zip(facts.output_shapes, facts.ratios):
        shapes.append((int(Fraction(oh) / ry), int(Fraction(ow) / rx)))
    return shapes


def _lines_fit(size: int, part: int) -> bool:
    return any(size == k * part + (k - 1) * s for k in range(1, 31) for s in (1, 2))


def _splits(facts: TaskFacts) -> list[str]:
    """The splits whose parts can have the outputs' shapes."""
    pairs = list(zip(input_shapes(facts), facts.output_shapes))
    found = []
    for how in SPLITS_EQUAL:
        try:
            fits = all(part_shape(i, how) == o for i, o in pairs)
        except ValueError:
            fits = False
        if fits:
            found.append(how)
    if all(o != i and _lines_fit(i[0], o[0]) and _lines_fit(i[1], o[1]) for i, o in pairs) and not found:
        found.append("lines")
    return found


def part_shape(shape: tuple[int, int], how: str) -> tuple[int, int]:
    """The shape of the equal parts, HOW, of a grid of SHAPE."""
    n = int(how[1])
    ny, nx = {"h": (1, n), "v": (n, 1), "q": (2, 2)}[how[0]]
    (y0, y1), (x0, x1) = cell_bounds(shape[0], ny)[0], cell_bounds(shape[1], nx)[0]
    return y1 - y0, x1 - x0


def _paint_colours(facts: TaskFacts) -> list[int]:
    return list(facts.new_colours) or list(facts.output_colours)


def _combine_params(facts: TaskFacts):
    return [(how, c) for how in _splits(facts) for c in _paint_colours(facts)]


def _split_params(facts: TaskFacts):
    return [(how,) for how in _splits(facts)]


def _choose_params(facts: TaskFacts):
    """Splits for choosing one part: the equal ones that fit, or lines when the outputs are smaller."""
    hows = _splits(facts)
    smaller = all(r[0] <= 1 and r[1] <= 1 for r in facts.ratios) and not facts.same_shape
    if smaller and "lines" not in hows:
        hows.append("lines")
    return [(how,) for how in hows]


def _same_shape_splits(facts: TaskFacts):
    if not facts.same_shape:
        return []
    return [("h2",), ("h3",), ("v2",), ("v3",)]


def _noise_colours(facts: TaskFacts) -> list[int]:
    """Input colours no output shows, or else the inputs' background."""
    absent = [c for c in facts.input_colours if c not in facts.output_colours]
    return absent or list(facts.input_colours[:1])


def _fill_params(facts: TaskFacts):
    return [(c,) for c in _noise_colours(facts)] if facts.same_shape else []


def _crop_params(facts: TaskFacts):
    if facts.same_shape or any(r[0] > 1 or r[1] > 1 for r in facts.ratios):
        return []
    return [(c,) for c in facts.input_colours if c not in facts.output_colours]


PRIMITIVES = [
    Primitive("parts_and", parts_and, _combine_params),
    Primitive("parts_or", parts_or, _combine_params),
    Primitive("parts_xor", parts_xor, _combine_params),
    Primitive("parts_nor", parts_nor, _combine_params),
    Primitive("parts_overlay", parts_overlay, _split_params),
    Primitive("parts_underlay", parts_underlay, _split_params),
    Primitive("odd_part", odd_part, _choose_params),
    Primitive("common_part", common_part, _choose_params),
    Primitive("most_cells_part", most_cells_part, _choose_params),
    Primitive("fewest_cells_part", fewest_cells_part, _choose_params),
    Primitive("most_colours_part", most_colours_part, _choose_params),
    Primitive("fewest_colours_part", fewest_colours_part, _choose_params),
    Primitive("fill_parts_with_overlay", fill_parts_with_overlay, _same_shape_splits),
    Primitive("complete_symmetry", complete_symmetry, _fill_params),
    Primitive("symmetry_crop", symmetry_crop, _crop_params),
]
LEARNERS = [Learner("overlay_parts", learn_overlay, cost=2, on_every_state=False), Learner("parts_table", learn_parts_table, cost=2, on_every_state=False)]
