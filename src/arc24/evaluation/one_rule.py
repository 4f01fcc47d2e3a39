"""The one-rule benchmark suite: small ARC tasks of our own making, each following one simple rule.

It measures how often test-time fine-tuning of a small LLM solves a task whose rule is known to
be simple (a flip, a colour swap, gravity, a crop...). A miss here points at the fine-tuning or
the prompt format, not at the difficulty of the puzzle, which the public ARC sets cannot tell apart.

The suite is versioned by name. ``one-rule-v1`` is frozen: results are compared across runs and
months, so a change to any generated task (a rule, an input maker, a size limit, the seed, even
a different random draw) means a new suite name (``one-rule-v2``, with its own file), never an
edit of v1. ``suites/one-rule-v1.json`` holds the generated tasks and a test checks that this
module still makes exactly them.

Every task has 3-5 train pairs and one test pair; inputs are 3x3 to 8x8, outputs at most 16x16,
colour 0 is the background, and every output differs from its input. A rule is a function
``rule(grid, params) -> grid``; ``params`` holds what is fixed for the whole task (e.g. the two
swapped colours) and is drawn with the task (see ``make_rule_task``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import numpy as np

from arc24.data.task import Grid, Pair, Task

SUITE_NAME = "one-rule-v1"
MIN_SIDE, MAX_INPUT_SIDE, MAX_OUTPUT_SIDE = 3, 8, 16
FOREGROUND = tuple(range(1, 10))

Params = dict
Rule = Callable[[Grid, Params], Grid]
InputMaker = Callable[[np.random.Generator, Params], Grid]
ParamsMaker = Callable[[np.random.Generator], Params]

RULES: dict[str, Rule] = {}
_INPUTS: dict[str, InputMaker] = {}
_PARAMS: dict[str, ParamsMaker] = {}


def _no_params(rng: np.random.Generator) -> Params:
    return {}


def _rule(name: str, inputs: InputMaker, params: ParamsMaker = _no_params):
    """Register the decorated function as rule NAME, with how its inputs and its per-task parameters are drawn."""

    def register(fn: Rule) -> Rule:
        RULES[name], _INPUTS[name], _PARAMS[name] = fn, inputs, params
        return fn

    return register


# ---------------------------------------------------------------- drawing inputs


def _sides(rng: np.random.Generator, lo: int = MIN_SIDE, hi: int = MAX_INPUT_SIDE) -> tuple[int, int]:
    return int(rng.integers(lo, hi + 1)), int(rng.integers(lo, hi + 1))


def _colours(rng: np.random.Generator, n: int, exclude=()) -> list[int]:
    """N distinct foreground colours, none of EXCLUDE."""
    allowed = [c for c in FOREGROUND if c not in exclude]
    return [int(c) for c in rng.choice(allowed, size=n, replace=False)]


def _scatter(rng: np.random.Generator, shape, colours, density: float) -> Grid:
    """A background grid with about DENSITY of its cells painted in random COLOURS."""
    grid = np.zeros(shape, np.int8)
    painted = rng.random(shape) < density
    grid[painted] = rng.choice(colours, size=int(painted.sum()))
    return grid


def _varied(rng: np.random.Generator, lo: int = MIN_SIDE, hi: int = MAX_INPUT_SIDE, exclude=()) -> Grid:
    """The default input: a few colours scattered over a random size, dense enough to show the rule."""
    colours = _colours(rng, int(rng.integers(2, 5)), exclude)
    return _scatter(rng, _sides(rng, lo, hi), colours, float(rng.uniform(0.3, 0.6)))


def _varied_input(rng, p):
    return _varied(rng)


def _small_input(rng, p):
    # for rules that make the output twice as wide or as tall: keeps outputs <= 16 and prompts short
    return _varied(rng, hi=6)


def _input_without(key: str) -> InputMaker:
    """Varied inputs that never use the task's colour P[KEY], so the rule visibly introduces it."""
    return lambda rng, p: _varied(rng, exclude=(p[key],))


def _one_colour(rng: np.random.Generator, exclude=()) -> Params:
    return {"colour": _colours(rng, 1, exclude)[0]}


