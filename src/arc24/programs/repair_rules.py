"""Repair rules: shapes completed to their mirror images or their boxes, noisy patterns and shapes cleaned.

- `complete_mirror`: a shape with missing cells completed by its own symmetries (mirrors, diagonal mirrors,
  half and quarter turns, each about the axis its cells fit best): "add" paints each background cell whose
  mirror image is a shape cell; "clean" repaints the cells of speck colours (noise: no piece of more than two
  cells) from their mirror images in the rest, the rest's commonest colour where none says.
- `box_shapes`: each object replaced by its bounding box, filled or outlined, in its own main colour; objects
  smaller than a learned size (specks of noise) erased. Objects are cut by colour and 8 neighbours, by any colour
  and 8 neighbours, or are all the cells of a colour.
- `repair_pattern`: a periodic pattern with noise anywhere (of any colour, its own colours too) repainted as
  the pattern most of its cells show (the one lattice they repeat on, each class its commonest colour).

Each learner checks that what it fitted reproduces every train output, and declines otherwise.
"""

from __future__ import annotations

import numpy as np

from arc24.programs.dsl import Fitted, Grid, Learner
from arc24.programs.fitting import edited_in_place, reproduces, task_bg
from arc24.programs.objects import objects
from arc24.programs.patterns import NOISY, find_lattice, pattern_table

MAX_MISSING = 0.25  # of a shape's cells, at most this many may lack their mirror image under a symmetry it has
CLEAN_MISSING = 0.1  # the same for a shape whose only flaws are specks of noise

# ---------------------------------------------------------------- symmetries of a shape


def _mirror(kind: str, ys: np.ndarray, xs: np.ndarray, p: int, q: int) -> tuple[np.ndarray, np.ndarray]:
    """Cells YS, XS mapped by the symmetry KIND with parameters P, Q (twice an axis or a centre's coordinate)."""
    if kind == "flip_h":
        return ys, p - xs
    if kind == "flip_v":
        return p - ys, xs
    if kind == "rot180":
        return p - ys, q - xs
    if kind == "transpose":  # about the line y - x = p
        return xs + p, ys - p
    if kind == "antitranspose":  # about the line y + x = p
        return p - xs, p - ys
    # rot90 about the centre (p / 2, q / 2): (y, x) -> (cy + x - cx, cx - y + cy)
    return (p - q) // 2 + xs, (p + q) // 2 - ys


def _params(kind: str, box: tuple[int, int, int, int]) -> list[tuple[int, int]]:
    """The axes or centres near the middle of BOX worth trying for KIND."""
    top, left, bottom, right = box
    ys, xs = range(2 * top - 2, 2 * bottom + 1), range(2 * left - 2, 2 * right + 1)
    if kind == "flip_h":
        return [(p, 0) for p in xs]
    if kind == "flip_v":
        return [(p, 0) for p in ys]
    if kind == "transpose":
        return [(p, 0) for p in range(top - right - 1, bottom - left + 2)]
    if kind == "antitranspose":
        return [(p, 0) for p in range(top + left - 1, bottom + right)]
    return [(p, q) for p in ys for q in xs if kind == "rot180" or (p - q) % 2 == 0]


_KINDS = ("flip_h", "flip_v", "rot180", "transpose", "antitranspose", "rot90")


def _symmetries(g: Grid, shape: np.ndarray, known: np.ndarray, most: float) -> list[tuple[str, int, int]]:
    """Per kind, the one best symmetry of the SHAPE cells (colours of G): every shape cell maps inside the grid,
    onto a cell of its colour, or onto a cell not KNOWN (noise), or, at most MOST of them, onto a known cell
    off the shape; the kind is left out when two axes tie."""
    ys, xs = np.nonzero(shape)
    n, (h, w) = len(ys), g.shape
    if n < 3:
        return []
    box = (ys.min(), xs.min(), ys.max() + 1, xs.max() + 1)
    found = []
    for kind in _KINDS:
        best, ties, at = None, 0, None
        for p, q in _params(kind, box):
            my, mx = _mirror(kind, ys, xs, p, q)
            if my.min() < 0 or mx.min() < 0 or my.max() >= h or mx.max() >= w:
                continue
            there = g[my, mx]
            on = shape[my, mx]
            if (on & (there != g[ys, xs])).any():
                continue  # a shape cell onto a shape cell of another colour
            missing = int((~on & known[my, mx]).sum())
            if missing > most * n:
                continue
            if best is None or missing < best:
                best, ties, at = missing, 0, (kind, p, q)
            elif missing == best:
                ties += 1
        if at is not None and not ties:
            found.append(at)
    return found


def _close(g: Grid, fill: np.ndarray, value: np.ndarray, syms: list) -> tuple[np.ndarray, np.ndarray]:
    """FILL (cells still to decide) and VALUE (what each decided one shows) after copying decided cells onto their
    undecided mirror images under every symmetry in SYMS, and their inverses, until nothing changes."""
    fill, value = fill.copy(), value.copy()
    for _ in range(6):
        changed = False
        for kind, p, q in syms:
            ys, xs = np.nonzero(~fill & (value >= 0))
            for my, mx in (_mirror(kind, ys, xs, p, q), _inverse(kind, ys, xs, p, q)):
                ok = (my >= 0) & (mx >= 0) & (my < g.shape[0]) & (mx < g.shape[1])
                sy, sx, ty, tx = ys[ok], xs[ok], my[ok], mx[ok]
                take = fill[ty, tx]
                if take.any():
                    value[ty[take], tx[take]] = value[sy[take], sx[take]]
                    fill[ty[take], tx[take]] = False
                    changed = True
        if not changed:
            break
    return fill, value


