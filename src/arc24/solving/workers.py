"""Run tasks in worker processes that can be stopped: one per GPU, a fresh one after a hang.

A task that runs past its budget (a hung kernel, a generation that never ends) must cost that
task, not the whole 12-hour run. Each worker is a process holding a `TaskSolver`; the
supervisor hands it one task at a time, and when a task overruns, kills the worker, reports the
task as abandoned (saying whether it was fine-tuning or predicting) and starts a fresh worker
for the remaining tasks. A worker that dies (a crash, the kernel's out-of-memory killer) is
handled the same way.

With several GPUs (Kaggle's 2xT4 or 4xL4), one worker per GPU takes tasks from the same queue,
so the tasks are split across GPUs as they finish. Workers are started with "spawn", as CUDA
cannot be used in a forked child, and see only their own GPU (CUDA_VISIBLE_DEVICES).

`InProcessRunner` runs the same `TaskSolver` in the calling process, for interactive debugging;
it cannot abandon a hung task.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import wait

from arc24.config import ConfigError
from arc24.data.task import Task
from arc24.solving.records import TaskOutcome, append_error, failed_outcome
from arc24.solving.task_solver import SolverSetup

STARTUP_TIMEOUT = 30 * 60  # loading a model and starting an inference engine takes minutes at most


@dataclass
class Job:
    task: Task
    steps: int
    n_views: int
    notes: str = ""
    started: float = 0.0  # time.monotonic() when handed to a solver
    deadline: float = float("inf")  # time.monotonic() past which the task is abandoned
    # Per test input, the program search's answers, for the model to score beside its own (ensemble=score)
    candidates: list = field(default_factory=list)


NextJob = Callable[[], "Job | None"]
OnDone = Callable[[Job, TaskOutcome], None]
# (job, phase, k, n, loss[, note]): "fine-tuning" step k of n with its loss, "predicting" k of n prompts done,
# or "fine-tuned" after k of n steps with the last loss (note: "skipped (why)" or "failed (why)")
OnProgress = Callable[..., None]


class TaskProgress:
    """Reports where a solver is inside a task, to show a person: each fine-tuning step with its
    loss, and each batch of predictions. REPORT(phase, k, n, loss) is called in the solving process.

    It watches from outside TaskSolver and the fine-tuner, which know nothing of progress: during
    fine-tuning, a forward hook catches the loss of the training module (the only module that
    returns a scalar loss tensor there) and the optimizer's step hook reports it; while
    predicting, the backend's generate calls are counted. The hooks are on only for the task.
    """

    def __init__(self, solver, report):
        self.solver, self.report = solver, report
        backend = solver.backend
        if not isinstance(backend, _CountingBackend):
            solver.backend = _CountingBackend(backend, self)
        self.handles: list = []
        self.loss = None
        self.step = self.steps = 0
        self.done = self.total = 0

    @contextlib.contextmanager
    def task(self, task: Task, steps: int, n_views: int):
        import torch

        from arc24.training.batching import LossModel

        self.loss, self.step, self.steps = None, 0, steps
        self.done, self.total = 0, n_views * len(task.test)

        def on_loss(module, args, output):
            if isinstance(output, torch.Tensor) and output.dim() == 0:
                self.loss = output.detach()

        def on_forward(module, args, output):
            # A hook on every module costs time on each call: once the training module is found,
            # only it is watched.
            if isinstance(module, LossModel):
                on_loss(module, args, output)
                self.handles[0].remove()
                self.handles[0] = module.register_forward_hook(on_loss)

        def on_step(optimizer, args, kwargs):
            self.step += 1
            loss = float(self.loss) if self.loss is not None else None
            self._send("fine-tuning", min(self.step, self.steps), self.steps, loss)

        try:  # progress is for a person: without the hooks, the task is solved all the same
            from torch.nn.modules.module import register_module_forward_hook
            from torch.optim.optimizer import register_optimizer_step_post_hook

            self.handles = [register_module_forward_hook(on_forward), register_optimizer_step_post_hook(on_step)]
        except Exception:  # noqa: BLE001
            self.ttft_done()
        try:
            yield
        finally:
            self.ttft_done()

    def ttft_done(self, result=None) -> None:
        """Fine-tuning is over (RESULT: how it went, reported as "fine-tuned"); called again at the task's end."""
        for handle in self.handles:  # the global module hook would slow every forward of prediction
            handle.remove()
        self.handles = []
        if result is not None:
            note = "" if result.status == "ok" else f"{result.status} ({result.reason})" if result.reason \
                else result.status
            self._send("fine-tuned", result.steps, self.steps, result.last_loss, note)

    def predicted(self, n: int) -> None:
        self.done += n
        self._send("predicting", min(self.done, self.total), self.total, None)

    def _send(self, *message) -> None:
        with contextlib.suppress(Exception):  # progress is for a person: it never fails a task
            self.report(*message)


