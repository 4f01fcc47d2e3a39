"""The program search: compositions of primitives, cheapest first, ending in a learner.

A *state* is the tuple of grids a program has made from every train and test input at once, so
two programs that make the same grids everywhere are one state, kept once (the first, the
cheaper). From each state every primitive is tried with the arguments the task offers
(`TaskFacts`); each new state is then handed to every learner, which either fits the train
outputs from it or declines. A fit is a program that reproduces every train output; its test
grids are its answers.

The search is breadth-first by cost (a primitive's cost is usually 1) up to `max_depth` steps,
and stops when its budget of seconds or states is spent, or when the two simplest distinct
answers for every test input are known and nothing cheaper can come. It is deterministic: the
same task and budget give the same programs, whatever ran before (only where the time runs
out can differ between machines, which `max_states` avoids).
"""

from __future__ import annotations

import heapq
import itertools
import time
from dataclasses import dataclass, field

from arc24.data.task import Grid, Task
from arc24.programs.dsl import Fitted, Learner, Primitive, Step, TaskFacts, program_text, run_step

MAX_ANSWERS = 2  # per test input: the two attempts
# A learner that only reproduces the pairs it saw (it cannot predict a held-out pair) is likelier
# to be wrong on the test: its programs rank behind the ones this much costlier.
MEMORISED_COST = 3


@dataclass(frozen=True)
class SearchBudget:
    """How much one task may take."""

    seconds: float = 10.0
    max_depth: int = 3
    max_states: int = 100_000  # distinct states kept: the memory bound (each holds every input's grid)
    # After the first fit, go on until programs this much costlier than it have been tried
    slack: int = 1


@dataclass
class Solution:
    """A program that reproduces every train output, and its answer for each test input."""

    program: str
    cost: int
    answers: list[Grid]
    primitives: list[str] = field(default_factory=list)  # the names of its steps and learner
    # Its learner, fitted without one train pair, predicts that pair, for each pair: what it learned
    # generalises, rather than being a table of the pairs (always true without a learner).
    generalises: bool = True


@dataclass
class SearchResult:
    task_id: str
    status: str  # "done": searched all it meant to; "time" / "states": stopped by that budget
    seconds: float = 0.0
    states: int = 0  # distinct states made
    depth: int = 0  # the deepest program tried
    solutions: list[Solution] = field(default_factory=list)  # simplest first, distinct answers

    def attempts(self, test_index: int) -> list[Solution]:
        """Up to two solutions with distinct answers for test input TEST_INDEX, simplest first."""
        chosen, seen = [], set()
        for s in self.solutions:
            key = _key((s.answers[test_index],))
            if key not in seen:
                seen.add(key)
                chosen.append(s)
            if len(chosen) == MAX_ANSWERS:
                break
        return chosen

    @property
    def best(self) -> Solution | None:
        return self.solutions[0] if self.solutions else None


def _key(grids) -> int:
    return hash(tuple((g.shape, g.tobytes()) for g in grids))


@dataclass(order=True)
class _Node:
    cost: int
    order: int
    grids: tuple = field(compare=False)
    steps: tuple = field(compare=False)


def vocabulary() -> tuple[list[Primitive], list[Learner]]:
    """Every primitive and learner the search uses, in the order it tries them."""
    from arc24.programs import (grids, learners, local_rules, object_rules, objects, paint_rules, parts, patterns,
                                recolour_rules, select_rules, sort_rules, tiling_rules)

    # The search tries them in this order; of two fits of one cost, the one found earlier ranks first.
    modules = (grids, parts, objects, patterns, learners, local_rules, object_rules, recolour_rules, tiling_rules,
               paint_rules, select_rules, sort_rules)
    return [p for m in modules for p in m.PRIMITIVES], [rule for m in modules for rule in m.LEARNERS]


