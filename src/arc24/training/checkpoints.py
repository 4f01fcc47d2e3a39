"""Checkpoint folders that can never be picked up half-written.

A checkpoint is written into `checkpoint-N.partial/`, its files fsynced, and only then renamed
to `checkpoint-N/` (a rename is atomic on one file system). Resume and rotation look only at
`checkpoint-N` folders, so a run killed mid-save resumes from the previous checkpoint, and the
leftover `.partial` folder is removed at the next start.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

_COMPLETE = re.compile(r"^checkpoint-(\d+)$")
_PARTIAL = re.compile(r"^checkpoint-(\d+)\.partial$")


def _complete_step(path: Path) -> int | None:
    match = _COMPLETE.match(path.name)
    return int(match.group(1)) if match and path.is_dir() else None


def complete_checkpoints(output_dir: str | Path) -> list[Path]:
    """Finished checkpoint folders, oldest first."""
    root = Path(output_dir)
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if _complete_step(p) is not None]
    return sorted(found, key=_complete_step)


def latest_complete(output_dir: str | Path) -> Path | None:
    found = complete_checkpoints(output_dir)
    return found[-1] if found else None


def partial_path(output_dir: str | Path, step: int) -> Path:
    return Path(output_dir) / f"checkpoint-{step}.partial"


def finalize(partial: Path) -> Path:
    """Make a fully written `.partial` folder durable and give it its final name."""
    for child in partial.rglob("*"):
        if child.is_file():
            with open(child, "rb") as handle:
                os.fsync(handle.fileno())
    final = partial.with_name(partial.name[: -len(".partial")])
    if final.exists():  # the same step saved again (e.g. a rerun with more steps): replace it
        shutil.rmtree(final)
    os.replace(partial, final)
    return final


def remove_partial(output_dir: str | Path) -> list[Path]:
    """Delete half-written checkpoints left by a run killed mid-save; return them."""
    root = Path(output_dir)
    if not root.is_dir():
        return []
    removed = [p for p in root.iterdir() if _PARTIAL.match(p.name)]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed


def rotate(output_dir: str | Path, keep: int) -> list[Path]:
    """Keep the newest `keep` complete checkpoints; delete older ones; return what was deleted."""
    if keep <= 0:
        return []
    doomed = complete_checkpoints(output_dir)[:-keep]
    for path in doomed:
        shutil.rmtree(path, ignore_errors=True)
    return doomed
