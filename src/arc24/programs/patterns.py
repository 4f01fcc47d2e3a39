"""Patterns: periodic grids completed and continued, and crops whose place is learned.

A *lattice* is how a pattern repeats: a horizontal period PX (the same cell every PX columns) and a
vertical step (PY, S) (the same cell PY rows down and S columns across: S is 0 for a plain grid of
tiles, not 0 for a pattern that shifts from band to band, such as diagonal stripes). Either may be
missing (None): the grid then does not repeat that way. Cells the lattice maps to one another form a
*class*; the pattern is the colour most of each class's known cells show.

`find_lattice` reads the lattice off every shift of the grid at once (an FFT correlation of the
colours' masks): the smallest period whose shifted copy agrees with the grid on nearly all the
cells they share (all of them, when TOL is 0). `complete_pattern` repaints the cells of a noise
colour C from their class (in a noisy field, a row or column that mostly breaks the pattern, a
border, from its own commonest colour); `pattern_crop` answers what lies under the block of C instead;
`continue_pattern` / `continue_pattern_by` carry the pattern on to a larger grid.

Learner: `crop_region`, the output is a sub-grid of the grid, found in every pair by one rule:
the box of a colour, inside a colour's box, inside a frame, an object chosen by a property's value,
or the patch that breaks the grid's pattern (as it is, or repaired).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from arc24.programs.dsl import Fitted, Grid, Learner, Primitive, TaskFacts

Lattice = tuple  # (py, s, px): py, px may be None

# How much of the cells a shifted copy shares may disagree, for a noisy pattern: a border or a
# stray patch around a periodic field keeps it periodic.
NOISY = 0.22
MARGIN = 0.03  # a smaller period this close to the best one is preferred


# ---------------------------------------------------------------- finding the lattice


def shift_agreement(g: Grid, known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every shift (dy, dx), dy >= 0: how many known cells agree with the known cell dy, dx on, of how many pairs.

    Indexed [dy, dx] with a negative dx at dx + 2w (as numpy wraps it)."""
    h, w = g.shape
    colours = np.unique(g[known])
    masks = np.concatenate([(g == colours[:, None, None]) & known, known[None]]).astype(np.float64)
    f = np.fft.rfft2(masks, s=(2 * h, 2 * w))
    corr = np.rint(np.fft.irfft2(np.conj(f) * f, s=(2 * h, 2 * w)))
    return corr[:-1].sum(0)[:h], corr[-1][:h]


def _pick(mismatch: np.ndarray, tol: float) -> int | None:
    """The index of the first (they come simplest first) mismatch near the best one, within TOL; None if none is."""
    if not mismatch.size:
        return None
    best = mismatch.min()
    if best > tol:
        return None
    limit = min(tol, best + MARGIN) if tol else 0.0
    return int(np.argmax(mismatch <= limit + 1e-9))


