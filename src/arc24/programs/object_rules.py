"""Object rules: learners that move, recolour, box, crop objects by a relation, and draw lines from them.

Each learner ends a program and is fitted from the train pairs; each checks that what it fitted
reproduces every train output, and declines (None) otherwise or when the pairs' shapes rule it
out. A table property -> action is read off the train pairs; applied to a grid whose objects show
a value the table lacks, it raises (the search drops that answer).

- `move_objects`: each object moves by an offset, or slides in a direction until it meets something,
  as a table of one of its properties (colour, size, shape, ...).
- `recolour_by_relation`: each object recoloured by a relation to the others: the colours it touches,
  its holes, whether it is enclosed, how many objects share its shape or colour; or to the colour of
  the marker cell that touches it or lies inside it.
- `draw_rays`: cells of some colours cast lines in learned directions (diagonals too), stopping at the
  first obstacle or crossing it.
- `connect_pairs`: cells of one colour in a row, column or diagonal joined by a line.
- `box_objects`: each object's bounding box filled, or framed one cell outside, in a colour by a table.
- `crop_picked`: the output is one object's bounding box; which one by a property: the largest or
  smallest value, the one value no other object shares, the most common one, or a fixed value.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from arc24.programs.dsl import Fitted, Grid, Learner
from arc24.programs.fitting import edited_in_place, painted_colours, reproduces, task_bg
from arc24.programs.objects import (ORDERED_PROPERTIES, STEPS4, STEPS8, Obj, all_properties, crop_box, objects,
                                    pick_objects, properties, slide_offset, toward)

_MODES = ("4", "8", "8m")


# ---------------------------------------------------------------- tables property -> target


def _learn(cases: list[tuple[dict, list]], skip=()) -> list[tuple[str, dict]]:
    """Every property whose value gives every object's target in every pair, with its table."""
    found = []
    for prop in cases[0][0]:
        if prop in skip or any(prop not in values for values, _ in cases):
            continue
        table: dict = {}
        if all(table.setdefault(v, t) == t for values, targets in cases for v, t in zip(values[prop], targets)):
            if len(set(table.values())) > 1:
                found.append((prop, table))
    return found


def _shown(table: dict):
    keys = list(table)
    return table if all(not isinstance(k, tuple) or len(k) < 4 for k in keys) else "..."


# ---------------------------------------------------------------- recolour by a relation


def _marker(g: Grid, obj: Obj, bg: int) -> int | None:
    """The one colour other than OBJ's that touches it (8 neighbours) or lies in its bounding box."""
    top, left, bottom, right = obj.bbox
    h, w = g.shape
    box = g[max(top - 1, 0):min(bottom + 1, h), max(left - 1, 0):min(right + 1, w)]
    found = set(box.ravel().tolist()) - {bg, obj.colour}
    return found.pop() if len(found) == 1 else None


