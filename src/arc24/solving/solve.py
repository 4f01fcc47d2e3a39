"""`arc24 solve`: the submission pipeline, task by task.

For each task: test-time fine-tune (ttft.py), predict every test input under many augmented
views (inference.py), vote two attempts (voting.py), then write the submission, the predictions
and the health report, atomically, so a crash or a timeout still leaves a valid submission.

Never silent: every task has a health row saying which weights produced its predictions
("ttft", "fine-tuned" when its fine-tuning failed, "base" only when allowed by allow_base_model),
how fine-tuning went, and how many predictions parsed. Behind schedule, the remaining tasks get
fewer steps and views, and the report says so.

Tasks are solved by `TaskSolver`s (task_solver.py) in worker processes (workers.py): one per
GPU, in parallel, and a task that overruns its budget is abandoned, not the run. This process
only hands out tasks, votes and writes the files.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from arc24.config import ConfigError
from arc24.solving.ttft import TTFTSettings


@dataclass
class SolveConfig:
    challenges: str
    out_dir: str = "."
    solutions: str | None = None  # validation runs: score at the end
    model: str = "embedded"
    adapter: str | None = None  # the trained LoRA adapter (continued per task)
    task_ids: list[str] = field(default_factory=list)
    ttft: TTFTSettings = field(default_factory=TTFTSettings)
    n_views: int = 96  # 8 dihedral transforms x 12 colour/order variants
    backend: str = "auto"  # auto: vLLM when installed with a GPU, else transformers
    batch_size: int = 16
    max_new_tokens: int = 0  # 0: enough for a 30x30 grid
    deadline_hours: float = 12.0
    safety_margin_minutes: float = 45.0
    allow_base_model: bool = False  # predictions from weights without any fine-tuning need this
    verify_manifest: bool = False  # check the model folder against its packaging manifest first
    seed: int = 0
    workers: int = 0  # 0: one per GPU (1 on CPU)
    in_process: bool = False  # debugging: solve in this process; a hung task then hangs the run
    task_timeout_minutes: float = 0.0  # 0: 3x a task's planned share of the run; then it is abandoned
    vllm_gpu_memory_utilization: float = 0.45  # the engine shares the GPU with test-time fine-tuning
    scratch_dir: str = ""  # test-time fine-tuned adapters for vLLM; empty: OUT_DIR/scratch
    resume: bool = False  # keep the tasks an interrupted run in OUT_DIR finished (same settings only)


@dataclass
class Health:
    task_id: str
    ttft_status: str  # ok | skipped | failed | abandoned | died | not started
    ttft_reason: str
    ttft_steps: int
    first_loss: float | None
    last_loss: float | None
    ttft_seconds: float
    weights: str  # ttft | fine-tuned | base | none
    n_views: int
    valid: int
    unparseable: int
    too_long: int
    vote_margin: int
    placeholders: int
    seconds: float
    notes: str = ""
    ttft_losses: list[float] = field(default_factory=list)  # per step, for loss-curve plots


class Schedule:
    """Per-task budget from a global deadline; scales steps and views down when behind."""

    def __init__(self, n_tasks: int, deadline_hours: float, margin_minutes: float):
        self.start = time.monotonic()
        self.deadline = self.start + deadline_hours * 3600 - margin_minutes * 60
        self.n_tasks = n_tasks

    def scale(self, done: int) -> float:
        """1.0 on schedule; below 1 when the remaining tasks have less time each than planned."""
        planned = (self.deadline - self.start) / max(self.n_tasks, 1)
        left = max(self.deadline - time.monotonic(), 0.0) / max(self.n_tasks - done, 1)
        return min(1.0, left / planned) if planned > 0 else 0.0


class RunRecords:
    """The run's files, brought up to date after every task: a crash leaves them valid."""

    def __init__(self, tasks: dict, out: Path, settings: dict, resume: bool = False):
        from arc24.solving.submission import build_submission, write_json_atomic, write_submission
        from arc24.data.task import grid_to_list

        self.tasks, self.out = tasks, out
        self.votes: dict = {}
        self.health: dict[str, Health] = {}
        self.predictions_path = out / "predictions.jsonl"
        self.submission_path = out / "submission.json"
        settings_path = out / "solve_settings.json"
        # The tasks of this run, in the Kaggle layout, so that a subset run validates and scores
        # against exactly what it was asked to solve.
        write_json_atomic({t: task.to_json(with_test_outputs=False) for t, task in tasks.items()},
                          out / "challenges.json")
        if all(p.output is not None for task in tasks.values() for p in task.test):
            write_json_atomic({t: [grid_to_list(p.output) for p in task.test] for t, task in tasks.items()},
                              out / "solutions.json")
        if resume and settings_path.exists() and (out / "health.json").exists():
            self._resume(settings, json.loads(settings_path.read_text()))
            return
        write_json_atomic(settings, settings_path)
        self.predictions_path.write_text("")
        write_submission(build_submission(tasks, {})[0], self.submission_path)  # valid from the very start

    def _resume(self, settings: dict, before: dict) -> None:
        """Keep the tasks an interrupted run finished (those with a health row) and their predictions."""
        from arc24.solving.inference import Prediction
        from arc24.solving.submission import build_submission, write_atomic, write_submission
        from arc24.solving.voting import vote_all

        if before != settings:
            key = next(k for k in sorted(set(before) | set(settings)) if before.get(k) != settings.get(k))
            raise ConfigError(f"{self.out}: an earlier run there used other settings ({key}: {before.get(key)!r} "
                              f"there, {settings.get(key)!r} now); use another output folder, or resume: false")
        for row in json.loads((self.out / "health.json").read_text()):
            if row["task_id"] in self.tasks and row["ttft_status"] != "not started":
                self.health[row["task_id"]] = Health(**row)
        # A task cut off between its predictions and its health row is solved again: drop its lines.
        kept = [line for line in self.predictions_path.read_text().splitlines()
                if line.strip() and json.loads(line)["task_id"] in self.health]
        write_atomic(self.predictions_path, lambda tmp: tmp.write_text("".join(line + "\n" for line in kept)))
        self.votes = vote_all(Prediction.from_json(json.loads(line)) for line in kept)
        write_submission(build_submission(self.tasks, self.votes)[0], self.submission_path)
        self._write_health()

    def add(self, job, outcome) -> Health:
        from arc24.solving.submission import build_submission, write_submission
        from arc24.solving.voting import vote

        task_id, result, preds = outcome.task_id, outcome.ttft, outcome.predictions
        with self.predictions_path.open("a") as handle:
            for p in preds:
                handle.write(json.dumps({**p.to_json(), "weights": outcome.weights}) + "\n")
        margins = []
        for i in range(len(self.tasks[task_id].test)):
            voted = vote([p for p in preds if p.test_index == i])
            self.votes[(task_id, i)] = voted
            margins.append(voted.margin)
        submission, placeholders = build_submission(self.tasks, self.votes)
        write_submission(submission, self.submission_path)
        health = Health(
            task_id, result.status, result.reason, result.steps, result.first_loss, result.last_loss,
            round(result.seconds, 2), outcome.weights, outcome.n_views, sum(p.grid is not None for p in preds),
            sum(p.grid is None for p in preds), len(outcome.too_long), min(margins) if margins else 0,
            sum(1 for t, _ in placeholders if t == task_id), round(time.monotonic() - job.started, 2),
            job.notes, [round(x, 5) for x in result.losses])
        self.health[task_id] = health
        self._write_health()
        return health

    def _write_health(self) -> None:
        from arc24.solving.submission import write_json_atomic

        # In the order of the tasks, whichever worker finished first.
        rows = [asdict(self.health[t]) for t in self.tasks if t in self.health]
        write_json_atomic(rows, self.out / "health.json")


