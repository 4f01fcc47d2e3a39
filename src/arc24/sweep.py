"""`arc24 sweep`: the submission notebook on validation tasks for every setting of a grid.

Each run executes `notebooks/submission.ipynb` through papermill, the same kernel Kaggle runs,
with one combination of the grid's notebook parameters, into its own folder under OUT named
from the swept values (e.g. `lora_rank=32__learning_rate=2e-05`). The folder holds the
executed notebook, what `solve` writes (submission.json, predictions.jsonl, health.json,
summary.json, challenges.json, solutions.json) and, last and atomically, `metrics.json`:
the prediction metrics, the ARC score, the seconds and the health counts of that run.

A run is finished when its metrics.json exists, and finished runs are skipped: a sweep stopped
midway (Ctrl-C, a kill, a crash) continues where it stopped when started again. A run whose
notebook fails is reported in one line and retried next time; the sweep goes on meanwhile.
At the end the finished runs are aggregated into OUT/results.md and OUT/results.csv (best
vote_2 first) and plotted: OUT/vote_2_heatmap.png and OUT/ttft_loss.png.

Each notebook runs in a child process. nbclient takes over SIGINT and SIGTERM while it executes
(it shuts its kernel down and then reports an ordinary cell error), so in-process the sweep
could not tell Ctrl-C from a failed run. In a child, the parent gets its own KeyboardInterrupt,
stops the child (whose kernel is then shut down by nbclient) and stops the sweep.
"""

from __future__ import annotations

import ast
import csv
import hashlib
import itertools
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from .config import ConfigError

REPO = Path(__file__).resolve().parents[2]
SUBMISSION_NOTEBOOK = REPO / "notebooks" / "submission.ipynb"
EXECUTED_NAME = "submission.executed.ipynb"
LOG_NAME = "notebook.log"
METRICS_NAME = "metrics.json"
METRIC_COLUMNS = ("accuracy", "correct_pixels", "correct_size", "pass_n", "vote_1", "vote_2", "unanswered")
# Parameters the sweep sets itself: tasks come from --challenges/--solutions/--task-ids/--tasks,
# and each run writes into its own folder.
OWN_PARAMETERS = {"challenges": "--challenges", "solutions": "--solutions", "task_ids": "--task-ids or --tasks",
                  "output_dir": "--out (each run gets its own folder)"}
ERROR_MARK = "arc24-sweep-error: "  # the child's one-line failure message in notebook.log
POLL_SECONDS = 1.0


@dataclass
class SweepConfig:
    out: str
    challenges: str
    solutions: str | None = None  # None: the challenges hold their test outputs inline
    grid: dict[str, list] = field(default_factory=dict)  # parameter -> values, swept in this order
    fixed: dict[str, object] = field(default_factory=dict)  # the same for every run
    task_ids: list[str] = field(default_factory=list)  # empty: n_tasks chosen by seed
    n_tasks: int = 10  # 0: every task of the challenges file
    seed: int = 0
    notebook: str = str(SUBMISSION_NOTEBOOK)


@dataclass
class Run:
    name: str
    swept: dict  # the grid values of this run
    parameters: dict  # everything handed to the notebook
    folder: Path


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) during a sweep; the message says how far it got."""


# ---------------------------------------------------------------- the notebook


def execute_submission_notebook(parameters: Mapping, executed: str | os.PathLike, progress: bool = True,
                                notebook: str | os.PathLike | None = None) -> None:
    """Execute the submission notebook with PARAMETERS into EXECUTED, in this process.

    The kernel starts in the checkout, where the notebook finds `src/`. `make demo` and every
    sweep run go through here, so they run the notebook the same way.
    """
    import papermill

    papermill.execute_notebook(str(notebook or SUBMISSION_NOTEBOOK), str(executed), parameters=dict(parameters),
                               cwd=str(REPO), kernel_name="python3", progress_bar=progress)


def notebook_parameters(notebook: str | os.PathLike) -> dict[str, object]:
    """The parameters cell of NOTEBOOK: name -> default value (None where it is not a literal)."""
    import papermill

    if not Path(notebook).is_file():
        raise ConfigError(f"{notebook}: no such notebook")
    found = papermill.inspect_notebook(str(notebook))
    defaults = {}
    for name, info in found.items():
        try:
            defaults[name] = ast.literal_eval(info.get("default") or "None")
        except (ValueError, SyntaxError):  # e.g. `workers = os.cpu_count()`: type unknown
            defaults[name] = None
    return defaults


def failure_line(exc: BaseException) -> str:
    """One line saying why a notebook failed: the cell's exception, not papermill's traceback."""
    ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
    if ename is not None:
        first = str(evalue or "").strip().splitlines()
        where = f"cell {exc.exec_count}: " if getattr(exc, "exec_count", None) else ""
        return f"{where}{ename}: {first[0] if first else ''}".rstrip(": ")
    first = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {first[0]}" if first else type(exc).__name__


def _child_main(argv: Sequence[str]) -> int:
    """`python -m arc24.sweep SPEC_JSON`: execute one run's notebook (see the module docstring)."""
    spec = json.loads(argv[0])
    try:
        execute_submission_notebook(spec["parameters"], spec["executed"], progress=False, notebook=spec["notebook"])
    except Exception as exc:  # the parent reports it and goes on with the next run
        print(ERROR_MARK + failure_line(exc), flush=True)
        return 1
    return 0