def learn_recolour_by_relation(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """Each object (one colour) recoloured by a relation to the others, or to the colour of its marker."""
    if not edited_in_place(grids, outputs):
        return None
    bg = task_bg(grids)
    if any(((g != o) & (g == bg)).any() for g, o in zip(grids, outputs)):
        return None
    for mode in ("4", "8"):
        per_pair = []
        for g, o in zip(grids, outputs):
            objs = objects(g, mode, bg)
            targets = []
            for obj in objs:
                seen = o[obj.ys, obj.xs]
                if (seen != seen[0]).any() or seen[0] == bg:
                    break
                targets.append("keep" if seen[0] == obj.colour else int(seen[0]))
            else:
                per_pair.append((g, objs, targets))
                continue
            break
        else:
            fitted = _fit_recolour(grids, outputs, per_pair, mode, bg)
            if fitted is not None:
                return fitted
    return None


def _twin(g: Grid, obj: Obj, bg: int, objs: list[Obj]) -> int | None:
    """The one colour other than OBJ's of the objects with OBJ's shape."""
    found = {o.colour for o in objs if o.shape_key == obj.shape_key} - {obj.colour}
    return found.pop() if len(found) == 1 else None


def _fit_recolour(grids, outputs, per_pair, mode, bg) -> Fitted | None:
    # to a colour another object gives: the marker that touches it or lies inside it, or its twin's
    for source, name in ((lambda g, obj, objs: _marker(g, obj, bg), "recolour_to_marker"),
                         (lambda g, obj, objs: _twin(g, obj, bg, objs), "recolour_to_twin")):
        if not all(t == "keep" or t == source(g, obj, objs) for g, objs, ts in per_pair for obj, t in zip(objs, ts)):
            continue
        changed = Counter(obj.colour for g, objs, ts in per_pair for obj, t in zip(objs, ts) if t != "keep")
        kept = Counter(obj.colour for g, objs, ts in per_pair for obj, t in zip(objs, ts)
                       if t == "keep" and source(g, obj, objs) is not None)
        movers = sorted(c for c in changed if c not in kept) if kept else "all"  # "all": no object kept its colour
        if movers:
            def apply(g: Grid, movers=movers, source=source) -> Grid:
                out = g.copy()
                objs = objects(g, mode, bg)
                for obj in objs:
                    if movers == "all" or obj.colour in movers:
                        m = source(g, obj, objs)
                        if m is not None:
                            out[obj.ys, obj.xs] = m
                return out

            if reproduces(apply, grids, outputs):
                return Fitted(f"{name}(x, {mode!r}, {movers}, {bg})", apply)
    cases = [(all_properties(g, objs, bg, True), ts) for g, objs, ts in per_pair]
    plain = set(properties([]))  # recolour_objects already learns these alone
    for prop, table in _learn(cases, skip=plain):
        def apply(g: Grid, prop=prop, table=table) -> Grid:
            objs = objects(g, mode, bg)
            out = g.copy()
            for obj, v in zip(objs, all_properties(g, objs, bg, True)[prop]):
                t = table[v]
                if t != "keep":
                    out[obj.ys, obj.xs] = t
            return out

        if reproduces(apply, grids, outputs):
            return Fitted(f"recolour_by_relation(x, {mode!r}, {prop!r}, {_shown(table)}, {bg})", apply)
    return None


# ---------------------------------------------------------------- moving objects


def _fits_at(o: Grid, obj: Obj, dy: int, dx: int) -> bool:
    ys, xs = obj.ys + dy, obj.xs + dx
    h, w = o.shape
    if ys.min() < 0 or xs.min() < 0 or ys.max() >= h or xs.max() >= w:
        return False
    return bool((o[ys, xs] == obj.values).all())


def _offsets(o: Grid, obj: Obj) -> set:
    """The straight (row, column or diagonal) offsets that put OBJ's cells on the same colours in O."""
    h, w = o.shape
    top, left, bottom, right = obj.bbox
    found = set()
    for dy, dx in STEPS8.values():
        ks = np.arange(1, max(h, w))
        ks = ks[(top + dy * ks >= 0) & (bottom + dy * ks <= h) & (left + dx * ks >= 0) & (right + dx * ks <= w)]
        if not len(ks):
            continue
        hit = (o[obj.ys[None, :] + dy * ks[:, None], obj.xs[None, :] + dx * ks[:, None]] == obj.values[None, :]).all(1)
        found.update((dy * int(k), dx * int(k)) for k in ks[hit])
    return found


def _move(g: Grid, objs: list[Obj], offsets: list, bg: int) -> Grid:
    out = g.copy()
    for obj, (dy, dx) in zip(objs, offsets):
        if dy or dx:
            out[obj.ys, obj.xs] = bg
    for obj, (dy, dx) in zip(objs, offsets):
        if dy or dx:
            out[obj.ys + dy, obj.xs + dx] = obj.values
    return out


def learn_move_objects(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """Each object moves by an offset, or slides until it meets something, by a table of one of its properties."""
    if not edited_in_place(grids, outputs):
        return None
    bg = task_bg(grids)
    for g, o in zip(grids, outputs):  # a move keeps every colour's count
        if not (np.bincount(g.ravel(), minlength=10) == np.bincount(o.ravel(), minlength=10)).all():
            return None
    for mode in _MODES:
        per_pair = []
        for g, o in zip(grids, outputs):
            objs = objects(g, mode, bg)
            if not objs or len(objs) > 30:
                break
            # an object that stays where it is may also move: its offsets are checked on demand (None)
            cands = [None if _fits_at(o, obj, 0, 0) else _offsets(o, obj) for obj in objs]
            if any(c is not None and not c for c in cands):
                break
            per_pair.append((g, o, objs, cands))
        else:
            fitted = _fit_moves(grids, outputs, per_pair, mode, bg)
            if fitted is not None:
                return fitted
    return None


def _table(per_pair, props, prop, options) -> dict | None:
    """Per value of PROP, the options (offsets or ways) every object with that value allows; None if one allows none."""
    moved: dict = {}
    still: dict = {}
    for values, (g, o, objs, cands) in zip(props, per_pair):
        for v, obj, c in zip(values[prop], objs, cands):
            if c is None:
                still.setdefault(v, []).append((g, o, obj))
            else:
                ok = options(g, obj, c)
                moved[v] = moved[v] & ok if v in moved else ok
    table = {}
    for v in set(moved) | set(still):
        if v not in moved:
            table[v] = {"stay"}
            continue
        ok = {t for t in moved[v] if all(options(g, obj, None, t) for g, o, obj in still.get(v, []))} \
            if v in still else moved[v]
        if not ok:
            return None
        table[v] = ok
    return table


def _fit_moves(grids, outputs, per_pair, mode, bg) -> Fitted | None:
    props = [properties(objs) for _, _, objs, _ in per_pair]
    outs = {id(g): o for g, o, _, _ in per_pair}

    def by_offset(g, obj, c, t=None):
        if t is not None:
            return _fits_at(outs[id(g)], obj, *t)
        return set(c)

    slides: dict = {}

    def slide(g, obj, d):
        key = (id(obj), d)
        if key not in slides:
            slides[key] = slide_offset(g, obj, d, bg)
        return slides[key]

    def by_slide(g, obj, c, t=None):
        if t is not None:
            return _fits_at(outs[id(g)], obj, *slide(g, obj, t))
        return {d for d in (*STEPS4, "toward") if slide(g, obj, d) in c}

    for prop in ("colour", "shape", "size", "is_largest", "touches_border", "height", "width"):
        for options, label in ((by_offset, "move_objects"), (by_slide, "slide_objects")):
            table = _table(per_pair, props, prop, options)
            if table is None or all(c == {"stay"} for c in table.values()):
                continue
            if options is by_offset:
                chosen = {v: (0, 0) if c == {"stay"} else min(c, key=lambda t: (abs(t[0]) + abs(t[1]), t))
                          for v, c in table.items()}
            else:
                chosen = {v: "stay" if c == {"stay"} else sorted(c)[0] for v, c in table.items()}

            def apply(g: Grid, prop=prop, chosen=chosen, slide=options is by_slide) -> Grid:
                objs = objects(g, mode, bg)
                ways = [chosen[v] for v in properties(objs)[prop]]
                return _slide_all(g, objs, ways, bg) if slide else _move(g, objs, ways, bg)

            if reproduces(apply, grids, outputs):
                return Fitted(f"{label}(x, {mode!r}, {prop!r}, {_shown(chosen)}, {bg})", apply)
    return None


def _slide_all(g: Grid, objs: list[Obj], ways: list[str], bg: int) -> Grid:
    """Objects slide one by one, the one nearest its wall first, each stopping at what is already there."""
    out = g.copy()

    h, w = g.shape

    def lead(k):  # how far the object is from the edge it slides toward: the nearest goes first, "toward" last
        if ways[k] in ("stay", "toward"):
            return h + w
        top, left, bottom, right = objs[k].bbox
        return {"down": h - bottom, "up": top, "right": w - right, "left": left}[ways[k]]

    for k in sorted(range(len(objs)), key=lead):
        if ways[k] == "stay":
            continue
        obj = objs[k]
        out[obj.ys, obj.xs] = bg
        way = ways[k]
        if way == "toward":
            own = np.zeros(g.shape, bool)
            own[obj.ys, obj.xs] = True
            try:
                way = toward(obj, (g != bg) & ~own)
            except ValueError:
                way = (0, 0)
        dy, dx = slide_offset(out, obj, way, bg)
        out[obj.ys + dy, obj.xs + dx] = obj.values
    return out


# ---------------------------------------------------------------- lines from cells


def _ray(g: Grid, y: int, x: int, dy: int, dx: int, bg: int, through: bool) -> list[tuple[int, int]]:
    h, w = g.shape
    cells = []
    y, x = y + dy, x + dx
    while 0 <= y < h and 0 <= x < w:
        if g[y, x] != bg:
            if not through:
                break
        else:
            cells.append((y, x))
        y, x = y + dy, x + dx
    return cells


def _draw_rays(g: Grid, sources, directions: tuple, paint: int | None, bg: int, through: bool) -> Grid:
    out = g.copy()
    source = (g != bg) if sources == "all" else np.isin(g, sources)
    for y, x in zip(*np.nonzero(source)):
        colour = int(g[y, x]) if paint is None else paint
        for d in directions:
            dy, dx = STEPS8[d]
            for cy, cx in _ray(g, int(y), int(x), dy, dx, bg, through):
                if out[cy, cx] == bg:
                    out[cy, cx] = colour
    return out


def learn_draw_rays(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """Cells of some colours (or all) cast lines in the same directions, stopping at the first obstacle or crossing it.

    The lines are in each cell's own colour or in one colour for all."""
    if not edited_in_place(grids, outputs):
        return None
    bg = task_bg(grids)
    if any(((g != o) & (g != bg)).any() for g, o in zip(grids, outputs)):
        return None  # only background is painted
    colours = sorted(set().union(*(set(g.ravel().tolist()) for g in grids)) - {bg})
    if len(colours) > 6 or sum(int((g != bg).sum()) for g in grids) > 150:
        return None
    for through in (False, True):
        dirs: dict = {}
        for c in colours:
            for d, (dy, dx) in STEPS8.items():
                painted = set()
                for g, o in zip(grids, outputs):
                    for y, x in zip(*np.nonzero(g == c)):
                        painted.update(o[cy, cx] for cy, cx in _ray(g, int(y), int(x), dy, dx, bg, through))
                if len(painted) == 1 and bg not in painted:
                    p = int(painted.pop())
                    dirs.setdefault(c, []).append((d, None if p == c else p))
        if not dirs:
            continue
        options = []
        if len(dirs) == len(colours):  # every colour casts the rays they all cast
            shared = set.intersection(*(set(v) for v in dirs.values()))
            options.append(("all", [r for r in next(iter(dirs.values())) if r in shared]))
        options += [((c,), rays) for c, rays in dirs.items()]
        for sources, rays in options:
            paints = {p for _, p in rays}
            if len(paints) != 1:
                continue
            paint = paints.pop()
            directions = tuple(d for d, _ in rays)

            def apply(g: Grid, sources=sources, directions=directions, paint=paint, through=through) -> Grid:
                return _draw_rays(g, sources, directions, paint, bg, through)

            if directions and reproduces(apply, grids, outputs):
                return Fitted(f"draw_rays(x, {sources!r}, {list(directions)}, {paint}, "
                              f"{'through' if through else 'stop'}, {bg})", apply)
    return None


# ---------------------------------------------------------------- lines between cells


def _line_order(axes: str) -> list[tuple[int, int]]:
    steps = {"h": [(0, 1)], "v": [(1, 0)], "d": [(1, 1), (1, -1)]}
    return [s for a in axes for s in steps[a]]


def _connect(g: Grid, axes: str, bg: int, paint: int | None) -> Grid:
    out = g.copy()
    h, w = g.shape
    for dy, dx in _line_order(axes):
        for c in sorted(set(g.ravel().tolist()) - {bg}):
            ys, xs = np.nonzero(g == c)
            if dy == 0:
                keys = ys
            elif dx == 0:
                keys = xs
            else:
                keys = xs - ys if dx == 1 else xs + ys
            for key in set(keys.tolist()):
                sel = keys == key
                ly, lx = ys[sel], xs[sel]
                if len(ly) < 2:
                    continue
                t = ly if dy else lx
                a, b = int(t.argmin()), int(t.argmax())
                n = int(t.max() - t.min())
                y0, x0 = int(ly[a]), int(lx[a])
                for k in range(1, n):
                    y, x = y0 + dy * k, x0 + dx * k
                    if out[y, x] == bg:
                        out[y, x] = c if paint is None else paint
    return out


def learn_connect_pairs(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """Cells of one colour in a row, column or diagonal joined by a line (over background) in one order."""
    if not edited_in_place(grids, outputs):
        return None
    bg = task_bg(grids)
    if any(((g != o) & (g != bg)).any() for g, o in zip(grids, outputs)):
        return None
    new = painted_colours(grids, outputs)
    paints = [None] + ([new.pop()] if len(new) == 1 else [])
    for paint in paints:
        for axes in ("h", "v", "hv", "vh", "d", "hvd", "vhd", "dhv"):
            def apply(g: Grid, axes=axes, paint=paint) -> Grid:
                return _connect(g, axes, bg, paint)

            if reproduces(apply, grids, outputs):
                return Fitted(f"connect_pairs(x, {axes!r}, {paint}, {bg})", apply)
    return None


# ---------------------------------------------------------------- boxes round objects


def _box_cells(obj: Obj, shape: tuple[int, int], kind: str) -> tuple[np.ndarray, np.ndarray]:
    top, left, bottom, right = obj.bbox
    h, w = shape
    m = np.zeros(shape, bool)
    if kind == "fill":
        m[top:bottom, left:right] = True
    else:
        t, lft, b, r = max(top - 1, 0), max(left - 1, 0), min(bottom + 1, h), min(right + 1, w)
        m[t:b, lft:r] = True
        m[top:bottom, left:right] = False
    return np.nonzero(m)


def learn_box_objects(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """Each object's bounding box filled, or framed just outside, in a colour by a table of a property."""
    if not edited_in_place(grids, outputs):
        return None
    bg = task_bg(grids)
    if any(((g != o) & (g != bg)).any() for g, o in zip(grids, outputs)):
        return None
    for kind in ("fill", "frame"):
        for mode in ("8", "8m"):
            cases = []
            for g, o in zip(grids, outputs):
                objs = objects(g, mode, bg)
                if not objs or len(objs) > 30:
                    break
                targets = []
                for obj in objs:
                    ys, xs = _box_cells(obj, g.shape, kind)
                    free = g[ys, xs] == bg
                    seen = set(o[ys, xs][free].tolist())
                    targets.append("none" if seen <= {bg} else seen.pop() if len(seen) == 1 else None)
                if None in targets:
                    break
                cases.append((all_properties(g, objs, bg, False), targets))
            else:
                all_targets = {t for _, ts in cases for t in ts}
                options = [("all", {None: all_targets.pop()})] if len(all_targets) == 1 else _learn(cases)
                for prop, table in options:
                    def apply(g: Grid, prop=prop, table=table, kind=kind, mode=mode) -> Grid:
                        objs = objects(g, mode, bg)
                        values = [None] * len(objs) if prop == "all" else all_properties(g, objs, bg, False)[prop]
                        out = g.copy()
                        for obj, v in zip(objs, values):
                            t = table[v]
                            if t != "none":
                                ys, xs = _box_cells(obj, g.shape, kind)
                                free = out[ys, xs] == bg
                                out[ys[free], xs[free]] = t
                        return out

                    if reproduces(apply, grids, outputs):
                        shown = table[None] if prop == "all" else _shown(table)
                        return Fitted(f"box_objects(x, {kind!r}, {mode!r}, {prop!r}, {shown}, {bg})", apply)
    return None


# ---------------------------------------------------------------- crop the object a property picks


def learn_crop_picked(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """The bounding box of the object a property picks: its largest or smallest, unique, most common or a fixed value."""
    if any(o.shape[0] > g.shape[0] or o.shape[1] > g.shape[1] for g, o in zip(grids, outputs)):
        return None
    if all(g.shape == o.shape for g, o in zip(grids, outputs)):
        return None
    bg = task_bg(grids)
    for mode in ("4", "8", "4m", "8m"):
        for alone in (False, True, "inside"):
            per_pair = []
            for g, o in zip(grids, outputs):
                objs = objects(g, mode, bg)
                if len(objs) > 40:
                    break
                margin = 2 if alone == "inside" else 0
                hits = {k for k, obj in enumerate(objs)
                        if (obj.bbox[2] - obj.bbox[0] - margin, obj.bbox[3] - obj.bbox[1] - margin) == o.shape
                        and (crop_box(g, obj, bg, alone) == o).all()}
                if not hits:
                    break
                per_pair.append((all_properties(g, objs, bg, True), hits))
            else:
                fitted = _fit_pick(grids, outputs, per_pair, mode, bg, alone)
                if fitted is not None:
                    return fitted
    return None


def _fit_pick(grids, outputs, per_pair, mode, bg, alone) -> Fitted | None:
    props = [p for p in per_pair[0][0] if all(p in values for values, _ in per_pair)]
    rules = []
    for prop in props:
        for rule in ("max", "min") if prop in ORDERED_PROPERTIES else ():
            rules.append((prop, rule, None))
        rules.append((prop, "unique", None))
        values0, hits0 = per_pair[0]
        if not isinstance(values0[prop][0], (bool, np.bool_)):
            rules.append((prop, "common", None))
        for k in hits0:
            v = values0[prop][k]
            if not isinstance(v, (bool, np.bool_)):
                rules.append((prop, "is", v))
    for prop, rule, arg in rules:
        ok = True
        for values, hits in per_pair:
            try:
                if not set(pick_objects(values[prop], rule, arg)) <= hits:
                    ok = False
            except ValueError:
                ok = False
            if not ok:
                break
        if not ok:
            continue

        def apply(g: Grid, prop=prop, rule=rule, arg=arg) -> Grid:
            objs = objects(g, mode, bg)
            crops = [crop_box(g, objs[k], bg, alone) for k in pick_objects(all_properties(g, objs, bg, True)[prop], rule, arg)]
            if any(c.shape != crops[0].shape or (c != crops[0]).any() for c in crops):
                raise ValueError("the picked objects differ")
            return crops[0]

        if reproduces(apply, grids, outputs):
            what = rule if arg is None or isinstance(arg, tuple) else f"is {arg}"
            how = {False: "", True: ", alone", "inside": ", inside"}[alone]
            return Fitted(f"crop_picked(x, {mode!r}, {prop!r}, {what!r}{how}, {bg})", apply)
    return None


# ---------------------------------------------------------------- for the search

PRIMITIVES: list = []  # learners only: no branching at every state
LEARNERS = [
    Learner("move_objects", learn_move_objects, cost=2, on_every_state=False),
    Learner("recolour_by_relation", learn_recolour_by_relation, cost=2, on_every_state=False),
    Learner("draw_rays", learn_draw_rays, cost=2, on_every_state=False),
    Learner("connect_pairs", learn_connect_pairs, cost=2, on_every_state=False),
    Learner("box_objects", learn_box_objects, cost=2, on_every_state=False),
    Learner("crop_picked", learn_crop_picked, cost=2, on_every_state=False),
]
