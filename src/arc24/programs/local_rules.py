"""Local rules: each output cell's colour looked up from what surrounds the same cell of the input.

The learner `local_rule` (the last step of a program) reads every train pair cell by cell: a
*feature* of the input cell (its colour; its colour and its four or eight neighbours'; its
colour and how many neighbours have each colour; its colour and whether its row or column holds
colour X; its colour and the first colour met looking along each of the four directions) keys a
table of output colours. The feature sets are tried simplest first, each with colours as they are
and then by role (the pair's background, the pair's main foreground colour, so that one table
serves pairs of different colours); the first whose table no two train cells contradict wins.
Applied to a grid with a feature value the pairs never showed, the rule raises, and the search
drops that answer: a rule answers only what its train pairs have seen.
"""

from __future__ import annotations

import numpy as np

from arc24.programs.dsl import Fitted, Grid, Learner

BORDER = 12  # the code of a cell off the grid's edge
BG_ROLE, FG_ROLE = 10, 11  # the codes of the pair's background and main foreground colour
_NEIGHBOURS_4 = [(-1, 0), (1, 0), (0, -1), (0, 1)]
_NEIGHBOURS_8 = _NEIGHBOURS_4 + [(-1, -1), (-1, 1), (1, -1), (1, 1)]

# ---------------------------------------------------------------- colours by role


def roles(g: Grid) -> np.ndarray:
    """A colour -> code table: the grid's background and main foreground by role, the rest as they are."""
    counts = np.bincount(g.ravel(), minlength=10)
    table = np.arange(10, dtype=np.int64)
    order = np.argsort(-counts, kind="stable")
    table[order[0]] = BG_ROLE
    if counts[order[1]]:
        table[order[1]] = FG_ROLE
    return table


def absolute(g: Grid) -> np.ndarray:
    """The colour -> code table that keeps every colour."""
    return np.arange(10, dtype=np.int64)


def decode(table: np.ndarray) -> np.ndarray:
    """The code -> colour table inverse to TABLE (codes it does not make are -1)."""
    out = np.full(16, -1, dtype=np.int64)
    out[table] = np.arange(10)
    return out


# ---------------------------------------------------------------- features of each cell, coded 0-15


def neighbours(c: np.ndarray, offsets: list[tuple[int, int]]) -> list[np.ndarray]:
    """Each cell's neighbour at each offset (DY, DX), BORDER off the edge."""
    h, w = c.shape
    padded = np.full((h + 2, w + 2), BORDER, dtype=c.dtype)
    padded[1:-1, 1:-1] = c
    return [padded[1 + dy:1 + dy + h, 1 + dx:1 + dx + w] for dy, dx in offsets]


def own(c: np.ndarray) -> list[np.ndarray]:
    """The cell's colour."""
    return [c]


def own_and_4(c: np.ndarray) -> list[np.ndarray]:
    """The cell's colour and its four neighbours'."""
    return [c] + neighbours(c, _NEIGHBOURS_4)


def own_and_8(c: np.ndarray) -> list[np.ndarray]:
    """The cell's colour and its eight neighbours'."""
    return [c] + neighbours(c, _NEIGHBOURS_8)


def own_and_counts(c: np.ndarray) -> list[np.ndarray]:
    """The cell's colour and how many of its eight neighbours have each colour."""
    around = np.stack(neighbours(c, _NEIGHBOURS_8))
    return [c] + [(around == k).sum(0) for k in range(BORDER + 1)]


def own_and_lines(c: np.ndarray, x: int) -> list[np.ndarray]:
    """The cell's colour and whether its row, and its column, hold colour X."""
    hit = c == x
    return [c, np.broadcast_to(hit.any(1, keepdims=True), c.shape), np.broadcast_to(hit.any(0, keepdims=True), c.shape)]


def first_seen_left(c: np.ndarray, bg: int) -> np.ndarray:
    """The first colour other than BG met looking left from each cell (BORDER if none)."""
    h, w = c.shape
    before = np.full((h, w), -1, dtype=np.int64)
    before[:, 1:] = np.where(c[:, :-1] != bg, np.arange(w - 1), -1)
    last = np.maximum.accumulate(before, axis=1)
    return np.where(last >= 0, c[np.arange(h)[:, None], last], BORDER)


def first_seen(c: np.ndarray, bg: int) -> list[np.ndarray]:
    """The first colour other than BG met looking left, right, up and down from each cell (BORDER if none)."""
    return [first_seen_left(c, bg), first_seen_left(c[:, ::-1], bg)[:, ::-1],
            first_seen_left(c.T, bg).T, first_seen_left(c[::-1].T, bg).T[::-1]]