# ---------------------------------------------------------------- parsing the grid


def parse_value(name: str, raw: str, default: object) -> object:
    """RAW as the type of the parameter's DEFAULT; without a typed default: int, float, bool or str.

    Never eval: a value is only ever parsed as a number, a boolean word or kept as text.
    """
    text = raw.strip()
    if isinstance(default, bool):
        words = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
        if text.lower() not in words:
            raise ConfigError(f"{name}={raw}: not a boolean (true or false)")
        return words[text.lower()]
    if isinstance(default, int):
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"{name}={raw}: not an integer (the notebook's default is {default})") from None
    if isinstance(default, float):
        try:
            value = float(text)
        except ValueError:
            raise ConfigError(f"{name}={raw}: not a number (the notebook's default is {default!r})") from None
        if not math.isfinite(value):
            raise ConfigError(f"{name}={raw}: not a finite number")
        return value
    if isinstance(default, str):
        return raw
    for parse in (int, float):
        try:
            return parse(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), raw)


def _split(item: str, option: str) -> tuple[str, str]:
    if "=" not in item:
        raise ConfigError(f"{option} {item!r}: expected name=value")
    name, raw = item.split("=", 1)
    return name.strip(), raw


def _check_name(name: str, option: str, defaults: Mapping) -> None:
    if name in OWN_PARAMETERS:
        raise ConfigError(f"{option} {name}: set by the sweep, use {OWN_PARAMETERS[name]}")
    if name not in defaults:
        raise ConfigError(f"{option} {name}: unknown notebook parameter {name} "
                          f"(known: {', '.join(sorted(set(defaults) - set(OWN_PARAMETERS)))})")


def parse_grid(items: Sequence[str], defaults: Mapping) -> dict[str, list]:
    """`name=v1,v2,...` items -> {name: [values]}, in the order given."""
    grid: dict[str, list] = {}
    for item in items:
        name, raw = _split(item, "--grid")
        _check_name(name, "--grid", defaults)
        if name in grid:
            raise ConfigError(f"--grid {name}: given twice")
        raws = raw.split(",")
        if any(not r.strip() for r in raws):
            raise ConfigError(f"--grid {item}: an empty value (values are separated by commas)")
        try:
            values = [parse_value(name, r, defaults[name]) for r in raws]
        except ConfigError as exc:
            raise ConfigError(f"--grid {exc}") from None
        if len(set(map(repr, values))) < len(values):
            raise ConfigError(f"--grid {item}: a value is listed twice")
        grid[name] = values
    return grid


def parse_fixed(items: Sequence[str], defaults: Mapping, grid: Mapping | None = None) -> dict[str, object]:
    """`name=value` items -> {name: value}; a swept parameter cannot also be fixed."""
    fixed = {}
    for item in items:
        name, raw = _split(item, "--set")
        _check_name(name, "--set", defaults)
        if grid and name in grid:
            raise ConfigError(f"--set {name}: also swept by --grid")
        try:
            fixed[name] = parse_value(name, raw, defaults[name])
        except ConfigError as exc:
            raise ConfigError(f"--set {exc}") from None
    return fixed


def check_config(config: SweepConfig, defaults: Mapping) -> None:
    """The checks of the parsers, for configs built in Python rather than from the command line."""
    for option, names in (("--grid", config.grid), ("--set", config.fixed)):
        for name in names:
            _check_name(name, option, defaults)
    both = sorted(set(config.grid) & set(config.fixed))
    if both:
        raise ConfigError(f"--set {both[0]}: also swept by --grid")
    for name, values in config.grid.items():
        if not values:
            raise ConfigError(f"--grid {name}: no values")


