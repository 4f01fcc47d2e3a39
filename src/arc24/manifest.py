"""A file manifest (relative path -> sha256 and size) for folders shipped as Kaggle datasets.

A model folder is uploaded once and then attached to many offline runs. A truncated upload, a
stale version or a wrong dataset would otherwise show up as a confusing load error or, worse, as
a run that silently scores with the wrong weights. `tools/kaggle_package.py` writes the manifest
next to the files, and the submission run calls `require_manifest` before using the folder.

Standard library only: this module is imported on Kaggle from the uploaded package.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

MANIFEST_NAME = "arc24-manifest.json"
# Kaggle's uploader keeps dataset-metadata.json to itself (it never reaches /kaggle/input), so
# listing it would make every attached dataset look incomplete.
NOT_LISTED = {MANIFEST_NAME, "dataset-metadata.json"}
# Python writes bytecode caches next to imported modules; they are not part of what we ship.
SKIPPED_DIRS = {"__pycache__"}
CREATE_HINT = "python tools/kaggle_package.py model FOLDER"
_CHUNK = 8 * 1024 * 1024  # model shards are GBs: hash them in pieces, never read them whole


class ManifestError(Exception):
    """The folder does not match its manifest (or has none)."""


def file_sha256(path: str | Path) -> str:
    # hashlib.file_digest would do this, but Kaggle's image runs Python 3.10.
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def listed_files(folder: str | Path) -> list[str]:
    """Every file under `folder` that a manifest covers, as sorted POSIX relative paths."""
    root = Path(folder)
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIPPED_DIRS]
        for name in filenames:
            relative = (Path(dirpath) / name).relative_to(root).as_posix()
            if relative not in NOT_LISTED:
                found.append(relative)
    return sorted(found)


def build_manifest(folder: str | Path) -> dict[str, dict]:
    root = Path(folder)
    return {
        relative: {"sha256": file_sha256(root / relative), "bytes": (root / relative).stat().st_size}
        for relative in listed_files(root)
    }


def write_manifest(folder: str | Path, path: str | Path | None = None) -> Path:
    """Write the manifest of `folder` (default: `folder/arc24-manifest.json`) and return its path."""
    root = Path(folder)
    if not root.is_dir():
        raise NotADirectoryError(f"{root}: not a folder")
    target = Path(path) if path is not None else root / MANIFEST_NAME
    entries = build_manifest(root)
    if target.resolve().parent == root.resolve():
        entries.pop(target.name, None)  # a manifest at a custom name inside the folder skips itself too
    target.write_text(json.dumps(entries, indent=1, sort_keys=True) + "\n")
    return target


def verify_manifest(folder: str | Path, manifest: str | Path | None = None) -> list[str]:
    """Problems with `folder` against its manifest; empty when everything matches.

    Unexpected extra files are notes rather than failures (a folder may gain a README); they are
    included with the prefix "extra:" so callers can tell them apart.
    """
    root = Path(folder)
    manifest_path = Path(manifest) if manifest is not None else root / MANIFEST_NAME
    if not root.is_dir():
        return [f"{root}: not a folder"]
    if not manifest_path.is_file():
        return [f"{manifest_path}: no manifest; create it with: {CREATE_HINT.replace('FOLDER', str(root))}"]
    try:
        expected = json.loads(manifest_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        return [f"{manifest_path}: unreadable manifest ({error})"]
    if not isinstance(expected, dict):
        return [f"{manifest_path}: unreadable manifest (not a JSON object)"]

    problems = []
    for relative, entry in sorted(expected.items()):
        path = root / relative
        if not path.is_file():
            problems.append(f"{relative}: missing")
            continue
        size = path.stat().st_size
        if size != entry.get("bytes"):
            # a size check is instant and explains truncated uploads better than a hash
            problems.append(f"{relative}: {size} bytes, manifest says {entry.get('bytes')}")
        elif file_sha256(path) != entry.get("sha256"):
            problems.append(f"{relative}: sha256 differs from the manifest (same size, different content)")
    skip = {manifest_path.name} if manifest_path.resolve().parent == root.resolve() else set()
    for relative in listed_files(root):
        if relative not in expected and relative not in skip:
            problems.append(f"extra: {relative}: not in the manifest")
    return problems


def require_manifest(folder: str | Path, show: int = 5) -> list[str]:
    """Raise ManifestError unless `folder` matches its manifest; return the extra-file notes.

    Called before a model folder is used, so a broken upload stops the run at once with a
    message that says what is wrong, instead of failing (or scoring) later with bad weights.
    """
    problems = verify_manifest(folder)
    failures = [p for p in problems if not p.startswith("extra:")]
    notes = [p for p in problems if p.startswith("extra:")]
    if failures and not (Path(folder) / MANIFEST_NAME).is_file():
        raise ManifestError(
            f"{folder} cannot be checked:\n  {failures[0]}\n"
            "Write the manifest where the folder is built, before uploading it, so the run can "
            "tell a complete upload from a partial one."
        )
    if failures:
        lines = [f"{folder} does not match its manifest ({len(failures)} problems):"]
        lines += [f"  {p}" for p in failures[:show]]
        if len(failures) > show:
            lines.append(f"  ... and {len(failures) - show} more")
        lines.append(
            "Upload the folder again (a partial upload or the wrong dataset version is the usual cause), "
            f"or, if its files changed on purpose, rewrite the manifest: {CREATE_HINT.replace('FOLDER', str(folder))}"
        )
        raise ManifestError("\n".join(lines))
    for note in notes:
        print(f"warning: {folder}: {note}")
    return notes
