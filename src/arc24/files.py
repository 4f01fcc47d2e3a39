"""The run folders' files: written atomically, read with one-line errors, and guarded against mixing runs.

Every job (train, solve, sweep) writes its state into a folder and continues that folder when
started again. Three rules hold for all of them, and live here once:
- a file is replaced whole or not at all (`write_atomic`), so a crash never leaves half a file;
- a file a person may have edited or truncated is read with an error naming it (`read_json`);
- a folder made with other settings is refused, naming the setting and both values
  (`require_same_settings`), because continuing it would mix two runs in one result.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from arc24.config import ConfigError


def write_atomic(path: str | os.PathLike, write: Callable[[Path], object]) -> Path:
    """Have WRITE(tmp) write the file, then rename it to PATH: PATH holds the old file or the new one, never half.

    The temporary file is in the same folder (a rename is atomic only within one file system)
    and is fsynced before the rename, so a crash cannot leave an empty file under the name.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; these are ordinary files
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def write_json_atomic(obj, path: str | os.PathLike, indent: int | None = None) -> Path:
    return write_atomic(path, lambda tmp: tmp.write_text(json.dumps(obj, indent=indent), encoding="utf-8"))


def load_json(path: str | os.PathLike, object_pairs_hook=None) -> tuple[object, str | None]:
    """(the parsed JSON, None), or (None, why it cannot be read: one line, without the file's name)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None, "no such file"
    except OSError as exc:
        return None, f"cannot read: {exc.strerror or exc}"
    try:
        return json.loads(data.decode("utf-8"), object_pairs_hook=object_pairs_hook), None
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 text (byte {exc.start})"
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"


def json_problem(path: str | os.PathLike, what: str = "file") -> tuple[object, str | None]:
    """(the parsed JSON, None) or (None, a one-line problem naming WHAT and the file)."""
    data, reason = load_json(path)
    return data, None if reason is None else f"{what} {path}: {reason}"


def read_json(path: str | os.PathLike, what: str = "file"):
    """The parsed JSON of PATH; ConfigError with a one-line message when it cannot be read."""
    data, problem = json_problem(path, what)
    if problem:
        raise ConfigError(problem)
    return data


def first_difference(before: dict, now: dict) -> str | None:
    """The first key (sorted) whose value differs between two settings mappings, or None."""
    return next((k for k in sorted(set(before) | set(now)) if before.get(k) != now.get(k)), None)


def require_same_settings(saved: str | os.PathLike, settings: dict, remedy: str) -> None:
    """Refuse to continue a folder whose saved settings differ from SETTINGS; save them when new.

    SETTINGS must be JSON-able; it is compared after a JSON round trip, as it is saved. The
    error names the folder, the first differing setting with both values, and REMEDY (the ways out).
    """
    saved = Path(saved)
    settings = json.loads(json.dumps(settings, default=str))
    if not saved.exists():
        write_json_atomic(settings, saved, indent=1)
        return
    before = read_json(saved, "settings")
    key = first_difference(before, settings)
    if key is not None:
        raise ConfigError(f"{saved.parent}: a run with other settings is there ({key}: {before.get(key)!r} there, "
                          f"{settings.get(key)!r} now); {remedy}")


def sigterm_interrupts():
    """Make SIGTERM (`kill`, a job scheduler, a stopped notebook) stop a job as Ctrl-C does, so it
    ends its children and keeps what it finished. Returns the old handler to restore, or None."""
    import signal

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    try:
        return signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: signals stay as they are
        return None


def format_value(value: object) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def run_name(swept: Mapping) -> str:
    """The folder name of a run: `name=value` pairs joined by `__`, safe as a file name.

    A value that is not safe as-is (a model path, say) is cleaned, and a short hash of the
    exact values is added so that two values cleaned alike still get two folders.
    """
    if not swept:
        return "default"
    exact = "__".join(f"{k}={format_value(v)}" for k, v in swept.items())
    safe = re.sub(r"[^A-Za-z0-9._=+-]", "-", exact)
    if safe != exact or len(safe) > 150:
        safe = f"{safe[:120]}-{hashlib.sha1(exact.encode()).hexdigest()[:8]}"
    return safe
