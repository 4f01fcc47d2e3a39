"""The readable reference of the compiled search's vocabulary (core/functions.cpp).

Every entry of the C++ `vocabulary()` has a function here with the same name and the same
meaning, written for clarity rather than speed; tests/test_core_functions.py runs both on random
images and asserts that they agree exactly (position, size, cells, and failures).

Values
  An `Image` is a sprite: an (h, w) uint8 grid of colours 0-9 whose top-left cell sits at (x, y)
  on the plane (x the column, y the row; either may be negative). Colour 0 is empty.
  A list of images is a Python list.
  Failure is None here (the C++ returns the empty image or the empty list).

Kinds (`VOCABULARY[name] = (kind, function)`)
  "unary"   image -> image
  "canvas"  (image, canvas) -> image; only the canvas's size is read. Each function has two
            entries, "f(input_size)" and "f(output_size)": the search supplies a blank image of the
            example's input or output size; the function is the same.
  "split"   image -> list
  "join"    list -> image
  "filter"  list -> list

Conventions every entry shares (applied by `_entry`, as in the C++):
  - an empty image (w or h = 0), an empty list, or an image with a side over MAX_SIDE fails;
  - a result with a side over MAX_SIDE fails;
  - "maj" is the most frequent non-zero colour (ties: the smaller colour; 0 if there is none);
  - connectivity: 4 means edge neighbours, 8 adds the diagonals;
  - lists from splits are in reading order: by y, then x, then the piece's maj colour, then the
    row-major position of the piece's first cell (stable);
  - rotations follow numpy: rot90 is a quarter turn anticlockwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

MAX_SIDE = 60  # sides above this fail, in inputs and results
MAX_COUNT = 30  # count_* draw at most this many cells per side


@dataclass(eq=False)
class Image:
    """A sprite: `grid` (h, w) of colours 0-9 with its top-left cell at column x, row y."""

    grid: np.ndarray
    x: int = 0
    y: int = 0

    def __post_init__(self):
        self.grid = np.array(self.grid, dtype=np.uint8)  # a copy: results never share cells
        if self.grid.ndim != 2:
            self.grid = self.grid.reshape(0, 0)
        self.x, self.y = int(self.x), int(self.y)

    @property
    def h(self) -> int:
        return int(self.grid.shape[0])

    @property
    def w(self) -> int:
        return int(self.grid.shape[1])

    def empty(self) -> bool:
        return self.h == 0 or self.w == 0

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, Image)
            and (self.x, self.y) == (other.x, other.y)
            and self.grid.shape == other.grid.shape
            and bool((self.grid == other.grid).all())
        )

    def __repr__(self) -> str:
        return f"Image(x={self.x}, y={self.y}, grid={self.grid.tolist()})"


def blank(w: int, h: int, colour: int = 0, x: int = 0, y: int = 0) -> Image:
    """A w x h image of one colour at (x, y)."""
    return Image(np.full((h, w), colour, dtype=np.uint8), x, y)


# ---------------------------------------------------------------- measures and shared helpers


def maj(im: Image) -> int:
    """The most frequent non-zero colour; ties go to the smaller colour; 0 if every cell is 0."""
    counts = np.bincount(im.grid.ravel(), minlength=10)
    best = 0
    for c in range(1, 10):
        if counts[c] > 0 and (best == 0 or counts[c] > counts[best]):
            best = c
    return best


def colours(im: Image) -> set[int]:
    """The non-zero colours present."""
    return {int(c) for c in np.unique(im.grid) if c != 0}


NEIGHBOURS_4 = [(-1, 0), (0, -1), (0, 1), (1, 0)]
NEIGHBOURS_8 = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]


def components(g: np.ndarray, member: np.ndarray, connectivity: int, same_colour: bool) -> list[np.ndarray]:
    """Connected components of the cells where `member` is true, as boolean masks.

    Two member cells join when they are neighbours (4 or 8) and, with same_colour, have the same
    colour in g. Components come in the row-major order of their first cell.
    """
    h, w = g.shape
    steps = NEIGHBOURS_4 if connectivity == 4 else NEIGHBOURS_8
    seen = np.zeros((h, w), dtype=bool)
    found = []
    for r in range(h):
        for c in range(w):
            if not member[r, c] or seen[r, c]:
                continue
            mask = np.zeros((h, w), dtype=bool)
            todo = [(r, c)]
            seen[r, c] = True
            while todo:
                rr, cc = todo.pop()
                mask[rr, cc] = True
                for dr, dc in steps:
                    nr, nc = rr + dr, cc + dc
                    if 0 <= nr < h and 0 <= nc < w and member[nr, nc] and not seen[nr, nc]:
                        if same_colour and g[nr, nc] != g[rr, cc]:
                            continue
                        seen[nr, nc] = True
                        todo.append((nr, nc))
            found.append(mask)
    return found


def count_objects(im: Image) -> int:
    """The number of 8-connected components of non-zero cells (any colours)."""
    return len(components(im.grid, im.grid != 0, 8, False))


def outside_zeros(g: np.ndarray) -> np.ndarray:
    """The zero cells 4-connected to the image's edge through zero cells."""
    h, w = g.shape
    zero = g == 0
    edge = np.zeros((h, w), dtype=bool)
    edge[0, :] = edge[-1, :] = edge[:, 0] = edge[:, -1] = True
    outside = np.zeros((h, w), dtype=bool)
    for mask in components(g, zero, 4, False):
        if (mask & edge).any():
            outside |= mask
    return outside