def _lattices(g: Grid, known: np.ndarray, tol: float, overlap: float) -> list[Lattice]:
    """The simplest lattice the KNOWN cells repeat on; for a noisy field, then its rows' and columns' own."""
    h, w = g.shape
    n = int(known.sum())
    if n < 2:
        raise ValueError("nothing known")
    agree, pairs = shift_agreement(g, known)
    need = max(1.0, overlap * n)
    mismatch = np.where(pairs >= need, 1 - agree / np.maximum(pairs, 1), np.inf)
    k = _pick(mismatch[0, 1:w], tol)
    px = None if k is None else k + 1
    across = range(-((px - 1) // 2), px // 2 + 1) if px else range(-(w - 1), w)
    across = np.array(sorted(across, key=lambda s: (abs(s), -s)))  # the least shear first
    steps = mismatch[1:h][:, across % (2 * w)]  # [dy - 1, the shift's place in ACROSS]
    k = _pick(steps.ravel(), tol)
    py, s = (None, 0) if k is None else (k // len(across) + 1, int(across[k % len(across)]))
    if px is None and py is None:
        raise ValueError("no period")
    found = [(py, s, px)]
    if tol and (mismatch[0, px or 0] if px else 0) + (mismatch[py, s % (2 * w)] if py else 0) > 0:
        k = _pick(mismatch[1:h, 0], tol)
        down = py if s == 0 else (None if k is None else k + 1)
        found += [lat for lat in ((None, 0, px), (down, 0, None), (None, 0, 1), (1, 0, None)) if lat[0] or lat[2]]
    return found


def find_lattice(g: Grid, known: np.ndarray | None = None, tol: float = 0.0, overlap: float = 0.3) -> Lattice:
    """The simplest lattice the KNOWN cells repeat on, mismatching at most TOL of the cells each step shares."""
    return _lattices(g, np.ones(g.shape, bool) if known is None else known, tol, overlap)[0]


def classes(shape: tuple[int, int], lattice: Lattice) -> np.ndarray:
    """Each cell's class under LATTICE, as an integer key."""
    py, s, px = lattice
    ys, xs = np.indices(shape)
    if py is None:
        row, q = ys, 0
    else:
        row, q = ys % py, ys // py
    col = xs - s * q
    if px is not None:
        col = col % px
    return row * 4096 + (col + 2048)


def pattern_table(g: Grid, known: np.ndarray, lattice: Lattice) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per cell: its class's colour (its KNOWN cells' majority, or -1), how sure, whether all agree."""
    keys = classes(g.shape, lattice)
    uniq, inverse = np.unique(keys, return_inverse=True)
    inverse = inverse.reshape(keys.shape)
    counts = np.bincount(inverse[known] * 10 + g[known], minlength=len(uniq) * 10).reshape(-1, 10)
    top, n = counts.max(1), counts.sum(1)
    colour = np.where(n > 0, counts.argmax(1), -1)
    return colour[inverse], ((top + 1) / (n + 2))[inverse], (top == n)[inverse]


def periodic_fill(g: Grid, known: np.ndarray, tol: float = NOISY) -> Grid:
    """The pattern the KNOWN cells repeat; where a class disagrees, from a surer row or column lattice."""
    lattices = _lattices(g, known, tol, 0.3)
    best, sure, pure = pattern_table(g, known, lattices[0])
    main = best
    for lattice in lattices[1:]:
        colour, conf, _ = pattern_table(g, known, lattice)
        better = (conf > sure) & (colour >= 0) & ~pure
        best, sure = np.where(better, colour, best), np.where(better, conf, sure)
    if len(lattices) > 1:
        best = _border_lines(g, known, main, best)
    if (best < 0).any():
        raise ValueError("a class with no known cell")
    return best.astype(np.int8)


def _border_lines(g: Grid, known: np.ndarray, pattern: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """FILL with each row or column that mostly breaks PATTERN (a border) painted its own commonest known colour."""
    out = fill.copy()
    off = known & (g != pattern)
    for axis in (0, 1):
        n = known.sum(1 - axis)
        lines = np.flatnonzero((n >= 3) & (off.sum(1 - axis) * 2 > n))
        for k in lines:
            line = g[k] if axis == 0 else g[:, k]
            colour = np.bincount(line[(known[k] if axis == 0 else known[:, k])], minlength=10).argmax()
            if axis == 0:
                out[k] = colour
            else:
                out[:, k] = colour
    return out


# ---------------------------------------------------------------- completion


def complete_pattern(g: Grid, c: int) -> Grid:
    """Cells of colour C repainted with the colour of the periodic pattern the other cells show."""
    unknown = g == c
    if not unknown.any():
        return g.copy()
    if unknown.sum() * 2 > g.size:
        raise ValueError("more noise than pattern")
    return np.where(unknown, periodic_fill(g, ~unknown), g).astype(np.int8)


def _box(mask: np.ndarray) -> tuple[slice, slice]:
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    if not len(rows):
        raise ValueError("empty")
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def pattern_crop(g: Grid, c: int) -> Grid:
    """What the periodic pattern says lies under the block of colour C."""
    return complete_pattern(g, c)[_box(g == c)]


# ---------------------------------------------------------------- continuation


def continue_pattern(g: Grid, h: int, w: int) -> Grid:
    """The grid's exact periodic pattern carried on to H x W, from the same top-left corner."""
    lattice = find_lattice(g, tol=0.0, overlap=0.25)
    py, _, px = lattice
    if (py is None and h > g.shape[0]) or (px is None and w > g.shape[1]):
        raise ValueError("no period that way")
    table = dict(zip(classes(g.shape, lattice).ravel().tolist(), g.ravel().tolist()))
    uniq, inverse = np.unique(classes((h, w), lattice), return_inverse=True)
    return np.array([table[k] for k in uniq.tolist()], np.int8)[inverse].reshape(h, w)


def continue_pattern_by(g: Grid, fy: Fraction, fx: Fraction) -> Grid:
    """The grid's exact periodic pattern carried on to FY times its rows and FX times its columns."""
    h, w = g.shape[0] * fy, g.shape[1] * fx
    if Fraction(h).denominator != 1 or Fraction(w).denominator != 1:
        raise ValueError("not a whole size")
    return continue_pattern(g, int(h), int(w))


# ---------------------------------------------------------------- crop_region: where the output lies


def _colour_box(g: Grid, c: int) -> tuple[slice, slice]:
    return _box(g == c)


def _inside(box: tuple[slice, slice]) -> tuple[slice, slice]:
    ys, xs = box
    if ys.stop - ys.start < 3 or xs.stop - xs.start < 3:
        raise ValueError("no inside")
    return slice(ys.start + 1, ys.stop - 1), slice(xs.start + 1, xs.stop - 1)


def frames(g: Grid, c: int) -> list[tuple[slice, slice]]:
    """The boxes whose one-cell rim is all colour C, inside at least 1 x 1, largest first (not nested in another)."""
    m = g == c
    h, w = g.shape
    found = []
    ys, xs = np.nonzero(m)
    corners = set(zip(ys.tolist(), xs.tolist()))
    for y0, x0 in sorted(corners):
        if not (y0 + 2 < h and x0 + 2 < w and m[y0 + 1, x0] and m[y0, x0 + 1]):
            continue
        right = x0 + 1
        while right < w and m[y0, right]:
            right += 1
        down = y0 + 1
        while down < h and m[down, x0]:
            down += 1
        for y1 in range(down - 1, y0 + 1, -1):
            for x1 in range(right - 1, x0 + 1, -1):
                if m[y1, x0:x1 + 1].all() and m[y0:y1 + 1, x1].all():
                    found.append((slice(y0, y1 + 1), slice(x0, x1 + 1)))
                    break
            else:
                continue
            break
    found.sort(key=lambda b: -(b[0].stop - b[0].start) * (b[1].stop - b[1].start))
    return found


def _frame_box(g: Grid, c: int, which: str) -> tuple[slice, slice]:
    found = frames(g, c)
    if not found or (which == "only" and len(found) != 1):
        raise ValueError("no single frame")
    area = [(b[0].stop - b[0].start) * (b[1].stop - b[1].start) for b in found]
    k = 0 if which in ("only", "largest") else len(found) - 1
    if which != "only" and area.count(area[k]) != 1:
        raise ValueError("a tie")
    return _inside(found[k])


def _anomaly_box(g: Grid) -> tuple[slice, slice]:
    filled = periodic_fill(g, np.ones(g.shape, bool))
    return _box(filled != g)


def _object_box(g: Grid, mode: str, prop: str, value, bg: int) -> tuple[slice, slice]:
    from arc24.programs.objects import objects, properties

    objs = objects(g, mode, bg)
    values = properties(objs).get(prop) if objs else None
    if values is None:
        raise ValueError("no objects")
    hits = [o for o, v in zip(objs, values) if v == value]
    if len(hits) != 1:
        raise ValueError("no single object")
    top, left, bottom, right = hits[0].bbox
    return slice(top, bottom), slice(left, right)


def locate(g: Grid, how: tuple, bg: int) -> Grid:
    """The sub-grid HOW names: colour, inside, frame, object (mode, prop, value) or anomaly (repaired)."""
    kind = how[0]
    if kind == "colour":
        return g[_colour_box(g, how[1])]
    if kind == "inside":
        return g[_inside(_colour_box(g, how[1]))]
    if kind == "frame":
        return g[_frame_box(g, how[1], how[2])]
    if kind == "object":
        return g[_object_box(g, how[1], how[2], how[3], bg)]
    box = _anomaly_box(g)
    return (periodic_fill(g, np.ones(g.shape, bool)) if how[1] else g)[box]


def _object_rules(g: Grid, o: Grid, bg: int) -> list[tuple]:
    """('object', mode, prop, value) for every object of G whose box is O and whose property value is its own."""
    from arc24.programs.objects import objects, properties

    rules = []
    for mode in ("4", "8", "8m"):
        objs = objects(g, mode, bg)
        if not objs or len(objs) > 60:
            continue
        props = properties(objs)
        for k, obj in enumerate(objs):
            top, left, bottom, right = obj.bbox
            if (bottom - top, right - left) != o.shape or not np.array_equal(g[top:bottom, left:right], o):
                continue
            for prop, values in props.items():
                if sum(v == values[k] for v in values) == 1:
                    rules.append(("object", mode, prop, values[k]))
    return rules


def _region_rules(g: Grid, o: Grid, bg: int) -> list[tuple]:
    rules = [("colour", c) for c in range(10)] + [("inside", c) for c in range(10)]
    rules += [("frame", c, which) for c in range(10) for which in ("only", "largest", "smallest")]
    return rules + _object_rules(g, o, bg) + [("anomaly", False), ("anomaly", True)]


def _fits(how: tuple, g: Grid, o: Grid, bg: int) -> bool:
    try:
        got = locate(g, how, bg)
    except (ValueError, IndexError):
        return False
    return got.shape == o.shape and np.array_equal(got, o)


def learn_crop_region(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """The output is the sub-grid one rule finds in every pair (a colour's box, a frame, an object, a patch)."""
    if any(o.shape[0] > g.shape[0] or o.shape[1] > g.shape[1] or o.shape == g.shape for g, o in zip(grids, outputs)):
        return None
    bg = int(sum(np.bincount(g.ravel(), minlength=10) for g in grids).argmax())
    first_g, first_o = grids[0], outputs[0]
    present = set(np.unique(first_g).tolist())
    for how in _region_rules(first_g, first_o, bg):
        if how[0] in ("colour", "inside", "frame") and how[1] not in present:
            continue
        if all(_fits(how, g, o, bg) for g, o in zip(grids, outputs)):
            return Fitted(f"crop_region(x, {how!r})", lambda g, how=how: locate(g, how, bg))
    return None


# ---------------------------------------------------------------- parameters from the task


def _noise_colours(facts: TaskFacts) -> list[int]:
    """Input colours no output shows, or else the inputs' background."""
    absent = [c for c in facts.input_colours if c not in facts.output_colours]
    return absent or list(facts.input_colours[:1])


def _smaller(facts: TaskFacts) -> bool:
    return not facts.same_shape and all(r[0] <= 1 and r[1] <= 1 for r in facts.ratios)


def _fill_params(facts: TaskFacts):
    return [(c,) for c in _noise_colours(facts)] if facts.same_shape else []


def _crop_params(facts: TaskFacts):
    if not _smaller(facts):
        return []
    return [(c,) for c in facts.input_colours if c not in facts.output_colours]


def _larger(facts: TaskFacts) -> bool:
    return all(r[0] >= 1 and r[1] >= 1 for r in facts.ratios) and not facts.same_shape


def _shape_params(facts: TaskFacts):
    return [facts.output_shape] if _larger(facts) and facts.output_shape else []


def _ratio_params(facts: TaskFacts):
    if not _larger(facts) or facts.ratio is None or facts.output_shape:
        return []  # with one output shape, continue_pattern says it
    return [facts.ratio]


PRIMITIVES = [
    Primitive("complete_pattern", complete_pattern, _fill_params),
    Primitive("pattern_crop", pattern_crop, _crop_params),
    Primitive("continue_pattern", continue_pattern, _shape_params),
    Primitive("continue_pattern_by", continue_pattern_by, _ratio_params),
]
LEARNERS = [Learner("crop_region", learn_crop_region, cost=2, on_every_state=False)]
