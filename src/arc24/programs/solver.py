"""The program half of arc24: the compiled search and the learner search, their answers merged.

Two searches answer a task, each in its share of the budget:
- the compiled search (`native`, core/*.cpp): compositions of a small general vocabulary over
  images and lists of images, the output stacked from the pieces that agree with the train
  outputs; it ranks its answers by train pairs reproduced, then depth, then pieces;
- the learner search (`search`): shorter compositions that end in a learned step (a colour map,
  a rule read from the pairs).
Per test input the two attempts are taken from the two lists in turn (`merge`), the first answer
of each first, distinct answers only; answers that reproduce only some train pairs come after
every answer that reproduces all (`partial_fits`).
"""

from __future__ import annotations

import resource
import time
from dataclasses import dataclass, field

import numpy as np

from arc24.data.task import Grid, Pair, Task, grids_equal
from arc24.programs import ProgramSettings

MAX_ANSWERS = 2


@dataclass
class Attempt:
    """One answer for one test input, and the program that gave it."""

    answer: Grid
    program: str
    source: str  # "compiled" | "learners"
    generalises: bool = True  # a learned step predicts each train pair left out of its fit
    primitives: list[str] = field(default_factory=list)
    partial: bool = False  # its program reproduces some train pairs, not all


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
        """The first answer of a program that reproduces every train pair; a partial fit is never best."""
        return next((a for r in self.ranked for a in r if not a.partial), None)


def solve(task: Task, settings: ProgramSettings | None = None) -> ProgramResult:
    """The programs that reproduce every train pair of TASK, their answers ranked per test input."""
    settings = settings or ProgramSettings()
    began = cpu_seconds()
    n_test = len(task.test)
    compiled, learned, partial = ([[] for _ in range(n_test)] for _ in range(3))
    status, states, depth = "done", 0, 0
    if settings.searches in ("both", "compiled"):
        share = settings.compiled_share if settings.searches == "both" else 1.0
        compiled, partial, report = _compiled(task, settings.seconds * share / n_test, settings)
        status, states, depth = report
    if settings.searches in ("both", "learners"):
        from arc24.programs.search import SearchBudget, search

        left = max(settings.seconds - (cpu_seconds() - began), 0.2 * settings.seconds)
        result = search(task, SearchBudget(seconds=left, max_depth=settings.max_depth, max_states=settings.max_states))
        for i in range(n_test):
            learned[i] = [Attempt(s.answers[i], s.program, "learners", s.generalises, s.primitives)
                          for s in result.attempts(i)]
        states += result.states
        depth = max(depth, result.depth)
        status = status if status != "done" else result.status
    ranked = [merge(compiled[i], learned[i]) + (partial[i] if settings.partial_fits else []) for i in range(n_test)]
    ranked = [merge(r) for r in ranked]  # distinct answers: a partial fit's answer may be a full fit's too
    return ProgramResult(task.id, status, cpu_seconds() - began, states, depth, ranked)


