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
At the end sweep_report.py aggregates the finished runs into OUT/results.md and OUT/results.csv
(best vote_2 first) and plots them: OUT/vote_2_heatmap.png and OUT/ttft_loss.png.

Each notebook runs in a child process. nbclient takes over SIGINT and SIGTERM while it executes
(it shuts its kernel down and then reports an ordinary cell error), so in-process the sweep
could not tell Ctrl-C from a failed run. In a child, the parent gets its own KeyboardInterrupt,
stops the child (whose kernel is then shut down by nbclient) and stops the sweep.
"""

from __future__ import annotations

import ast
import itertools
import json
import math
import os
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from arc24.config import ConfigError
from arc24.evaluation.scoring import METRICS
from arc24.files import first_difference, run_name, sigterm_interrupts
from arc24.sweeps.report import METRICS_NAME, aggregate, count_text, read_metrics, read_metrics_quiet, weights_text

REPO = Path(__file__).resolve().parents[3]
SUBMISSION_NOTEBOOK = REPO / "notebooks" / "submission.ipynb"
EXECUTED_NAME = "submission.executed.ipynb"
LOG_NAME = "notebook.log"
# Parameters the sweep sets itself: tasks come from --challenges/--solutions/--task-ids/--tasks,
# and each run writes into its own folder.
OWN_PARAMETERS = {"challenges": "--challenges", "solutions": "--solutions", "task_ids": "--task-ids or --tasks",
                  "out_dir": "--out (each run gets its own folder)"}
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
                               cwd=str(REPO), kernel_name="python3", progress_bar=progress,
                               config=kernel_config())


def kernel_config():
    """The kernel's channels encrypted with CurveZMQ keys that jupyter_client makes for it (the
    python3 kernelspec declares curve support): no plain-text TCP on this machine, and so no
    ipykernel warning about it in the run's output. A pyzmq built without curve keeps plain TCP
    (and the warning) rather than failing."""
    import zmq
    from traitlets.config import Config

    return Config({"KernelManager": {"transport_encryption": "auto"}}) if zmq.has("curve") else Config()


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
    """`python -m arc24.sweeps.sweep SPEC_JSON`: execute one run's notebook (see the module docstring)."""
    spec = json.loads(argv[0])
    try:
        execute_submission_notebook(spec["parameters"], spec["executed"], progress=False, notebook=spec["notebook"])
    except Exception as exc:  # the parent reports it and goes on with the next run
        traceback.print_exc()  # the whole story stays in notebook.log; the parent shows one line
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


def _absolute_paths(values: Mapping) -> dict:
    """Text values naming an existing file or folder, made absolute: the kernel runs in the
    checkout, not where the command was given."""
    return {k: str(Path(v).resolve()) if isinstance(v, str) and v and Path(v).exists() else v
            for k, v in values.items()}


def choose_task_ids(config: SweepConfig) -> list[str]:
    """The validation tasks: the ids given, or n_tasks of the challenges chosen by the seed."""
    from arc24.data.tasks import DataError, Problem, load_tasks, sample_task_ids, select_tasks

    try:
        tasks = load_tasks(config.challenges, config.solutions)
        ids = list(select_tasks(tasks, config.task_ids)) if config.task_ids else []
    except DataError as exc:  # one line: the first problem, and how many more
        first, more = exc.problems[0], len(exc.problems) - 1
        raise DataError([replace(first, file=first.file or str(config.challenges),
                                 message=first.message + (f" (and {more} more)" if more else ""))]) from None
    if not config.task_ids:
        if not 0 <= config.n_tasks <= len(tasks):
            raise ConfigError(f"--tasks must be between 0 and {len(tasks)} (0: all; {config.challenges} has "
                              f"{len(tasks)} tasks), got {config.n_tasks}")
        if config.seed < 0:
            raise ConfigError(f"--seed must be at least 0, got {config.seed}")
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
        parameters = {**common, **_absolute_paths(swept), "out_dir": str(folder.resolve())}
        runs.append(Run(folder.name, swept, parameters, folder))
    return runs