class _CountingBackend:
    """A backend that says how many prompts it has answered; everything else is the backend's."""

    def __init__(self, backend, progress: TaskProgress):
        self._backend, self._progress = backend, progress

    def generate(self, prompts, max_new_tokens):
        generations = self._backend.generate(prompts, max_new_tokens)
        self._progress.predicted(len(prompts))
        return generations

    def generate_keeping_prompts(self, prompts, max_new_tokens):
        kept = self._backend.generate_keeping_prompts(prompts, max_new_tokens)
        self._progress.predicted(len(prompts))
        return kept

    def search(self, prompts, max_new_tokens, min_prob):
        answers = self._backend.search(prompts, max_new_tokens, min_prob)
        self._progress.predicted(len(prompts))
        return answers

    def __getattr__(self, name):
        return getattr(self._backend, name)


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:400]}" if text else type(exc).__name__


def crashed_outcome(task_id: str, exc: BaseException) -> TaskOutcome:
    """A task whose solving raised what no task should (a bug of ours): one line in the report,
    the traceback for errors.log, and the run goes on with the next task."""
    return failed_outcome(task_id, "failed", f"{one_line(exc)} (traceback in errors.log)", traceback.format_exc())


class InProcessRunner:
    """Solves tasks in this process (no isolation: a hung task hangs the run)."""

    def __init__(self, setup: SolverSetup):
        from arc24.solving.task_solver import TaskSolver

        self.solver = TaskSolver(setup)

    def run(self, next_job: NextJob, on_done: OnDone, on_progress: OnProgress | None = None) -> None:
        job = None
        progress = TaskProgress(self.solver, lambda *m: on_progress(job, *m) if on_progress else None)
        while (job := next_job()) is not None:
            job.started = time.monotonic()
            try:
                with progress.task(job.task, job.steps, job.n_views):
                    outcome = self.solver.solve_task(job.task, job.steps, job.n_views,
                                                     on_ttft_done=progress.ttft_done, candidates=job.candidates)
            except Exception as exc:  # noqa: BLE001 - reported with its traceback; the run goes on
                outcome = crashed_outcome(job.task.id, exc)
            on_done(job, outcome)

    def close(self, abort: bool = False) -> None:
        pass


def exit_with(parent_pid: int) -> None:
    """End this worker when its supervisor is gone, even mid-task.

    A supervisor killed outright (a notebook kernel stopped, SIGKILL) cannot stop its workers,
    and a busy worker never reads the closed pipe; left alone it would hold a GPU for hours.
    """
    while True:
        time.sleep(2)
        if os.getppid() != parent_pid:
            os._exit(1)