def cpu_seconds() -> float:
    """This process's CPU seconds and its finished children's (the compiled search runs in one)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _compiled(task: Task, seconds: float, settings: ProgramSettings):
    """Per test input, the compiled search's answers that reproduce every train pair, and those that
    reproduce some (each list over the views in turn); and (status, states, depth)."""
    from arc24.programs.native import search_task

    n, n_test = len(task.train), len(task.test)
    full, partial = [[[] for _ in range(n_test)] for _ in range(2)]
    statuses, states, reached = [], 0, 0
    # A view that renumbers nothing is the plain view again (a third of the tasks of ARC-AGI-1): its
    # share goes to the views that differ.
    views = []
    for name in settings.views:
        view = VIEWS[name](task)
        if not any(view.same_as(v) for v in views):
            views.append(view)
    for view in views:
        results = search_task(view.task, seconds / len(views), settings.compiled_depth, settings.max_states)
        for i, r in enumerate(results):
            attempts = [(c.goods, Attempt(view.answer(i, c.answer), c.program, "compiled", c.goods == n, ["compiled"],
                                          partial=c.goods < n)) for c in r.candidates]
            full[i].append([a for goods, a in attempts if goods == n])
            partial[i].append([a for goods, a in attempts if goods < n])
        statuses += [r.status for r in results if r.status != "done"]
        states += sum(r.states for r in results)
        reached = max([reached] + [r.depth for r in results])
    report = (statuses[0] if statuses else "done", states, reached)
    return [merge(*lists) for lists in full], [merge(*lists) for lists in partial], report


class View:
    """The task as the compiled search sees it, and its answers mapped back: one colour permutation
    per pair (each input's own, applied to its output too), and the grids transposed or not."""

    def __init__(self, task: Task, maps: list[np.ndarray], transposed: bool = False):
        self.maps, self.transposed = maps, transposed  # per pair, train then test: colour c becomes maps[k][c]
        pairs = [Pair(self._grid(m[p.input]), None if p.output is None else self._grid(m[p.output]))
                 for m, p in zip(maps, task.train + task.test)]
        self.task = Task(task.id, pairs[:len(task.train)], pairs[len(task.train):])
        self.n_train = len(task.train)

    def same_as(self, other: "View") -> bool:
        """Whether the two views show the task alike (the same colours and orientation for every pair)."""
        return self.transposed == other.transposed and all(np.array_equal(a, b) for a, b in zip(self.maps, other.maps))

    def _grid(self, g: Grid) -> Grid:
        return np.ascontiguousarray(g.T) if self.transposed else g

    def answer(self, test_index: int, grid: Grid) -> Grid:
        inverse = np.argsort(self.maps[self.n_train + test_index]).astype(np.int8)
        return self._grid(inverse[grid])


def plain_view(task: Task) -> View:
    """The background (the most frequent colour of every input) as colour 0, which the compiled search
    treats as empty; the other colours as they are."""
    m = background_map(task)
    return View(task, [m] * (len(task.train) + len(task.test)))


def normalised_view(task: Task) -> View:
    """The plain view, then colours by their role: the colours that keep one meaning across pairs stay
    (0, the outputs' own colours, those every input has but no output); each input's other colours
    are renumbered by how many cells it has, most first, so that "the commonest colour" is one colour
    in every pair."""
    plain = plain_view(task)
    seen = plain.task
    inputs = [set(np.unique(p.input).tolist()) for p in seen.train + seen.test]
    outputs = [set(np.unique(p.output).tolist()) for p in seen.train]
    any_in, every_in, any_out = set.union(*inputs), set.intersection(*inputs), set.union(*outputs)
    same_palette = all(o == outputs[0] for o in outputs)
    fixed = {0} | (any_out - any_in) | (every_in - any_out) | (outputs[0] if same_palette else set())
    slots = [c for c in range(10) if c not in fixed]
    maps = []
    for first, p in zip(plain.maps, seen.train + seen.test):
        counts = np.bincount(p.input.ravel(), minlength=10)
        order = sorted(slots, key=lambda c: (-counts[c], c))  # present colours by count, then the absent
        m = np.arange(10, dtype=np.int8)
        m[order] = slots
        maps.append(m[first])  # the plain view's map first, then this one
    return View(task, maps)


def transposed_view(task: Task) -> View:
    """The plain view with every grid transposed: a program written for rows finds columns."""
    plain = plain_view(task)
    return View(task, plain.maps, transposed=True)


VIEWS = {"plain": plain_view, "normalised": normalised_view, "transposed": transposed_view}


def background_map(task: Task) -> np.ndarray:
    """The colour permutation that makes the task's background colour 0, which the compiled search treats
    as empty: the colour that is the most frequent of every input, swapped with 0 (none where there is none)."""
    firsts = {int(np.bincount(pair.input.ravel(), minlength=10).argmax()) for pair in task.train + task.test}
    bg = firsts.pop() if len(firsts) == 1 else 0
    m = np.arange(10, dtype=np.int8)
    m[[0, bg]] = m[[bg, 0]]
    return m


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
    return [grids_equal(a.answer, expected) for a in attempts]
