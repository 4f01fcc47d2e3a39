"""The compiled program search (core/*.cpp): built on first use, run as a process per task.

The core is plain C++17 with no dependencies, so any machine with g++ builds it: here, in CI and
on Kaggle, where the package arrives as source in a dataset. It is compiled once per version of
its sources into the cache ($ARC24_CACHE/native/), under a lock so that parallel workers build it
once, and talks over stdin/stdout in whitespace-separated integers (main.cpp). A process of its
own can be killed at any moment, and it dies with the worker that started it.

    result = search_task(task, seconds=2.0, max_depth=3)
    result.candidates[0]  # per test input, ranked: answer, train pairs reproduced, program
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from arc24.data.task import Grid, Task

CORE = Path(__file__).with_name("core")
FLAGS = ["-O3", "-std=c++17", "-march=x86-64-v2", "-DNDEBUG"]


class NativeError(RuntimeError):
    """The compiled search could not be built or did not answer."""


def _sources() -> list[Path]:
    return sorted(p for p in CORE.iterdir() if p.suffix in (".cpp", ".hpp"))


def _cache_dir() -> Path:
    from arc24.models import cache_dir

    return cache_dir() / "native"


def binary() -> Path:
    """The compiled search for the current sources, built if it is not in the cache yet ($ARC24_NATIVE_BINARY:
    that build instead, e.g. one benchmark's, kept while the sources change)."""
    if os.environ.get("ARC24_NATIVE_BINARY"):
        return Path(os.environ["ARC24_NATIVE_BINARY"])
    digest = hashlib.sha256()
    for p in _sources():
        digest.update(p.name.encode() + b"\0" + p.read_bytes())
    digest.update(" ".join(FLAGS).encode())
    folder = _cache_dir()
    path = folder / f"arc24-search-{digest.hexdigest()[:16]}"
    if path.exists():
        return path
    compiler = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")
    if not compiler:
        raise NativeError("the compiled program search needs a C++ compiler (g++), and none was found on PATH; "
                          "install g++ (Debian: apt-get install g++) or set programs.searches=learners")
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another worker may be building it: wait, then use its build
        if path.exists():
            return path
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        cpp = [str(p) for p in _sources() if p.suffix == ".cpp"]
        done = subprocess.run([compiler, *FLAGS, "-I", str(CORE), "-o", str(tmp), *cpp], capture_output=True, text=True)
        if done.returncode != 0:
            tmp.unlink(missing_ok=True)
            raise NativeError(f"building the compiled program search failed ({compiler}):\n{done.stderr[-4000:]}")
        os.replace(tmp, path)
    return path


# ---------------------------------------------------------------- search


@dataclass
class Candidate:
    answer: Grid
    goods: int  # train outputs it reproduces
    depth: int
    pieces: int
    score: float
    program: str


@dataclass
class TestResult:
    status: str  # done | time | states
    states: int
    depth: int
    pieces: int
    output_shape: tuple[int, int] | None  # the predicted size of the test output
    candidates: list[Candidate] = field(default_factory=list)  # best first
    # CPU seconds making the states, making the pieces, and stacking them
    phase_seconds: tuple[float, float, float] = (0.0, 0.0, 0.0)


def _grid_text(g: np.ndarray) -> str:
    return f"{g.shape[0]} {g.shape[1]} " + " ".join(map(str, g.ravel().tolist()))


def search_task(task: Task, seconds: float, max_depth: int = 3, max_states: int = 400_000) -> list[TestResult]:
    """Search TASK, SECONDS of CPU per test input; one result per test input."""
    lines = [f"{seconds} {max_depth} {max_states}", str(len(task.train))]
    lines += [_grid_text(p.input) + " " + _grid_text(p.output) for p in task.train]
    lines += [str(len(task.test))] + [_grid_text(p.input) for p in task.test]
    done = subprocess.run([str(binary()), "search"], input="\n".join(lines) + "\n", capture_output=True, text=True)
    if done.returncode != 0:
        raise NativeError(f"the compiled search failed on task {task.id} (exit {done.returncode}): "
                          f"{done.stderr.strip()[-2000:]}")
    return _parse_search(done.stdout.split("\n"))


def _parse_search(lines: list[str]) -> list[TestResult]:
    results, i = [], 0
    while i < len(lines) and lines[i].startswith("test "):
        _, _, status, states, depth, pieces, h, w, n, *phases = lines[i].split()
        result = TestResult(status, int(states), int(depth), int(pieces), (int(h), int(w)) if int(h) else None,
                            phase_seconds=tuple(float(x) for x in phases))
        i += 1
        for _ in range(int(n)):
            _, goods, cdepth, cpieces, score = lines[i].split()
            numbers = list(map(int, lines[i + 1].split()))
            grid = np.array(numbers[2:], dtype=np.int8).reshape(numbers[0], numbers[1])
            result.candidates.append(Candidate(grid, int(goods), int(cdepth), int(cpieces), float(score), lines[i + 2]))
            i += 3
        results.append(result)
    return results


# ---------------------------------------------------------------- single functions (for the tests)


def vocabulary_names() -> list[str]:
    done = subprocess.run([str(binary()), "names"], capture_output=True, text=True, check=True)
    return done.stdout.split("\n")[:-1]


def apply_many(requests: list[tuple]) -> list:
    """Each request (name, value, canvas shape or None), where value is an image_functions.Image or a list of
    them; each reply an Image, a list of Images (from a split or filter), or None where the function failed."""
    from arc24.programs.image_functions import Image

    def sprite(im) -> str:
        return f"{im.x} {im.y} " + _grid_text(np.asarray(im.grid))

    parts = [str(len(requests))]
    for name, value, canvas in requests:
        images = value if isinstance(value, list) else [value]
        parts.append(name)
        parts.append(f"{int(isinstance(value, list))} {len(images)} " + " ".join(sprite(im) for im in images)
                     + (f" {canvas[0]} {canvas[1]}" if canvas is not None else ""))
    done = subprocess.run([str(binary()), "apply"], input="\n".join(parts) + "\n", capture_output=True, text=True)
    if done.returncode != 0:
        raise NativeError(done.stderr.strip())
    numbers = iter(map(int, done.stdout.split()))
    replies = []
    for _ in requests:
        ok, is_list, n = next(numbers), next(numbers), next(numbers)
        images = []
        for _ in range(n):
            x, y, h, w = next(numbers), next(numbers), next(numbers), next(numbers)
            cells = [next(numbers) for _ in range(h * w)]
            images.append(Image(np.array(cells, dtype=np.int8).reshape(h, w), x, y))
        replies.append(None if not ok else images if is_list else images[0])
    return replies


def apply_function(name: str, value, canvas: tuple[int, int] | None = None):
    return apply_many([(name, value, canvas)])[0]
