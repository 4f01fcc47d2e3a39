"""`arc24 solve`: the submission pipeline, task by task.

For each task: test-time fine-tune (ttft.py), predict every test input under many augmented
views (inference.py), vote two attempts (voting.py), then write the submission, the predictions
and the health report, atomically, so a crash or a timeout still leaves a valid submission.

Never silent: every task has a health row saying which weights produced its predictions
("ttft", "fine-tuned" when its fine-tuning failed, "base" only when allowed by allow_base_model),
how fine-tuning went, and how many predictions parsed. Behind schedule, the remaining tasks get
fewer steps and views, and the report says so.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .ttft import TTFTSettings


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


@dataclass
class Health:
    task_id: str
    ttft_status: str
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


def _load_model(config: SolveConfig):
    import torch

    from .models import load_model, load_tokenizer

    dtype = "bfloat16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "float32"
    model = load_model(config.model, dtype=dtype)
    weights = "base"
    if config.adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, config.adapter, is_trainable=True)
        weights = "fine-tuned"
    return model, load_tokenizer(config.model, padding_side="left"), weights


def solve(config: SolveConfig, progress: bool = True) -> dict:
    from tqdm.auto import tqdm

    from .data import load_tasks, select_tasks
    from .inference import TransformersBackend, build_requests, max_answer_tokens, predict, resolve_backend_name
    from .submission import build_submission, write_json_atomic, write_submission
    from .task import grid_to_list
    from .ttft import TaskFineTuner
    from .voting import vote

    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tasks = load_tasks(config.challenges, config.solutions)
    if config.task_ids:
        tasks = select_tasks(tasks, config.task_ids)
    if config.verify_manifest:
        from .manifest import require_manifest

        require_manifest(config.model)
        if config.adapter:
            require_manifest(config.adapter)
    backend_name = resolve_backend_name(config.backend)
    if backend_name != "transformers":
        # The vLLM engine path (one engine, a LoRA request per task) is not wired into solve yet.
        raise NotImplementedError("solve runs the transformers backend for now; use backend: transformers")

    model, tokenizer, fallback_weights = _load_model(config)
    if fallback_weights == "base" and not config.ttft.new_lora_rank:
        config.ttft.new_lora_rank = 16  # no trained adapter: test-time fine-tune a new LoRA
    tuner = TaskFineTuner(model, tokenizer, config.ttft)
    backend = TransformersBackend(tuner.model, tokenizer, batch_size=config.batch_size)
    max_new = config.max_new_tokens or max_answer_tokens(tokenizer, config.ttft.grid_format)
    max_prompt = config.ttft.max_seq_len - max_new

    # The tasks of this run, in the Kaggle layout, so that a subset run validates and scores
    # against exactly what it was asked to solve.
    write_json_atomic({t: task.to_json(with_test_outputs=False) for t, task in tasks.items()},
                      out / "challenges.json")
    if all(p.output is not None for task in tasks.values() for p in task.test):
        write_json_atomic({t: [grid_to_list(p.output) for p in task.test] for t, task in tasks.items()},
                          out / "solutions.json")

    schedule = Schedule(len(tasks), config.deadline_hours, config.safety_margin_minutes)
    votes: dict = {}
    health: list[Health] = []
    predictions_path = out / "predictions.jsonl"
    predictions_path.write_text("")
    submission_path = out / "submission.json"
    write_submission(build_submission(tasks, {})[0], submission_path)  # valid from the very start
    bar = tqdm(list(tasks.items()), desc="tasks", unit="task", disable=not progress)
    for done, (task_id, task) in enumerate(bar):
        began = time.perf_counter()
        scale = schedule.scale(done)
        scale = 1.0 if scale > 0.95 else scale  # small delays are noise, not a reason to cut work
        notes = "" if scale >= 1 else f"behind schedule: steps and views x{scale:.2f}"
        steps = max(int(config.ttft.steps * scale), 0)
        n_views = max(int(config.n_views * scale), 1)
        result = tuner.fine_tune(task, steps=steps)
        if result.status == "ok":
            weights = "ttft"
        elif fallback_weights == "base" and not config.allow_base_model:
            weights = "none"
        else:
            weights = fallback_weights
        preds, too_long = [], []
        if weights != "none":
            requests, too_long = build_requests(tokenizer, {task_id: task}, n_views, config.seed,
                                                config.ttft.template, config.ttft.grid_format,
                                                max_prompt_len=max_prompt)
            preds = predict(backend, requests, tokenizer, config.ttft.grid_format, max_new, progress=False)
        with predictions_path.open("a") as handle:
            for p in preds:
                handle.write(json.dumps({**p.to_json(), "weights": weights}) + "\n")
        margins = []
        for i in range(len(task.test)):
            result_i = vote([p for p in preds if p.test_index == i])
            votes[(task_id, i)] = result_i
            margins.append(result_i.margin)
        tuner.reset()
        submission, placeholders = build_submission(tasks, votes)
        write_submission(submission, submission_path)
        mine = sum(1 for t, _ in placeholders if t == task_id)
        health.append(Health(
            task_id, result.status, result.reason, result.steps, result.first_loss, result.last_loss,
            round(result.seconds, 2), weights, n_views, sum(p.grid is not None for p in preds),
            sum(p.grid is None for p in preds), len(too_long), min(margins) if margins else 0, mine,
            round(time.perf_counter() - began, 2), notes))
        write_json_atomic([asdict(h) for h in health], out / "health.json")
        bar.set_postfix(task=task_id, weights=weights)
    summary = {"tasks": len(tasks), "submission": str(submission_path), "health": str(out / "health.json"),
               "challenges": str(out / "challenges.json"),
               "solutions": str(out / "solutions.json") if (out / "solutions.json").exists() else None,
               "predictions": str(predictions_path),
               "weights": {w: sum(h.weights == w for h in health) for w in ("ttft", "fine-tuned", "base", "none")},
               "ttft_failed": [h.task_id for h in health if h.ttft_status == "failed"],
               "placeholders": sum(h.placeholders for h in health)}
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