def search(task: Task, budget: SearchBudget | None = None, primitives: list[Primitive] | None = None,
           learners: list[Learner] | None = None) -> SearchResult:
    """The simplest programs that fit every train pair of TASK, within BUDGET."""
    budget = budget or SearchBudget()
    default_primitives, default_learners = vocabulary()
    primitives = default_primitives if primitives is None else primitives
    learners = default_learners if learners is None else learners
    clock = _Clock(budget.seconds)
    facts = TaskFacts.of(task)
    n_train = len(task.train)
    outputs = [p.output for p in task.train]
    steps = [Step(p, args) for p in primitives for args in _arguments(p, facts)]
    start = tuple(p.input for p in task.train + task.test)
    result = SearchResult(task.id, "done")
    seen = {_key(start)}
    found: dict[int, tuple[int, int, Solution]] = {}  # answers' key -> (cost, order, solution)
    order = itertools.count()

    every = [rule for rule in learners if rule.on_every_state]
    expanded = [rule for rule in learners if not rule.on_every_state]

    def try_learners(grids: tuple, path: tuple, cost: int, learners: list[Learner]) -> None:
        train = list(grids[:n_train])
        for learner in learners:
            fitted = _fit(learner, train, outputs)
            if fitted is None:
                continue
            answers = [_apply(fitted, g) for g in grids[n_train:]]
            if any(a is None for a in answers):
                continue
            key = _key(answers)
            total = cost + learner.cost
            if key in found and found[key][0] <= total:
                continue
            general = fitted.text == "x" or _generalises(learner, train, outputs)
            total += 0 if general else MEMORISED_COST
            if key not in found or found[key][0] > total:
                text = program_text(path, None if fitted.text == "x" else fitted)
                names = [s.primitive.name for s in path] + ([learner.name] if fitted.text != "x" else [])
                found[key] = (total, next(order), Solution(text, total, answers, names, general))

    def enough(cost: int) -> bool:
        if not found:
            return False
        best = min(c for c, _, _ in found.values())
        return cost > best + budget.slack

    try_learners(start, (), 0, every)
    queue = [_Node(0, next(order), start, ())]
    while queue:
        node = heapq.heappop(queue)
        try_learners(node.grids, node.steps, node.cost, expanded)
        if enough(node.cost + 1):
            break
        if len(node.steps) >= budget.max_depth:
            continue
        result.depth = max(result.depth, len(node.steps) + 1)
        for step in steps:
            if clock.spent():
                result.status = "time"
                break
            if len(seen) >= budget.max_states:
                result.status = "states"
                break
            grids = _apply_all(step, node.grids)
            if grids is None:
                continue
            key = _key(grids)
            if key in seen:
                continue
            seen.add(key)
            path, cost = node.steps + (step,), node.cost + step.primitive.cost
            try_learners(grids, path, cost, every)
            if len(path) < budget.max_depth:
                heapq.heappush(queue, _Node(cost, next(order), grids, path))
        if result.status != "done":
            break
    result.states = len(seen)
    result.solutions = [s for _, _, s in sorted(found.values(), key=lambda t: (t[0], t[1]))]
    result.seconds = clock.seconds()
    return result


class _Clock:
    """The search's CPU seconds against its budget (a busy machine does not shrink the search). Reading
    the process's CPU clock is a system call that can take most of a millisecond, so it is read only
    when 20 ms have passed on the wall clock (a fast read)."""

    def __init__(self, seconds: float):
        self.budget, self.began = seconds, time.process_time()
        self.next_read = time.perf_counter()

    def seconds(self) -> float:
        return time.process_time() - self.began

    def spent(self) -> bool:
        now = time.perf_counter()
        if now < self.next_read:
            return False
        self.next_read = now + 0.02
        return self.seconds() > self.budget


def _generalises(learner: Learner, grids: list[Grid], outputs: list[Grid]) -> bool:
    """Leave-one-out: fitted on all pairs but one, the learner predicts the one left out, for each pair."""
    if len(grids) < 2:
        return False
    for i in range(len(grids)):
        fitted = _fit(learner, grids[:i] + grids[i + 1:], outputs[:i] + outputs[i + 1:])
        answer = None if fitted is None else _apply(fitted, grids[i])
        if answer is None or answer.shape != outputs[i].shape or not (answer == outputs[i]).all():
            return False
    return True


def _arguments(primitive: Primitive, facts: TaskFacts) -> list:
    try:
        return primitive.arguments(facts)
    except Exception:  # noqa: BLE001  a primitive that cannot read this task offers nothing
        return []


def _apply_all(step: Step, grids: tuple) -> tuple | None:
    out = []
    for g in grids:
        new = run_step(step, g)
        if new is None:
            return None
        out.append(new)
    return tuple(out)


def _fit(learner: Learner, grids: list[Grid], outputs: list[Grid]) -> Fitted | None:
    try:
        return learner.fit(grids, outputs)
    except Exception:  # noqa: BLE001  a learner that cannot read these grids declines
        return None


def _apply(fitted: Fitted, grid: Grid) -> Grid | None:
    from arc24.programs.dsl import as_grid_or_none

    try:
        out = fitted.apply(grid)
    except Exception:  # noqa: BLE001  as a primitive: a dead branch
        return None
    return as_grid_or_none(out)
