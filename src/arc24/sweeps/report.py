"""What a sweep found: the results table, the plots, and pictures of the tasks that changed.

`aggregate` reads the metrics.json of every finished run under a sweep's folder and writes
results.md and results.csv (best vote_2 first), vote_2_heatmap.png (a bar chart when a single
parameter varies) and ttft_loss.png (each run's mean fine-tuning loss per step over its tasks).
`compare_runs` draws the tasks whose solved test outputs differ between two runs.

Figures are drawn on an Agg canvas without pyplot, as render.py does.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path

from arc24.config import ConfigError
from arc24.evaluation.scoring import METRICS
from arc24.files import format_value, write_atomic
from arc24.solving.records import Health, read_health

# A run's results; the sweep writes it last, so a run counts as finished once it exists.
METRICS_NAME = "metrics.json"

# ---------------------------------------------------------------- the table


def read_metrics(folder: Path) -> dict | None:
    path = folder / METRICS_NAME
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: unreadable ({exc}); delete it to run that setting again") from None


def read_metrics_quiet(folder: Path) -> dict | None:
    try:
        return read_metrics(folder)
    except ConfigError:
        return None




def finished_runs(out: str | os.PathLike) -> list[dict]:
    """The metrics.json of every finished run under OUT (earlier sweeps into OUT included)."""
    return [m for folder in sorted(Path(out).iterdir()) if folder.is_dir()
            for m in [read_metrics_quiet(folder)] if m is not None]


def swept_columns(runs: Sequence[dict], grid_order: Sequence[str] = ()) -> list[str]:
    """The parameters that differ between RUNS: the grid's first, in its order, then the others."""
    names = sorted({k for r in runs for k in r["parameters"]} - {"out_dir"})
    varying = [k for k in names if len({json.dumps(r["parameters"].get(k)) for r in runs}) > 1]
    return [k for k in grid_order if k in varying] + [k for k in varying if k not in grid_order]


def sort_runs(runs: Sequence[dict]) -> list[dict]:
    """Best first: vote_2, then score, then pass_n (all higher first), then fewer seconds, then name."""
    return sorted(runs, key=lambda r: (-r["metrics"]["vote_2"], -r["score"], -r["metrics"]["pass_n"],
                                       r["seconds"], r["run"]))


def weights_text(metrics: dict) -> str:
    return " ".join(f"{k}:{v}" for k, v in sorted(metrics["health"]["weights"].items()) if v) or "-"


def table_rows(runs: Sequence[dict], columns: Sequence[str]) -> list[dict]:
    """One flat row per run, best first: run, swept parameters, metrics, score, seconds, health."""
    rows = []
    for r in sort_runs(runs):
        rows.append({"run": r["run"], **{c: r["parameters"].get(c) for c in columns},
                     **{m: r["metrics"][m] for m in METRICS}, "score": r["score"], "seconds": r["seconds"],
                     "weights": weights_text(r), "ttft_failed": r["health"]["ttft_failed"]})
    return rows


def markdown_table(rows: Sequence[dict]) -> str:
    if not rows:
        return "(no finished runs)"
    cols = list(rows[0])

    def cell(col, v):
        if isinstance(v, float) and col in METRICS + ("score",):
            return f"{v:.3f}"
        if col == "seconds":
            return f"{v:.0f}"
        return format_value(v) if v is not None else ""

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(c, r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def write_tables(rows: Sequence[dict], out: Path) -> tuple[Path, Path]:
    def csv_to(tmp):
        with open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["run"])
            writer.writeheader()
            writer.writerows(rows)

    md = write_atomic(out / "results.md", lambda tmp: tmp.write_text(markdown_table(rows) + "\n"))
    return md, write_atomic(out / "results.csv", csv_to)


def aggregate(out: str | os.PathLike, grid_order: Sequence[str] = ()) -> dict:
    """results.md, results.csv and the plots over every finished run under OUT."""
    out = Path(out)
    runs = finished_runs(out)
    columns = swept_columns(runs, grid_order)
    rows = table_rows(runs, columns)
    md, csv_path = write_tables(rows, out)
    plots = []
    if runs:
        plots = [plot_vote_2(runs, columns, out / "vote_2_heatmap.png"), plot_ttft_loss(runs, out / "ttft_loss.png")]
    return {"out": str(out), "finished": len(runs), "table": markdown_table(rows), "results_md": str(md),
            "results_csv": str(csv_path), "plots": [str(p) for p in plots],
            "best": rows[0]["run"] if rows else None, "worst": rows[-1]["run"] if rows else None}


# ---------------------------------------------------------------- the plots


def _value_key(v):
    return (0, float(v), "") if isinstance(v, (int, float)) and not isinstance(v, bool) else (1, 0.0, str(v))


def _figure(width: float, height: float):
    # An Agg canvas without pyplot, as render.py: no process-wide backend, no figure left open.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: Path) -> Path:
    return write_atomic(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))


