"""The program half of arc24: the compiled search and the learner search, their answers merged.

Two searches answer a task, each in its share of the budget:
- the compiled search (`native`, core/*.cpp): compositions of a small general vocabulary over
  images and lists of images, the output stacked from the pieces that agree with the train
  outputs; it ranks its answers by train pairs reproduced, then depth, then pieces;
- the learner search (`search`): shorter compositions that end in a learned step (a colour map,
  a rule read from the pairs).
Only answers that reproduce every train pair count. Per test input the two attempts are taken
from the two lists in turn (`MERGE`), the first answer of each first, distinct answers only.
"""

from __future__ import annotations

import resource
import time
from dataclasses import dataclass, field

import numpy as np

from arc24.data.augment import Augmentation
from arc24.data.task import Grid, Task
from arc24.programs import SEARCHES  # noqa: F401  (here too, for callers)
MAX_ANSWERS = 2


@dataclass(frozen=True)
class ProgramBudget:
    """What one task's program search may take, and which searches run."""

    seconds: float = 10.0  # CPU seconds for the task, both searches together
    searches: str = "both"  # one of SEARCHES
    max_depth: int = 3  # the learner search: primitives composed before the learned step
    max_states: int = 100_000  # the learner search's memory bound
    compiled_depth: int = 3  # the compiled search: functions composed before the output adapters
    compiled_share: float = 0.5  # of SECONDS, for the compiled search when both run


@dataclass
class Attempt:
    """One answer for one test input, and the program that gave it."""

    answer: Grid
    program: str
    source: str  # "compiled" | "learners"
    generalises: bool = True  # a learned step predicts each train pair left out of its fit
    primitives: list[str] = field(default_factory=list)


@dataclass
class ProgramResult:
    task_id: str
    status: str  # done, or the budget that stopped a search: time | states
    seconds: float = 0.0
    states: int = 0
    depth: int = 0
    ranked: list[list[Attempt]] = field(default_factory=list)  # per test input, best first, distinct answers

    def attempts(self, test_index: int) -> list[Attempt]:
        return self.ranked[test_index][:MAX_ANSWERS]

    @property
    def best(self) -> Attempt | None:
        return next((r[0] for r in self.ranked if r), None)


def solve(task: Task, budget: ProgramBudget | None = None) -> ProgramResult:
    """The programs that reproduce every train pair of TASK, their answers ranked per test input."""
    budget = budget or ProgramBudget()
    began = cpu_seconds()
    n_test = len(task.test)
    compiled: list[list[Attempt]] = [[] for _ in range(n_test)]
    learned: list[list[Attempt]] = [[] for _ in range(n_test)]
    status, states, depth = "done", 0, 0
    if budget.searches in ("both", "compiled"):
        share = budget.compiled_share if budget.searches == "both" else 1.0
        compiled, report = _compiled(task, budget.seconds * share / n_test, budget.compiled_depth)
        status, states, depth = report
    if budget.searches in ("both", "learners"):
        from arc24.programs.search import SearchBudget, search

        left = max(budget.seconds - (cpu_seconds() - began), 0.2 * budget.seconds)
        result = search(task, SearchBudget(seconds=left, max_depth=budget.max_depth, max_states=budget.max_states))
        for i in range(n_test):
            learned[i] = [Attempt(s.answers[i], s.program, "learners", s.generalises, s.primitives)
                          for s in result.attempts(i)]
        states += result.states
        depth = max(depth, result.depth)
        status = status if status != "done" else result.status
    ranked = [merge(compiled[i], learned[i]) for i in range(n_test)]
    return ProgramResult(task.id, status, cpu_seconds() - began, states, depth, ranked)


def cpu_seconds() -> float:
    """This process's CPU seconds and its finished children's (the compiled search runs in one)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _compiled(task: Task, seconds: float, depth: int) -> tuple[list[list[Attempt]], tuple[str, int, int]]:
    from arc24.programs.native import search_task

    view = background_view(task)
    results = search_task(view.apply_task(task), seconds, depth)
    n = len(task.train)
    attempts = [[Attempt(view.reverse_grid(c.answer), c.program, "compiled", True, ["compiled"])
                 for c in r.candidates if c.goods == n] for r in results]
    stopped = [r.status for r in results if r.status != "done"]
    return attempts, (stopped[0] if stopped else "done", sum(r.states for r in results), max(r.depth for r in results))


def background_view(task: Task) -> Augmentation:
    """The task with its background as colour 0, which the compiled search treats as empty: the colour
    that is the most frequent of every input, swapped with 0 (no change where there is none)."""
    firsts = set()
    for pair in task.train + task.test:
        counts = np.bincount(pair.input.ravel(), minlength=10)
        firsts.add(int(counts.argmax()))
    bg = firsts.pop() if len(firsts) == 1 else 0
    colours = list(range(10))
    colours[0], colours[bg] = bg, 0
    return Augmentation(colour_map=tuple(colours))


def merge(*lists: list[Attempt]) -> list[Attempt]:
    """The lists' answers taken in turn (each list's first, then each list's second...), distinct answers only."""
    out, seen = [], set()
    for k in range(max((len(x) for x in lists), default=0)):
        for x in lists:
            if k < len(x):
                a = x[k]
                key = (a.answer.shape, a.answer.tobytes())
                if key not in seen:
                    seen.add(key)
                    out.append(a)
    return out


def right(attempts: list[Attempt], expected: Grid) -> list[bool]:
    return [a.answer.shape == expected.shape and bool(np.array_equal(a.answer, expected)) for a in attempts]