# ---------------------------------------------------------------- planning the runs


def _format(value: object) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def run_name(swept: Mapping) -> str:
    """The folder name of a run: `name=value` pairs joined by `__`, safe as a file name.

    A value that is not safe as-is (a model path, say) is cleaned, and a short hash of the
    exact values is added so that two values cleaned alike still get two folders.
    """
    if not swept:
        return "default"
    exact = "__".join(f"{k}={_format(v)}" for k, v in swept.items())
    safe = re.sub(r"[^A-Za-z0-9._=+-]", "-", exact)
    if safe != exact or len(safe) > 150:
        safe = f"{safe[:120]}-{hashlib.sha1(exact.encode()).hexdigest()[:8]}"
    return safe


def _absolute_paths(values: Mapping) -> dict:
    """Text values naming an existing file or folder, made absolute: the kernel runs in the
    checkout, not where the command was given."""
    return {k: str(Path(v).resolve()) if isinstance(v, str) and v and Path(v).exists() else v
            for k, v in values.items()}


def choose_task_ids(config: SweepConfig) -> list[str]:
    """The validation tasks: the ids given, or n_tasks of the challenges chosen by the seed."""
    from .data import DataError, Problem, load_tasks, sample_task_ids, select_tasks

    try:
        tasks = load_tasks(config.challenges, config.solutions)
        ids = list(select_tasks(tasks, config.task_ids)) if config.task_ids else []
    except DataError as exc:  # one line: the first problem, and how many more
        first, more = exc.problems[0], len(exc.problems) - 1
        raise DataError([replace(first, file=first.file or str(config.challenges),
                                 message=first.message + (f" (and {more} more)" if more else ""))]) from None
    if not config.task_ids:
        if not 0 <= config.n_tasks <= len(tasks):
            raise ConfigError(f"--tasks {config.n_tasks}: {config.challenges} has {len(tasks)} tasks")
        ids = sample_task_ids(tasks, config.n_tasks or len(tasks), config.seed)
    unknown = [t for t in ids if any(p.output is None for p in tasks[t].test)]
    if unknown:
        raise DataError([Problem(config.challenges, unknown[0], None,
                                 "no test outputs, so a sweep cannot score it (give --solutions FILE)")])
    return ids


def plan_runs(config: SweepConfig, task_ids: Sequence[str]) -> list[Run]:
    """One run per combination of the grid, in the grid's order (the last parameter varies fastest)."""
    common = {"challenges": str(Path(config.challenges).resolve()),
              "solutions": str(Path(config.solutions).resolve()) if config.solutions else "",
              "task_ids": ",".join(task_ids), **_absolute_paths(config.fixed)}
    runs = []
    for values in itertools.product(*config.grid.values()):
        swept = dict(zip(config.grid, values))
        folder = Path(config.out) / run_name(swept)
        parameters = {**common, **_absolute_paths(swept), "output_dir": str(folder.resolve())}
        runs.append(Run(folder.name, swept, parameters, folder))
    return runs


def read_metrics(folder: Path) -> dict | None:
    path = folder / METRICS_NAME
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: unreadable ({exc}); delete it to run that setting again") from None


def is_finished(run: Run) -> bool:
    """Whether RUN has its metrics.json; one made with other settings is an error, not a skip,
    so that a changed --set never passes an old result off as new."""
    done = read_metrics(run.folder)
    if done is None:
        return False
    before = {k: v for k, v in done.get("parameters", {}).items() if k != "output_dir"}
    now = {k: v for k, v in run.parameters.items() if k != "output_dir"}
    if before != now:
        diff = sorted(k for k in set(before) | set(now) if before.get(k) != now.get(k))
        key = diff[0]
        raise ConfigError(f"{run.folder}: finished with other settings ({key}: {before.get(key)!r} there, "
                          f"{now.get(key)!r} now); use another --out, or delete that folder to run it again")
    return True


# ---------------------------------------------------------------- one run


def _tasks_done(folder: Path) -> int:
    try:
        return len(json.loads((folder / "health.json").read_text()))
    except (OSError, ValueError):  # not written yet; a reader never sees half a file (atomic)
        return 0


