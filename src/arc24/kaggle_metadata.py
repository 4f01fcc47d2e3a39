"""Kaggle's metadata files checked offline: kernel-metadata.json and dataset-metadata.json.

`tools/kaggle_push.py` (one kernel) and `arc24 sweep --kaggle` (one kernel per grid point) run
these checks before anything is uploaded, so that a bad slug, a missing code file or a kernel
with the internet on is one line here rather than an upload refused (or, worse, accepted) there.
Each function returns the problems as one-line messages; an empty list is a pass.

Standard library only.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

# Kaggle slugs are lowercase letters, digits and hyphens (they are URL parts); the API refuses
# dataset slugs outside 3 to 50 characters. Owners are Kaggle user or organisation names.
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,48})[a-z0-9]$")
OWNER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
# The ARC Prize competitions whose task files (arc-agi_test_challenges.json) the notebook finds;
# the last is the current one.
ARC_COMPETITIONS = ("arc-prize-2024", "arc-prize-2025")


def id_problem(value, what: str = "id") -> str | None:
    """Why `value` is not a valid "owner/slug" Kaggle id, or None."""
    if not isinstance(value, str) or value.count("/") != 1:
        return f'{what} {value!r}: must be "owner/slug"'
    owner, slug = value.split("/")
    if not OWNER.match(owner):
        return f"{what} {value!r}: bad owner {owner!r}"
    if not SLUG.match(slug) or "--" in slug:
        return f"{what} {value!r}: bad slug {slug!r} (3-50 lowercase letters, digits and single hyphens)"
    return None


def slug_problem(value, what: str) -> str | None:
    if not isinstance(value, str) or not SLUG.match(value) or "--" in value:
        return f"{what} {value!r}: not a Kaggle slug (3-50 lowercase letters, digits and single hyphens)"
    return None


def load_json(path: Path) -> tuple[dict | None, str | None]:
    if not path.is_file():
        return None, f"{path}: missing"
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        return None, f"{path}: not valid JSON ({error})"
    if not isinstance(data, dict):
        return None, f"{path}: not a JSON object"
    return data, None


def dataset_metadata_problems(meta: dict) -> list[str]:
    """Problems with a parsed dataset-metadata.json (without the file name)."""
    problems = []
    if "id" not in meta:
        problems.append("id: missing")
    elif problem := id_problem(meta["id"]):
        problems.append(problem)
    title = meta.get("title")
    if not isinstance(title, str) or not 6 <= len(title) <= 50:
        problems.append(f"title {title!r}: must be 6 to 50 characters (Kaggle refuses others)")
    licenses = meta.get("licenses")
    if (
        not isinstance(licenses, list)
        or not licenses
        or not all(isinstance(x, dict) and isinstance(x.get("name"), str) and x["name"] for x in licenses)
    ):
        problems.append('licenses: must be a non-empty list like [{"name": "Apache 2.0"}]')
    return problems


def kernel_metadata_problems(meta: dict, base: Path) -> list[str]:
    """Problems with a parsed kernel-metadata.json; `base` is its folder (code_file is relative to it)."""
    problems = []
    if "id" not in meta:
        problems.append("id: missing")
    elif problem := id_problem(meta["id"]):
        problems.append(problem)
    if not isinstance(meta.get("title"), str) or not meta.get("title", "").strip():
        problems.append("title: missing")
    code_file = meta.get("code_file")
    if not isinstance(code_file, str) or not code_file:
        problems.append("code_file: missing")
    elif not (base / code_file).is_file():
        problems.append(f"code_file {code_file!r}: no such file under {base}")
    expected = {"language": "python", "kernel_type": "notebook", "enable_gpu": True, "enable_internet": False}
    why = {
        "enable_gpu": "the model runs on the GPU",
        "enable_internet": "competition submissions must run offline",
    }
    for key, value in expected.items():
        if meta.get(key) != value:
            reason = f" ({why[key]})" if key in why else ""
            problems.append(f"{key}: {meta.get(key)!r}, must be {json.dumps(value)}{reason}")
    competitions = meta.get("competition_sources")
    if not isinstance(competitions, list) or not competitions:
        problems.append("competition_sources: must list the competition (the run reads its tasks)")
    else:
        # competitions are named by slug alone, datasets by owner/slug
        problems += [p for c in competitions if (p := slug_problem(c, "competition_sources entry"))]
    datasets = meta.get("dataset_sources")
    if not isinstance(datasets, list):
        problems.append("dataset_sources: must be a list of owner/slug ids")
    else:
        problems += [p for d in datasets if (p := id_problem(d, "dataset_sources entry"))]
    return problems
