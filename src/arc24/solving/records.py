"""The files of a solve run, brought up to date after every task, so a crash leaves them valid.

- `submission.json`: written after every task (placeholders for tasks not done yet).
- `predictions.jsonl`: every prediction, with the weights that made it (predictions.Prediction).
- `health.json`: one `Health` row per task; `read_health` is its reader.
- `errors.log`: the full traceback of any failure that is not a task's own (a bug of ours), so
  a user can send it to us; the health row and the summary name it.
- `solve_settings.json`, `challenges.json`, `solutions.json`: what the run was asked to do. The
  settings that change predictions are kept, so that the run can be continued, and only with them.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from arc24.config import ConfigError
from arc24.data.task import grid_to_list
from arc24.files import read_json, write_json_atomic
from arc24.solving.predictions import Prediction, read_predictions, write_predictions
from arc24.solving.submission import build_submission, write_submission
from arc24.solving.voting import DEFAULT_ENSEMBLE, vote, vote_all

ERRORS_LOG = "errors.log"
# "programs": no model answered (solvers=programs, or programs.skip_model), the program search did
WEIGHTS = ("ttft", "fine-tuned", "base", "programs", "none")


@dataclass
class TTFTResult:
    task_id: str
    status: str  # "ok", "skipped" or "failed"
    reason: str = ""
    steps: int = 0
    first_loss: float | None = None
    last_loss: float | None = None
    seconds: float = 0.0
    losses: list[float] = field(default_factory=list)


@dataclass
class TaskOutcome:
    """What solving one task produced; a worker sends it to the supervisor, which records it."""

    task_id: str
    ttft: TTFTResult
    weights: str  # ttft | fine-tuned | base | none
    predictions: list[Prediction] = field(default_factory=list)
    too_long: list = field(default_factory=list)  # (task_id, test_index, prompt length)
    n_views: int = 0
    traceback: str = ""  # a failure of our code, not of the task: written to errors.log
    predict_seconds: float = 0.0
    score_seconds: float = 0.0  # scoring the candidates under the scoring views
    # Per test input, the model's score of each program answer it was given (Job.candidates); None: not scored
    candidate_scores: list = field(default_factory=list)


def failed_outcome(task_id: str, status: str, reason: str, traceback: str = "") -> TaskOutcome:
    """A task that produced nothing: it gets placeholder attempts, and the report says why."""
    return TaskOutcome(task_id, TTFTResult(task_id, status, reason), weights="none", traceback=traceback)


@dataclass
class Health:
    task_id: str
    ttft_status: str  # ok | skipped | failed | abandoned | died | not started
    ttft_reason: str = ""
    ttft_steps: int = 0
    first_loss: float | None = None
    last_loss: float | None = None
    ttft_seconds: float = 0.0
    predict_seconds: float = 0.0
    score_seconds: float = 0.0
    weights: str = "none"  # ttft | fine-tuned | base | none
    n_views: int = 0
    valid: int = 0
    unparseable: int = 0
    too_long: int = 0
    vote_margin: int = 0
    placeholders: int = 0
    seconds: float = 0.0
    notes: str = ""
    prompt: str = ""  # the prompt contract used: template / grid format / max_seq_len
    precision: str = ""  # of the base weights while fine-tuning and predicting: bf16 or fp32
    error_log: str = ""  # ERRORS_LOG when this task's traceback was written there
    ttft_losses: list[float] = field(default_factory=list)  # per step, for loss-curve plots
    # Per test input: how many distinct candidates, and the votes, score and source of the top two
    # as the run's selection and ensemble ranked them (a score is None when candidates were not scored).
    test_inputs: list[dict] = field(default_factory=list)
    # The program search (solving/programs.py: ProgramOutcome.health): status, seconds, states,
    # depth, the simplest fitting program and its fit; empty when the run had no program search.
    programs: dict = field(default_factory=dict)


def append_error(path: str | Path, heading: str, traceback_text: str) -> None:
    """Add a traceback to errors.log under a dated heading: the one writer of that file."""
    stamp = datetime.datetime.now().isoformat(timespec="seconds")
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"=== {stamp} {heading}\n{traceback_text.rstrip()}\n\n")


def read_health(path: str | Path) -> list[Health]:
    rows = read_json(path, "health report")
    try:
        return [Health(**row) for row in rows]
    except TypeError as exc:
        raise ConfigError(f"{path}: not a health report of this version ({exc})") from None


SETTINGS_FILE = "solve_settings.json"
# What a run writes into its folder; --overwrite removes these first.
RUN_FILES = (SETTINGS_FILE, "health.json", "predictions.jsonl", "submission.json", "summary.json", ERRORS_LOG,
             "challenges.json", "solutions.json", "programs.jsonl")
# Nested settings that only change how fast (the top-level ones are left out of the file, solve.py)
SPEED_SETTINGS = {"programs.workers"}
OVERWRITE_HINT = "--overwrite (--set overwrite=true; the notebook's overwrite = True)"
_MISSING = "(not set)"


def settings_differences(before: dict, now: dict, prefix: str = "") -> list[tuple[str, object, object]]:
    """(dotted name, value there, value now) for every setting that differs, nested ones by their full name."""
    found = []
    for key in list(before) + [k for k in now if k not in before]:
        a, b = before.get(key, _MISSING), now.get(key, _MISSING)
        if isinstance(a, dict) and isinstance(b, dict):
            found += settings_differences(a, b, f"{prefix}{key}.")
        elif a != b:
            found.append((f"{prefix}{key}", a, b))
    return found


def _dotted(settings: dict, name: str, default=None):
    for part in name.split("."):
        if not isinstance(settings, dict) or part not in settings:
            return default
        settings = settings[part]
    return settings


def check_same_run(out: Path, settings: dict, defaults: dict | None = None) -> None:
    """Refuse to continue OUT when the run there has other settings that change predictions.

    Called before anything is written: a refused command changes no file. The message names
    every differing setting with both values, and the ways out. A setting that the run's file
    lacks (added by a later arc24) is no difference when it is at its value in DEFAULTS: the
    run was made as that default behaves, and an upgrade must not strand a long run.
    """
    path = Path(out) / SETTINGS_FILE
    if not path.exists():
        return
    before = read_json(path, "settings")
    diffs = [(name, a, b) for name, a, b in settings_differences(before, json.loads(json.dumps(settings, default=str)))
             if not (a == _MISSING and defaults is not None and _dotted(defaults, name, _MISSING) == b)
             and name not in SPEED_SETTINGS]
    if not diffs:
        return
    shown = "; ".join(f"{name}: {a!r} there, {b!r} now" for name, a, b in diffs[:8])
    more = f"; and {len(diffs) - 8} more" if len(diffs) > 8 else ""
    raise ConfigError(f"{out}: holds a run with other settings that change predictions ({shown}{more}). To continue "
                      f"that run, give its settings; to start over there, removing its records, add {OVERWRITE_HINT}; "
                      "or use another output folder")


class RunRecords:
    """The run's files; `add` records one finished task.

    A folder that holds a run with the same prediction settings is continued: the tasks it
    finished are kept as they are, and only the others are solved (`continued` is True). Other
    settings are refused before any file changes, unless OVERWRITE, which removes the old records.
    """

    def __init__(self, tasks: dict, out: Path, settings: dict, overwrite: bool = False, prompt: str = "",
                 precision: str = "", selection: str = "vote", defaults: dict | None = None,
                 ensemble: str = DEFAULT_ENSEMBLE):
        self.tasks, self.out, self.prompt, self.precision = tasks, out, prompt, precision
        self.selection = selection  # how the model's candidates are ranked (voting.SELECTIONS)
        self.ensemble = ensemble  # how the programs' and the model's make the attempts (voting.ENSEMBLES)
        self.votes: dict = {}
        self.health: dict[str, Health] = {}
        self.predictions_path = out / "predictions.jsonl"
        self.submission_path = out / "submission.json"
        self.errors_path = out / ERRORS_LOG
        settings_path = out / SETTINGS_FILE
        if overwrite:
            for name in RUN_FILES:
                (out / name).unlink(missing_ok=True)
        else:
            check_same_run(out, settings, defaults)
        # The program searches kept in programs.jsonl are this run's (the settings were checked)
        self.same_settings = settings_path.exists()
        self.continued = settings_path.exists() and (out / "health.json").exists()
        # The tasks of this run, in the Kaggle layout, so that a subset run validates and scores
        # against exactly what it was asked to solve.
        write_json_atomic({t: task.to_json(with_test_outputs=False) for t, task in tasks.items()},
                          out / "challenges.json")
        if all(p.output is not None for task in tasks.values() for p in task.test):
            write_json_atomic({t: [grid_to_list(p.output) for p in task.test] for t, task in tasks.items()},
                              out / "solutions.json")
        if self.continued:
            self._resume()
            return
        write_json_atomic(settings, settings_path, indent=1)
        write_predictions(self.predictions_path, [])
        if not self.same_settings:
            (out / "programs.jsonl").unlink(missing_ok=True)
        self.errors_path.unlink(missing_ok=True)
        write_submission(build_submission(tasks, {})[0], self.submission_path)  # valid from the very start

    def _resume(self) -> None:
        """Keep the tasks an interrupted run finished (those with a health row) and their predictions."""
        for row in read_health(self.out / "health.json"):
            if row.task_id in self.tasks and row.ttft_status != "not started":
                self.health[row.task_id] = row
        # A task cut off between its predictions and its health row is solved again: drop its lines.
        kept = [p for p in read_predictions(self.predictions_path) if p.task_id in self.health]
        write_predictions(self.predictions_path, kept)
        self.votes = vote_all(kept, self.selection, self.ensemble)
        write_submission(build_submission(self.tasks, self.votes)[0], self.submission_path)
        self._write_health()

    def add(self, job, outcome, programs=None) -> Health:
        """Record a finished task: the model's OUTCOME and, when the run searched programs, the
        search's (a programs.ProgramOutcome), whose answers join the model's predictions."""
        task_id, result = outcome.task_id, outcome.ttft
        preds = outcome.predictions + (programs.predictions(outcome.candidate_scores) if programs is not None else [])
        write_predictions(self.predictions_path, preds, append=True)
        margins, test_inputs = [], []
        for i in range(len(self.tasks[task_id].test)):
            voted = vote([p for p in preds if p.test_index == i], self.selection, self.ensemble)
            self.votes[(task_id, i)] = voted
            margins.append(voted.margin)
            test_inputs.append({"candidates": len(voted.ranking), "top": [
                {"votes": c.votes, "score": None if c.score is None else round(c.score, 4), "source": c.source}
                for c in voted.ranking[:2]]})
        submission, placeholders = build_submission(self.tasks, self.votes)
        write_submission(submission, self.submission_path)
        if outcome.traceback:
            self._log_error(task_id, outcome.traceback)
        if programs is not None and programs.traceback:
            self._log_error(f"{task_id} (program search)", programs.traceback)
        health = Health(
            task_id=task_id, ttft_status=result.status, ttft_reason=result.reason, ttft_steps=result.steps,
            first_loss=result.first_loss, last_loss=result.last_loss, ttft_seconds=round(result.seconds, 2),
            predict_seconds=round(outcome.predict_seconds, 2), score_seconds=round(outcome.score_seconds, 2),
            weights=outcome.weights, n_views=outcome.n_views, valid=sum(p.grid is not None for p in outcome.predictions),
            unparseable=sum(p.grid is None for p in outcome.predictions), too_long=len(outcome.too_long),
            vote_margin=min(margins) if margins else 0,
            placeholders=sum(1 for t, _ in placeholders if t == task_id),
            seconds=round(time.monotonic() - job.started, 2), notes=job.notes, prompt=self.prompt,
            precision=self.precision,
            error_log=ERRORS_LOG if outcome.traceback else "", ttft_losses=[round(x, 5) for x in result.losses],
            test_inputs=test_inputs, programs=programs.health() if programs is not None else {})
        self.health[task_id] = health
        self._write_health()
        return health

    def _log_error(self, task_id: str, traceback_text: str) -> None:
        append_error(self.errors_path, f"task {task_id}", traceback_text)

    def _write_health(self) -> None:
        # In the order of the tasks, whichever worker finished first.
        rows = [dataclasses.asdict(self.health[t]) for t in self.tasks if t in self.health]
        write_json_atomic(rows, self.out / "health.json")


def _programs_only(path: str | Path, rows: list[dict]) -> bool:
    """Whether the run of the health report at PATH had no model: solvers=programs in its settings
    beside it, or (without them) no task answered but by the program search."""
    settings = Path(path).parent / SETTINGS_FILE
    if settings.exists():
        try:
            return json.loads(settings.read_text()).get("solvers") == "programs"
        except (OSError, ValueError, AttributeError):
            pass
    return bool(rows) and all(r["weights"] == "programs" for r in rows)


def health_table(path: str | Path) -> str:
    """The health report as a Markdown table (the notebook prints it at the end)."""
    rows = [dataclasses.asdict(h) for h in read_health(path)]
    if _programs_only(path, rows):  # no model ran: its columns would only say "skipped"
        cols = ["task_id", "program_search", "program", "placeholders", "seconds", "notes", "error_log"]
    else:
        cols = ["task_id", "ttft_status", "ttft_steps", "first_loss", "last_loss", "weights", "valid", "unparseable",
                "too_long", "vote_margin", "placeholders", "seconds", "predict_seconds", "score_seconds", "precision",
                "ttft_reason", "notes", "error_log"]
        if any(r["programs"] for r in rows):  # the program search: how it ended, its seconds, and its program
            cols[6:6] = ["program_search", "program"]
    if "program_search" in cols:
        for r in rows:
            g = r["programs"]
            r["program_search"] = f"{g['status']} {g['seconds']:.1f} s, {g['states']} states" if g else ""
            r["program"] = g.get("program", "").replace("|", "/") if g else ""

    def cell(v):
        return f"{v:.3f}" if isinstance(v, float) else ("" if v is None else str(v))

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(r[c]) for c in cols) + " |" for r in rows]
    prompts = sorted({r["prompt"] for r in rows if r["prompt"]})
    if prompts:
        lines.append(f"\nprompt: {'; '.join(prompts)}")
    return "\n".join(lines)