def _stop(proc: subprocess.Popen) -> None:
    """Stop a notebook child: SIGTERM lets nbclient shut its kernel down; then kill if it hangs."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except (subprocess.TimeoutExpired, KeyboardInterrupt):  # a second Ctrl-C does not wait
        proc.kill()
        proc.wait()


def _note_descendants(pid: int, seen: dict) -> None:
    """Remember the processes under the notebook child: its kernel, and solve's task workers."""
    try:
        import psutil

        for p in psutil.Process(pid).children(recursive=True):
            seen.setdefault(p.pid, p)
    except Exception:  # psutil missing, or the child just ended: the clean-up is best effort
        pass


def _end_leftovers(seen: dict) -> None:
    """End what the run left running. The kernel runs in its own session and nbclient shuts it
    down, but processes the kernel started (solve's workers) outlive a kernel that is killed."""
    try:
        import psutil

        alive = [p for p in seen.values() if p.is_running()]  # is_running also guards against pid reuse
        for p in alive:
            p.terminate()
        _, still = psutil.wait_procs(alive, timeout=10)
        for p in still:
            p.kill()
    except Exception:
        pass


def _run_child(run: Run, notebook: str, n_tasks: int, progress: bool) -> str | None:
    """Execute RUN's notebook in a child process; None on success, else the one-line failure."""
    from tqdm.auto import tqdm

    spec = json.dumps({"parameters": run.parameters, "executed": str(run.folder / EXECUTED_NAME),
                       "notebook": str(notebook)})
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")]))}
    log = run.folder / LOG_NAME
    bar = tqdm(total=n_tasks, desc="  tasks", unit="task", leave=False, disable=not progress)
    with log.open("w") as handle:
        proc = subprocess.Popen([sys.executable, "-m", "arc24.sweep", spec], stdout=handle, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env)
        seen: dict = {}
        try:
            while proc.poll() is None:
                time.sleep(POLL_SECONDS)
                _note_descendants(proc.pid, seen)
                done = _tasks_done(run.folder)  # solve rewrites health.json after every task
                if done != bar.n:
                    bar.update(done - bar.n)
        finally:
            _stop(proc)  # only does something when interrupted
            _end_leftovers(seen)
            bar.close()
    if proc.returncode == 0:
        return None
    lines = log.read_text(errors="replace").splitlines()
    marked = [line[len(ERROR_MARK):] for line in lines if line.startswith(ERROR_MARK)]
    return marked[-1].strip() if marked else f"the notebook process ended with code {proc.returncode}"


def run_metrics(run: Run, seconds: float) -> dict:
    """metrics.json of a run: its parameters, the prediction metrics and ARC score from its own
    files, the seconds it took and its health counts."""
    from .scoring import prediction_metrics, read_reference, read_submission, score_submission

    folder = run.folder
    reference = read_reference(folder / "solutions.json", folder / "challenges.json")
    with (folder / "predictions.jsonl").open() as f:
        records = [json.loads(line) for line in f if line.strip()]
    predictions = prediction_metrics(records, reference)
    report = score_submission(read_submission(folder / "submission.json"), reference)
    health = json.loads((folder / "health.json").read_text())
    weights = {}
    for row in health:
        weights[row["weights"]] = weights.get(row["weights"], 0) + 1
    return {
        "run": run.name, "swept": run.swept, "parameters": run.parameters,
        "metrics": {m: predictions[m] for m in METRIC_COLUMNS},
        "predictions": predictions["predictions"], "tasks": predictions["tasks"], "outputs": predictions["outputs"],
        "score": report.score, "solved_outputs": report.solved_outputs, "seconds": round(seconds, 1),
        "health": {"weights": weights,
                   # failed, abandoned (over its time), died (its worker crashed), not started
                   "ttft_failed": sum(r["ttft_status"] not in ("ok", "skipped") for r in health),
                   "ttft_skipped": sum(r["ttft_status"] == "skipped" for r in health),
                   "placeholders": sum(r["placeholders"] for r in health),
                   "unparseable": sum(r["unparseable"] for r in health)},
        "per_task": {t: {"score": report.per_task[t]["score"], "vote_2": v["vote_2"], "pass_n": v["pass_n"]}
                     for t, v in predictions["per_task"].items()},
    }


# Outputs of an earlier attempt are removed first, so that nothing stale is read as this attempt's.
_RUN_OUTPUTS = ("submission.json", "predictions.jsonl", "health.json", "summary.json", EXECUTED_NAME, LOG_NAME)