# Settings that change what a run predicts; a resumed run must have the same ones. Workers, time
# limits, batch size and folders only change how fast or where.
_NOT_RESUME_SETTINGS = {"out_dir", "resume", "workers", "in_process", "task_timeout_minutes", "deadline_hours",
                        "safety_margin_minutes", "batch_size", "scratch_dir", "verify_manifest",
                        "vllm_gpu_memory_utilization"}


def resume_settings(config: SolveConfig) -> dict:
    return json.loads(json.dumps({k: v for k, v in asdict(config).items() if k not in _NOT_RESUME_SETTINGS}))


def task_timeout_seconds(config: SolveConfig, schedule: Schedule, n_workers: int) -> float:
    """How long one task may run before it is abandoned: set, or 3x its planned share of the run.

    With W workers in parallel, each task's planned share is W times the run's time per task.
    """
    if config.task_timeout_minutes:
        return config.task_timeout_minutes * 60
    return 3 * n_workers * (schedule.deadline - schedule.start) / max(schedule.n_tasks, 1)


def _make_runner(config: SolveConfig, scratch: Path, backend_name: str, devices: list):
    from arc24.solving.workers import InProcessRunner, WorkerPool

    if config.in_process:
        return InProcessRunner(config, scratch, backend_name)
    return WorkerPool(config, scratch, backend_name, devices)


