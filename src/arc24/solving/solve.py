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
from arc24.solving.config import SolveConfig, check_backend, resolve_prompt
from arc24.solving.programs import RunPrograms, programs_summary, solved_by_source
from arc24.solving.progress import StageLines, duration, progress_stream
from arc24.solving.records import ERRORS_LOG, WEIGHTS, RunRecords, TaskOutcome, TTFTResult, failed_outcome
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


# Settings that change what a run predicts; a continued run must have the same ones. Workers, time
# limits, batch size and folders only change how fast or where.
_NOT_RESUME_SETTINGS = {"out_dir", "overwrite", "workers", "in_process", "task_timeout_minutes", "deadline_hours",
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

    bf16 where the device computes it natively (fast, half the memory); fp16 on a GPU without
    bf16 (a T4: test-time fine-tuning then runs with a gradient scaler, ttft.py); fp32 on a CPU
    without bf16, said aloud.
    """
    import torch

    from arc24.models import resolve_precision

    device = "cuda" if torch.cuda.is_available() else "cpu"
    precision = resolve_precision(config.precision, device)
    if precision == "fp16":
        return "fp16", "this GPU has no bf16; fine-tuning in fp16 with a gradient scaler (LoRA weights fp32)"
    if precision == "fp32" and config.precision == "auto" and device == "cpu":
        return "fp32", "this CPU has no native bf16; fine-tuning and predicting in fp32"
    return precision, ""


def decoding_description(config: SolveConfig, backend_name: str) -> str:
    from arc24.solving.search import MAX_ANSWERS

    if backend_name == "vllm":
        from arc24.solving.vllm_backend import VLLMFeatures, installed_vllm

        version = installed_vllm()[1]
        if not config.constrained_decoding:
            grids = "free"
        elif config.search_min_prob and not VLLMFeatures(version, on_gpu=True).constrained_beam_search:
            grids = f"free (this vLLM's beam search cannot be constrained: {version})"
        else:
            grids = "constrained to the format's regular expression (rows of one width)"
        how = f"beam search of width {MAX_ANSWERS}, answers at least {config.search_min_prob} likely" \
            if config.search_min_prob else "greedy"
        return f"{grids}, {how}"
    how = f"; every answer at least {config.search_min_prob} likely" if config.search_min_prob else ""
    return ("constrained to grids" if config.constrained_decoding else "free") + how


def count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def programs_only_outcome(task_id: str, why: str) -> TaskOutcome:
    """A task the model does not answer: its attempts are the program search's."""
    return TaskOutcome(task_id, TTFTResult(task_id, "skipped", why), weights="programs")


class SolveInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM in the command) during a run: the workers are stopped, the finished tasks kept."""

    def __init__(self, finished: int, total: int, out: Path):
        self.finished, self.total, self.out = finished, total, out
        super().__init__(f"interrupted with {finished} of {count(total, 'task')} finished (kept in {out}); "
                         "the same settings into the same folder continue the run")


class ProgressBar:
    """The tasks bar, moved inside a running task: the phase and its step in the postfix, and the
    task's share done in the count, so that the estimated time left counts the running tasks too.
    With LINES, also a line per task as each stage starts and ends (StageLines)."""

    def __init__(self, bar, records: RunRecords, lines: StageLines | None = None, n_model: int = 0):
        self.bar, self.records, self.lines = bar, records, lines
        self.running: dict[str, float] = {}  # task id -> share of it done
        self.finished = float(bar.n)
        self.n_model, self.model_done, self.model_start = n_model, 0, None  # this run's tasks for the model
        bar.set_description_str(self._done_text(), refresh=False)

    def left(self) -> str:
        """", about 3 min left": the model's time left, from its pace so far (running tasks' shares too)."""
        if self.model_start is None or not self.n_model:
            return ""
        done = min((self.model_done + sum(self.running.values())) / self.n_model, 1.0)
        if done <= 0:
            return ""
        seconds = (time.monotonic() - self.model_start) * (1 - done) / done
        return f"; about {duration(seconds)} left" if done < 1 else ""

    def start(self, job) -> None:
        """JOB is handed to a solver: its fine-tuning starts."""
        if self.model_start is None:
            self.model_start = time.monotonic()
        if self.lines is not None:
            first = f"fine-tuning: {count(job.steps, 'step')}" if job.steps else "fine-tuning: none (0 steps)"
            self.lines.line(job.task.id, first + (f" ({job.notes})" if job.notes else ""))

    def fine_tuned(self, job, k: int, n: int, loss: float | None, note: str = "") -> None:
        """JOB's fine-tuning ended after K of N steps (NOTE: skipped or failed, and why); prediction starts."""
        self.running[job.task.id] = min(self._ttft_share(), 0.99)
        self._move()
        if self.lines is None:
            return
        seconds = time.monotonic() - (job.started or time.monotonic())
        if note:
            ended = f"fine-tuning {note}"
        else:
            ended = f"fine-tuned: step {k} of {n}" + (f", loss {loss:.3f}" if loss is not None else "") + \
                f", {seconds:.0f} s"
        views = job.n_views * len(job.task.test)
        self.lines.line(job.task.id, f"{ended}; predicting {count(views, 'view')}"
                        + (f" ({job.n_views} per test input)" if len(job.task.test) > 1 else ""))

    def _ttft_share(self) -> float:
        """The share of a task's time spent fine-tuning, from the tasks finished so far (else half)."""
        rows = [h for h in self.records.health.values() if h.seconds > 0 and h.ttft_status == "ok"]
        total = sum(h.seconds for h in rows)
        return min(max(sum(h.ttft_seconds for h in rows) / total, 0.05), 0.95) if total else 0.5

    def _move(self) -> None:
        target = self.finished + sum(self.running.values())
        if target != self.bar.n:
            self.bar.update(target - self.bar.n)

    def step(self, job, phase: str, k: int, n: int, loss: float | None = None, note: str = "") -> None:
        """A worker's report from inside JOB: fine-tuning step k of n (with its loss), k of n predicted,
        or "fine-tuned" after k of n steps (NOTE: why it was skipped or failed)."""
        if phase == "fine-tuned":
            self.fine_tuned(job, k, n, loss, note)
            return
        share, part = self._ttft_share(), k / n if n else 1.0
        self.running[job.task.id] = min(share * part if phase == "fine-tuning" else share + (1 - share) * part, 0.99)
        what = f"step {k}/{n}" + (f" loss {loss:.3f}" if loss is not None else "") if phase == "fine-tuning" \
            else f"{k}/{n}"
        self.bar.set_description_str(f"{self._done_text()}; {job.task.id} {phase} {what}", refresh=False)
        self._move()
        if k == n:  # a phase's end is always shown: tqdm skips updates closer than its interval
            self.bar.refresh()

    def done(self, job, health, model: bool = True) -> None:
        """JOB is finished (MODEL: by the model's solver; else by the program search alone)."""
        self.running.pop(job.task.id, None)
        self.finished += 1
        self.model_done += 1
        self.bar.set_description_str(f"{self._done_text()}; {health.task_id}: {health.weights}", refresh=False)
        self._move()
        if self.lines is None or not model:
            return
        seconds = time.monotonic() - job.started if job.started else health.seconds
        if health.weights == "programs":
            what = f"the program search's answers: {health.ttft_reason}"
        elif health.ttft_status in ("abandoned", "died", "not started") or health.weights == "none":
            what = f"{health.ttft_status}: {health.ttft_reason}" if health.ttft_reason else health.ttft_status
        else:
            what = f"predicted {count(health.n_views * len(job.task.test), 'view')} ({health.valid} answers " \
                   f"parsed), {health.predict_seconds:.0f} s; weights {health.weights}"
        self.lines.line(job.task.id, f"{what}; task done in {seconds:.0f} s, "
                        f"{len(self.records.health)} of {len(self.records.tasks)} done{self.left()}")

    def program_started(self, task_id: str, seconds: float) -> None:
        if self.lines is not None:
            self.lines.line(task_id, f"program search: started, {seconds:g} s budget")

    def program_done(self, outcome, left: str = "") -> None:
        """OUTCOME of a task's program search; LEFT: the search's time left, when it runs alone."""
        if self.lines is None:
            return
        if outcome.status in ("failed", "died", "abandoned", "not started"):
            what = f"{outcome.status}: {outcome.reason}"
        else:
            what = ("a program fits every train pair" if outcome.program else "no program fits") + \
                f" ({outcome.status}, {outcome.seconds:.1f} s)"
        self.lines.line(outcome.task_id, f"program search: {what}{left}")

    def _done_text(self) -> str:
        return f"{len(self.records.health)}/{len(self.records.tasks)} done"


