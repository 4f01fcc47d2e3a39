"""Learners: the last step of a program, fitted to the train pairs instead of enumerated.

Each takes the grids a program has made from the train inputs and the train outputs, and
returns what it learned (`Fitted`) or None. What is learned must be seen in the pairs:
a colour map maps the colours the pairs show, and leaves any other as it is.
"""

from __future__ import annotations

import numpy as np

from arc24.programs.dsl import Fitted, Grid, Learner


def same(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """The grids already are the outputs."""
    if all(g.shape == o.shape and np.array_equal(g, o) for g, o in zip(grids, outputs)):
        return Fitted("x", lambda g: g)
    return None


def learn_colour_map(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """One colour for each colour, the same in every pair, that turns the grids into the outputs."""
    if any(g.shape != o.shape for g, o in zip(grids, outputs)):
        return None
    table = np.full(10, -1, dtype=np.int16)
    for g, o in zip(grids, outputs):
        pairs = np.unique(g.astype(np.int16) * 10 + o, return_counts=False)
        for a, b in zip(pairs // 10, pairs % 10):
            if table[a] not in (-1, b):
                return None
            table[a] = b
    changed = {int(a): int(b) for a, b in enumerate(table) if b not in (-1, a)}
    if not changed:
        return None  # that is `same`
    lookup = np.array([changed.get(c, c) for c in range(10)], dtype=np.int8)
    return Fitted(f"map_colours(x, {changed})", lambda g: lookup[g])


def learn_constant(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """Every train output is the same grid: answer it."""
    first = outputs[0]
    if len(outputs) < 2 or not all(o.shape == first.shape and np.array_equal(o, first) for o in outputs):
        return None
    rows = first.tolist()
    return Fitted(f"constant(x, {rows})", lambda g: first.copy())


# ---------------------------------------------------------------- block layouts

# The symmetries a block may show of the grid, simplest first; the last four only for square grids
_BLOCK_VIEWS = {
    "I": lambda g: g, "flip_h": lambda g: g[:, ::-1], "flip_v": lambda g: g[::-1, :], "rot180": lambda g: g[::-1, ::-1],
    "transpose": lambda g: g.T, "rot90": lambda g: np.rot90(g, 1), "rot270": lambda g: np.rot90(g, 3),
    "antitranspose": lambda g: np.rot90(g, 2).T,
}


def _block_choices(g: Grid, square: bool) -> list[tuple[str, Grid]]:
    views = list(_BLOCK_VIEWS.items()) if square else list(_BLOCK_VIEWS.items())[:4]
    return [(name, view(g)) for name, view in views]


def learn_blocks(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """The output is a layout of blocks the grid's size, each a symmetry of the grid or one colour, the same in every pair."""
    ratios = {(o.shape[0] / g.shape[0], o.shape[1] / g.shape[1]) for g, o in zip(grids, outputs)}
    if len(ratios) != 1:
        return None
    (ry, rx), = ratios
    if ry != int(ry) or rx != int(rx) or (ry, rx) == (1, 1):
        return None
    ny, nx = int(ry), int(rx)
    square = all(g.shape[0] == g.shape[1] for g in grids)
    views = [_block_choices(g, square) for g in grids]
    layout = []
    for by in range(ny):
        for bx in range(nx):
            found = None
            for k, (name, _) in enumerate(views[0]):
                if all(np.array_equal(_block(o, g.shape, by, bx), v[k][1]) for g, o, v in zip(grids, outputs, views)):
                    found = name
                    break
            if found is None:
                colours = {int(c) for g, o in zip(grids, outputs) for c in np.unique(_block(o, g.shape, by, bx))}
                if len(colours) != 1:
                    return None
                found = colours.pop()
            layout.append(found)
    if all(isinstance(b, int) for b in layout):
        return None  # that is a constant

    def apply(g: Grid) -> Grid:
        views = dict(_block_choices(g, square))
        h, w = g.shape
        out = np.zeros((ny * h, nx * w), dtype=np.int8)
        for k, b in enumerate(layout):
            by, bx = divmod(k, nx)
            out[by * h:(by + 1) * h, bx * w:(bx + 1) * w] = np.full((h, w), b) if isinstance(b, int) else views[b]
        return out

    rows = [layout[k:k + nx] for k in range(0, len(layout), nx)]
    return Fitted(f"blocks(x, {rows})", apply)


def _block(o: Grid, shape: tuple[int, int], by: int, bx: int) -> Grid:
    h, w = shape
    return o[by * h:(by + 1) * h, bx * w:(bx + 1) * w]


PRIMITIVES: list = []  # learners only
LEARNERS = [Learner("same", same, cost=0), Learner("map_colours", learn_colour_map), Learner("constant", learn_constant, cost=3),
            Learner("blocks", learn_blocks)]