def check_run_settings(runs: Sequence[Run], defaults: Mapping) -> None:
    """Each run's solve settings checked (SolveConfig.check) before any notebook starts, so that a
    bad value in the grid is one line now, not a failed run hours later. Only for a notebook whose
    parameters are solve's settings (the submission notebook)."""
    from arc24.solving.config import from_notebook, notebook_names

    names = notebook_names()
    if not set(defaults) <= set(names):
        return
    for run in runs:
        try:
            from_notebook({k: v for k, v in run.parameters.items() if k in names}).with_profile().check()
        except ConfigError as exc:
            message = str(exc)
            for flat, dotted in names.items():
                if "." in dotted:
                    message = message.replace(dotted, flat)
            raise ConfigError(f"run {run.name}: {message}") from None


def is_finished(run: Run) -> bool:
    """Whether RUN has its metrics.json; one made with other settings is an error, not a skip,
    so that a changed --set never passes an old result off as new."""
    done = read_metrics(run.folder)
    if done is None:
        return False
    before = {k: v for k, v in done.get("parameters", {}).items() if k != "out_dir"}
    now = {k: v for k, v in run.parameters.items() if k != "out_dir"}
    key = first_difference(before, now)
    if key is not None:
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
        proc = subprocess.Popen([sys.executable, "-m", "arc24.sweeps.sweep", spec], stdout=handle, stderr=subprocess.STDOUT,
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
    from arc24.evaluation.scoring import prediction_metrics, read_reference, read_submission, score_submission
    from arc24.solving.predictions import read_predictions
    from arc24.solving.records import read_health

    folder = run.folder
    reference = read_reference(folder / "solutions.json", folder / "challenges.json")
    predictions = prediction_metrics(read_predictions(folder / "predictions.jsonl"), reference)
    report = score_submission(read_submission(folder / "submission.json"), reference)
    health = read_health(folder / "health.json")
    weights = {}
    for row in health:
        weights[row.weights] = weights.get(row.weights, 0) + 1
    return {
        "run": run.name, "swept": run.swept, "parameters": run.parameters,
        "metrics": {m: predictions[m] for m in METRICS},
        "predictions": predictions["predictions"], "tasks": predictions["tasks"], "outputs": predictions["outputs"],
        "score": report.score, "solved_outputs": report.solved_outputs, "seconds": round(seconds, 1),
        "health": {"weights": weights,
                   # failed, abandoned (over its time), died (its worker crashed), not started
                   "ttft_failed": sum(r.ttft_status not in ("ok", "skipped") for r in health),
                   "ttft_skipped": sum(r.ttft_status == "skipped" for r in health),
                   "placeholders": sum(r.placeholders for r in health),
                   "unparseable": sum(r.unparseable for r in health),
                   "errors": sum(bool(r.error_log) for r in health)},
        "per_task": {t: {"score": report.per_task[t]["score"], "vote_2": v["vote_2"], "pass_n": v["pass_n"]}
                     for t, v in predictions["per_task"].items()},
    }


# Outputs of an earlier attempt are removed first, so that nothing stale is read as this attempt's.
# submission.json, predictions.jsonl and health.json stay: solve resumes from them (checking the
# settings), and rewrites them all before the notebook can succeed.
_RUN_OUTPUTS = ("summary.json", EXECUTED_NAME, LOG_NAME)


def execute_run(run: Run, notebook: str, n_tasks: int, progress: bool = True) -> tuple[dict | None, str | None]:
    """Run one setting; (metrics, None) when finished, (None, one-line failure) when not."""
    from arc24.files import write_json_atomic

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
    check_run_settings(runs, defaults)
    finished = {run.name for run in runs if is_finished(run)}  # all checked before hours of work start
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    tqdm.write(f"[arc24 sweep] {count_text(len(runs), 'run')} x {count_text(len(task_ids), 'task')} "
               f"({len(finished)} finished before) into {out}/")
    ran, failed = [], []
    bar = tqdm(runs, desc="sweep", unit="run", disable=not progress, file=sys.stderr)
    previous = sigterm_interrupts()
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
                failed.append({"run": run.name, "error": failure, "notebook": str(run.folder / EXECUTED_NAME),
                               "log": str(run.folder / LOG_NAME)})
                tqdm.write(f"{head}: FAILED after {took:.0f}s: {failure} "
                           f"(notebook {run.folder / EXECUTED_NAME}, log {run.folder / LOG_NAME})")
                continue
            ran.append(run.name)
            m = metrics["metrics"]
            tqdm.write(f"{head}: done in {took:.0f}s: vote_2 {m['vote_2']:.3f}, pass_n {m['pass_n']:.3f}, "
                       f"score {metrics['score']:.3f}, weights {weights_text(metrics)}")
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


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
