"""Select rules: small answers read off a bigger grid: a picked colour, counts drawn as cells, a colour per part.

- `picked_colour`: the output is a fixed grid whose varying cells take one colour picked from the input:
  its most or least frequent colour (background left out, or not), or the colour of the object a property picks
  (the largest or smallest value, or the one value no other object shares: size, holes, shape, ...).
  Every rule that fits the pairs is kept, in order: on a new grid the first that picks one colour answers.
- `count_cells`: the output is a fixed-size grid filled in reading order (by rows or by columns) with a
  run of cells for each of a fixed list of colours, as many as the input has of that colour's objects,
  objects of more than one cell, or cells; background after the runs.
- `part_colours`: the grid cut into parts (between separator lines, between lines of background, or
  its blocks of repeated rows and columns), each part one cell of the output: its commonest colour,
  its commonest colour but background, or its rarest colour.

Each learner checks that what it fitted reproduces every train output, and declines otherwise.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from arc24.programs.dsl import Fitted, Grid, Learner
from arc24.programs.fitting import reproduces, task_bg
from arc24.programs.objects import MAX_OBJECTS, ORDERED_PROPERTIES, all_properties, objects, pick_objects
from arc24.programs.parts import bands, separator_colour


def _smaller(grids: list[Grid], outputs: list[Grid]) -> bool:
    """Every output fits inside its input and one is smaller."""
    pairs = list(zip(grids, outputs))
    return (all(o.shape[0] <= g.shape[0] and o.shape[1] <= g.shape[1] for g, o in pairs)
            and any(o.shape != g.shape for g, o in pairs))


# ---------------------------------------------------------------- a colour picked from the grid


def _extreme(g: Grid, skip: int | None, most: bool) -> int:
    """G's one most (MOST) or least frequent colour, SKIP left out; ValueError on a tie."""
    counts = np.bincount(g.ravel(), minlength=10)
    if skip is not None:
        counts[skip] = 0
    present = counts[counts > 0]
    if not len(present):
        raise ValueError("no colour")
    best = present.max() if most else present.min()
    if (counts == best).sum() != 1:
        raise ValueError("no single colour")
    return int(np.argmax(counts == best))


def _colour_pickers(g: Grid, bg: int) -> dict[str, int]:
    """Every colour a rule picks from G, by the rule's name; a rule that picks none or several is left out."""
    picks: dict[str, int] = {}
    for most, name in ((True, "most"), (False, "least")):
        for among, skip in (("", bg), ("_of_all", None)):
            try:
                picks[name + among] = _extreme(g, skip, most)
            except ValueError:
                pass
    for mode in ("4", "8"):
        objs = objects(g, mode, bg)
        if not objs or len(objs) > MAX_OBJECTS:
            continue
        props = all_properties(g, objs, bg, True)
        for prop, values in props.items():
            for rule in ("max", "min", "unique") if prop in ORDERED_PROPERTIES else ("unique",):
                try:
                    hits = pick_objects(values, rule, None)
                except (ValueError, TypeError):
                    continue
                picks[f"{mode}:{prop}:{rule}"] = objs[hits[0]].colour
    return picks


def pick_colour(g: Grid, rules: list[str], bg: int) -> int:
    """The colour the first of RULES (names from `_colour_pickers`) that picks one on G picks; KeyError when none does."""
    picks = _colour_pickers(g, bg)
    for rule in rules:
        if rule in picks:
            return picks[rule]
    raise KeyError("no rule picks a colour")