def _env_threads() -> int:
    """OMP_NUM_THREADS when it is a positive count, else 0: the cores a person leaves to this run."""
    value = os.environ.get("OMP_NUM_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else 0


def _worker_main(conn, setup: SolverSetup, threads: int, parent_pid: int) -> None:
    """A worker process: load the solver once, then solve the tasks it is sent until told to stop."""
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the supervisor's to handle
    # tqdm's default lock is a multiprocessing semaphore, registered with the supervisor's resource
    # tracker; a worker stopped mid-task (Ctrl-C, an abandoned task) would leave it behind, and the
    # tracker would warn of a leaked semaphore. The worker's bars need only a thread lock.
    with contextlib.suppress(Exception):
        from tqdm import tqdm

        tqdm.set_lock(threading.RLock())
    threading.Thread(target=exit_with, args=(parent_pid,), daemon=True).start()
    try:
        import torch

        from arc24.solving.task_solver import TaskSolver

        if threads:
            torch.set_num_threads(threads)
        solver = TaskSolver(setup)
    except BaseException as exc:  # noqa: BLE001 - whatever stops loading is reported to the supervisor
        conn.send(("fatal", str(exc) if isinstance(exc, ConfigError) else one_line(exc),
                   isinstance(exc, ConfigError), traceback.format_exc()))
        return
    conn.send(("ready",))
    progress = TaskProgress(solver, lambda *m: conn.send(("progress", *m)))

    def ttft_done(result):
        progress.ttft_done(result)
        conn.send(("ttft_done",))

    while True:
        try:
            message = conn.recv()
        except EOFError:  # the supervisor is gone
            return
        if message[0] == "stop":
            return
        _, task, steps, n_views, candidates = message
        try:
            with progress.task(task, steps, n_views):
                outcome = solver.solve_task(task, steps, n_views, on_ttft_done=ttft_done, candidates=candidates)
        except Exception as exc:  # noqa: BLE001 - reported with its traceback; the worker goes on
            outcome = crashed_outcome(task.id, exc)
        conn.send(("outcome", outcome))


class _Worker:
    def __init__(self, index: int, device: str | None, args: tuple, threads: int):
        self.index = index
        self.device = device
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        with _visible_device(device):
            self.process = ctx.Process(target=_worker_main, args=(child, *args, threads, os.getpid()), daemon=True,
                                       name=f"arc24-worker-{index}")
            self.process.start()
        child.close()
        self.ready = False
        self.started = time.monotonic()
        self.job: Job | None = None
        self.phase = ""

    def send(self, job: Job) -> None:
        job.started = time.monotonic()
        self.job, self.phase = job, "fine-tuning"
        self.conn.send(("task", job.task, job.steps, job.n_views, job.candidates))

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=30)
        self.conn.close()


@contextlib.contextmanager
def _visible_device(device: str | None):
    """Spawned children copy the environment at start: show this worker its GPU only."""
    if device is None:
        yield
        return
    before = os.environ.get("CUDA_VISIBLE_DEVICES")
    os.environ["CUDA_VISIBLE_DEVICES"] = device
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("CUDA_VISIBLE_DEVICES", None)
        else:
            os.environ["CUDA_VISIBLE_DEVICES"] = before


# On a CPU, a task's small matrix products gain little from a second thread: on the 2-core Xeon,
# two one-thread workers side by side solved 1.5x the tasks per hour of one two-thread worker
# (README, "The submission kernel"). Each worker holds its own copy of the model, hence a cap.
CPU_MAX_WORKERS = 4


def worker_devices(requested: int) -> list[str | None]:
    """One worker per visible GPU (or REQUESTED of them); on CPU, REQUESTED workers, by default
    one per core this run may use (OMP_NUM_THREADS, else all), at most CPU_MAX_WORKERS."""
    import torch

    n_gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if n_gpus:
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        ids = [d.strip() for d in visible.split(",")] if visible else [str(i) for i in range(n_gpus)]
        return ids[: requested or n_gpus]
    return [None] * (requested or min(_env_threads() or os.cpu_count() or 1, CPU_MAX_WORKERS))


