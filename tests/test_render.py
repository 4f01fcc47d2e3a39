"""Pictures of tasks: valid PNGs of a plausible size, drawn in the ARC colours, and the
comparison of two submissions drawing exactly the tasks whose solved outputs changed."""

from __future__ import annotations

import re
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


# ---------------------------------------------------------------- the text under an attempt

LONG_PROGRAM = "programs: " + "; ".join(
    f"b{i} = paint_objects_by_size(recolour(crop_to_content(I), {i}), largest_first)" for i in range(6)) + "; O = b5"


def test_a_note_wraps_to_its_width_between_a_programs_calls():
    from arc24.evaluation.render import wrap_note

    lines = wrap_note("programs: O = stack(flip_h(I), recolour(I, 3))", 20)
    assert lines == ["programs: O = stack(", "flip_h(I), recolour(", "I, 3))"]  # broken after "(", "," or " "
    assert wrap_note("O = flip_h(I)", 20) == ["O = flip_h(I)"]
    cut = wrap_note("x" * 45, 20)  # a name longer than a line is cut
    assert cut == ["x" * 20, "x" * 20, "x" * 5]
    many = wrap_note(LONG_PROGRAM, 24, max_lines=5)
    assert len(many) == 5 and many[-1].endswith("...") and all(len(line) <= 24 for line in many)
    assert "".join(wrap_note(LONG_PROGRAM, 24, max_lines=100)).replace(" ", "") == LONG_PROGRAM.replace(" ", "")


def test_a_long_program_is_written_under_its_attempt_within_the_picture(tmp_path):
    from arc24.evaluation.render import task_figure

    task = make_task("long", [G1, G2])
    attempts = [{"attempt_1": G1, "attempt_2": WRONG}, {"attempt_1": G2}]
    notes = [[LONG_PROGRAM, "model (3 votes)"], ["programs: O = flip_h(I)", "model (1 vote)"]]
    fig = task_figure(task, [("", attempts)], "long", notes)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert fig.get_suptitle() == "long"  # the title is the task's; the programs are under their attempts
    figure = fig.bbox
    # Under each attempt: its size (when it has a grid), then its note's first line
    notes_under = [(ax.get_title(), [line for line in ax.xaxis.label.get_text().split("\n")
                                     if line and not re.fullmatch(r"\d+x\d+", line)]) for ax in fig.axes]
    under = {(title, lines[0]) for title, lines in notes_under if lines}
    assert under == {("attempt 1: correct", "programs: b0 ="), ("attempt 2: wrong", "model (3 votes)"),
                     ("attempt 1: correct", "programs: O = flip_h(I)"), ("attempt 2: wrong", "model (1 vote)")}
    for ax in fig.axes:
        for text in (ax.xaxis.label, ax.title):
            box = text.get_window_extent(renderer)
            # Nothing runs off the picture's edges
            assert figure.x0 - 1 <= box.x0 and box.x1 <= figure.x1 + 1, (text.get_text()[:40], box, figure)
            assert figure.y0 - 1 <= box.y0 and box.y1 <= figure.y1 + 1, (text.get_text()[:40], box, figure)
        if ax.xaxis.label.get_text().count("\n") > 2:  # a wrapped program: no wider than its panel
            box, panel = ax.xaxis.label.get_window_extent(renderer), ax.get_window_extent(renderer)
            assert box.width <= panel.width * 1.02, (box, panel)
    # The picture is taller by the program's lines, not wider
    plain = read_png(render_task(task, tmp_path / "plain.png", attempts))
    written = read_png(render_task(task, tmp_path / "notes.png", attempts, notes=notes))
    assert written.shape[1] == plain.shape[1] and written.shape[0] > plain.shape[0] * 1.15


def test_show_with_a_run_writes_each_attempts_source_under_it(tmp_path, capsys):
    # A real run's folder (solvers=programs on one-rule tasks, a second of search each) drawn by `arc24 show`.
    from pathlib import Path

    import arc24
    from arc24.cli import main

    suite = Path(arc24.__file__).parent / "evaluation" / "suites" / "one-rule-v1.json"
    task_id = "one-rule-v1-flip-horizontal"
    run = tmp_path / "run"
    assert main(["solve", str(suite), "--out", str(run / "submission.json"), "--set", "solvers=programs",
                 "--set", f"task_ids=[{task_id}]", "--set", "programs.seconds=1", "--set", "programs.workers=1"]) == 0
    capsys.readouterr()
    picture = tmp_path / "shown.png"
    assert main(["show", str(suite), "--task", task_id, "--run", str(run), "--out", str(picture)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("test 0 attempt 1: programs: O = ") and lines[-1] == str(picture)
    read_png(picture)
