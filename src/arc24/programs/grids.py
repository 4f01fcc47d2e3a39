"""Whole-grid primitives: symmetries, cropping, scaling, tiling, mirroring, borders, colours, shifts.

Each is a pure function of a grid (and parameters drawn from the task by its `params`), with a
one-line docstring. `PRIMITIVES` lists them for the search.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from arc24.programs.dsl import Grid, Primitive, TaskFacts

# ---------------------------------------------------------------- colours by role


def background(g: Grid) -> int:
    """The grid's most frequent colour (the lowest on a tie)."""
    return int(np.bincount(g.ravel(), minlength=10).argmax())


def foreground_colours(g: Grid) -> list[int]:
    """The grid's colours other than its background, most frequent first."""
    counts = np.bincount(g.ravel(), minlength=10)
    bg = int(counts.argmax())
    return [int(c) for c in np.argsort(-counts, kind="stable") if counts[c] and c != bg]


# ---------------------------------------------------------------- symmetries


def rot90(g: Grid) -> Grid:
    """A quarter turn anticlockwise."""
    return np.rot90(g, 1)


def rot180(g: Grid) -> Grid:
    """A half turn."""
    return np.rot90(g, 2)


def rot270(g: Grid) -> Grid:
    """A quarter turn clockwise."""
    return np.rot90(g, 3)


def flip_h(g: Grid) -> Grid:
    """Mirror left to right."""
    return g[:, ::-1]


def flip_v(g: Grid) -> Grid:
    """Mirror top to bottom."""
    return g[::-1, :]


def transpose(g: Grid) -> Grid:
    """Rows become columns."""
    return g.T


def antitranspose(g: Grid) -> Grid:
    """Mirror in the anti-diagonal."""
    return np.rot90(g, 2).T


# ---------------------------------------------------------------- cropping


