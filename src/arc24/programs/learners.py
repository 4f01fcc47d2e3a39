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


PRIMITIVES: list = []  # learners only
LEARNERS = [Learner("same", same, cost=0), Learner("map_colours", learn_colour_map), Learner("constant", learn_constant, cost=3)]