def execute_run(run: Run, notebook: str, n_tasks: int, progress: bool = True) -> tuple[dict | None, str | None]:
    """Run one setting; (metrics, None) when finished, (None, one-line failure) when not."""
    from .submission import write_json_atomic

    run.folder.mkdir(parents=True, exist_ok=True)
    for name in _RUN_OUTPUTS:
        (run.folder / name).unlink(missing_ok=True)
    began = time.perf_counter()
    failure = _run_child(run, notebook, n_tasks, progress)
    if failure:
        return None, failure
    try:
        metrics = run_metrics(run, time.perf_counter() - began)
    except Exception as exc:  # a run that left unusable files is a failed run, not a crashed sweep
        return None, f"metrics: {failure_line(exc)}"
    write_json_atomic(metrics, run.folder / METRICS_NAME)  # last: from now on the run counts as finished
    return metrics, None


# ---------------------------------------------------------------- the sweep


def sweep(config: SweepConfig, progress: bool = True) -> dict:
    """Run every setting of the grid not finished yet, then aggregate and plot all finished runs."""
    from tqdm.auto import tqdm

    defaults = notebook_parameters(config.notebook)
    check_config(config, defaults)
    task_ids = choose_task_ids(config)
    runs = plan_runs(config, task_ids)
    finished = {run.name for run in runs if is_finished(run)}  # all checked before hours of work start
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    tqdm.write(f"[arc24 sweep] {_count(len(runs), 'run')} x {_count(len(task_ids), 'task')} "
               f"({len(finished)} finished before) into {out}/")
    ran, failed = [], []
    bar = tqdm(runs, desc="sweep", unit="run", disable=not progress, file=sys.stderr)
    previous = _sigterm_interrupts()
    try:
        for i, run in enumerate(bar, 1):
            head = f"[{i}/{len(runs)}] {run.name}"
            if run.name in finished:
                tqdm.write(f"{head}: skipped (finished before)")
                continue
            bar.set_postfix_str(run.name)
            began = time.perf_counter()
            metrics, failure = execute_run(run, config.notebook, len(task_ids), progress)
            took = time.perf_counter() - began
            if failure:
                failed.append({"run": run.name, "error": failure, "notebook": str(run.folder / EXECUTED_NAME)})
                tqdm.write(f"{head}: FAILED after {took:.0f}s: {failure} "
                           f"(notebook {run.folder / EXECUTED_NAME}, log {run.folder / LOG_NAME})")
                continue
            ran.append(run.name)
            m = metrics["metrics"]
            tqdm.write(f"{head}: done in {took:.0f}s: vote_2 {m['vote_2']:.3f}, pass_n {m['pass_n']:.3f}, "
                       f"score {metrics['score']:.3f}, weights {_weights_text(metrics)}")
    except KeyboardInterrupt:
        bar.close()
        done = sum(read_metrics_quiet(r.folder) is not None for r in runs)
        raise Interrupted(f"interrupted with {done} of {len(runs)} runs finished; start the same command again "
                          f"to continue (finished runs are skipped)") from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    bar.close()
    summary = aggregate(out, list(config.grid))
    return {**summary, "runs": len(runs), "skipped": sorted(finished), "ran": ran, "failed": failed,
            "task_ids": task_ids}


def _sigterm_interrupts():
    """Make SIGTERM (`kill`, a job scheduler) stop the sweep like Ctrl-C, so that the running
    notebook and its kernel are stopped too instead of left behind. The old handler, or None."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    try:
        return signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: signals stay as they are
        return None


def read_metrics_quiet(folder: Path) -> dict | None:
    try:
        return read_metrics(folder)
    except ConfigError:
        return None


# ---------------------------------------------------------------- the table


def finished_runs(out: str | os.PathLike) -> list[dict]:
    """The metrics.json of every finished run under OUT (earlier sweeps into OUT included)."""
    return [m for folder in sorted(Path(out).iterdir()) if folder.is_dir()
            for m in [read_metrics_quiet(folder)] if m is not None]


def swept_columns(runs: Sequence[dict], grid_order: Sequence[str] = ()) -> list[str]:
    """The parameters that differ between RUNS: the grid's first, in its order, then the others."""
    names = sorted({k for r in runs for k in r["parameters"]} - {"output_dir"})
    varying = [k for k in names if len({json.dumps(r["parameters"].get(k)) for r in runs}) > 1]
    return [k for k in grid_order if k in varying] + [k for k in varying if k not in grid_order]


