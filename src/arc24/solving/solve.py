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
from dataclasses import asdict
from pathlib import Path

from arc24.files import write_json_atomic
from arc24.solving.config import SolveConfig, resolve_prompt
from arc24.solving.records import ERRORS_LOG, WEIGHTS, RunRecords, failed_outcome
from arc24.solving.task_solver import SolverSetup


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


def solve_precision(config: SolveConfig) -> tuple[str, str]:
    """(the precision of the base weights, a note when it is not what "auto" would hope for).

    bf16 where the device computes it natively (fast, half the memory); fp32 elsewhere, said
    aloud. fp16 is not used for solving: fine-tuning in fp16 needs a gradient scaler.
    """
    import torch

    from arc24.models import resolve_precision

    device = "cuda" if torch.cuda.is_available() else "cpu"
    precision = resolve_precision(config.precision, device)
    if precision == "fp16":
        return "fp32", "this GPU has no bf16; fine-tuning and predicting in fp32"
    if precision == "fp32" and config.precision == "auto" and device == "cpu":
        return "fp32", "this CPU has no native bf16; fine-tuning and predicting in fp32"
    return precision, ""


def _make_runner(setup: SolverSetup, devices: list, out: Path):
    from arc24.solving.workers import InProcessRunner, WorkerPool

    if setup.config.in_process:
        return InProcessRunner(setup)
    return WorkerPool(setup, devices, errors_log=out / ERRORS_LOG)


def solve(config: SolveConfig, progress: bool = True) -> dict:
    from tqdm.auto import tqdm

    from arc24.data.tasks import load_tasks, select_tasks
    from arc24.solving.inference import resolve_backend_name
    from arc24.solving.workers import Job, worker_devices

    config = config.with_profile()
    config.check()
    prompt = resolve_prompt(config)
    precision, precision_note = solve_precision(config)
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
    scratch = Path(config.scratch_dir or out / "scratch")
    settings = {**resume_settings(config), "prompt": asdict(prompt), "resolved_precision": precision}
    records = RunRecords(tasks, out, settings, config.resume, prompt=prompt.describe(), precision=precision)
    print(f"[arc24 solve] prompt: {prompt.describe()}; test-time fine-tuning: "
          + ("the trained adapter" if config.ttft.lora == "continue" else f"a new LoRA of rank {config.ttft.lora_rank}")
          + f"; precision: {precision}" + (f" ({precision_note})" if precision_note else ""))
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

    try:
        if queue:  # a finished run started again loads no model
            runner = _make_runner(SolverSetup(config, prompt, precision, backend_name, scratch), devices, out)
            try:
                runner.run(next_job, on_done)
            finally:
                runner.close()
    finally:
        bar.close()
    for task in queue:  # never started: the deadline came first
        job = Job(task, 0, 0, started=time.monotonic())
        records.add(job, failed_outcome(task.id, "not started", "the run's deadline was reached first"))
    health = list(records.health.values())
    summary = {"tasks": len(tasks), "submission": str(records.submission_path), "health": str(out / "health.json"),
               "challenges": str(out / "challenges.json"),
               "solutions": str(out / "solutions.json") if (out / "solutions.json").exists() else None,
               "predictions": str(records.predictions_path), "backend": backend_name,
               "weights": {w: sum(h.weights == w for h in health) for w in WEIGHTS},
               "prompt": asdict(prompt), "profile": config.profile, "ttft_lora": config.ttft.lora,
               "precision": precision, "precision_note": precision_note,
               "ttft_failed": [h.task_id for h in health if h.ttft_status == "failed"],
               "abandoned": [h.task_id for h in health if h.ttft_status in ("abandoned", "died")],
               "not_started": [h.task_id for h in health if h.ttft_status == "not started"],
               "placeholders": sum(h.placeholders for h in health),
               "errors": str(records.errors_path) if records.errors_path.exists() else None}
    write_json_atomic(summary, out / "summary.json")
    return summary
