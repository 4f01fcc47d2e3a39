"""Pictures of ARC tasks: people look at tasks, they do not read grids of digits.

`render_task` draws one task as a PNG: the train pairs on top (input above output, one
column per pair), then one row per test input with the input, the truth when known and the
attempts, each attempt titled correct or wrong. `render_changed` draws the tasks whose solved
status differs between two submissions, both runs side by side, to see what a change did.

Matplotlib is imported inside the functions, so that the package imports without it, and
figures are drawn on an Agg canvas directly (no pyplot): nothing depends on, or changes, the
process-wide backend, and no figure is left open.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from arc24.data.task import Grid, Task, grids_equal
from arc24.evaluation.scoring import parse_attempt, score_submission
from arc24.solving.submission import ATTEMPTS

# The usual ARC palette, colour 0 to 9.
PALETTE = (
    "#000000",  # 0 black
    "#0074D9",  # 1 blue
    "#FF4136",  # 2 red
    "#2ECC40",  # 3 green
    "#FFDC00",  # 4 yellow
    "#AAAAAA",  # 5 grey
    "#F012BE",  # 6 magenta
    "#FF851B",  # 7 orange
    "#7FDBFF",  # 8 light blue
    "#870C25",  # 9 maroon
)
GRID_LINE = "#555555"
CORRECT, WRONG = "#2E8B3A", "#C0392B"  # title colours, readable on white
DPI = 72
# The text under an attempt (its source and program): monospace, so that a line of N characters
# is N x NOTE_CHAR_WIDTH points wide and can be wrapped to its panel's width.
NOTE_FONT_SIZE = 7
NOTE_CHAR_WIDTH = 0.61 * NOTE_FONT_SIZE  # points; DejaVu Sans Mono's advance is 0.602 em
NOTE_LINE_INCHES = NOTE_FONT_SIZE * 1.3 / 72
NOTE_MAX_LINES = 14


def _largest_side(task: Task) -> int:
    pairs = task.train + task.test
    grids = [p.input for p in pairs] + [p.output for p in pairs if p.output is not None]
    return max(max(g.shape) for g in grids)


def _panel_inches(side: int) -> float:
    """Side of one panel: larger for big grids so their cells stay visible, within sane bounds."""
    return min(3.2, max(1.6, 0.1 * side + 0.8))


def wrap_note(text: str, width: int, max_lines: int = NOTE_MAX_LINES) -> list[str]:
    """TEXT in lines of at most WIDTH characters, broken after a space, "(" or "," where it can be
    (a program reads best broken between its calls; a longer name is cut), at most MAX_LINES of
    them, the last ending in "..." when some was left out."""
    import re

    width = max(width, 4)
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for piece in re.findall(r"[^\s(,]*[\s(,]?", paragraph):
            while len(piece) > width:  # longer than a line: cut
                if line.strip():
                    lines.append(line.rstrip())
                lines.append(piece[:width])
                line, piece = "", piece[width:]
            if len((line + piece).rstrip()) > width:
                lines.append(line.rstrip())
                line = piece.lstrip()
            else:
                line += piece
        lines.append(line.rstrip())
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 3].rstrip() + "..."
    return lines


def note_chars(panel_inches: float) -> int:
    """How many characters of a note fit across a panel PANEL_INCHES wide (a margin left free)."""
    return max(int(panel_inches * 72 * 0.92 / NOTE_CHAR_WIDTH), 4)


def _draw_grid(ax, grid: Grid | None, side: int, title: str, colour: str = "black", note: str = "",
               below: list[str] | None = None) -> None:
    """BELOW: lines of text under the panel (an attempt's source and program), wrapped to its width."""
    from matplotlib.colors import ListedColormap

    ax.set_title(title, fontsize=9, color=colour)
    ax.set_xticks([])
    ax.set_yticks([])
    if grid is None:
        if below:
            ax.set_xlabel("\n".join(below), fontsize=NOTE_FONT_SIZE, family="monospace", labelpad=2,
                          multialignment="left")
        # An absent or invalid attempt still gets its panel, so every test row lines up.
        ax.text(0.5, 0.5, note, ha="center", va="center", fontsize=9, color="#777777", transform=ax.transAxes)
        for spine in ax.spines.values():
            spine.set_color("#DDDDDD")
        return
    # pcolormesh draws each cell as a quad with an edge, which gives the lines between cells.
    ax.pcolormesh(grid, cmap=ListedColormap(PALETTE), vmin=-0.5, vmax=9.5, edgecolors=GRID_LINE, linewidth=0.5)
    # Every panel spans SIDE cells, the task's largest grid, centred: sizes compare at a glance,
    # so e.g. a 1x1 attempt looks small instead of filling its panel like a 30x30 one.
    h, w = grid.shape
    side = max(side, h, w)  # an attempt may be larger than anything in the task
    ax.set_xlim(-(side - w) / 2, w + (side - w) / 2)
    ax.set_ylim(h + (side - h) / 2, -(side - h) / 2)  # row 0 at the top, as the grid is written
    ax.set_aspect("equal")
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xlabel("\n".join([f"{h}x{w}", *(below or [])]), fontsize=7, labelpad=2,
                  family="monospace" if below else None, multialignment="left")


def task_figure(task: Task, runs: Sequence[tuple[str, Sequence | None]], title: str,
                notes: Sequence[Sequence[str]] | None = None):
    """The figure of TASK with the attempts of each run (name, submission entries for this task);
    NOTES[i][k]: text under attempt k+1 of test input i (of the first run), wrapped to its panel."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    show_truth = any(p.output is not None for p in task.test)
    test_cols = 1 + show_truth + len(ATTEMPTS) * len(runs)
    n_cols = max(len(task.train), test_cols)
    n_rows = 2 + len(task.test)
    side = _largest_side(task)
    panel = _panel_inches(side)
    wrapped = [[wrap_note(text, note_chars(panel)) if text else [] for text in row] for row in (notes or [])]
    # Each test row is as much taller as its longest note needs.
    extra = [max((len(lines) for lines in wrapped[i]), default=0) * NOTE_LINE_INCHES if i < len(wrapped) else 0.0
             for i in range(len(task.test))]
    # Constrained layout leaves room for the suptitle, which tight_layout would overlap, and gives
    # each row the margin its labels (the notes) need out of the figure's height.
    fig = Figure(figsize=(n_cols * panel, n_rows * (panel + 0.35) + 0.4 + sum(extra)), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()  # switched back on for the panels that get a grid

    def use(row, col):
        ax = axes[row][col]
        ax.set_axis_on()
        return ax

    for j, pair in enumerate(task.train):
        _draw_grid(use(0, j), pair.input, side, f"train {j + 1} input")
        _draw_grid(use(1, j), pair.output, side, f"train {j + 1} output")

    for i, pair in enumerate(task.test):
        row = 2 + i
        _draw_grid(use(row, 0), pair.input, side, f"test {i + 1} input")
        col = 1
        if show_truth:
            _draw_grid(use(row, col), pair.output, side, f"test {i + 1} truth", note="unknown")
            col += 1
        for name, entries in runs:
            # A malformed submission entry is drawn as missing attempts, as scoring counts it wrong.
            ok = isinstance(entries, list) and i < len(entries) and isinstance(entries[i], dict)
            entry = entries[i] if ok else {}
            for k, key in enumerate(ATTEMPTS):
                label = f"{name} {key.replace('_', ' ')}".strip()
                raw = entry.get(key)
                grid = parse_attempt(raw)
                note = "no attempt" if raw is None else "invalid grid"
                if pair.output is None:  # nothing to judge against
                    verdict, colour = "", "black"
                elif grids_equal(grid, pair.output):
                    verdict, colour = "correct", CORRECT
                else:
                    verdict, colour = "wrong", WRONG
                below = wrapped[i][k] if runs and name == runs[0][0] and i < len(wrapped) and k < len(wrapped[i]) \
                    else None
                _draw_grid(use(row, col), grid, side, f"{label}: {verdict}" if verdict else label, colour, note,
                           below)
                col += 1

    fig.suptitle(title, fontsize=11)
    return fig


def _draw(task: Task, path, runs: Sequence[tuple[str, Sequence | None]], title: str,
          notes: Sequence[Sequence[str]] | None = None) -> Path:
    """Draw TASK with the attempts of each run (name, submission entries for this task) into PATH."""
    fig = task_figure(task, runs, title, notes)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=DPI)
    return path


def render_task(task: Task, path: str | os.PathLike, attempts: list[dict] | None = None, title: str | None = None,
                notes: Sequence[Sequence[str]] | None = None) -> Path:
    """Write TASK as a PNG to PATH and return the path.

    ATTEMPTS is the task's submission entry: one {"attempt_1": grid, "attempt_2": grid} per
    test input, grids as lists of lists. None draws the task alone (input and truth). NOTES[i][k]
    is written under attempt k+1 of test input i, wrapped to the panel's width (e.g. where the
    attempt came from and its program).
    """
    runs = [("", attempts)] if attempts is not None else []
    return _draw(task, path, runs, title if title is not None else task.id, notes)


def render_changed(
    tasks: Mapping[str, Task],
    submission_a: Mapping,
    submission_b: Mapping,
    out_dir: str | os.PathLike,
    names: tuple[str, str] = ("A", "B"),
) -> list[Path]:
    """One PNG per task whose solved test outputs differ between the two submissions.

    Each picture shows both runs' attempts side by side; files are OUT_DIR/<task_id>.png,
    in the order of TASKS. The tasks need their test outputs, to know what is solved.
    """
    report_a = score_submission(submission_a, tasks)
    report_b = score_submission(submission_b, tasks)
    paths = []
    for task_id, task in tasks.items():
        a, b = report_a.per_task[task_id], report_b.per_task[task_id]
        if a["solved"] == b["solved"]:
            continue
        title = f"{task_id}: {names[0]} {a['score']:.2f} -> {names[1]} {b['score']:.2f}"
        runs = [(names[0], submission_a.get(task_id)), (names[1], submission_b.get(task_id))]
        paths.append(_draw(task, Path(out_dir) / f"{task_id}.png", runs, title))
    return paths