def sort_runs(runs: Sequence[dict]) -> list[dict]:
    """Best first: vote_2, then score, then pass_n (all higher first), then fewer seconds, then name."""
    return sorted(runs, key=lambda r: (-r["metrics"]["vote_2"], -r["score"], -r["metrics"]["pass_n"],
                                       r["seconds"], r["run"]))


def _weights_text(metrics: dict) -> str:
    return " ".join(f"{k}:{v}" for k, v in sorted(metrics["health"]["weights"].items()) if v) or "-"


def table_rows(runs: Sequence[dict], columns: Sequence[str]) -> list[dict]:
    """One flat row per run, best first: run, swept parameters, metrics, score, seconds, health."""
    rows = []
    for r in sort_runs(runs):
        rows.append({"run": r["run"], **{c: r["parameters"].get(c) for c in columns},
                     **{m: r["metrics"][m] for m in METRIC_COLUMNS}, "score": r["score"], "seconds": r["seconds"],
                     "weights": _weights_text(r), "ttft_failed": r["health"]["ttft_failed"]})
    return rows


def markdown_table(rows: Sequence[dict]) -> str:
    if not rows:
        return "(no finished runs)"
    cols = list(rows[0])

    def cell(col, v):
        if isinstance(v, float) and col in METRIC_COLUMNS + ("score",):
            return f"{v:.3f}"
        if col == "seconds":
            return f"{v:.0f}"
        return _format(v) if v is not None else ""

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(c, r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def _replace(path: Path, write) -> Path:
    """Write through WRITE(tmp) then rename: a reader never sees half a table or picture."""
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    os.replace(tmp, path)
    return path


def write_tables(rows: Sequence[dict], out: Path) -> tuple[Path, Path]:
    def csv_to(tmp):
        with open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["run"])
            writer.writeheader()
            writer.writerows(rows)

    md = _replace(out / "results.md", lambda tmp: tmp.write_text(markdown_table(rows) + "\n"))
    return md, _replace(out / "results.csv", csv_to)


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
    return _replace(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))


def _count(n: int, noun: str) -> str:
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
        labels = [_format(json.loads(v)) for v in values]
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
    ax.set_title(f"vote_2 over {_count(len(runs), 'run')}")
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
    ax.set_xticks(range(len(xs)), [_format(json.loads(x)) for x in xs], fontsize=8)
    ax.set_yticks(range(len(ys)), [_format(json.loads(y)) for y in ys], fontsize=8)
    ax.set_xlabel(x_key)
    ax.set_ylabel(y_key)
    rest = list(columns[2:])
    ax.set_title("vote_2" + (f" (mean over {', '.join(rest)})" if rest else ""), fontsize=10)
    return _save(fig, path)


def mean_loss_curve(health: Sequence[Mapping]) -> list[float]:
    """Mean test-time fine-tuning loss per step over a run's tasks. Tasks may have fewer steps
    (skipped, failed, cut when behind schedule): each step averages the tasks that reached it."""
    curves = [row.get("ttft_losses") or [] for row in health]
    return [_mean([c[s] for c in curves if len(c) > s]) for s in range(max(map(len, curves), default=0))]


def plot_ttft_loss(runs: Sequence[dict], path: Path) -> Path:
    """One line per run: the mean fine-tuning loss per step over its tasks."""
    fig = _figure(7.5, 4.5)
    ax = fig.subplots()
    drawn = 0
    for r in sort_runs(runs):
        try:
            health = json.loads((Path(r["parameters"]["output_dir"]) / "health.json").read_text())
        except (OSError, ValueError, KeyError):
            continue
        curve = mean_loss_curve(health)
        if curve:
            label = ", ".join(f"{k}={_format(v)}" for k, v in r.get("swept", {}).items()) or r["run"]
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
    ax.set_title(f"test-time fine-tuning loss, {_count(drawn, 'run')}", fontsize=10)
    return _save(fig, path)


# ---------------------------------------------------------------- looking at tasks


def compare_runs(run_a: str | os.PathLike, run_b: str | os.PathLike,
                 out: str | os.PathLike | None = None) -> list[Path]:
    """PNGs of the tasks whose solved test outputs differ between two run folders, both runs'
    attempts side by side (render.render_changed). Default OUT: beside the runs, in
    compare/RUN_A__vs__RUN_B. The pictures call the runs A and B: run names are too long for
    the panel titles."""
    from .render import render_changed
    from .scoring import read_reference, read_submission

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


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