def learn_picked_colour(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """A fixed output grid whose varying cells take the colour a rule picks from the input (most frequent, largest object's, ...)."""
    if len({o.shape for o in outputs}) != 1 or not _smaller(grids, outputs) or len(grids) < 2:
        return None
    bg = task_bg(grids)
    per_pair = [_colour_pickers(g, bg) for g in grids]
    first = outputs[0]
    found: dict[bytes, list[str]] = {}  # template -> the rules that fill it, in the order tried
    for rule in per_pair[0]:
        picked = [p.get(rule) for p in per_pair]
        if None in picked or len(set(picked)) < 2:
            continue  # one colour in every pair is the constant's to say
        mask = np.logical_and.reduce([o == c for o, c in zip(outputs, picked)])
        if not mask.any() or any((o[~mask] != first[~mask]).any() for o in outputs):
            continue
        template = np.where(mask, -1, first).astype(np.int8)
        found.setdefault(template.tobytes(), []).append(rule)
    if not found:
        return None
    key, rules = next(iter(found.items()))
    template = np.frombuffer(key, dtype=np.int8).reshape(first.shape)

    # Every rule that fits is kept: on a grid where the first picks no single colour, the next may
    def apply(g: Grid) -> Grid:
        return np.where(template < 0, pick_colour(g, rules, bg), template).astype(np.int8)

    return Fitted(f"picked_colour(x, {rules[:3]}, {template.tolist()}, {bg})", apply)


# ---------------------------------------------------------------- counts drawn as cells


def count_of(g: Grid, c: int, what: str, bg: int) -> int:
    """How many objects of colour C G holds (WHAT "objects4"/"objects8"), of more than one cell ("big4"/"big8"), or cells ("cells")."""
    if what == "cells":
        return int((g == c).sum())
    objs = [o for o in objects(np.where(g == c, c, bg).astype(np.int8), what[-1], bg)]
    return len(objs) if what.startswith("objects") else sum(o.size > 1 for o in objs)


def draw_counts(shape: tuple[int, int], runs: list[tuple[int, int]], order: str, bg: int) -> Grid:
    """A grid of SHAPE filled in ORDER ("rows" or "columns") with each (colour, count) of RUNS in turn, BG after."""
    flat = [c for c, n in runs for _ in range(n)]
    size = shape[0] * shape[1]
    if len(flat) > size:
        raise ValueError("more cells than the grid holds")
    flat += [bg] * (size - len(flat))
    out = np.array(flat, dtype=np.int8)
    return out.reshape(shape) if order == "rows" else out.reshape(shape[::-1]).T


def _runs(o: Grid, order: str, bg: int) -> list[tuple[int, int]] | None:
    """O read in ORDER as runs of one colour each, then background to the end; None when it is not."""
    flat = (o if order == "rows" else o.T).ravel().tolist()
    while flat and flat[-1] == bg:
        flat.pop()
    runs: list[tuple[int, int]] = []
    for v in flat:
        if v == bg:
            return None
        if runs and runs[-1][0] == v:
            runs[-1] = (v, runs[-1][1] + 1)
        else:
            runs.append((v, 1))
    return runs


def _colour_order(per_pair: list[list[tuple[int, int]]]) -> list[int] | None:
    """One order of colours every pair's runs follow, or None."""
    longest = max(per_pair, key=len)
    order = [c for c, _ in longest]
    if len(set(order)) != len(order):
        return None
    for runs in per_pair:
        at = [order.index(c) if c in order else -1 for c, _ in runs]
        if -1 in at or at != sorted(at):
            return None
    return order


def learn_count_cells(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """A fixed-size output filled in reading order with, for each of some colours, as many cells as the input has of its objects (or cells)."""
    if len({o.shape for o in outputs}) != 1 or not _smaller(grids, outputs) or len(grids) < 2:
        return None
    shape, bg = outputs[0].shape, task_bg(grids)
    for out_bg in sorted({int(v) for o in outputs for v in np.unique(o)}):
        for order in ("rows", "columns") if min(shape) > 1 else ("rows",):
            per_pair = [_runs(o, order, out_bg) for o in outputs]
            if None in per_pair:
                continue
            colours = _colour_order(per_pair)
            if not colours:
                continue
            counts = [{c: n for c, n in runs} for runs in per_pair]
            if len({tuple(n.get(c, 0) for c in colours) for n in counts}) < 2:
                continue  # one count everywhere is the constant's to say
            for what in ("objects4", "objects8", "big4", "big8", "cells"):
                if any(count_of(g, c, what, bg) != n.get(c, 0) for g, n in zip(grids, counts) for c in colours):
                    continue

                def apply(g: Grid, order=order, what=what, out_bg=out_bg) -> Grid:
                    return draw_counts(shape, [(c, count_of(g, c, what, bg)) for c in colours], order, out_bg)

                if reproduces(apply, grids, outputs):
                    return Fitted(f"count_cells(x, {colours}, {what!r}, {order!r}, {shape}, {out_bg}, {bg})", apply)
    return None


# ---------------------------------------------------------------- one colour per part


def _blocks(g: Grid) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The runs of equal adjacent rows, and of equal adjacent columns, as (start, stop)."""
    def runs(t: Grid) -> list[tuple[int, int]]:
        cuts = [0] + [k for k in range(1, len(t)) if (t[k] != t[k - 1]).any()] + [len(t)]
        return list(zip(cuts[:-1], cuts[1:]))
    return runs(g), runs(g.T)


def part_bounds(g: Grid, how: str, bg: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The row bands and column bands of G's parts, HOW: "lines" (between separator lines), "gaps" (between lines of BG), "blocks"."""
    if how == "blocks":
        return _blocks(g)
    s = separator_colour(g) if how == "lines" else bg
    rows, cols = bands((g == s).all(1)), bands((g == s).all(0))
    if len(rows) * len(cols) < 2:
        raise ValueError("one part")
    return rows, cols


def part_colour(part: Grid, how: str, bg: int) -> int:
    """PART's colour, HOW: "common" (its commonest), "common_fg" (commonest but BG; BG if it has none), "rare" (its rarest)."""
    counts = np.bincount(part.ravel(), minlength=10)
    if how == "common_fg":
        counts[bg] = 0
        if not counts.any():
            return bg
    if how == "rare":
        counts = np.where(counts > 0, counts, part.size + 1)
        best = counts.min()
    else:
        best = counts.max()
    if (counts == best).sum() != 1:
        raise ValueError("no single colour")
    return int(np.argmax(counts == best))


def part_colours(g: Grid, split: str, colour: str, bg: int) -> Grid:
    """A grid of G's parts (see part_bounds), each one cell of its colour (see part_colour)."""
    rows, cols = part_bounds(g, split, bg)
    return np.array([[part_colour(g[a:b, c:d], colour, bg) for c, d in cols] for a, b in rows], dtype=np.int8)


def learn_part_colours(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """Each output cell the colour of one part of the input: its parts cut by lines, by background lines, or as uniform blocks."""
    if not _smaller(grids, outputs) or all(o.size == 1 for o in outputs):
        return None  # a single cell for every grid is a picked colour, not a layout of parts
    bg = task_bg(grids)
    for split in ("lines", "gaps", "blocks"):
        try:
            shapes = [tuple(len(b) for b in part_bounds(g, split, bg)) for g in grids]
        except ValueError:
            continue
        if any(s != o.shape for s, o in zip(shapes, outputs)):
            continue
        for colour in ("common", "common_fg", "rare"):
            def apply(g: Grid, split=split, colour=colour) -> Grid:
                return part_colours(g, split, colour, bg)

            if reproduces(apply, grids, outputs):
                return Fitted(f"part_colours(x, {split!r}, {colour!r}, {bg})", apply)
    return None


# ---------------------------------------------------------------- for the search

PRIMITIVES: list = []  # learners only
LEARNERS = [
    Learner("picked_colour", learn_picked_colour, cost=2, on_every_state=False),
    Learner("count_cells", learn_count_cells, cost=2, on_every_state=False),
    Learner("part_colours", learn_part_colours, cost=2, on_every_state=False),
]