def _make_runner(setup: SolverSetup, devices: list, out: Path):
    from arc24.solving.workers import InProcessRunner, WorkerPool

    if setup.config.in_process:
        return InProcessRunner(setup)
    return WorkerPool(setup, devices, errors_log=out / ERRORS_LOG)


def solve(config: SolveConfig, progress: bool = True, log=None) -> dict:
    """Solve CONFIG's tasks; PROGRESS: a tasks bar and a line per task as each stage starts and ends,
    written to LOG (default: progress_stream())."""
    from tqdm.auto import tqdm

    from arc24.data.tasks import load_tasks, select_tasks
    from arc24.solving.backends import resolve_backend_name
    from arc24.solving.vllm_backend import engine_note
    from arc24.solving.workers import Job, worker_devices

    config = config.with_profile()
    config.check()
    use_model, use_programs = config.solvers != "programs", config.solvers != "model"
    prompt = resolve_prompt(config) if use_model else None
    precision, precision_note = solve_precision(config) if use_model else ("", "")
    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tasks = load_tasks(config.challenges, config.solutions)
    if config.task_ids:
        tasks = select_tasks(tasks, config.task_ids)
    if config.verify_manifest and use_model:
        from arc24.manifest import require_manifest

        require_manifest(config.model)
        if config.adapter:
            require_manifest(config.adapter)
    backend_name = resolve_backend_name(config.backend) if use_model else "none"
    if use_model:
        check_backend(config, backend_name)
    scratch = Path(config.scratch_dir or out / "scratch")
    settings = {**resume_settings(config), "prompt": asdict(prompt) if prompt else None,
                "resolved_precision": precision}
    records = RunRecords(tasks, out, settings, config.overwrite, prompt=prompt.describe() if prompt else "",
                         precision=precision, selection=config.selection, defaults=resume_settings(SolveConfig()),
                         ensemble=config.ensemble)
    if use_model:
        print(f"[arc24 solve] prompt: {prompt.describe()}; test-time fine-tuning: "
              + ("the trained adapter" if config.ttft.lora == "continue" else f"a new LoRA of rank {config.ttft.lora_rank}")
              + f"; precision: {precision}" + (f" ({precision_note})" if precision_note else ""))
    if backend_name == "vllm":
        print(f"[arc24 solve] engine: {engine_note()}")
    queue = [task for task_id, task in tasks.items() if task_id not in records.health]
    kept = len(records.health)
    if records.continued:
        print(f"[arc24 solve] continuing the run in {out}: kept {count(kept, 'finished task')}; solving {len(queue)}"
              + ("" if queue else " (nothing left to do; --overwrite starts over)"))
    if queue:
        (out / "summary.json").unlink(missing_ok=True)  # written again when the run ends: until then, not finished
    schedule = Schedule(len(queue), config.deadline_hours, config.safety_margin_minutes)
    # no more workers than tasks: each one loads the model
    if not use_model:
        devices = []
    else:
        devices = [None] if config.in_process else worker_devices(config.workers)[:max(len(queue), 1)]
    timeout = task_timeout_seconds(config, schedule, max(len(devices), 1))
    n_queued = len(queue)
    bar = tqdm(total=len(tasks), initial=len(tasks) - n_queued, unit="task", disable=not progress,
               bar_format="tasks {percentage:3.0f}%|{bar}| {desc} [{elapsed}<{remaining}]")
    lines = StageLines(log or progress_stream(), list(tasks), schedule.start) if progress else None
    watch = ProgressBar(bar, records, lines, n_model=n_queued if use_model else 0)
    programs = RunPrograms(config, records, [t for t in queue], len(devices), any(d is not None for d in devices))

    def record(job, outcome, model=True):
        health = records.add(job, outcome, programs.outcome(job.task.id, schedule.deadline))
        watch.done(job, health, model)

    def on_progress(job, *report):
        programs.poll()  # beside the model, the search's lines come as its processes report
        watch.step(job, *report)

    def next_job():
        while queue and time.monotonic() < schedule.deadline:
            task = queue[0]
            found = programs.outcome(task.id, schedule.deadline) if programs.needed_before_model else None
            if found is not None and found.program and config.programs.skip_model:
                queue.pop(0)
                record(Job(task, 0, 0, started=time.monotonic() - found.seconds), programs_only_outcome(
                    task.id, "a program fits every train pair (programs.skip_model)"))
                continue
            scale = schedule.scale(n_queued - len(queue))
            scale = 1.0 if scale > 0.95 else scale  # small delays are noise, not a reason to cut work
            notes = "" if scale >= 1 else f"behind schedule: steps and views x{scale:.2f}"
            job = Job(queue.pop(0), steps=max(int(config.ttft.steps * scale), 0),
                      n_views=max(int(config.n_views * scale), 1), notes=notes,
                      deadline=min(time.monotonic() + timeout, schedule.deadline),
                      candidates=found.grids() if found is not None and config.ensemble == "score" else [])
            watch.start(job)
            return job
        return None

    try:
        if queue:  # a finished run started again loads no model
            runner = None
            try:
                programs.start(watch, schedule.deadline)
                if not use_model:
                    while queue and time.monotonic() < schedule.deadline:
                        task = queue.pop(0)
                        found = programs.outcome(task.id, schedule.deadline)
                        record(Job(task, 0, 0, started=time.monotonic() - found.seconds),
                               programs_only_outcome(task.id, "solvers=programs: no model"), model=False)
                else:
                    if lines is not None:
                        lines.line(None, "loading the model" + ("" if config.in_process else
                                                                f" in {count(len(devices), 'worker')}"))
                    runner = _make_runner(SolverSetup(config, prompt, precision, backend_name, scratch), devices, out)
                    runner.run(next_job, record, on_progress)
            except KeyboardInterrupt:
                if runner is not None:
                    runner.close(abort=True)  # the workers are stopped now, not after their task
                    runner = None
                programs.close(abort=True)
                raise SolveInterrupted(len(records.health), len(tasks), out) from None
            finally:
                if runner is not None:
                    runner.close()
                programs.close()
    finally:
        bar.close()
    for task in queue:  # never started: the deadline came first
        job = Job(task, 0, 0, started=time.monotonic())
        records.add(job, failed_outcome(task.id, "not started", "the run's deadline was reached first"),
                    programs.outcome(task.id, deadline=0) if use_programs else None)
    health = list(records.health.values())
    summary = {"tasks": len(tasks), "submission": str(records.submission_path), "health": str(out / "health.json"),
               "challenges": str(out / "challenges.json"),
               "solutions": str(out / "solutions.json") if (out / "solutions.json").exists() else None,
               "predictions": str(records.predictions_path), "backend": backend_name,
               "weights": {w: sum(h.weights == w for h in health) for w in WEIGHTS},
               "prompt": asdict(prompt) if prompt else None, "profile": config.profile, "ttft_lora": config.ttft.lora,
               "precision": precision, "precision_note": precision_note,
               "decoding": decoding_description(config, backend_name) if use_model else None,
               "engine": engine_note() if backend_name == "vllm" else None,
               "ttft_failed": [h.task_id for h in health if h.ttft_status == "failed"],
               "abandoned": [h.task_id for h in health if h.ttft_status in ("abandoned", "died")],
               "not_started": [h.task_id for h in health if h.ttft_status == "not started"],
               "placeholders": sum(h.placeholders for h in health), "kept": kept,
               "solvers": config.solvers, "ensemble": config.ensemble,
               "programs": programs_summary(health) if use_programs else None,
               "solved": solved_by_source(records) if (out / "solutions.json").exists() else None,
               "errors": str(records.errors_path) if records.errors_path.exists() else None}
    write_json_atomic(summary, out / "summary.json")
    return summary
