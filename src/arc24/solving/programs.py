"""The program half of a run: the program search (arc24.programs) in CPU processes of its own.

`ProgramPool` searches the run's tasks in order, in `programs.workers` processes, while the
model's workers fine-tune and predict (on a GPU machine the CPU cores are otherwise idle). Each
task's `ProgramOutcome` goes to `programs.jsonl` as soon as it is known, so a run stopped by
Ctrl-C or kill -9 and started again keeps every search it finished. When the model's outcome
of a task comes in, the supervisor adds that task's program answers to it (`predictions`), and
the ensemble rule (voting.ENSEMBLES) chooses the two attempts from both.

A search that raises is a bug of ours: the task gets no program answers, its status says
"failed", and the traceback goes to errors.log. A process that dies, or a search that overruns
its budget by far, costs that task's search only; a fresh process takes the next task.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing as mp
import os
import queue as queue_module
import signal
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

from arc24.config import ConfigError
from arc24.data.task import Task, as_grid, grid_to_list
from arc24.programs import ProgramSettings
from arc24.solving.predictions import Prediction
from arc24.solving.progress import duration

PROGRAMS_FILE = "programs.jsonl"
# A search checks its CPU clock between steps; one that has used far more CPU than its budget is
# stuck, and so is one that has not answered in many times its budget of wall time (a busy machine
# stretches a search's wall time, not its CPU time).
OVERRUN_FACTOR, OVERRUN_GRACE, OVERRUN_WALL_FACTOR = 2.0, 30.0, 20.0


def _cpu_seconds(pid: int) -> float | None:
    """A process's CPU seconds so far (Linux /proc), None where that cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _overran(pid: int, wall: float, cpu_began: float | None, limit: float) -> bool:
    """Past LIMIT seconds of CPU on its task (since CPU_BEGAN), or past many times that of wall time."""
    cpu = _cpu_seconds(pid)
    spent = None if cpu is None or cpu_began is None else cpu - cpu_began
    return wall > limit * OVERRUN_WALL_FACTOR or (spent is not None and spent > limit)


@dataclass
class ProgramOutcome:
    """What the search found for one task: a line of programs.jsonl."""

    task_id: str
    status: str  # done | time | states (the budget that stopped it) | failed | died | abandoned | not started
    seconds: float = 0.0
    states: int = 0
    depth: int = 0
    program: str = ""  # the simplest program that fits every train pair; "" when none does
    train_pairs: int = 0
    # Per test input, up to two distinct answers, simplest program first: {"grid": rows, "program": text,
    # "generalises": whether its learned step predicts each train pair left out of its fit}
    answers: list[list[dict]] = field(default_factory=list)
    reason: str = ""
    traceback: str = ""  # for errors.log only, never written to programs.jsonl

    def grids(self) -> list[list]:
        """Per test input, the answers' grids, simplest program first."""
        return [[as_grid(a["grid"]) for a in answers] for answers in self.answers]

    def predictions(self, scores: list | None = None) -> list[Prediction]:
        """The answers as predictions of the source "programs" (one per answer, simplest first), with
        the model's SCORES of them (per test input, as `grids`) when it scored them."""
        return [Prediction(self.task_id, i, {}, as_grid(a["grid"]), text=a["program"], reason=None,
                           logprob_mean=0.0, n_tokens=0, weights="", source="programs", program=a["program"],
                           generalises=a.get("generalises", True),
                           score=scores[i][k] if scores and i < len(scores) and k < len(scores[i]) else None)
                for i, answers in enumerate(self.answers) for k, a in enumerate(answers)]

    def health(self) -> dict:
        """The health row's `programs` entry."""
        fit = f"every train pair ({self.train_pairs})" if self.program else "no program fits"
        return {"status": self.status, "seconds": round(self.seconds, 2), "states": self.states, "depth": self.depth,
                "program": self.program, "fit": fit, "reason": self.reason}

    def to_json(self) -> dict:
        d = asdict(self)
        d.pop("traceback")
        return d


