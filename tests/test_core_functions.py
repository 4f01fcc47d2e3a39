"""The compiled vocabulary (core/functions.cpp) against its readable reference (image_functions.py).

Every function runs in both on random sprites (sizes 1-12, positions -3..3, sparse colours,
rectangles, grid lines, a few large ones for the size cap) and lists of 1-4 of them; the two must
agree exactly: position, size, cells, and failures. A few hand-written cases check that the
functions do what their names say. The C++ runs through native.apply_many, one process for all.
"""

import shutil

import numpy as np
import pytest

from arc24.programs import image_functions as F
from arc24.programs.image_functions import VOCABULARY, Image

native = pytest.importorskip("arc24.programs.native")

pytestmark = pytest.mark.skipif(
    not (shutil.which("g++") or shutil.which("c++")), reason="the compiled search needs a C++ compiler"
)

CASES_PER_FUNCTION = 30


def I(rows, x=0, y=0):  # noqa: E743
    return Image(np.array(rows, dtype=np.uint8), x, y)


def random_image(rng: np.random.Generator) -> Image:
    h, w = (int(v) for v in rng.integers(1, 13, size=2))
    kind = rng.integers(0, 10)
    if kind < 4:  # sparse random colours from a small palette
        palette = rng.choice(np.arange(1, 10), size=rng.integers(1, 4), replace=False)
        g = np.where(rng.random((h, w)) < rng.uniform(0.1, 0.6), rng.choice(palette, size=(h, w)), 0)
    elif kind < 7:  # a few rectangles, some hollow, on zero
        g = np.zeros((h, w), dtype=np.uint8)
        for _ in range(rng.integers(1, 4)):
            r0, c0 = rng.integers(0, h), rng.integers(0, w)
            r1, c1 = rng.integers(r0, h) + 1, rng.integers(c0, w) + 1
            g[r0:r1, c0:c1] = rng.integers(1, 10)
            if rng.random() < 0.5 and r1 - r0 > 2 and c1 - c0 > 2:
                g[r0 + 1 : r1 - 1, c0 + 1 : c1 - 1] = 0
    elif kind < 9:  # separator lines over sparse cells
        g = np.where(rng.random((h, w)) < 0.3, rng.integers(1, 4, size=(h, w)), 0)
        colour = rng.integers(1, 10)
        if h > 2:
            g[rng.integers(1, h - 1), :] = colour
        if w > 2:
            g[:, rng.integers(1, w - 1)] = colour
    elif rng.random() < 0.5:  # dense, or all zero
        g = rng.integers(0, 10, size=(h, w))
    elif rng.random() < 0.5:
        g = np.zeros((h, w))
    else:  # large: sides near the cap of 60
        h, w = int(rng.integers(25, 61)), int(rng.integers(25, 61))
        g = np.where(rng.random((h, w)) < 0.2, rng.integers(1, 10, size=(h, w)), 0)
    return Image(g.astype(np.uint8), int(rng.integers(-3, 4)), int(rng.integers(-3, 4)))


def random_canvas(rng: np.random.Generator, im: Image) -> tuple[int, int]:
    """A canvas shape (h, w): often a multiple or divisor of the image's, so scale_to can apply."""
    u = rng.random()
    if u < 0.3:
        return im.h * int(rng.integers(1, 4)), im.w * int(rng.integers(1, 4))
    if u < 0.45:
        divisors = lambda n: [d for d in range(1, n + 1) if n % d == 0]  # noqa: E731
        return int(rng.choice(divisors(im.h))), int(rng.choice(divisors(im.w)))
    return int(rng.integers(1, 16)), int(rng.integers(1, 16))


def reference(name: str, value, canvas):
    kind, fn = VOCABULARY[name]
    if kind == "canvas":
        return fn(value, Image(np.zeros(canvas, dtype=np.uint8)))
    return fn(value)


def show(value) -> str:
    return repr(value)


def test_names_match_the_reference():
    assert native.vocabulary_names() == list(VOCABULARY)


def test_every_function_agrees_with_the_reference():
    rng = np.random.default_rng(20240)
    requests = []
    for name, (kind, _) in VOCABULARY.items():
        for _ in range(CASES_PER_FUNCTION):
            if kind in ("join", "filter"):
                value = [random_image(rng) for _ in range(rng.integers(1, 5))]
                if rng.random() < 0.3:  # same sizes, so the stacks can apply
                    value = [Image(np.where(rng.random(value[0].grid.shape) < 0.5, value[0].grid, 0), e.x, e.y) for e in value]
            else:
                value = random_image(rng)
            canvas = random_canvas(rng, value) if kind == "canvas" else None
            requests.append((name, value, canvas))
    got = native.apply_many(requests)
    wrong, agreed = [], {}
    for (name, value, canvas), answer in zip(requests, got):
        want = reference(name, value, canvas)
        if not (answer == want):
            wrong.append(f"{name} on {show(value)} canvas {canvas}:\n  C++:    {show(answer)}\n  Python: {show(want)}")
        agreed.setdefault(name, set()).add(want is not None)
    assert not wrong, f"{len(wrong)} disagreements, the first:\n" + "\n".join(wrong[:3])
    never = [name for name, outcomes in agreed.items() if True not in outcomes]
    assert not never, f"never succeeded on the random cases: {never}"


