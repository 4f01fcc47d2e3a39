"""Pictures of tasks: valid PNGs of a plausible size, drawn in the ARC colours, and the
comparison of two submissions drawing exactly the tasks whose solved outputs changed."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

import pytest
from data_paths import ARC1

from arc24.data.task import Pair, Task, as_grid
from arc24.evaluation.render import PALETTE, render_changed, render_task

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
G1 = [[1, 2], [3, 4]]
G2 = [[5, 6, 7]]
G3 = [[8], [9]]
WRONG = [[0]]


def make_task(task_id: str, outputs: list, n_train: int = 2) -> Task:
    train = [Pair(as_grid([[i % 10, 0], [0, 1]]), as_grid([[1, i % 10]])) for i in range(n_train)]
    test = [Pair(as_grid([[3, 3], [3, 0]]), None if o is None else as_grid(o)) for o in outputs]
    return Task(task_id, train, test)


def read_png(path) -> np.ndarray:
    import matplotlib.image

    with open(path, "rb") as f:
        assert f.read(8) == PNG_MAGIC
    image = matplotlib.image.imread(path)
    h, w = image.shape[:2]
    assert image.ndim == 3 and image.shape[2] in (3, 4)
    assert 100 < h < 4000 and 100 < w < 4000, image.shape
    return image


def test_palette_is_the_usual_arc_one():
    assert PALETTE == (
        "#000000", "#0074D9", "#FF4136", "#2ECC40", "#FFDC00",
        "#AAAAAA", "#F012BE", "#FF851B", "#7FDBFF", "#870C25",
    )  # fmt: skip


def test_render_task_one_test_input_with_attempts(tmp_path):
    task = make_task("one", [G1])
    out = render_task(task, tmp_path / "sub" / "one.png", [{"attempt_1": WRONG, "attempt_2": G1}], title="a title")
    assert out == tmp_path / "sub" / "one.png"  # parent folders are created
    read_png(out)


def test_render_task_three_test_inputs_is_taller(tmp_path):
    one = read_png(render_task(make_task("t1", [G1]), tmp_path / "one.png"))
    three = read_png(render_task(make_task("t3", [G1, G2, G3]), tmp_path / "three.png"))
    # Each test input adds a row of panels.
    assert three.shape[0] > one.shape[0] * 1.3


def test_render_task_width_follows_the_train_pairs(tmp_path):
    narrow = read_png(render_task(make_task("n", [G1], n_train=2), tmp_path / "n.png"))
    wide = read_png(render_task(make_task("w", [G1], n_train=7), tmp_path / "w.png"))
    assert wide.shape[1] > narrow.shape[1] * 1.5


def test_render_task_without_attempts_and_without_truth(tmp_path):
    read_png(render_task(make_task("a", [G1, G2]), tmp_path / "a.png", attempts=None))
    hidden = make_task("h", [None, None])  # a competition task: test outputs unknown
    read_png(render_task(hidden, tmp_path / "h.png", [{"attempt_1": G1, "attempt_2": G2}, {"attempt_1": G3}]))


def test_render_task_bad_attempts_do_not_crash(tmp_path):
    task = make_task("b", [G1, G2, G3])
    bad = [
        {"attempt_1": [[1, 2], [3]], "attempt_2": [[10]]},  # ragged, out of range
        "not a dict",
    ]  # and nothing at all for the third test input
    read_png(render_task(task, tmp_path / "b.png", bad))


def test_render_task_draws_the_arc_colours(tmp_path):
    every_colour = [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    task = Task("c", [Pair(as_grid(every_colour), as_grid(every_colour))], [Pair(as_grid(every_colour), None)])
    image = read_png(render_task(task, tmp_path / "c.png"))
    pixels = {tuple(p) for p in np.round(image[..., :3] * 255).astype(int).reshape(-1, 3)}
    for colour in PALETTE:
        rgb = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
        assert rgb in pixels, colour


@pytest.mark.slow
def test_render_real_task_with_two_test_inputs(tmp_path):
    from arc24.data.tasks import load_tasks

    tasks = load_tasks(f"{ARC1}/arc-agi_evaluation_challenges.json", f"{ARC1}/arc-agi_evaluation_solutions.json")
    task = next(t for t in tasks.values() if len(t.test) == 2)
    read_png(render_task(task, tmp_path / "real.png", [{"attempt_1": G1}, {"attempt_2": G2}]))


@pytest.mark.slow
def test_render_changed_picks_exactly_the_differing_tasks(tmp_path):
    tasks = {
        "both": make_task("both", [G1]),  # solved by both
        "only_a": make_task("only_a", [G1]),
        "only_b": make_task("only_b", [G1]),
        "neither": make_task("neither", [G1]),  # wrong in both, with different wrong answers
        "swap": make_task("swap", [G1, G2]),  # same score 0.5, but different outputs solved
        "missing": make_task("missing", [G1]),  # absent from A, wrong in B: unsolved in both
    }
    sub_a = {
        "both": [{"attempt_1": G1}],
        "only_a": [{"attempt_1": WRONG, "attempt_2": G1}],
        "only_b": [{"attempt_1": WRONG}],
        "neither": [{"attempt_1": WRONG}],
        "swap": [{"attempt_1": G1}, {"attempt_1": WRONG}],
    }
    sub_b = {
        "both": [{"attempt_2": G1}],
        "only_a": [{"attempt_1": WRONG}],
        "only_b": [{"attempt_1": G1}],
        "neither": [{"attempt_1": G2}],
        "swap": [{"attempt_1": WRONG}, {"attempt_1": G2}],
        "missing": [{"attempt_1": WRONG}],
    }
    paths = render_changed(tasks, sub_a, sub_b, tmp_path / "changed", names=("base", "new"))
    assert [p.name for p in paths] == ["only_a.png", "only_b.png", "swap.png"]
    assert sorted(p.name for p in (tmp_path / "changed").iterdir()) == ["only_a.png", "only_b.png", "swap.png"]
    for p in paths:
        read_png(p)


def test_render_changed_nothing_changed(tmp_path):
    tasks = {"a": make_task("a", [G1])}
    sub = {"a": [{"attempt_1": G1}]}
    assert render_changed(tasks, sub, sub, tmp_path / "none") == []


def test_importing_does_not_load_matplotlib():
    code = "import sys, arc24.evaluation.render, arc24.evaluation.scoring; assert 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_rendering_leaves_no_pyplot_figure_open(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    render_task(make_task("p", [G1]), tmp_path / "p.png")
    assert plt.get_fignums() == before