def search_outcome(task: Task, settings: ProgramSettings) -> ProgramOutcome:
    """Search TASK within SETTINGS' budget; a failure of the search is the outcome's status, never raised."""
    from arc24.programs.solver import solve

    began = time.perf_counter()
    try:
        result = solve(task, settings)
    except Exception as exc:  # noqa: BLE001 - a bug of ours: the task's search fails, the run goes on
        from arc24.solving.workers import one_line

        return ProgramOutcome(task.id, "failed", time.perf_counter() - began, train_pairs=len(task.train),
                              reason=f"{one_line(exc)} (traceback in errors.log)", traceback=traceback.format_exc())
    answers = [[{"grid": grid_to_list(a.answer), "program": a.program, "generalises": a.generalises}
                for a in result.attempts(i)]
               for i in range(len(task.test))]
    best = result.best
    return ProgramOutcome(task.id, result.status, result.seconds, result.states, result.depth,
                          best.program if best else "", len(task.train), answers)


def read_outcomes(path: Path) -> dict[str, ProgramOutcome]:
    """The searches a run finished, by task id; a line cut off by a kill is dropped (that task is searched again)."""
    outcomes: dict[str, ProgramOutcome] = {}
    if not path.exists():
        return outcomes
    lines = path.read_text(encoding="utf-8").split("\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            outcomes[d["task_id"]] = ProgramOutcome(**d)
        except (ValueError, KeyError, TypeError) as exc:
            if number == len(lines):  # the last line, cut off mid-write
                continue
            raise ConfigError(f"{path}: line {number} is not a program search's outcome ({exc})") from None
    return outcomes


def drop_cut_off_line(path: Path) -> None:
    """Cut a last line left without its newline by a kill (read_outcomes drops it), so that the next
    line appended starts a line of its own instead of making it a bad line in the middle."""
    if not path.exists():
        return
    with open(path, "rb+") as f:
        data = f.read()
        if data and not data.endswith(b"\n"):
            f.truncate(data.rfind(b"\n") + 1)


def append_outcome(path: Path, outcome: ProgramOutcome) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(outcome.to_json()) + "\n")


# programs.seconds=0 gives each task this share of the time its process has before the deadline, within
# these bounds: beside the model (on a GPU machine) the cores are otherwise idle; before it, the
# model needs most of the run.
DEADLINE_SHARE = {True: 0.8, False: 0.2}
FITTED_SECONDS = (10.0, 600.0)
# The competition's run on Kaggle (submission notebook, no challenges given): the CPU cores search for
# hours beside the GPUs, so the search goes deeper and keeps more states (about 1 KB each) where
# these settings were left at their defaults.
COMPETITION_PROGRAMS = {"seconds": 0.0, "compiled_depth": 4, "max_states": 2_000_000}


def seconds_fitting_the_deadline(config, n_tasks: int, workers: int, beside_model: bool) -> float:
    """The CPU seconds per task that the run's deadline leaves its search processes (programs.seconds=0)."""
    hours = config.deadline_hours - config.safety_margin_minutes / 60
    each = hours * 3600 * DEADLINE_SHARE[beside_model] * max(workers, 1) / max(n_tasks, 1)
    low, high = FITTED_SECONDS
    return round(min(max(each, low), high), 1)


def for_the_competition(settings: ProgramSettings) -> ProgramSettings:
    """SETTINGS with COMPETITION_PROGRAMS for those left at their defaults."""
    default = ProgramSettings()
    return dataclasses.replace(settings, **{k: v for k, v in COMPETITION_PROGRAMS.items()
                                            if getattr(settings, k) == getattr(default, k)})


def program_workers(settings: ProgramSettings, model_workers: int, gpu: bool) -> int:
    """How many search processes: as set, else every core the model's workers leave (at least one)."""
    if settings.workers:
        return settings.workers
    cores = os.cpu_count() or 1
    return max(1, cores - model_workers) if gpu else cores