def _crop_to_mask(g: Grid, mask: np.ndarray) -> Grid:
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    return g[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def crop_to_content(g: Grid) -> Grid:
    """The bounding box of every cell that is not background."""
    return _crop_to_mask(g, g != background(g))


def crop_to_colour(g: Grid, c: int) -> Grid:
    """The bounding box of colour C."""
    return _crop_to_mask(g, g == c)


def crop_inside_colour(g: Grid, c: int) -> Grid:
    """What lies inside the bounding box of colour C, that box's rim left out."""
    return crop_to_colour(g, c)[1:-1, 1:-1]


def trim(g: Grid) -> Grid:
    """The grid without its outermost ring of cells."""
    return g[1:-1, 1:-1]


def top_half(g: Grid) -> Grid:
    """The upper half of the rows (the middle row left out when odd)."""
    return g[: g.shape[0] // 2]


def bottom_half(g: Grid) -> Grid:
    """The lower half of the rows (the middle row left out when odd)."""
    return g[(g.shape[0] + 1) // 2:]


def left_half(g: Grid) -> Grid:
    """The left half of the columns (the middle column left out when odd)."""
    return g[:, : g.shape[1] // 2]


def right_half(g: Grid) -> Grid:
    """The right half of the columns (the middle column left out when odd)."""
    return g[:, (g.shape[1] + 1) // 2:]


# ---------------------------------------------------------------- scaling, tiling, mirroring


def upscale(g: Grid, fy: int, fx: int) -> Grid:
    """Every cell becomes an FY x FX block."""
    return np.kron(g, np.ones((fy, fx), dtype=np.int8)).astype(np.int8)


def downscale(g: Grid, fy: int, fx: int) -> Grid:
    """Every FY x FX block becomes one cell, of the block's most frequent colour."""
    h, w = g.shape
    if h % fy or w % fx:
        raise ValueError("the blocks do not tile the grid")
    blocks = g.reshape(h // fy, fy, w // fx, fx).transpose(0, 2, 1, 3).reshape(h // fy, w // fx, fy * fx)
    counts = (blocks[..., None] == np.arange(10)).sum(2)
    return counts.argmax(-1).astype(np.int8)


def tile(g: Grid, ny: int, nx: int) -> Grid:
    """NY x NX copies of the grid side by side."""
    return np.tile(g, (ny, nx))


def mirror_right(g: Grid) -> Grid:
    """The grid, then its mirror image to its right."""
    return np.hstack([g, g[:, ::-1]])


def mirror_down(g: Grid) -> Grid:
    """The grid, then its mirror image below it."""
    return np.vstack([g, g[::-1]])


def mirror_four(g: Grid) -> Grid:
    """The grid mirrored into the four quadrants of a grid twice its size."""
    return mirror_down(mirror_right(g))


def kaleidoscope(g: Grid) -> Grid:
    """A square grid turned four times into the quadrants of a grid twice its size."""
    if g.shape[0] != g.shape[1]:
        raise ValueError("not square")
    return np.vstack([np.hstack([g, np.rot90(g, 3)]), np.hstack([np.rot90(g, 1), np.rot90(g, 2)])])


def self_tile(g: Grid) -> Grid:
    """A copy of the grid in each block where the grid has foreground, background elsewhere."""
    bg = background(g)
    mask = np.kron(g != bg, np.ones(g.shape, dtype=bool))
    return np.where(mask, np.tile(g, g.shape), bg).astype(np.int8)


def _scale_factors(facts: TaskFacts, up: bool):
    r = facts.ratio
    if r is None:
        return []
    fy, fx = (r[0], r[1]) if up else (1 / r[0], 1 / r[1])
    if fy.denominator != 1 or fx.denominator != 1 or (fy, fx) == (1, 1):
        return []
    return [(int(fy.numerator), int(fx.numerator))]


def _scale_up(facts: TaskFacts):
    return _scale_factors(facts, up=True)


def _scale_down(facts: TaskFacts):
    return _scale_factors(facts, up=False)


# ---------------------------------------------------------------- borders and shifts


def add_border(g: Grid, c: int) -> Grid:
    """The grid in a one-cell frame of colour C."""
    return np.pad(g, 1, constant_values=c)


def paint_border(g: Grid, c: int) -> Grid:
    """The grid's outermost ring painted colour C."""
    out = g.copy()
    out[0, :] = out[-1, :] = out[:, 0] = out[:, -1] = c
    return out


def shift(g: Grid, dy: int, dx: int) -> Grid:
    """Everything moved DY rows and DX columns, background filling in behind."""
    out = np.full_like(g, background(g))
    h, w = g.shape
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[yd, xd] = g[ys, xs]
    return out


def roll(g: Grid, dy: int, dx: int) -> Grid:
    """Everything moved DY rows and DX columns, wrapping around the edges."""
    return np.roll(g, (dy, dx), axis=(0, 1))


_MOVES = [(0, 1), (0, -1), (1, 0), (-1, 0)]

# ---------------------------------------------------------------- colours


def keep_colour(g: Grid, c: int) -> Grid:
    """Only colour C kept; everything else becomes background."""
    return np.where(g == c, g, background(g)).astype(np.int8)


def erase_colour(g: Grid, c: int) -> Grid:
    """Colour C becomes background."""
    return np.where(g == c, background(g), g).astype(np.int8)


def recolour_foreground(g: Grid, c: int) -> Grid:
    """Every cell that is not background becomes colour C."""
    return np.where(g != background(g), c, g).astype(np.int8)


def swap_background(g: Grid, c: int) -> Grid:
    """Background and colour C trade places."""
    bg = background(g)
    return np.where(g == bg, c, np.where(g == c, bg, g)).astype(np.int8)


def invert(g: Grid) -> Grid:
    """A two-colour grid with its two colours exchanged."""
    colours = np.unique(g)
    if len(colours) != 2:
        raise ValueError("not two colours")
    a, b = colours
    return np.where(g == a, b, a).astype(np.int8)


def _task_colours(facts: TaskFacts):
    return [(c,) for c in facts.colours]


def _output_colours(facts: TaskFacts):
    return [(c,) for c in facts.output_colours]


def _input_colours(facts: TaskFacts):
    return [(c,) for c in facts.input_colours]


def _smaller(facts: TaskFacts) -> bool:
    return all(r[0] <= 1 and r[1] <= 1 for r in facts.ratios) and not facts.same_shape


def _when(condition, params):
    """PARAMS when CONDITION(facts) holds, else nothing: prunes primitives the outputs rule out."""
    return lambda facts: params(facts) if condition(facts) else []


def _none(facts: TaskFacts):
    return [()]


def _grows(facts: TaskFacts) -> bool:
    return any(r[0] > 1 or r[1] > 1 for r in facts.ratios)


def _ratio_is(fy, fx):
    return lambda facts: facts.ratio == (Fraction(fy), Fraction(fx))


LEARNERS: list = []  # primitives only
PRIMITIVES = [
    Primitive("rot90", rot90), Primitive("rot180", rot180), Primitive("rot270", rot270),
    Primitive("flip_h", flip_h), Primitive("flip_v", flip_v), Primitive("transpose", transpose),
    Primitive("antitranspose", antitranspose),
    Primitive("crop_to_content", crop_to_content, _when(lambda f: not f.same_shape, _none)),
    Primitive("crop_to_colour", crop_to_colour, _when(lambda f: not f.same_shape, _input_colours)),
    Primitive("crop_inside_colour", crop_inside_colour, _when(lambda f: not f.same_shape, _input_colours)),
    Primitive("trim", trim, _when(_smaller, _none)),
    Primitive("top_half", top_half, _when(_smaller, _none)),
    Primitive("bottom_half", bottom_half, _when(_smaller, _none)),
    Primitive("left_half", left_half, _when(_smaller, _none)),
    Primitive("right_half", right_half, _when(_smaller, _none)),
    Primitive("upscale", upscale, _scale_up),
    Primitive("downscale", downscale, _scale_down),
    Primitive("tile", tile, _scale_up),
    Primitive("mirror_right", mirror_right, _when(_ratio_is(1, 2), _none)),
    Primitive("mirror_down", mirror_down, _when(_ratio_is(2, 1), _none)),
    Primitive("mirror_four", mirror_four, _when(_ratio_is(2, 2), _none)),
    Primitive("kaleidoscope", kaleidoscope, _when(_ratio_is(2, 2), _none)),
    Primitive("self_tile", self_tile, _when(lambda f: f.ratio is not None and f.ratio[0] > 1, _none)),
    Primitive("add_border", add_border, _when(_grows, _output_colours)),
    Primitive("paint_border", paint_border, _output_colours),
    Primitive("shift", shift, lambda f: _MOVES if f.same_shape else []),
    Primitive("roll", roll, lambda f: _MOVES if f.same_shape else []),
    Primitive("keep_colour", keep_colour, _input_colours),
    Primitive("erase_colour", erase_colour, _input_colours),
    Primitive("recolour_foreground", recolour_foreground, _output_colours),
    Primitive("swap_background", swap_background, _output_colours),
    Primitive("invert", invert),
]