def _inverse(kind: str, ys: np.ndarray, xs: np.ndarray, p: int, q: int) -> tuple[np.ndarray, np.ndarray]:
    """Cells mapped by the inverse of a symmetry (only a quarter turn differs from its own inverse)."""
    if kind != "rot90":
        return _mirror(kind, ys, xs, p, q)
    # (y, x) = (a + x', b - y') with a = (p - q) / 2, b = (p + q) / 2  =>  y' = b - x, x' = y - a
    return (p + q) // 2 - xs, ys - (p - q) // 2


def complete_mirror(g: Grid, how: str, bg: int) -> Grid:
    """G's shape completed by its symmetries: HOW "add" paints background cells whose mirror image is a shape
    cell; "clean" repaints the cells of speck colours (noise) from their mirror images in the rest, the rest's
    commonest colour where none says."""
    fg = g != bg
    if how == "add":
        syms = _symmetries(g, fg, np.ones(g.shape, bool), MAX_MISSING)
        if not syms:
            raise ValueError("no symmetry")
        fill, value = _close(g, ~fg, np.where(fg, g, -1), syms)
        return np.where(fill, g, value).astype(np.int8)
    noise = np.isin(g, _speck_colours(g))
    if noise.all():
        raise ValueError("nothing but noise")
    if not noise.any():
        return g.copy()
    counts = np.bincount(g[~noise], minlength=10)
    ground = int(counts.argmax())
    shape = ~noise & (g != ground)
    if not shape.any():
        return np.where(noise, ground, g).astype(np.int8)
    syms = _symmetries(g, shape, ~noise, CLEAN_MISSING)
    if not syms:
        raise ValueError("no symmetry")
    fill, value = _close(g, noise, np.where(noise, -1, g), syms)
    return np.where(fill, ground, value).astype(np.int8)


def _speck_colours(g: Grid) -> list[int]:
    """The colours of G whose every piece (8 neighbours) has one or two cells: noise."""
    pieces: dict = {}
    for o in objects(g, "8", -1):
        pieces[o.colour] = max(pieces.get(o.colour, 0), o.size)
    return [c for c, most in pieces.items() if most <= 2]


def learn_complete_mirror(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """A shape completed by its symmetries, adding missing cells or repainting noise, as every pair shows."""
    if not edited_in_place(grids, outputs):
        return None
    bg = task_bg(grids)
    for how in ("add", "clean"):
        def apply(g: Grid, how=how) -> Grid:
            return complete_mirror(g, how, bg)

        if reproduces(apply, grids, outputs):
            return Fitted(f"complete_mirror(x, {how!r}, {bg})", apply)
    return None


# ---------------------------------------------------------------- shapes squared to their boxes


def _cut(g: Grid, cut: str, bg: int) -> list[tuple[tuple[int, int, int, int], int, int]]:
    """G's objects as (bounding box, main colour, size): cut "8" by colour, "8m" any colour, "colour" all of one."""
    if cut != "colour":
        return [(o.bbox, o.colour, o.size) for o in objects(g, cut, bg)]
    found = []
    for c in np.unique(g[g != bg]).tolist():
        ys, xs = np.nonzero(g == c)
        found.append(((ys.min(), xs.min(), ys.max() + 1, xs.max() + 1), c, len(ys)))
    return found


def box_shapes(g: Grid, cut: str, kind: str, least: int, bg: int) -> Grid:
    """G's objects (CUT) of LEAST cells or more replaced by their bounding boxes, KIND "fill" or "outline", in their
    main colour, the largest painted first; smaller ones erased."""
    objs = _cut(g, cut, bg)
    if not any(size >= least for _, _, size in objs):
        raise ValueError("no shape")
    out = g.copy()
    if least > 1:
        for o in objects(g, cut, bg):
            if o.size < least:
                out[o.ys, o.xs] = bg
    for (top, left, bottom, right), c, size in sorted(objs, key=lambda t: -t[2]):
        if size < least:
            continue
        if kind == "fill":
            out[top:bottom, left:right] = c
        else:
            out[top, left:right] = out[bottom - 1, left:right] = c
            out[top:bottom, left] = out[top:bottom, right - 1] = c
    return out


def learn_box_shapes(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """Objects squared to their boxes, filled or outlined in their own colour, specks erased, as every pair shows."""
    if not edited_in_place(grids, outputs):
        return None
    bg = task_bg(grids)
    for cut in ("colour", "8", "8m"):
        for kind in ("fill", "outline"):
            for least in ((1, 2, 3) if cut != "colour" else (1,)):
                def apply(g: Grid, cut=cut, kind=kind, least=least) -> Grid:
                    return box_shapes(g, cut, kind, least, bg)

                if reproduces(apply, grids, outputs):
                    return Fitted(f"box_shapes(x, {cut!r}, {kind!r}, {least}, {bg})", apply)
    return None


# ---------------------------------------------------------------- noisy patterns


def repair_pattern(g: Grid) -> Grid:
    """G repainted as the periodic pattern most of its cells show (noise of any colour outvoted)."""
    known = np.ones(g.shape, bool)
    colour, _, _ = pattern_table(g, known, find_lattice(g, known, NOISY))
    return colour.astype(np.int8)


def learn_repair_pattern(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """A noisy periodic pattern repaired, as every pair shows."""
    if not edited_in_place(grids, outputs) or not reproduces(repair_pattern, grids, outputs):
        return None
    return Fitted("repair_pattern(x)", repair_pattern)


PRIMITIVES: list = []  # learners only
LEARNERS = [
    Learner("complete_mirror", learn_complete_mirror, cost=2, on_every_state=False),
    Learner("box_shapes", learn_box_shapes, cost=2, on_every_state=False),
    Learner("repair_pattern", learn_repair_pattern, cost=2, on_every_state=False),
]