def _search_main(jobs, results, settings: ProgramSettings, parent_pid: int) -> None:
    """A search process: tasks from JOBS until None; ("started", pid, id) and ("outcome", ProgramOutcome) to RESULTS."""
    import threading

    from arc24.solving.workers import exit_with

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the supervisor's to handle
    threading.Thread(target=exit_with, args=(parent_pid,), daemon=True).start()
    os.environ["OMP_NUM_THREADS"] = "1"
    while (task := jobs.get()) is not None:
        results.put(("started", os.getpid(), task.id))
        results.put(("outcome", search_outcome(task, settings)))


class ProgramPool:
    """Searches TASKS in order in N processes; `outcome(task_id)` waits for one; ON_OUTCOME sees each
    as it comes, ON_START(task_id) each search as a process starts it."""

    def __init__(self, tasks: list[Task], settings: ProgramSettings, n: int, on_outcome=None, on_start=None):
        self.settings, self.on_outcome, self.on_start = settings, on_outcome, on_start
        self.ctx = mp.get_context("spawn")
        self.jobs, self.results = self.ctx.Queue(), self.ctx.Queue()
        self.pending = {t.id for t in tasks}
        self.outcomes: dict[str, ProgramOutcome] = {}
        self.running: dict[int, tuple[str, float, float | None]] = {}  # pid -> (task id, when it started, its CPU then)
        self.walls: list[float] = []  # the wall seconds of each search finished (a busy machine stretches them)
        for task in tasks:
            self.jobs.put(task)
        self.processes = []
        for _ in range(min(n, len(tasks))):
            self._start()

    def _start(self) -> None:
        p = self.ctx.Process(target=_search_main, args=(self.jobs, self.results, self.settings, os.getpid()),
                             daemon=True, name="arc24-programs")
        p.start()
        self.jobs.put(None)  # one stop sign per process, after every task
        self.processes.append(p)

    def _record(self, outcome: ProgramOutcome) -> None:
        self.pending.discard(outcome.task_id)
        self.outcomes[outcome.task_id] = outcome
        if self.on_outcome is not None:
            self.on_outcome(outcome)

    def poll(self, timeout: float = 0.0) -> None:
        """Take in what the processes reported within TIMEOUT seconds; replace a dead or stuck one."""
        try:
            message = self.results.get(timeout=timeout) if timeout > 0 else self.results.get_nowait()
            while True:
                if message[0] == "started":
                    self.running[message[1]] = (message[2], time.monotonic(), _cpu_seconds(message[1]))
                    if self.on_start is not None:
                        self.on_start(message[2])
                else:
                    outcome = message[1]
                    began = [r[1] for r in self.running.values() if r[0] == outcome.task_id]
                    if began:
                        self.walls.append(time.monotonic() - began[0])
                    self.running = {pid: r for pid, r in self.running.items() if r[0] != outcome.task_id}
                    self._record(outcome)
                message = self.results.get_nowait()
        except queue_module.Empty:
            pass
        limit = self.settings.seconds * OVERRUN_FACTOR + OVERRUN_GRACE
        for p in list(self.processes):
            task_id, began, cpu_began = self.running.get(p.pid, (None, 0.0, None))
            stuck = task_id is not None and _overran(p.pid, time.monotonic() - began, cpu_began, limit)
            if p.is_alive() and not stuck:
                continue
            if not p.is_alive() and p.exitcode == 0:
                continue
            if p.is_alive():
                p.kill()
                p.join(timeout=10)
            self.processes.remove(p)
            self.running.pop(p.pid, None)
            if task_id is not None and task_id in self.pending:
                status, why = ("abandoned", f"no answer after {limit:.0f} s; its process was stopped") if stuck \
                    else ("died", f"its process exited (code {p.exitcode})")
                self._record(ProgramOutcome(task_id, status, reason=why))
            if self.pending:
                self._start()

    def outcome(self, task_id: str, deadline: float = float("inf")) -> ProgramOutcome:
        """TASK_ID's outcome, waiting for it until DEADLINE (time.monotonic()), else "not started"."""
        while task_id in self.pending and time.monotonic() < deadline:
            self.poll(timeout=0.5)
        return self.outcomes.get(task_id) or ProgramOutcome(task_id, "not started", reason="the run's deadline came first")

    def seconds_left(self) -> float:
        """An estimate of the wall time until every search is done: the searches not started yet and
        the rest of the running ones, at the pace of those finished, shared by the processes."""
        each = sum(self.walls) / len(self.walls) if self.walls else self.settings.seconds
        now = time.monotonic()
        running = {task_id: began for task_id, began, _ in self.running.values() if task_id in self.pending}
        rest = sum(max(each - (now - began), 0.0) for began in running.values())
        return (rest + (len(self.pending) - len(running)) * each) / max(len(self.processes), 1)

    def wait_all(self, deadline: float = float("inf"), on_progress=None) -> None:
        while self.pending and time.monotonic() < deadline:
            self.poll(timeout=0.5)
            if on_progress is not None:
                on_progress(len(self.outcomes))

    def close(self, abort: bool = False) -> None:
        for p in self.processes:
            if p.is_alive():
                p.terminate() if abort else p.kill()
        for p in self.processes:
            p.join(timeout=10)
        self.jobs.cancel_join_thread()
        self.results.cancel_join_thread()