# ---------------------------------------------------------------- what the names say, in both implementations


def both(name: str, value, canvas=None):
    """The reference's answer, after checking that the C++ gives the same."""
    want = reference(name, value, canvas)
    assert native.apply_function(name, value, canvas) == want, name
    return want


def test_crop_moves_the_position():
    im = I([[0, 0, 0], [0, 5, 0], [0, 0, 7]], x=2, y=-1)
    assert both("crop", im) == I([[5, 0], [0, 7]], x=3, y=0)
    assert both("crop", I([[0, 0]])) is None
    assert both("to_origin", im) == I(im.grid, 0, 0)


def test_rigid_motions_keep_the_position():
    im = I([[1, 2, 3], [4, 5, 6]], x=1, y=2)
    assert both("rot90", im) == I([[3, 6], [2, 5], [1, 4]], 1, 2)  # anticlockwise, like numpy
    assert both("rot270", im) == I([[4, 1], [5, 2], [6, 3]], 1, 2)
    assert both("rot180", im) == I([[6, 5, 4], [3, 2, 1]], 1, 2)
    assert both("flip_x", im) == I([[3, 2, 1], [6, 5, 4]], 1, 2)
    assert both("flip_y", im) == I([[4, 5, 6], [1, 2, 3]], 1, 2)
    assert both("transpose", im) == I([[1, 4], [2, 5], [3, 6]], 1, 2)
    assert both("antitranspose", im) == I([[6, 3], [5, 2], [4, 1]], 1, 2)


def test_colours():
    im = I([[1, 2], [2, 0]])
    assert both("filter_colour(2)", im) == I([[0, 2], [2, 0]])
    assert both("filter_colour(3)", im) is None
    assert both("erase_colour(1)", im) == I([[0, 2], [2, 0]])
    assert both("majority_colour", im) == I([[2]])
    assert both("count_colours_row", im) == I([[2, 2]])
    assert both("count_cells_column", im) == I([[2], [2], [2]])
    assert both("count_objects_square", I([[1, 0, 0], [0, 1, 0], [0, 0, 0], [3, 0, 0]])) == I([[1, 1], [1, 1]])


def test_holes_and_borders():
    ring = I([[0, 0, 0, 0, 0], [0, 3, 3, 3, 0], [0, 3, 0, 3, 0], [0, 3, 3, 3, 0]], x=1)
    assert both("holes", ring) == I([[0] * 5, [0] * 5, [0, 0, 3, 0, 0], [0] * 5], x=1)
    assert both("fill_holes", ring) == I([[0] * 5, [0, 3, 3, 3, 0], [0, 3, 3, 3, 0], [0, 3, 3, 3, 0]], x=1)
    assert both("holes", I([[3, 3], [3, 0]])) is None
    block = I([[2, 2, 2], [2, 2, 2], [2, 2, 2]])
    assert both("inner_cells", block) == I([[0, 0, 0], [0, 2, 0], [0, 0, 0]])
    assert both("border_cells", block) == I([[2, 2, 2], [2, 0, 2], [2, 2, 2]])
    assert both("outline", I([[0, 0, 0], [0, 4, 0]])) == I([[1, 1, 1], [1, 0, 1]])


def test_smear_connect_spread():
    im = I([[0, 2, 0, 0, 5, 0]])
    assert both("smear(R)", im) == I([[0, 2, 2, 2, 5, 5]])
    assert both("smear(L)", im) == I([[2, 2, 5, 5, 5, 0]])
    assert both("smear(LR)", im) == I([[2, 2, 2, 5, 5, 5]])  # the nearer source wins
    assert both("connect_h", I([[3, 0, 0, 3, 0, 4]])) == I([[3, 3, 3, 3, 0, 4]])
    assert both("connect_v", I([[3], [0], [3]])) == I([[3], [3], [3]])
    assert both("spread_colours", I([[1, 0, 0, 0, 2]])) == I([[1, 1, 1, 2, 2]])  # a tie goes to the smaller colour


def test_frames_and_halves():
    im = I([[1, 0], [0, 0], [0, 0]], x=4, y=4)
    assert both("pad(1)", I([[2]], 0, 0)) == I([[1, 1, 1], [1, 2, 1], [1, 1, 1]], -1, -1)
    assert both("pad(1)", Image(np.zeros((59, 3), dtype=np.uint8))) is None  # over the cap of 60
    assert both("remove_empty_lines", I([[0, 0, 0], [1, 0, 2]])) == I([[1, 2]], 0, 1)
    assert both("dedupe_lines", I([[1, 1, 2], [1, 1, 2], [3, 3, 3]])) == I([[1, 2], [3, 3]])
    assert both("right_half", I([[1, 2, 3]], 5, 0)) == I([[3]], 7, 0)
    assert both("bottom_half", im) == I([[0, 0]], 4, 6)
    assert both("left_half", I([[1]])) is None
    assert both("centre", I(np.zeros((3, 4)), 1, 1)) == I([[1, 1]], 2, 2)
    assert both("position_cell", im) == I([[1]], 4, 4)
    assert both("size_empty", im) == I([[0, 0], [0, 0], [0, 0]])


