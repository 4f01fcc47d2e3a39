"""`arc24 status RUN_DIR`: a solve run's state, read from its folder alone.

No model is loaded and torch is not imported: this reads the files `solve` keeps up to date
after every task (records.py), so it answers in a moment while a run goes on, after it was
stopped, or on a copy of its folder.

- not started: no run's settings in the folder;
- running or interrupted: the settings are there, but not the summary written when a run ends
  (the folder cannot tell a live run from a stopped one; the time of the last finished task helps);
- finished: summary.json is there (tasks the deadline left unstarted are counted).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from arc24.config import ConfigError

# The settings shown, by their name in solve_settings.json (nested ones dotted).
MAIN_SETTINGS = ("model", "adapter", "profile", "ttft.lora", "ttft.lora_rank", "ttft.steps", "ttft.learning_rate",
                 "n_views", "resolved_precision", "max_new_tokens", "seed")


def _read(path: Path):
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: unreadable ({exc})") from None


def _setting(settings: dict, dotted: str):
    value = settings
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def run_status(folder: str | Path) -> dict:
    """The state of the solve run in FOLDER (see the module docstring), as a dict."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"{folder}: no such folder")
    settings = _read(folder / "solve_settings.json")
    challenges = _read(folder / "challenges.json") or {}
    health = _read(folder / "health.json") or []
    summary = _read(folder / "summary.json")
    if settings is None:
        state = "not started"
    elif summary is not None:
        state = "finished"
    else:
        state = "running or interrupted"
    done = [r for r in health if r.get("ttft_status") != "not started"]
    seconds = [r.get("seconds", 0.0) for r in done]
    last = (folder / "health.json").stat().st_mtime if (folder / "health.json").exists() and done else None
    prompt = _setting(settings or {}, "prompt") or {}
    return {
        "folder": str(folder), "state": state, "tasks": len(challenges) or None, "done": len(done),
        "not_started": sum(r.get("ttft_status") == "not started" for r in health),
        "placeholders": sum(r.get("placeholders", 0) for r in health),
        "seconds_per_task": round(sum(seconds) / len(seconds), 1) if seconds else None,
        "ttft_failed": sum(r.get("ttft_status") not in ("ok", "skipped", "not started") for r in done),
        "weights": {w: sum(r.get("weights") == w for r in done) for w in sorted({r.get("weights") for r in done})},
        "last_task_seconds_ago": round(time.time() - last) if last else None,
        "settings": {name: _setting(settings, name) for name in MAIN_SETTINGS} if settings else {},
        "prompt": " / ".join(str(prompt[k]) for k in ("template", "grid_format", "max_seq_len") if k in prompt),
        "solvers": _setting(settings or {}, "solvers") or "model",
        "programs": {"searched": sum(bool(r.get("programs")) for r in done),
                     "fitted": sum(bool((r.get("programs") or {}).get("program")) for r in done)},
        "solved": (summary or {}).get("solved"),
    }


def status_text(status: dict) -> str:
    """A few lines a person reads."""
    if status["state"] == "not started":
        return f"{status['folder']}: not started (no solve run there)"
    total = status["tasks"] if status["tasks"] is not None else "?"
    lines = [f"{status['folder']}: {status['state']}", f"tasks: {status['done']} of {total} done"
             + (f", {status['not_started']} not started (the deadline came first)" if status["not_started"] else "")]
    if status["state"] != "finished":
        ago = status["last_task_seconds_ago"]
        lines[-1] += f"; last task finished {ago} s ago" if ago is not None else "; no task finished yet"
    per = status["seconds_per_task"]
    lines.append(f"placeholders: {status['placeholders']}; seconds per task: {per if per is not None else '-'}"
                 + (f"; fine-tuning not ok: {status['ttft_failed']}" if status["ttft_failed"] else ""))
    if status["weights"]:
        lines.append("weights: " + ", ".join(f"{w} {n}" for w, n in status["weights"].items()))
    if status["programs"]["searched"]:
        lines.append(f"programs: a program fits every train pair of {status['programs']['fitted']} of the "
                     f"{status['programs']['searched']} tasks searched (solvers={status['solvers']})")
    solved = status["solved"]
    if solved:
        lines.append(f"solved (the run's solutions): {solved['ensemble']} of {solved['tasks']} tasks by the attempts; "
                     f"alone, the programs {solved['programs']} and the model {solved['model']}")
    settings = ", ".join(f"{k}={v}" for k, v in status["settings"].items() if v not in (None, ""))
    lines.append(f"settings: {settings}")
    if status["prompt"]:
        lines.append(f"prompt: {status['prompt']}")
    if status["state"] == "running or interrupted":
        lines.append("if it was stopped, the same command continues it (finished tasks are kept)")
    return "\n".join(lines)