def enclosed_zeros(g: np.ndarray) -> np.ndarray:
    """The zero cells that are not outside: the holes."""
    return (g == 0) & ~outside_zeros(g)


def touches_outside(g: np.ndarray) -> np.ndarray:
    """Cells with one of their 8 neighbours off the image or an outside zero cell."""
    h, w = g.shape
    ring = np.ones((h + 2, w + 2), dtype=bool)  # off the image counts as outside
    ring[1:-1, 1:-1] = outside_zeros(g)
    touch = np.zeros((h, w), dtype=bool)
    for dr, dc in NEIGHBOURS_8:
        touch |= ring[1 + dr : 1 + dr + h, 1 + dc : 1 + dc + w]
    return touch


def piece(g: np.ndarray, mask: np.ndarray, x: int, y: int) -> Image:
    """The cells of g under mask (others 0), cropped to the mask's bounding box, positioned."""
    rows, cols = np.nonzero(mask)
    r0, r1, c0, c1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    return Image(np.where(mask, g, 0)[r0:r1, c0:c1], x + c0, y + r0)


def reading_order(pieces: list[Image]) -> list[Image]:
    """Stable sort by (y, x, maj): pieces arrive in the row-major order of their first cell."""
    return sorted(pieces, key=lambda p: (p.y, p.x, maj(p)))


# ---------------------------------------------------------------- unary: colours and crops


def filter_colour(c: int) -> Callable[[Image], Image | None]:
    def f(im: Image) -> Image | None:
        """Keep colour c, every other cell 0; fails if c is absent."""
        g = im.grid
        if not (g == c).any():
            return None
        return Image(np.where(g == c, c, 0), im.x, im.y)

    return f


def erase_colour(c: int) -> Callable[[Image], Image | None]:
    def f(im: Image) -> Image | None:
        """Colour c becomes 0; fails if c is absent."""
        g = im.grid
        if not (g == c).any():
            return None
        return Image(np.where(g == c, 0, g), im.x, im.y)

    return f


def crop(im: Image) -> Image | None:
    """Crop to the bounding box of the non-zero cells, the position moved with it; fails if all 0."""
    if not im.grid.any():
        return None
    return piece(im.grid, im.grid != 0, im.x, im.y)


def to_origin(im: Image) -> Image:
    """The same cells at position (0, 0)."""
    return Image(im.grid.copy(), 0, 0)


def recolour(im: Image, c: int) -> Image:
    """Every non-zero cell becomes c (not in the vocabulary: a helper of the search's adapters)."""
    return Image(np.where(im.grid != 0, c, 0), im.x, im.y)


# ---------------------------------------------------------------- unary: shapes, holes, borders


def fill_holes(im: Image) -> Image:
    """Every cell that is not an outside zero (non-zero cells and enclosed holes) becomes maj."""
    return Image(np.where(outside_zeros(im.grid), 0, maj(im)), im.x, im.y)


def holes(im: Image) -> Image | None:
    """Only the enclosed zero cells (not 4-connected to the edge through zeros), painted maj; fails if none."""
    inside = enclosed_zeros(im.grid)
    if not inside.any():
        return None
    return Image(np.where(inside, maj(im), 0), im.x, im.y)


def border_cells(im: Image) -> Image | None:
    """The non-zero cells with an 8-neighbour off the image or an outside zero, others 0; fails if none."""
    g = im.grid
    keep = (g != 0) & touches_outside(g)
    if not keep.any():
        return None
    return Image(np.where(keep, g, 0), im.x, im.y)


def inner_cells(im: Image) -> Image | None:
    """The non-zero cells that are not border cells (see border_cells), others 0; fails if none."""
    g = im.grid
    keep = (g != 0) & ~touches_outside(g)
    if not keep.any():
        return None
    return Image(np.where(keep, g, 0), im.x, im.y)


def outline(im: Image) -> Image | None:
    """Same frame: zero cells 8-adjacent to a non-zero cell become 1, every other cell 0; fails if none."""
    g = im.grid
    h, w = g.shape
    ring = np.zeros((h + 2, w + 2), dtype=bool)
    ring[1:-1, 1:-1] = g != 0
    near = np.zeros((h, w), dtype=bool)
    for dr, dc in NEIGHBOURS_8:
        near |= ring[1 + dr : 1 + dr + h, 1 + dc : 1 + dc + w]
    mark = (g == 0) & near
    if not mark.any():
        return None
    return Image(mark.astype(np.uint8), im.x, im.y)