def test_canvas_functions():
    im = I([[1, 2]], x=1, y=1)
    assert both("embed(input_size)", im, (2, 2)) == I([[0, 0], [0, 1]])
    assert both("tile(output_size)", im, (2, 5)) == I([[1, 2, 1, 2, 1], [1, 2, 1, 2, 1]])
    assert both("tile_gap(output_size)", im, (1, 5)) == I([[1, 2, 0, 1, 2]])
    assert both("mirror_tile(output_size)", im, (1, 4)) == I([[1, 2, 2, 1]])
    assert both("scale_to(output_size)", im, (2, 4)) == I([[1, 1, 2, 2], [1, 1, 2, 2]])
    assert both("scale_to(output_size)", I([[3, 3, 4, 4]]), (1, 2)) == I([[3, 4]])
    assert both("scale_to(output_size)", I([[3, 1, 4, 4]]), (1, 2)) is None
    assert both("wrap(input_size)", I([[1, 2, 3, 4]]), (2, 2)) == I([[1, 2], [3, 4]])
    # anchored: in phase with where the motif lies (column 1), so column 0 shows its second cell
    assert both("tile_anchored(output_size)", im, (1, 5)) == I([[2, 1, 2, 1, 2]])
    assert both("mirror_tile_anchored(output_size)", im, (1, 5)) == I([[1, 1, 2, 2, 1]])  # copy -1 mirrored
    assert both("tile_gap_anchored(output_size)", I([[1, 2]], x=1), (1, 5)) == I([[0, 1, 2, 0, 1]])
    # a whole-block downscale keeps each block's colour, not its zeros; other ratios go by area
    assert both("resample(output_size)", I([[0, 3, 0, 0], [0, 0, 4, 0]]), (1, 2)) == I([[3, 4]])
    assert both("resample(output_size)", I([[5, 0, 0]]), (1, 2)) == I([[5, 0]])
    assert both("resample(output_size)", I([[5, 6]]), (1, 3)) == I([[5, 5, 6]])


def test_invert_and_flip_off_centre():
    assert both("invert", I([[0, 3], [7, 0]], x=2)) == I([[3, 0], [0, 3]], x=2)
    assert both("invert", I([[0, 0]])) == I([[1, 1]])
    # the cells lie off the middle column, not the middle row: mirrored left-right
    assert both("flip_off_centre", I([[1, 0, 0], [1, 0, 0], [1, 0, 0]])) == I([[0, 0, 1], [0, 0, 1], [0, 0, 1]])
    assert both("flip_off_centre", I([[2, 2, 2], [0, 0, 0], [0, 0, 0]])) == I([[0, 0, 0], [0, 0, 0], [2, 2, 2]])


def test_splits_keep_positions_in_reading_order():
    im = I([[0, 7, 0, 3], [0, 7, 0, 0], [4, 0, 0, 0]], x=10, y=20)
    assert both("objects", im) == [I([[7], [7]], 11, 20), I([[3]], 13, 20), I([[4]], 10, 22)]
    assert both("objects_multicolour", im) == [I([[0, 7], [0, 7], [4, 0]], 10, 20), I([[3]], 13, 20)]
    assert both("split_colours", I([[2, 1]])) == [I([[0, 1]]), I([[2, 0]])]
    assert both("columns", I([[1, 2]], 3, 4)) == [I([[1]], 3, 4), I([[2]], 4, 4)]
    grid = I([[1, 5, 0], [5, 5, 5], [0, 5, 2]])
    assert both("cut", grid) == [I([[1]]), I([[0]], 2, 0), I([[0]], 0, 2), I([[2]], 2, 2)]


def test_joins_and_filters():
    a, b, c = I([[1, 1]], 0, 0), I([[2]], 3, 0), I([[3, 3], [3, 0]], 1, 1)
    assert both("pick_max(cells)", [a, b, c]) == c
    assert both("pick_min(x)", [b, a, c]) == a
    assert both("pick_unique", [a, a, c]) == c
    assert both("pick_unique", [a, b, c]) is None  # every element has its own colour
    assert both("keep_max(area)", [a, b, c]) == [c]
    assert both("drop_min(cells)", [a, b, c]) == [a, c]
    assert both("compose", [I([[5, 5], [5, 5]]), I([[0, 6]], 1, 1)]) == I([[5, 5, 0], [5, 5, 6]])
    assert both("stack_h", [I([[1, 1]]), I([[2]])]) == I([[2, 1, 1]])
    assert both("stack_v", [I([[1, 1]]), I([[2]])]) is None  # different widths
    assert both("stack_line", [I([[1]], 0, 5), I([[2]], 0, 1)]) == I([[2], [1]])