def own_and_rays(c: np.ndarray) -> list[np.ndarray]:
    """The cell's colour and the first colour met in each of the four directions."""
    bg = int(np.bincount(c.ravel(), minlength=16).argmax())
    return [c] + first_seen(c, bg)


def key(features: list[np.ndarray]) -> np.ndarray:
    """Each cell's features packed into one integer, four bits each."""
    out = np.zeros(features[0].shape, dtype=np.int64)
    for k, f in enumerate(features):
        out |= f.astype(np.int64) << (4 * k)
    return out


# ---------------------------------------------------------------- the learner


def _feature_sets(codes: list[np.ndarray]):
    """(name, features) from simplest to richest; the line features once per colour the grids hold."""
    yield "colour", own
    yield "neighbours4", own_and_4
    yield "neighbours8", own_and_8
    yield "neighbour_counts", own_and_counts
    bgs = {int(np.bincount(c.ravel()).argmax()) for c in codes}
    for x in np.unique(np.concatenate([c.ravel() for c in codes])).tolist():
        if x in bgs:
            continue
        yield f"lines_of_{x}", lambda c, x=x: own_and_lines(c, x)
    yield "rays", own_and_rays


def fit_table(keys: list[np.ndarray], outs: list[np.ndarray]) -> dict[int, int] | None:
    """The key -> output code table the cells show, or None if two cells with one key disagree."""
    k = np.concatenate([a.ravel() for a in keys])
    o = np.concatenate([a.ravel() for a in outs])
    pairs = np.unique(k * 16 + o)
    ks = pairs >> 4
    if (ks[1:] == ks[:-1]).any():
        return None
    return dict(zip(ks.tolist(), (pairs & 15).tolist()))


def learn_local_rule(grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    """Each output cell's colour as a function of the input cell's neighbourhood, simplest features first.

    The fit keeps the first few feature sets that no train cell contradicts; a grid is answered
    by the first of them that has seen every one of its cells' feature values.
    """
    if any(g.shape != o.shape for g, o in zip(grids, outputs)):
        return None
    if all(np.array_equal(g, o) for g, o in zip(grids, outputs)):
        return None
    rules = []
    for coding in (absolute, roles):
        tables = [coding(g) for g in grids]
        if coding is roles and all(np.array_equal(t, tables[0]) for t in tables):
            break  # every pair's roles are the same colours: the colours as they are said it all
        codes = [t[g] for t, g in zip(tables, grids)]
        outs = [t[o] for t, o in zip(tables, outputs)]
        rich = fit_table([key(own_and_8(c)) for c in codes], outs)
        for name, features in _feature_sets(codes):
            if rich is None and name in ("colour", "neighbours4", "neighbours8", "neighbour_counts"):
                continue  # each is a function of the eight neighbours, which the pairs contradict
            if fit_table([key(features(codes[0]))], outs[:1]) is None:
                continue  # the first pair alone contradicts it
            table = fit_table([key(features(c)) for c in codes], outs)
            if table is not None:
                rules.append(Rule(name, coding, features, table))
                if len(rules) == MAX_RULES:
                    break
        if len(rules) == MAX_RULES:
            break
    if not rules:
        return None
    names = [f"{r.name}/{r.coding.__name__}" for r in rules]
    return Fitted(f"local_rule(x, {names})", lambda g: _first_that_applies(rules, g))


MAX_RULES = 3  # feature sets kept per fit, tried in turn on each grid


class Rule:
    """A fitted table: feature key -> output code, under one colour coding."""

    def __init__(self, name: str, coding, features, table: dict[int, int]):
        self.name, self.coding, self.features = name, coding, features
        self.keys = np.array(sorted(table), dtype=np.int64)
        self.values = np.array([table[k] for k in self.keys.tolist()], dtype=np.int64)

    def apply(self, g: Grid) -> Grid | None:
        """The rule's output for G, or None if G shows a feature value or colour role it has not seen."""
        t = self.coding(g)
        k = key(self.features(t[g]))
        at = np.minimum(np.searchsorted(self.keys, k), len(self.keys) - 1)
        if (self.keys[at] != k).any():
            return None
        colours = decode(t)[self.values[at]]
        return None if (colours < 0).any() else colours.astype(np.int8)


def _first_that_applies(rules: list[Rule], g: Grid) -> Grid:
    for rule in rules:
        out = rule.apply(g)
        if out is not None:
            return out
    raise KeyError("a neighbourhood the train pairs never showed")


PRIMITIVES: list = []  # a learner only
LEARNERS = [Learner("local_rule", learn_local_rule, cost=2, on_every_state=False)]