# ---------------------------------------------------------------- unary: rigid motions (position kept)


def rot90(im: Image) -> Image:
    """A quarter turn anticlockwise (numpy's rot90)."""
    return Image(np.rot90(im.grid, 1), im.x, im.y)


def rot180(im: Image) -> Image:
    """A half turn."""
    return Image(np.rot90(im.grid, 2), im.x, im.y)


def rot270(im: Image) -> Image:
    """A quarter turn clockwise."""
    return Image(np.rot90(im.grid, -1), im.x, im.y)


def flip_x(im: Image) -> Image:
    """Mirror the columns (left <-> right)."""
    return Image(im.grid[:, ::-1], im.x, im.y)


def flip_y(im: Image) -> Image:
    """Mirror the rows (top <-> bottom)."""
    return Image(im.grid[::-1, :], im.x, im.y)


def transpose(im: Image) -> Image:
    """Mirror in the main diagonal: cell (r, c) goes to (c, r)."""
    return Image(im.grid.T, im.x, im.y)


def antitranspose(im: Image) -> Image:
    """Mirror in the anti-diagonal: cell (r, c) goes to (w-1-c, h-1-r)."""
    return Image(im.grid[::-1, ::-1].T, im.x, im.y)


# ---------------------------------------------------------------- unary: colour, counts, boxes


def invert(im: Image) -> Image:
    """Figure and ground swapped: every 0 cell becomes the smallest colour present (1 if none), every other cell 0; position kept."""
    present = sorted(colours(im))
    k = present[0] if present else 1
    return Image(np.where(im.grid == 0, k, 0), im.x, im.y)


def flip_off_centre(im: Image) -> Image:
    """Mirror across the axis the non-zero cells lie further off: flip_y (rows) when their mass is further from
    the middle row than from the middle column, else flip_x; position kept."""
    rows, cols = np.nonzero(im.grid)
    n = len(rows)
    off_columns = abs(2 * int(cols.sum()) - (im.w - 1) * n)
    off_rows = abs(2 * int(rows.sum()) - (im.h - 1) * n)
    return flip_y(im) if off_columns < off_rows else flip_x(im)


def majority_colour(im: Image) -> Image | None:
    """A 1x1 image of maj at the origin; fails if every cell is 0."""
    m = maj(im)
    if m == 0:
        return None
    return blank(1, 1, m)


COUNTS = {
    "cells": lambda im: int(np.count_nonzero(im.grid)),
    "colours": lambda im: len(colours(im)),
    "objects": count_objects,
}


def count(what: str, shape: str) -> Callable[[Image], Image | None]:
    def f(im: Image) -> Image | None:
        """N (non-zero cells / distinct non-zero colours / 8-connected non-zero components) drawn
        with maj at the origin as an N x N square, a 1 x N row or an N x 1 column; fails if N is 0 or over 30."""
        n = COUNTS[what](im)
        if n == 0 or n > MAX_COUNT:
            return None
        w, h = {"square": (n, n), "row": (n, 1), "column": (1, n)}[shape]
        return blank(w, h, maj(im))

    return f


def bounding_box_filled(im: Image) -> Image:
    """The image's frame (w x h at its position) filled with maj."""
    return blank(im.w, im.h, maj(im), im.x, im.y)


def bounding_box_empty(im: Image) -> Image:
    """The image's frame (w x h at its position) filled with 0."""
    return blank(im.w, im.h, 0, im.x, im.y)


def size_filled(im: Image) -> Image:
    """A w x h image of maj at the origin."""
    return blank(im.w, im.h, maj(im))


def size_empty(im: Image) -> Image:
    """A w x h image of 0 at the origin."""
    return blank(im.w, im.h, 0)


def position_cell(im: Image) -> Image:
    """A 1x1 image of maj at the image's position."""
    return blank(1, 1, maj(im), im.x, im.y)