class WorkerPool:
    """Worker processes solving tasks from one queue, each task under a deadline."""

    def __init__(self, setup: SolverSetup, devices: list[str | None], log=print, errors_log=None):
        self.args = (setup,)
        self.errors_log = errors_log  # where a worker's traceback goes when it cannot load the model
        cpu_workers = sum(d is None for d in devices)
        # CPU workers share the cores (OMP_NUM_THREADS of them when set, as torch counts them);
        # oversubscribed threads make generation many times slower.
        cores = _env_threads() or os.cpu_count() or 1
        self.threads = max(1, cores // cpu_workers) if cpu_workers else 0
        self.log = log
        self.on_progress: OnProgress | None = None
        self.workers: list[_Worker] = []
        try:
            for i, d in enumerate(devices):
                self.workers.append(_Worker(i, d, self.args, self.threads))
        except BaseException:  # Ctrl-C while starting them: none is left behind
            self.close(abort=True)
            raise
        self.restarts = 0

    def run(self, next_job: NextJob, on_done: OnDone, on_progress: OnProgress | None = None) -> None:
        self.on_progress = on_progress
        more = True
        while True:
            for w in self.workers:
                if more and w.ready and w.job is None:
                    job = next_job()
                    if job is None:
                        more = False
                    else:
                        w.send(job)
            if not more and not any(w.job for w in self.workers):
                return
            for conn in wait([w.conn for w in self.workers], timeout=1.0):
                self._receive(next(w for w in self.workers if w.conn is conn), on_done)
            self._check_time(on_done)

    def _receive(self, w: _Worker, on_done: OnDone) -> None:
        try:
            message = w.conn.recv()
        except (EOFError, OSError):
            w.process.join(timeout=1)
            if w.process.exitcode in (-signal.SIGTERM, -signal.SIGINT):
                # Stopped with its supervisor (`kill -TERM -PGID`, a job scheduler): an interruption,
                # so the task stays unfinished and the same command solves it again.
                raise KeyboardInterrupt
            if not w.ready:  # restarting would only fail again
                raise RuntimeError(f"worker {w.index} exited while loading the model "
                                   f"(code {w.process.exitcode})") from None
            self._replace(w, on_done, "died", f"its worker process exited (code {w.process.exitcode})")
            return
        kind = message[0]
        if kind == "ready":
            w.ready = True
        elif kind == "fatal":
            _, text, is_setting, trace = message
            if is_setting:  # the user's to fix: the message says how
                raise ConfigError(text)
            if self.errors_log is not None:
                append_error(self.errors_log, f"worker {w.index} loading the model", trace)
            where = f"; traceback in {self.errors_log}" if self.errors_log is not None else ""
            raise RuntimeError(f"worker {w.index} could not load the model: {text}{where}")
        elif kind == "ttft_done":
            w.phase = "predicting"
        elif kind == "progress":
            if self.on_progress is not None and w.job is not None:
                self.on_progress(w.job, *message[1:])
        elif kind == "outcome":
            job, w.job = w.job, None
            on_done(job, message[1])

    def _check_time(self, on_done: OnDone) -> None:
        now = time.monotonic()
        for w in list(self.workers):
            if w.job is not None and now > w.job.deadline:
                spent = now - w.job.started
                self._replace(w, on_done, "abandoned",
                              f"no answer after {spent:.0f} s (budget reached while {w.phase}); its worker was stopped")
            elif not w.ready and now - w.started > STARTUP_TIMEOUT:
                raise RuntimeError(f"worker {w.index} did not load the model within {STARTUP_TIMEOUT} s")

    def _replace(self, w: _Worker, on_done: OnDone, status: str, reason: str) -> None:
        """Stop W, report its task (if any), and put a fresh worker on the same device."""
        w.kill()
        if w.job is not None:
            self.log(f"[arc24 solve] task {w.job.task.id} {status}: {reason}")
            on_done(w.job, failed_outcome(w.job.task.id, status, reason))
        self.restarts += 1
        self.workers[self.workers.index(w)] = _Worker(w.index, w.device, self.args, self.threads)

    def close(self, abort: bool = False) -> None:
        """Stop the workers: idle ones when told, then any left; ABORT (Ctrl-C) stops them at once,
        mid-task, as their work would be lost anyway."""
        if not abort:
            for w in self.workers:
                with contextlib.suppress(OSError, BrokenPipeError):
                    if w.process.is_alive() and w.ready:
                        w.conn.send(("stop",))
            for w in self.workers:
                w.process.join(timeout=10)
        for w in self.workers:
            if abort and w.process.is_alive():
                w.process.terminate()  # SIGTERM: the worker ignores only SIGINT
        for w in self.workers:
            w.kill()