class RunPrograms:
    """The program search of one solve run: the outcomes kept in programs.jsonl, and a pool for the rest.

    On a machine without a GPU the model's workers take every core, so the search runs first,
    on every core, and the model after it (together they take what each takes alone); with a GPU
    it runs beside the model's workers on the cores they leave.
    """

    def __init__(self, config, records, queue: list[Task], model_workers: int, gpu: bool):
        self.enabled = config.solvers != "model"
        self.settings: ProgramSettings = config.programs
        self.path = records.out / PROGRAMS_FILE
        self.kept = read_outcomes(self.path) if self.enabled and records.same_settings else {}
        if self.enabled and records.same_settings:
            drop_cut_off_line(self.path)  # this run appends its searches after the kept ones
        self.to_search = [t for t in queue if t.id not in self.kept] if self.enabled else []
        self.workers = program_workers(self.settings, model_workers if config.solvers == "both" else 0, gpu)
        self.first = config.solvers == "both" and not gpu
        if self.settings.seconds == 0:
            seconds = seconds_fitting_the_deadline(config, len(self.to_search), self.workers, beside_model=gpu)
            self.settings = dataclasses.replace(self.settings, seconds=seconds)
        # The model needs a task's programs before it starts that task: to skip it, or to score them
        self.needed_before_model = self.enabled and (self.settings.skip_model or config.ensemble == "score")
        self.alone = config.solvers == "programs"
        self.pool: ProgramPool | None = None
        self.watch = None  # solve.ProgressBar: a line per search as it starts and ends

    def start(self, watch, deadline: float = float("inf")) -> None:
        if not self.to_search:
            return
        n = len(self.to_search)
        print(f"[arc24 solve] program search: {n} task{'s' if n != 1 else ''}, {self.settings.seconds:g} s each at most, "
              f"in {min(self.workers, n)} process{'es' if min(self.workers, n) != 1 else ''}"
              + (" before the model (no GPU: the model's workers will take every core)" if self.first else "")
              + (f"; {len(self.kept)} kept from {self.path.name}" if self.kept else ""))
        self.watch = watch
        self.pool = ProgramPool(self.to_search, self.settings, self.workers, on_outcome=self._write,
                                on_start=lambda task_id: watch.program_started(task_id, self.settings.seconds))
        if self.first:
            bar, last = watch.bar, [-1]

            def shown(done: int) -> None:
                if done != last[0]:
                    last[0] = done
                    bar.set_description_str(f"program search {done}/{n}")

            self.pool.wait_all(deadline, on_progress=shown)

    def _write(self, outcome: ProgramOutcome) -> None:
        append_outcome(self.path, outcome)
        if self.watch is not None:
            self.watch.program_done(outcome, self._left())

    def _left(self) -> str:
        """"; 2 of 3 searched, about 20 s left" while the search runs alone (first, or without the model)."""
        if self.pool is None or not (self.first or self.alone):
            return ""
        done, pending = len(self.pool.outcomes), len(self.pool.pending)
        of = " of the search" if self.first else ""
        return f"; {done} of {done + pending} searched" + \
            (f", about {duration(self.pool.seconds_left())} left{of}" if pending else "")

    def poll(self) -> None:
        """Take in what the search processes reported so far (their lines), without waiting."""
        if self.pool is not None:
            self.pool.poll()

    def outcome(self, task_id: str, deadline: float = float("inf")) -> ProgramOutcome | None:
        """TASK_ID's search (kept, or waited for until DEADLINE); None when the run searches no programs."""
        if not self.enabled:
            return None
        if task_id in self.kept:
            return self.kept[task_id]
        if self.pool is None:
            return ProgramOutcome(task_id, "not started", reason="the run's deadline came first")
        return self.pool.outcome(task_id, deadline)

    def close(self, abort: bool = False) -> None:
        if self.pool is not None:
            self.pool.close(abort)
            self.pool = None