def centre(im: Image) -> Image:
    """The centre cells in colour 1: 1 or 2 wide (odd or even w), 1 or 2 high, at (x + (w-1)//2, y + (h-1)//2)."""
    return blank(2 - im.w % 2, 2 - im.h % 2, 1, im.x + (im.w - 1) // 2, im.y + (im.h - 1) // 2)


# ---------------------------------------------------------------- unary: smear

# The direction a colour travels, as (row step, column step), in the order that breaks ties.
DIRECTIONS = {"R": (0, 1), "L": (0, -1), "D": (1, 0), "U": (-1, 0), "DR": (1, 1), "DL": (1, -1), "UR": (-1, 1), "UL": (-1, -1)}

SMEARS = {
    "R": ["R"],
    "L": ["L"],
    "D": ["D"],
    "U": ["U"],
    "LR": ["R", "L"],
    "UD": ["D", "U"],
    "LRUD": ["R", "L", "D", "U"],
    "DR": ["DR"],
    "DL": ["DL"],
    "UR": ["UR"],
    "UL": ["UL"],
    "UL+DR": ["DR", "UL"],
    "UR+DL": ["DL", "UR"],
    "diagonals": ["DR", "DL", "UR", "UL"],
    "all": ["R", "L", "D", "U", "DR", "DL", "UR", "UL"],
}


def smear(name: str) -> Callable[[Image], Image]:
    steps = [DIRECTIONS[d] for d in SMEARS[name]]

    def f(im: Image) -> Image:
        """Each non-zero cell extends its colour along each direction of the set over zero cells,
        until the next non-zero cell or the edge (decided on the original image). A zero cell that
        several rays reach takes the nearest source (steps along the ray); ties go to the earlier
        direction in the order R, L, D, U, DR, DL, UR, UL."""
        g = im.grid
        h, w = g.shape
        out = g.copy()
        for r in range(h):
            for c in range(w):
                if g[r, c] != 0:
                    continue
                best = None  # (distance, colour)
                for dr, dc in steps:
                    rr, cc, k = r - dr, c - dc, 1  # walk back against the direction of travel
                    while 0 <= rr < h and 0 <= cc < w and g[rr, cc] == 0:
                        rr, cc, k = rr - dr, cc - dc, k + 1
                    if 0 <= rr < h and 0 <= cc < w and (best is None or k < best[0]):
                        best = (k, g[rr, cc])
                if best is not None:
                    out[r, c] = best[1]
        return Image(out, im.x, im.y)

    return f


# ---------------------------------------------------------------- unary: frames and lines


def pad(fill: str) -> Callable[[Image], Image]:
    def f(im: Image) -> Image:
        """Grow by one cell on every side, filled with colour 1 (pad(1)) or maj (pad(maj)); position moves by -1."""
        colour = 1 if fill == "1" else maj(im)
        out = np.full((im.h + 2, im.w + 2), colour, dtype=np.uint8)
        out[1:-1, 1:-1] = im.grid
        return Image(out, im.x - 1, im.y - 1)

    return f


def remove_empty_lines(im: Image) -> Image | None:
    """Delete the all-zero rows and columns; the position moves to the first kept row and column; fails if all 0."""
    g = im.grid
    rows, cols = g.any(axis=1), g.any(axis=0)
    if not rows.any():
        return None
    return Image(g[rows][:, cols], im.x + int(np.argmax(cols)), im.y + int(np.argmax(rows)))


def dedupe_lines(im: Image) -> Image:
    """Collapse each run of identical consecutive rows to one row, then the same for columns; position kept."""
    g = im.grid
    g = g[[r == 0 or not (g[r] == g[r - 1]).all() for r in range(g.shape[0])]]
    g = g[:, [c == 0 or not (g[:, c] == g[:, c - 1]).all() for c in range(g.shape[1])]]
    return Image(g, im.x, im.y)


def _segments_h(g: np.ndarray) -> np.ndarray:
    """Per row, the zero cells between two consecutive non-zero cells of the same colour, painted that colour."""
    marks = np.zeros_like(g)
    for r in range(g.shape[0]):
        cols = np.nonzero(g[r])[0]
        for a, b in zip(cols[:-1], cols[1:]):
            if g[r, a] == g[r, b]:
                marks[r, a + 1 : b] = g[r, a]
    return marks


def connect(axes: str) -> Callable[[Image], Image]:
    def f(im: Image) -> Image:
        """The original plus, along each row (h) and/or column (v), the zero cells between two
        consecutive non-zero cells of the same colour painted that colour. With hv both are taken
        from the original; where they cross, the horizontal segment wins."""
        g = im.grid
        out = g.copy()
        if "h" in axes:
            marks = _segments_h(g)
            out = np.where(marks != 0, marks, out)
        if "v" in axes:
            marks = _segments_h(g.T).T
            out = np.where((marks != 0) & (out == 0), marks, out)
        return Image(out, im.x, im.y)

    return f


def spread(but_maj: bool) -> Callable[[Image], Image]:
    def f(im: Image) -> Image:
        """Each zero cell takes the colour of the nearest source cell by 4-connected steps through
        zero cells (a Voronoi fill); ties go to the smaller colour; unreachable zeros stay 0.
        Sources are the non-zero cells; for spread_colours_but_maj, those not of colour maj (maj
        cells are kept and block)."""
        g = im.grid
        h, w = g.shape
        m = maj(im)
        out = g.copy()
        frontier = [(r, c) for r in range(h) for c in range(w) if g[r, c] != 0 and not (but_maj and g[r, c] == m)]
        reached = g != 0
        while frontier:
            layer: dict[tuple[int, int], int] = {}
            for r, c in frontier:
                for dr, dc in NEIGHBOURS_4:
                    nr, nc = r + dr, c + dc
                    if 0 <= nr < h and 0 <= nc < w and not reached[nr, nc]:
                        layer[(nr, nc)] = min(layer.get((nr, nc), 10), int(out[r, c]))
            for (r, c), colour in layer.items():
                reached[r, c] = True
                out[r, c] = colour
            frontier = list(layer)
        return Image(out, im.x, im.y)

    return f


def half(side: str) -> Callable[[Image], Image | None]:
    def f(im: Image) -> Image | None:
        """The left/right/top/bottom floor(w/2) columns or floor(h/2) rows, keeping their position; fails on a side of 1."""
        g = im.grid
        h, w = g.shape
        k = (w if side in ("left", "right") else h) // 2
        if k == 0:
            return None
        if side == "left":
            return Image(g[:, :k], im.x, im.y)
        if side == "right":
            return Image(g[:, w - k :], im.x + w - k, im.y)
        if side == "top":
            return Image(g[:k], im.x, im.y)
        return Image(g[h - k :], im.x, im.y + h - k)

    return f


# ---------------------------------------------------------------- canvas (results at the origin, the canvas's size)


def embed(im: Image, canvas: Image) -> Image:
    """A blank canvas-sized image at the origin with the sprite's cells pasted at their positions; cells off the canvas are dropped."""
    out = np.zeros((canvas.h, canvas.w), dtype=np.uint8)
    for r in range(im.h):
        for c in range(im.w):
            rr, cc = im.y + r, im.x + c
            if 0 <= rr < canvas.h and 0 <= cc < canvas.w:
                out[rr, cc] = im.grid[r, c]
    return Image(out)


def wrap(im: Image, canvas: Image) -> Image | None:
    """The image's cells in row-major order, written row-major into the canvas (the rest 0); fails if they do not fit."""
    n = im.h * im.w
    if n > canvas.h * canvas.w:
        return None
    flat = np.zeros(canvas.h * canvas.w, dtype=np.uint8)
    flat[:n] = im.grid.ravel()
    return Image(flat.reshape(canvas.h, canvas.w))


def _axis_blocks(n: int, size: int) -> list[range] | None:
    """For each of `size` output indices, the source indices along one axis of length n: one cell
    (upscaling, size a multiple of n) or a block of n/size cells (downscaling); None otherwise."""
    if size % n == 0:
        f = size // n
        return [range(i // f, i // f + 1) for i in range(size)]
    if n % size == 0:
        f = n // size
        return [range(i * f, (i + 1) * f) for i in range(size)]
    return None


def scale_to(im: Image, canvas: Image) -> Image | None:
    """Rescale to the canvas's size, each axis independently: an integer upscale (each cell a block) or an
    integer downscale whose blocks must each be one colour; fails otherwise."""
    rows, cols = _axis_blocks(im.h, canvas.h), _axis_blocks(im.w, canvas.w)
    if rows is None or cols is None:
        return None
    out = np.zeros((canvas.h, canvas.w), dtype=np.uint8)
    for i, rr in enumerate(rows):
        for j, cc in enumerate(cols):
            block = im.grid[rr.start : rr.stop, cc.start : cc.stop]
            if (block != block[0, 0]).any():
                return None
            out[i, j] = block[0, 0]
    return Image(out)


def resample(im: Image, canvas: Image) -> Image:
    """Rescale to the canvas's size by area: where the image's sides are multiples of the canvas's, each
    block gives its most frequent non-zero colour (0 if it has none); otherwise each canvas cell takes the
    colour, 0 included, that covers most of the image rectangle under it. Ties go to the smaller colour."""
    H, W = canvas.h, canvas.w
    out = np.zeros((H, W), dtype=np.uint8)
    if im.h % H == 0 and im.w % W == 0:
        bh, bw = im.h // H, im.w // W
        for i in range(H):
            for j in range(W):
                counts = np.bincount(im.grid[i * bh:(i + 1) * bh, j * bw:(j + 1) * bw].ravel(), minlength=10)
                counts[0] = 0
                out[i, j] = int(counts.argmax()) if counts.any() else 0
        return Image(out)

    def overlaps(n: int, size: int, i: int) -> list[tuple[int, int]]:
        # cell i of `size` covers [i*n, (i+1)*n) in units where source cell r is [r*size, (r+1)*size)
        lo, hi = i * n, (i + 1) * n
        return [(r, min(hi, (r + 1) * size) - max(lo, r * size)) for r in range(lo // size, -(-hi // size))]

    for i in range(H):
        for j in range(W):
            area = np.zeros(10, dtype=np.int64)
            for r, a in overlaps(im.h, H, i):
                for c, b in overlaps(im.w, W, j):
                    area[im.grid[r, c]] += a * b
            out[i, j] = int(area.argmax())
    return Image(out)


def tiling(gap: int, mirror: bool, anchored: bool = False) -> Callable[[Image, Image], Image]:
    def f(im: Image, canvas: Image) -> Image:
        """Copies of the image repeated over the canvas, `gap` zero cells apart, cut at the canvas's
        edges, from the canvas's top-left corner (anchored: in phase with the image's position, so a
        motif cropped out of a grid tiles it where it came from); with mirror, copies in odd columns
        of copies are flipped left-right and in odd rows of copies top-bottom."""
        out = np.zeros((canvas.h, canvas.w), dtype=np.uint8)
        dy, dx = (im.y, im.x) if anchored else (0, 0)
        for R in range(canvas.h):
            for C in range(canvas.w):
                j, r = divmod(R - dy, im.h + gap)
                i, c = divmod(C - dx, im.w + gap)
                if r >= im.h or c >= im.w:
                    continue  # a gap cell
                if mirror and i % 2:
                    c = im.w - 1 - c
                if mirror and j % 2:
                    r = im.h - 1 - r
                out[R, C] = im.grid[r, c]
        return Image(out)

    return f


# ---------------------------------------------------------------- split (image -> list)


def cut(im: Image) -> list[Image] | None:
    """Cut along a separator colour. A candidate colour c has cells in both the top and bottom rows
    or in both the leftmost and rightmost columns, and removing its cells leaves at least 2
    4-connected regions (of all the other cells, zeros included). The candidate whose smallest
    region has the most cells wins (ties: the smaller colour). Each region becomes a piece: its
    cells (others 0) cropped to its bounding box, positioned; fails if no colour qualifies."""
    g = im.grid
    best = None  # (smallest region, regions)
    for c in range(1, 10):
        sep = g == c
        if not ((sep[0].any() and sep[-1].any()) or (sep[:, 0].any() and sep[:, -1].any())):
            continue
        regions = components(g, ~sep, 4, False)
        if len(regions) < 2:
            continue
        smallest = min(int(m.sum()) for m in regions)
        if best is None or smallest > best[0]:
            best = (smallest, regions)
    if best is None:
        return None
    return reading_order([piece(g, m, im.x, im.y) for m in best[1]])


def split_colours(im: Image) -> list[Image] | None:
    """One image per non-zero colour (that colour kept, others 0), in the image's frame, by colour; fails if all 0."""
    found = [Image(np.where(im.grid == c, c, 0), im.x, im.y) for c in sorted(colours(im))]
    return found or None


def objects(im: Image) -> list[Image] | None:
    """The 4-connected single-colour components of non-zero cells, each cropped and positioned; fails if none."""
    g = im.grid
    found = [piece(g, m, im.x, im.y) for m in components(g, g != 0, 4, True)]
    return reading_order(found) or None


def objects_multicolour(im: Image) -> list[Image] | None:
    """The 8-connected components of non-zero cells of any colours, each cropped and positioned; fails if none."""
    g = im.grid
    found = [piece(g, m, im.x, im.y) for m in components(g, g != 0, 8, False)]
    return reading_order(found) or None


def gravity(dx: int, dy: int) -> Callable[[Image], list[Image] | None]:
    def f(im: Image) -> list[Image] | None:
        """The objects (as `objects`) slid one after another towards a side of the image, the one reaching
        nearest that side first, each until it would leave the image or touch a cell already settled; in
        the objects' order. Fails if there are none."""
        found = objects(im)
        if not found:
            return None
        lead = {(1, 0): lambda o: o.x + o.w, (-1, 0): lambda o: -o.x,
                (0, 1): lambda o: o.y + o.h, (0, -1): lambda o: -o.y}[(dx, dy)]
        taken = np.zeros((im.h, im.w), dtype=bool)

        def fits(o: Image, x: int, y: int) -> bool:
            rows, cols = np.nonzero(o.grid)
            rows, cols = rows + y - im.y, cols + x - im.x
            inside = (rows >= 0) & (cols >= 0) & (rows < im.h) & (cols < im.w)
            return bool(inside.all()) and not taken[rows, cols].any()

        moved = list(found)
        for i in sorted(range(len(found)), key=lambda i: -lead(found[i])):  # stable: ties in the objects' order
            o = found[i]
            x, y = o.x, o.y
            while fits(o, x + dx, y + dy):
                x, y = x + dx, y + dy
            moved[i] = Image(o.grid, x, y)
            rows, cols = np.nonzero(o.grid)
            taken[rows + y - im.y, cols + x - im.x] = True
        return moved

    return f


def columns(im: Image) -> list[Image]:
    """Every column as a 1-wide image at its position, left to right."""
    return [Image(im.grid[:, c : c + 1], im.x + c, im.y) for c in range(im.w)]


def rows(im: Image) -> list[Image]:
    """Every row as a 1-high image at its position, top to bottom."""
    return [Image(im.grid[r : r + 1, :], im.x, im.y + r) for r in range(im.h)]


# ---------------------------------------------------------------- join (list -> image) and filter (list -> list)

CRITERIA: dict[str, Callable[[Image], int]] = {
    "cells": lambda im: int(np.count_nonzero(im.grid)),
    "area": lambda im: im.w * im.h,
    "colours": lambda im: len(colours(im)),
    "y": lambda im: im.y,
    "x": lambda im: im.x,
    "zeros": lambda im: int(np.count_nonzero(im.grid == 0)),
    "objects": count_objects,
    "holes": lambda im: int(enclosed_zeros(im.grid).sum()),
}


def pick(crit: str, largest: bool) -> Callable[[list[Image]], Image]:
    def f(items: list[Image]) -> Image:
        """The element with the largest (pick_max) or smallest (pick_min) criterion; ties: the first.
        Criteria: cells (non-zero), area (w*h), colours (distinct non-zero), y, x (position),
        zeros (zero cells), objects (8-connected non-zero components), holes (enclosed zero cells)."""
        values = [CRITERIA[crit](e) for e in items]
        target = max(values) if largest else min(values)
        return items[values.index(target)]

    return f


def keep(crit: str, largest: bool, drop: bool) -> Callable[[list[Image]], list[Image] | None]:
    def f(items: list[Image]) -> list[Image] | None:
        """keep_*: the elements tied at the largest (max) or smallest (min) criterion; drop_*: all the
        others; in list order; fails if none is left."""
        values = [CRITERIA[crit](e) for e in items]
        target = max(values) if largest else min(values)
        kept = [e for e, v in zip(items, values) if (v == target) != drop]
        return kept or None

    return f


def pick_unique(items: list[Image]) -> Image | None:
    """The only element that has a colour no other element has; fails unless exactly one does."""
    sets = [colours(e) for e in items]
    unique = [i for i, s in enumerate(sets) if s - set().union(*(t for j, t in enumerate(sets) if j != i))]
    return items[unique[0]] if len(unique) == 1 else None


def compose(items: list[Image]) -> Image | None:
    """Overlay on the union of the boxes, 0 transparent: elements drawn by non-zero cells,
    most first (ties in list order), so sparse ones end on top; fails beyond MAX_SIDE."""
    if not items:
        return None
    x0, y0 = min(e.x for e in items), min(e.y for e in items)
    x1, y1 = max(e.x + e.w for e in items), max(e.y + e.h for e in items)
    if x1 - x0 > MAX_SIDE or y1 - y0 > MAX_SIDE:
        return None
    out = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    for e in sorted(items, key=lambda e: -int(np.count_nonzero(e.grid))):
        view = out[e.y - y0 : e.y - y0 + e.h, e.x - x0 : e.x - x0 + e.w]
        view[e.grid != 0] = e.grid[e.grid != 0]
    return Image(out, x0, y0)


def _concat(items: list[Image], horizontal: bool) -> Image | None:
    """Side by side (equal heights) or one above the other (equal widths), at the origin; fails otherwise."""
    if horizontal:
        if len({e.h for e in items}) != 1:
            return None
        return Image(np.concatenate([e.grid for e in items], axis=1))
    if len({e.w for e in items}) != 1:
        return None
    return Image(np.concatenate([e.grid for e in items], axis=0))


def stack_line(items: list[Image]) -> Image | None:
    """Concatenate along the axis the positions spread over more (x when max-min of x >= that of y,
    equal heights required), in position order (stable), at the origin."""
    spread_x = max(e.x for e in items) - min(e.x for e in items)
    spread_y = max(e.y for e in items) - min(e.y for e in items)
    if spread_x >= spread_y:
        return _concat(sorted(items, key=lambda e: e.x), True)
    return _concat(sorted(items, key=lambda e: e.y), False)


def stack(horizontal: bool) -> Callable[[list[Image]], Image | None]:
    def f(items: list[Image]) -> Image | None:
        """Sorted by area (smallest first, stable), concatenated left to right (stack_h, equal
        heights) or top to bottom (stack_v, equal widths), at the origin; fails otherwise."""
        return _concat(sorted(items, key=lambda e: e.w * e.h), horizontal)

    return f


# ---------------------------------------------------------------- the vocabulary, in the C++'s order


def _too_big(im: Image) -> bool:
    return im.h > MAX_SIDE or im.w > MAX_SIDE


def _bad_image(im) -> bool:
    return im is None or im.empty() or _too_big(im)


def _check_image(out):
    return None if out is None or _bad_image(out) else out


def _check_list(out):
    if not out or any(_bad_image(e) for e in out):
        return None
    return out


def _entry(kind: str, fn: Callable) -> tuple[str, Callable]:
    """Wrap fn with the shared conventions: bad inputs fail, results over MAX_SIDE fail."""
    if kind == "unary":
        wrapped = lambda im: None if _bad_image(im) else _check_image(fn(im))  # noqa: E731
    elif kind == "canvas":
        wrapped = lambda im, canvas: (  # noqa: E731
            None if _bad_image(im) or _bad_image(canvas) else _check_image(fn(im, canvas))
        )
    elif kind == "split":
        wrapped = lambda im: None if _bad_image(im) else _check_list(fn(im))  # noqa: E731
    else:
        check = _check_image if kind == "join" else _check_list

        def wrapped(items):
            if not items or any(_bad_image(e) for e in items):
                return None
            return check(fn(items))

    wrapped.__doc__ = fn.__doc__
    return kind, wrapped


def _vocabulary() -> dict[str, tuple[str, Callable]]:
    v: dict[str, tuple[str, Callable]] = {}

    def add(name, kind, fn):
        v[name] = _entry(kind, fn)

    for c in range(1, 10):
        add(f"filter_colour({c})", "unary", filter_colour(c))
    for c in range(1, 10):
        add(f"erase_colour({c})", "unary", erase_colour(c))
    for name, fn in [
        ("crop", crop),
        ("to_origin", to_origin),
        ("fill_holes", fill_holes),
        ("holes", holes),
        ("border_cells", border_cells),
        ("inner_cells", inner_cells),
        ("rot90", rot90),
        ("rot180", rot180),
        ("rot270", rot270),
        ("flip_x", flip_x),
        ("flip_y", flip_y),
        ("transpose", transpose),
        ("antitranspose", antitranspose),
        ("majority_colour", majority_colour),
        ("invert", invert),
        ("flip_off_centre", flip_off_centre),
    ]:
        add(name, "unary", fn)
    for what in ("cells", "colours", "objects"):
        for shape in ("square", "row", "column"):
            add(f"count_{what}_{shape}", "unary", count(what, shape))
    for name in SMEARS:
        add(f"smear({name})", "unary", smear(name))
    add("outline", "unary", outline)
    add("pad(1)", "unary", pad("1"))
    add("pad(maj)", "unary", pad("maj"))
    add("remove_empty_lines", "unary", remove_empty_lines)
    add("dedupe_lines", "unary", dedupe_lines)
    add("connect_h", "unary", connect("h"))
    add("connect_v", "unary", connect("v"))
    add("connect_hv", "unary", connect("hv"))
    add("spread_colours", "unary", spread(False))
    add("spread_colours_but_maj", "unary", spread(True))
    for side in ("left", "right", "top", "bottom"):
        add(f"{side}_half", "unary", half(side))
    for name, fn in [
        ("bounding_box_filled", bounding_box_filled),
        ("bounding_box_empty", bounding_box_empty),
        ("size_filled", size_filled),
        ("size_empty", size_empty),
        ("position_cell", position_cell),
        ("centre", centre),
    ]:
        add(name, "unary", fn)
    for name, fn in [
        ("embed", embed),
        ("wrap", wrap),
        ("scale_to", scale_to),
        ("tile", tiling(0, False)),
        ("tile_gap", tiling(1, False)),
        ("mirror_tile", tiling(0, True)),
        ("mirror_tile_gap", tiling(1, True)),
        ("resample", resample),
        ("tile_anchored", tiling(0, False, True)),
        ("tile_gap_anchored", tiling(1, False, True)),
        ("mirror_tile_anchored", tiling(0, True, True)),
    ]:
        for size in ("input_size", "output_size"):
            add(f"{name}({size})", "canvas", fn)
    for name, fn in [
        ("cut", cut),
        ("split_colours", split_colours),
        ("objects", objects),
        ("objects_multicolour", objects_multicolour),
        ("gravity(R)", gravity(1, 0)),
        ("gravity(L)", gravity(-1, 0)),
        ("gravity(D)", gravity(0, 1)),
        ("gravity(U)", gravity(0, -1)),
        ("columns", columns),
        ("rows", rows),
    ]:
        add(name, "split", fn)
    for crit in CRITERIA:
        add(f"pick_max({crit})", "join", pick(crit, True))
        add(f"pick_min({crit})", "join", pick(crit, False))
    add("pick_unique", "join", pick_unique)
    add("compose", "join", compose)
    add("stack_line", "join", stack_line)
    add("stack_h", "join", stack(True))
    add("stack_v", "join", stack(False))
    for crit in CRITERIA:
        add(f"keep_max({crit})", "filter", keep(crit, True, False))
        add(f"drop_max({crit})", "filter", keep(crit, True, True))
        add(f"keep_min({crit})", "filter", keep(crit, False, False))
        add(f"drop_min({crit})", "filter", keep(crit, False, True))
    return v


VOCABULARY: dict[str, tuple[str, Callable]] = _vocabulary()