def count_text(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def plot_vote_2(runs: Sequence[dict], columns: Sequence[str], path: Path) -> Path:
    """vote_2 over the first two swept parameters (a mean over any further ones); with one swept
    parameter a bar chart over its values, with none a bar per run."""
    if len(columns) >= 2:
        return _heatmap(runs, columns, path)
    if columns:
        key = columns[0]
        values = sorted({json.dumps(r["parameters"].get(key)) for r in runs}, key=lambda s: _value_key(json.loads(s)))
        labels = [format_value(json.loads(v)) for v in values]
        heights = [_mean([r["metrics"]["vote_2"] for r in runs if json.dumps(r["parameters"].get(key)) == v])
                   for v in values]
        xlabel = key
    else:
        labels, heights, xlabel = [r["run"] for r in runs], [r["metrics"]["vote_2"] for r in runs], "run"
    fig = _figure(max(4.0, 0.9 * len(labels) + 2), 3.5)
    ax = fig.subplots()
    bars = ax.bar(range(len(labels)), heights, color="#0074D9")
    ax.bar_label(bars, fmt="%.2f", fontsize=8)
    ax.set_xticks(range(len(labels)), labels, rotation=30 if len(labels) > 4 else 0, fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("vote_2")
    ax.set_ylim(0, 1.05)
    ax.set_title(f"vote_2 over {count_text(len(runs), 'run')}")
    return _save(fig, path)


def _heatmap(runs: Sequence[dict], columns: Sequence[str], path: Path) -> Path:
    import numpy as np

    x_key, y_key = columns[0], columns[1]

    def axis(key):
        return sorted({json.dumps(r["parameters"].get(key)) for r in runs}, key=lambda s: _value_key(json.loads(s)))

    xs, ys = axis(x_key), axis(y_key)
    grid = np.full((len(ys), len(xs)), np.nan)
    for j, y in enumerate(ys):
        for i, x in enumerate(xs):
            cell = [r["metrics"]["vote_2"] for r in runs
                    if json.dumps(r["parameters"].get(x_key)) == x and json.dumps(r["parameters"].get(y_key)) == y]
            grid[j, i] = _mean(cell)
    fig = _figure(max(4.5, 1.1 * len(xs) + 2.5), max(3.5, 0.7 * len(ys) + 2))
    ax = fig.subplots()
    image = ax.imshow(np.ma.masked_invalid(grid), cmap="viridis", vmin=0, vmax=1, aspect="auto", origin="lower")
    fig.colorbar(image, ax=ax, label="vote_2")
    for (j, i), v in np.ndenumerate(grid):
        ax.text(i, j, "-" if math.isnan(v) else f"{v:.2f}", ha="center", va="center", fontsize=9,
                color="white" if math.isnan(v) or v < 0.6 else "black")
    ax.set_xticks(range(len(xs)), [format_value(json.loads(x)) for x in xs], fontsize=8)
    ax.set_yticks(range(len(ys)), [format_value(json.loads(y)) for y in ys], fontsize=8)
    ax.set_xlabel(x_key)
    ax.set_ylabel(y_key)
    rest = list(columns[2:])
    ax.set_title("vote_2" + (f" (mean over {', '.join(rest)})" if rest else ""), fontsize=10)
    return _save(fig, path)


def mean_loss_curve(health: Sequence[Health]) -> list[float]:
    """Mean test-time fine-tuning loss per step over a run's tasks. Tasks may have fewer steps
    (skipped, failed, cut when behind schedule): each step averages the tasks that reached it."""
    curves = [row.ttft_losses for row in health]
    return [_mean([c[s] for c in curves if len(c) > s]) for s in range(max(map(len, curves), default=0))]


def plot_ttft_loss(runs: Sequence[dict], path: Path) -> Path:
    """One line per run: the mean fine-tuning loss per step over its tasks."""
    fig = _figure(7.5, 4.5)
    ax = fig.subplots()
    drawn = 0
    for r in sort_runs(runs):
        try:
            health = read_health(Path(r["parameters"]["out_dir"]) / "health.json")
        except (ConfigError, KeyError):
            continue
        curve = mean_loss_curve(health)
        if curve:
            label = ", ".join(f"{k}={format_value(v)}" for k, v in r.get("swept", {}).items()) or r["run"]
            ax.plot(range(1, len(curve) + 1), curve, marker="." if len(curve) < 30 else None, label=label)
            drawn += 1
    if drawn:
        ax.legend(fontsize=7, loc="best")
    else:
        ax.text(0.5, 0.5, "no test-time fine-tuning losses (ttft_steps=0, or every task skipped)",
                ha="center", va="center", transform=ax.transAxes, color="#777777")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps are whole numbers
    ax.set_xlabel("test-time fine-tuning step")
    ax.set_ylabel("loss (mean over tasks)")
    ax.set_title(f"test-time fine-tuning loss, {count_text(drawn, 'run')}", fontsize=10)
    return _save(fig, path)


# ---------------------------------------------------------------- looking at tasks


def compare_runs(run_a: str | os.PathLike, run_b: str | os.PathLike,
                 out: str | os.PathLike | None = None) -> list[Path]:
    """PNGs of the tasks whose solved test outputs differ between two run folders, both runs'
    attempts side by side (render.render_changed). Default OUT: beside the runs, in
    compare/RUN_A__vs__RUN_B. The pictures call the runs A and B: run names are too long for
    the panel titles."""
    from arc24.evaluation.render import render_changed
    from arc24.evaluation.scoring import read_reference, read_submission

    a, b = Path(run_a), Path(run_b)
    for folder in (a, b):
        for name in ("challenges.json", "solutions.json", "submission.json"):
            if not (folder / name).is_file():
                raise ConfigError(f"{folder}: no {name} (not a finished run folder with known test outputs)")
    try:
        tasks = read_reference(a / "solutions.json", a / "challenges.json")
        submissions = read_submission(a / "submission.json"), read_submission(b / "submission.json")
    except Exception as exc:  # scoring's file errors are one line that names the file
        raise ConfigError(str(exc)) from None
    other = set(json.loads((b / "challenges.json").read_text()))
    if other != set(tasks):
        raise ConfigError(f"{b}: solved other tasks than {a} ({len(other)} vs {len(tasks)}); compare runs of one sweep")
    out = Path(out) if out else a.parent / "compare" / f"{a.name}__vs__{b.name}"
    return render_changed(tasks, submissions[0], submissions[1], out, names=("A", "B"))