def solve(config: SolveConfig, progress: bool = True) -> dict:
    from tqdm.auto import tqdm

    from arc24.data.tasks import load_tasks, select_tasks
    from arc24.solving.inference import resolve_backend_name
    from arc24.solving.workers import Job, failed_outcome, worker_devices

    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tasks = load_tasks(config.challenges, config.solutions)
    if config.task_ids:
        tasks = select_tasks(tasks, config.task_ids)
    if config.verify_manifest:
        from arc24.manifest import require_manifest

        require_manifest(config.model)
        if config.adapter:
            require_manifest(config.adapter)
    backend_name = resolve_backend_name(config.backend)
    if not config.adapter and not config.ttft.new_lora_rank:
        config.ttft.new_lora_rank = 16  # no trained adapter: test-time fine-tune a new LoRA
    scratch = Path(config.scratch_dir or out / "scratch")
    records = RunRecords(tasks, out, resume_settings(config), config.resume)
    if records.health:
        print(f"[arc24 solve] resuming in {out}: {len(records.health)} of {len(tasks)} tasks done before")
    queue = [task for task_id, task in tasks.items() if task_id not in records.health]
    schedule = Schedule(len(queue), config.deadline_hours, config.safety_margin_minutes)
    devices = [None] if config.in_process else worker_devices(config.workers)
    timeout = task_timeout_seconds(config, schedule, len(devices))
    n_queued = len(queue)
    bar = tqdm(total=len(tasks), initial=len(tasks) - n_queued, desc="tasks", unit="task", disable=not progress)

    def next_job():
        if not queue or time.monotonic() >= schedule.deadline:
            return None
        scale = schedule.scale(n_queued - len(queue))
        scale = 1.0 if scale > 0.95 else scale  # small delays are noise, not a reason to cut work
        notes = "" if scale >= 1 else f"behind schedule: steps and views x{scale:.2f}"
        return Job(queue.pop(0), steps=max(int(config.ttft.steps * scale), 0),
                   n_views=max(int(config.n_views * scale), 1), notes=notes,
                   deadline=min(time.monotonic() + timeout, schedule.deadline))

    def on_done(job, outcome):
        health = records.add(job, outcome)
        bar.update(1)
        bar.set_postfix(task=health.task_id, weights=health.weights)

    runner = _make_runner(config, scratch, backend_name, devices)
    try:
        runner.run(next_job, on_done)
    finally:
        runner.close()
        bar.close()
    for task in queue:  # never started: the deadline came first
        job = Job(task, 0, 0, started=time.monotonic())
        records.add(job, failed_outcome(task.id, "not started", "the run's deadline was reached first"))
    health = list(records.health.values())
    summary = {"tasks": len(tasks), "submission": str(records.submission_path), "health": str(out / "health.json"),
               "challenges": str(out / "challenges.json"),
               "solutions": str(out / "solutions.json") if (out / "solutions.json").exists() else None,
               "predictions": str(records.predictions_path), "backend": backend_name,
               "weights": {w: sum(h.weights == w for h in health) for w in ("ttft", "fine-tuned", "base", "none")},
               "ttft_failed": [h.task_id for h in health if h.ttft_status == "failed"],
               "abandoned": [h.task_id for h in health if h.ttft_status in ("abandoned", "died")],
               "not_started": [h.task_id for h in health if h.ttft_status == "not started"],
               "placeholders": sum(h.placeholders for h in health)}
    from arc24.solving.submission import write_json_atomic

    write_json_atomic(summary, out / "summary.json")
    return summary


def health_table(path: str | Path) -> str:
    """The health report as a Markdown table (the notebook prints it at the end)."""
    rows = json.loads(Path(path).read_text())
    cols = ["task_id", "ttft_status", "ttft_steps", "first_loss", "last_loss", "weights", "valid", "unparseable",
            "too_long", "vote_margin", "placeholders", "seconds", "ttft_reason", "notes"]

    def cell(v):
        return f"{v:.3f}" if isinstance(v, float) else ("" if v is None else str(v))

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(lines)