def programs_summary(health: list) -> dict:
    """summary.json's `programs`: how the searches went over the run's tasks."""
    rows = [h.programs for h in health if h.programs]
    statuses: dict[str, int] = {}
    for r in rows:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    return {"searched": len(rows), "fitted": sum(bool(r["program"]) for r in rows),
            "model_skipped": sum(h.weights == "programs" and bool(h.programs.get("program")) for h in health),
            "seconds": round(sum(r["seconds"] for r in rows), 1), "status": statuses}


def solved_by_source(records) -> dict:
    """With the test outputs known: the tasks solved by the run's attempts, and by each source's alone."""
    from arc24.data.task import grids_equal
    from arc24.solving.predictions import read_predictions
    from arc24.solving.voting import vote_all

    predictions = [p for p in read_predictions(records.predictions_path) if p.task_id in records.health]
    attempts = {
        "ensemble": records.votes,
        "programs": vote_all([p for p in predictions if p.source == "programs"], records.selection),
        "model": vote_all([p for p in predictions if p.source != "programs"], records.selection),
    }
    solved = {name: [] for name in attempts}
    for task_id in records.health:
        task = records.tasks[task_id]
        for name, votes in attempts.items():
            right = [(v := votes.get((task_id, i))) is not None
                     and (grids_equal(v.attempt_1, p.output) or grids_equal(v.attempt_2, p.output))
                     for i, p in enumerate(task.test)]
            if right and all(right):
                solved[name].append(task_id)
    return {"tasks": len(records.health), **{name: len(ids) for name, ids in solved.items()},
            "tasks_solved": solved}


def attempt_sources(run_dir: str | Path, task: Task) -> tuple[list[dict], list[str], list[list[str]]]:
    """TASK's attempts in a run, as the run chose them; a line per attempt: its source and program;
    and per test input, each attempt's source and program alone (to write under its picture)."""
    from arc24.files import read_json
    from arc24.solving.predictions import read_predictions
    from arc24.solving.voting import DEFAULT_ENSEMBLE, vote

    run = Path(run_dir)
    settings = read_json(run / "solve_settings.json", "settings")
    mine = [p for p in read_predictions(run / "predictions.jsonl") if p.task_id == task.id]
    if not mine:
        raise ConfigError(f"{run}: no predictions for task {task.id} (not solved there yet?)")
    attempts, lines, notes = [], [], []
    for i in range(len(task.test)):
        voted = vote([p for p in mine if p.test_index == i], settings.get("selection", "vote"),
                     settings.get("ensemble", DEFAULT_ENSEMBLE))
        attempts.append({f"attempt_{k + 1}": grid_to_list(c.grid) for k, c in enumerate(voted.ranking[:2])})
        notes.append([])
        for k, c in enumerate(voted.ranking[:2]):
            how = f"{c.votes} vote{'s' if c.votes != 1 else ''}" if "model" in c.source else ""
            notes[i].append(c.source + (f" ({how})" if how else "") + (f": {c.program}" if c.program else ""))
            lines.append(f"test {i} attempt {k + 1}: {notes[i][k]}")
    return attempts, lines, notes