def _blob(rng: np.random.Generator, n_cells: int, max_side: int) -> np.ndarray:
    """A 4-connected shape of N_CELLS cells inside a MAX_SIDE square, as a mask cropped to its bounding box."""
    mask = np.zeros((max_side, max_side), bool)
    mask[max_side // 2, max_side // 2] = True
    steps = ((0, 1), (1, 0), (0, -1), (-1, 0))
    while mask.sum() < n_cells:
        cells = np.argwhere(mask)
        r, c = cells[rng.integers(len(cells))]
        dr, dc = steps[rng.integers(4)]
        if 0 <= r + dr < max_side and 0 <= c + dc < max_side:
            mask[r + dr, c + dc] = True
    rows, cols = np.nonzero(mask)
    return mask[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]


def _rectangles(rng: np.random.Generator, shape, n: int, min_side: int, max_side: int) -> list[tuple]:
    """Up to N rectangles (top, left, height, width) at random places, a clear cell apart so that
    each reads as its own object."""
    h, w = shape
    taken = np.zeros(shape, bool)
    boxes = []
    for _ in range(20 * n):
        if len(boxes) == n:
            break
        bh = int(rng.integers(min_side, min(max_side, h) + 1))
        bw = int(rng.integers(min_side, min(max_side, w) + 1))
        top, left = int(rng.integers(0, h - bh + 1)), int(rng.integers(0, w - bw + 1))
        if taken[max(top - 1, 0) : top + bh + 1, max(left - 1, 0) : left + bw + 1].any():
            continue
        taken[top : top + bh, left : left + bw] = True
        boxes.append((top, left, bh, bw))
    return boxes


# ---------------------------------------------------------------- geometry


@_rule("flip-horizontal", _varied_input)
def flip_horizontal(grid: Grid, p: Params) -> Grid:
    return np.fliplr(grid)


@_rule("flip-vertical", _varied_input)
def flip_vertical(grid: Grid, p: Params) -> Grid:
    return np.flipud(grid)


@_rule("rotate-90", _varied_input)
def rotate_90(grid: Grid, p: Params) -> Grid:
    return np.rot90(grid, k=-1)  # clockwise


@_rule("rotate-180", _varied_input)
def rotate_180(grid: Grid, p: Params) -> Grid:
    return np.rot90(grid, k=2)


@_rule("transpose", _varied_input)
def transpose(grid: Grid, p: Params) -> Grid:
    return grid.T


@_rule("shift-column", _varied_input)
def shift_column(grid: Grid, p: Params) -> Grid:
    """Every column moves one to the right; the last one wraps round to the left edge."""
    return np.roll(grid, 1, axis=1)


# ---------------------------------------------------------------- colours


def _two_colours(rng):
    a, b = _colours(rng, 2)
    return {"a": a, "b": b}


def _swap_input(rng, p):
    # both swapped colours are in every input (so each pair shows the swap) and one untouched colour may join them
    grid = _scatter(rng, _sides(rng), [p["a"], p["b"]] + _colours(rng, int(rng.integers(0, 2)), (p["a"], p["b"])), 0.5)
    cells = rng.choice(grid.size, size=2, replace=False)
    grid.flat[cells] = [p["a"], p["b"]]
    return grid


@_rule("colour-swap", _swap_input, _two_colours)
def colour_swap(grid: Grid, p: Params) -> Grid:
    out = grid.copy()
    out[grid == p["a"]] = p["b"]
    out[grid == p["b"]] = p["a"]
    return out


@_rule("recolour-all", _input_without("colour"), _one_colour)
def recolour_all(grid: Grid, p: Params) -> Grid:
    return np.where(grid != 0, p["colour"], 0).astype(grid.dtype)


def _derangement(rng):
    # no colour maps to itself, so every painted cell changes
    while True:
        order = rng.permutation(FOREGROUND)
        if not (order == np.array(FOREGROUND)).any():
            return {"map": [0] + [int(c) for c in order]}


def _many_colours_input(rng, p):
    return _scatter(rng, _sides(rng, 4), _colours(rng, int(rng.integers(4, 7))), float(rng.uniform(0.5, 0.8)))


@_rule("colour-permutation", _many_colours_input, _derangement)
def colour_permutation(grid: Grid, p: Params) -> Grid:
    return np.asarray(p["map"], grid.dtype)[grid]


@_rule("replace-background", _input_without("colour"), _one_colour)
def replace_background(grid: Grid, p: Params) -> Grid:
    return np.where(grid == 0, p["colour"], grid).astype(grid.dtype)


def _single_colour_input(rng, p):
    # the colour changes from pair to pair: the rule is "swap with whatever colour is there"
    return _scatter(rng, _sides(rng), _colours(rng, 1), float(rng.uniform(0.3, 0.6)))


@_rule("invert", _single_colour_input)
def invert(grid: Grid, p: Params) -> Grid:
    colour = grid.max()  # the one foreground colour
    return np.where(grid == 0, colour, 0).astype(grid.dtype)


def _one_winner_input(rng, p):
    # a tie for the most frequent colour would make the answer arbitrary
    while True:
        grid = _scatter(rng, _sides(rng, 4), _colours(rng, int(rng.integers(2, 4))), float(rng.uniform(0.4, 0.7)))
        counts = sorted(np.bincount(grid.ravel(), minlength=10)[1:], reverse=True)
        if counts[0] > counts[1] > 0:
            return grid


@_rule("keep-largest-colour", _one_winner_input)
def keep_largest_colour(grid: Grid, p: Params) -> Grid:
    """Only the most frequent foreground colour stays; the others become background."""
    winner = np.bincount(grid.ravel(), minlength=10)[1:].argmax() + 1
    return np.where(grid == winner, grid, 0).astype(grid.dtype)


# ---------------------------------------------------------------- size changes


@_rule("scale-2x", _small_input)
def scale_2x(grid: Grid, p: Params) -> Grid:
    return np.kron(grid, np.ones((2, 2), grid.dtype))


@_rule("tile-2x1", _small_input)
def tile_2x1(grid: Grid, p: Params) -> Grid:
    return np.hstack([grid, grid])


@_rule("tile-1x2", _small_input)
def tile_1x2(grid: Grid, p: Params) -> Grid:
    return np.vstack([grid, grid])


@_rule("mirror-concat", _small_input)
def mirror_concat(grid: Grid, p: Params) -> Grid:
    return np.hstack([grid, np.fliplr(grid)])


@_rule("double-height", _small_input)
def double_height(grid: Grid, p: Params) -> Grid:
    return np.repeat(grid, 2, axis=0)


@_rule("border", _input_without("colour"), _one_colour)
def border(grid: Grid, p: Params) -> Grid:
    """A one-cell frame of the task's colour around the whole grid (the grid grows by two)."""
    return np.pad(grid, 1, constant_values=p["colour"])


def _even_input(rng, p):
    h, w = (2 * int(rng.integers(2, 5)) for _ in range(2))  # 4, 6 or 8: the quadrant is exactly a quarter
    return _scatter(rng, (h, w), _colours(rng, int(rng.integers(2, 5))), float(rng.uniform(0.4, 0.7)))


@_rule("upper-left-quadrant", _even_input)
def upper_left_quadrant(grid: Grid, p: Params) -> Grid:
    h, w = grid.shape
    return grid[: h // 2, : w // 2]


def _boxed_object_input(rng, p):
    h, w = _sides(rng, 5)
    bh, bw = int(rng.integers(2, min(5, h - 1) + 1)), int(rng.integers(2, min(5, w - 1) + 1))
    box = _scatter(rng, (bh, bw), _colours(rng, int(rng.integers(1, 4))), 0.7)
    # opposite corners painted: the bounding box is the whole box, never a sliver of it
    box[0, 0], box[-1, -1] = _colours(rng, 1)[0], _colours(rng, 1)[0]
    grid = np.zeros((h, w), np.int8)
    top, left = int(rng.integers(0, h - bh + 1)), int(rng.integers(0, w - bw + 1))
    grid[top : top + bh, left : left + bw] = box
    return grid


@_rule("crop", _boxed_object_input)
def crop(grid: Grid, p: Params) -> Grid:
    """The smallest rectangle holding every foreground cell."""
    rows, cols = np.nonzero(grid)
    if not len(rows):
        return grid
    return grid[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]


def _count_input(rng, p):
    h, w = _sides(rng, hi=6)
    n = int(rng.integers(1, min(9, h * w) + 1))
    grid = np.zeros((h, w), np.int8)
    grid.flat[rng.choice(h * w, size=n, replace=False)] = _colours(rng, 1)[0]
    return grid


@_rule("count-cells", _count_input)
def count_cells(grid: Grid, p: Params) -> Grid:
    """A single row as long as the number of foreground cells, in their (single) colour."""
    cells = grid[grid != 0]
    return np.full((1, len(cells)), cells.max() if len(cells) else 0, grid.dtype)


# ---------------------------------------------------------------- moving cells


def _packed(line: np.ndarray) -> np.ndarray:
    """LINE with its foreground cells pushed to the start, in order, background after them."""
    out = np.zeros_like(line)
    cells = line[line != 0]
    out[: len(cells)] = cells
    return out


def _sparse_input(rng, p):
    # sparse, so that cells have somewhere to fall
    return _scatter(rng, _sides(rng), _colours(rng, int(rng.integers(1, 4))), float(rng.uniform(0.15, 0.4)))


@_rule("gravity-down", _sparse_input)
def gravity_down(grid: Grid, p: Params) -> Grid:
    return np.stack([_packed(col[::-1])[::-1] for col in grid.T], axis=1)


@_rule("gravity-left", _sparse_input)
def gravity_left(grid: Grid, p: Params) -> Grid:
    return np.stack([_packed(row) for row in grid])


def _object_input(rng, room: tuple[int, int]) -> Grid:
    """One single-coloured connected object, with ROOM (rows, columns) of empty space after it to move into."""
    h, w = _sides(rng, 4)
    shape = _blob(rng, int(rng.integers(2, 7)), 3)
    sh, sw = shape.shape
    top = int(rng.integers(0, h - sh - room[0] + 1))
    left = int(rng.integers(0, w - sw - room[1] + 1))
    grid = np.zeros((h, w), np.int8)
    grid[top : top + sh, left : left + sw][shape] = _colours(rng, 1)[0]
    return grid


def _shift(grid: Grid, rows: int, cols: int) -> Grid:
    """GRID moved by ROWS down and COLS right; what leaves the grid is lost, what enters is background."""
    h, w = grid.shape
    out = np.zeros_like(grid)
    out[rows:, cols:] = grid[: h - rows, : w - cols]
    return out


@_rule("move-right", lambda rng, p: _object_input(rng, (0, 1)))
def move_right(grid: Grid, p: Params) -> Grid:
    return _shift(grid, 0, 1)


@_rule("move-down", lambda rng, p: _object_input(rng, (1, 0)))
def move_down(grid: Grid, p: Params) -> Grid:
    return _shift(grid, 1, 0)


# ---------------------------------------------------------------- shapes and lines


def _hollow_rectangles_input(rng, p):
    grid = np.zeros(_sides(rng, 5), np.int8)
    for top, left, bh, bw in _rectangles(rng, grid.shape, int(rng.integers(1, 3)), 3, 6):
        grid[top : top + bh, left : left + bw] = _colours(rng, 1, (p["colour"],))[0]
        grid[top + 1 : top + bh - 1, left + 1 : left + bw - 1] = 0
    return grid


@_rule("fill-enclosed", _hollow_rectangles_input, _one_colour)
def fill_enclosed(grid: Grid, p: Params) -> Grid:
    """Background that cannot reach the grid's edge through background (4-connected) takes the task's colour."""
    h, w = grid.shape
    outside = np.zeros(grid.shape, bool)
    stack = [(r, c) for r in range(h) for c in (0, w - 1)] + [(r, c) for r in (0, h - 1) for c in range(w)]
    while stack:
        r, c = stack.pop()
        if 0 <= r < h and 0 <= c < w and grid[r, c] == 0 and not outside[r, c]:
            outside[r, c] = True
            stack += [(r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)]
    return np.where((grid == 0) & ~outside, p["colour"], grid).astype(grid.dtype)


def _filled_rectangles_input(rng, p):
    grid = np.zeros(_sides(rng, 5), np.int8)
    for top, left, bh, bw in _rectangles(rng, grid.shape, int(rng.integers(1, 3)), 3, 6):
        grid[top : top + bh, left : left + bw] = _colours(rng, 1)[0]
    return grid


@_rule("outline", _filled_rectangles_input)
def outline(grid: Grid, p: Params) -> Grid:
    """Foreground cells whose four neighbours are all foreground are cleared; the grid's edge counts as background."""
    fg = np.pad(grid != 0, 1)
    inner = fg[1:-1, 1:-1] & fg[:-2, 1:-1] & fg[2:, 1:-1] & fg[1:-1, :-2] & fg[1:-1, 2:]
    return np.where(inner, 0, grid).astype(grid.dtype)


def _line_input(rng, p):
    h, w = _sides(rng, 4)
    rows = rng.choice(h, size=int(rng.integers(1, h // 2 + 1)), replace=False)
    # other colours only on rows without a marker: whether the line covers them is never in question
    grid = _scatter(rng, (h, w), _colours(rng, int(rng.integers(1, 3)), (p["colour"],)), 0.2)
    grid[rows] = 0
    grid[rows, rng.integers(0, w, size=len(rows))] = p["colour"]
    return grid


@_rule("horizontal-line", _line_input, _one_colour)
def horizontal_line(grid: Grid, p: Params) -> Grid:
    """Every row holding a cell of the task's colour has its background filled with that colour."""
    marked = (grid == p["colour"]).any(axis=1, keepdims=True)
    return np.where(marked & (grid == 0), p["colour"], grid).astype(grid.dtype)


# ---------------------------------------------------------------- tasks


def _rule_rng(seed: int, name: str) -> np.random.Generator:
    """A generator for one rule, from the seed and the rule's name only (not its place among the rules),
    so that adding or removing a rule leaves every other task as it was."""
    name_key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")
    return np.random.default_rng([seed, name_key])


def _shows_rule(grid: Grid, out: Grid) -> bool:
    """A pair worth showing: the rule changes something, and neither grid is empty or too big."""
    return (
        MIN_SIDE <= min(grid.shape) and max(grid.shape) <= MAX_INPUT_SIDE
        and max(out.shape) <= MAX_OUTPUT_SIDE and min(out.shape) >= 1
        and (out.shape != grid.shape or not np.array_equal(out, grid))
        and grid.any() and out.any()
    )


def make_rule_task(name: str, seed: int = 0, max_tries: int = 1000) -> tuple[Task, Params]:
    """The task for rule NAME and the parameters it was drawn with."""
    rng = _rule_rng(seed, name)
    rule, make_input = RULES[name], _INPUTS[name]
    params = _PARAMS[name](rng)
    n_train = int(rng.integers(3, 6))
    pairs: list[Pair] = []
    train_colours: set[int] = set()
    for _ in range(max_tries):
        grid = make_input(rng, params).astype(np.int8)
        out = np.ascontiguousarray(rule(grid, params)).astype(np.int8)
        repeated = any(p.input.shape == grid.shape and np.array_equal(p.input, grid) for p in pairs)
        # the test input uses no colour the train pairs never showed, so what to do with it is learnable
        unseen = len(pairs) == n_train and not set(np.unique(grid).tolist()) <= train_colours
        if not _shows_rule(grid, out) or repeated or unseen:
            continue
        pairs.append(Pair(grid, out))
        train_colours |= set(np.unique(grid).tolist())
        if len(pairs) == n_train + 1:
            return Task(f"{SUITE_NAME}-{name}", pairs[:n_train], pairs[n_train:]), params
    raise RuntimeError(f"rule {name}: no usable pairs after {max_tries} draws; its input maker needs fixing")


def make_one_rule_suite(seed: int = 0) -> dict[str, Task]:
    """Task id -> task, one task per rule, the same for the same seed whatever the global random state."""
    tasks = (make_rule_task(name, seed)[0] for name in RULES)
    return {task.id: task for task in tasks}
