"""The grid DSL's types: primitives, learners, the facts a task gives them, and programs as text.

A *primitive* is a pure function from a grid (and parameters) to a grid: `rot90(g)`,
`upscale(g, 2)`. Its parameters are drawn from the task (`TaskFacts`: its colours, the size
ratios of its pairs, its output shapes), never from a fixed list, so a primitive that cannot
help a task offers no parameters and costs the search nothing.

A *learner* is the last step of a program: it reads the train pairs (the grids the program has
made so far, and the outputs) and fits what they show, such as a colour map, or it declines.

A program is a straight line of steps, printed as such:

    x1 = crop_to_content(I)
    O = upscale(x1, 2)

Grids are 2-D int8 numpy arrays with sides 1-30 (`arc24.data.task.Grid`). A primitive may
raise or make a grid that is not one; the search counts that as a dead branch (`run_step`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from arc24.data.task import MAX_SIDE, Grid, Task

Params = tuple  # the arguments after the grid


@dataclass(frozen=True)
class TaskFacts:
    """What a task tells the search before any program runs."""

    colours: tuple[int, ...]  # every colour of the task's grids, most frequent first
    input_colours: tuple[int, ...]  # of the train and test inputs
    output_colours: tuple[int, ...]  # of the train outputs
    output_shapes: tuple[tuple[int, int], ...]  # one per train pair
    same_shape: bool  # every train output has its input's shape
    # Per train pair: output rows / input rows and columns, as exact fractions
    ratios: tuple[tuple[Fraction, Fraction], ...]

    @property
    def new_colours(self) -> tuple[int, ...]:
        """Colours that appear in outputs but in no input: a program must paint them."""
        return tuple(c for c in self.output_colours if c not in self.input_colours)

    @property
    def ratio(self) -> tuple[Fraction, Fraction] | None:
        """The size ratio every train pair shares, or None."""
        return self.ratios[0] if len(set(self.ratios)) == 1 else None

    @property
    def output_shape(self) -> tuple[int, int] | None:
        """The shape every train output shares, or None."""
        return self.output_shapes[0] if len(set(self.output_shapes)) == 1 else None

    @classmethod
    def of(cls, task: Task) -> TaskFacts:
        inputs = [p.input for p in task.train + task.test]
        outputs = [p.output for p in task.train]
        return cls(colours=_by_frequency(inputs + outputs), input_colours=_by_frequency(inputs),
                   output_colours=_by_frequency(outputs), output_shapes=tuple(g.shape for g in outputs),
                   same_shape=all(p.input.shape == p.output.shape for p in task.train),
                   ratios=tuple((Fraction(p.output.shape[0], p.input.shape[0]),
                                 Fraction(p.output.shape[1], p.input.shape[1])) for p in task.train))


def _by_frequency(grids: Iterable[Grid]) -> tuple[int, ...]:
    counts: Counter = Counter()
    for g in grids:
        values, n = np.unique(g, return_counts=True)
        counts.update(dict(zip(values.tolist(), n.tolist())))
    return tuple(c for c, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


@dataclass(frozen=True)
class Primitive:
    """A grid -> grid function; PARAMS(facts) lists the argument tuples worth trying on a task."""

    name: str
    fn: Callable[..., Grid]
    params: Callable[[TaskFacts], Iterable[Params]] | None = None  # None: no arguments
    cost: int = 1

    def arguments(self, facts: TaskFacts) -> list[Params]:
        return [()] if self.params is None else [tuple(a) for a in self.params(facts)]


@dataclass(frozen=True)
class Step:
    primitive: Primitive
    args: Params = ()

    def call(self, x: str) -> str:
        return f"{self.primitive.name}({', '.join([x] + [format_arg(a) for a in self.args])})"


def format_arg(a) -> str:
    if isinstance(a, Fraction):
        return str(a)
    return repr(a)


@dataclass(frozen=True)
class Fitted:
    """A learner's fit to a task's train pairs: how it reads, and the function it learned."""

    text: str  # a call on x, e.g. "map_colours(x, {1: 2})"
    apply: Callable[[Grid], Grid]


@dataclass(frozen=True)
class Learner:
    """The last step of a program: FIT(grids so far, train outputs) -> Fitted, or None."""

    name: str
    fit: Callable[[list[Grid], list[Grid]], Fitted | None]
    cost: int = 1
    # False: tried on the states the search expands (taken from its queue in cost order), not on
    # every state it makes: a slow learner then costs a share of the search's time, not most of it.
    on_every_state: bool = True


def program_text(steps: Iterable[Step], last: Fitted | None = None) -> str:
    """A program as straight lines, one step each: "x1 = rot90(I); O = upscale(x1, 2)"."""
    lines, x = [], "I"
    steps = list(steps)
    calls = [s.call for s in steps] + ([lambda v: re.sub(r"\bx\b", v, last.text, count=1)] if last else [])
    if not calls:
        return "O = I"
    for k, call in enumerate(calls, start=1):
        name = "O" if k == len(calls) else f"x{k}"
        lines.append(f"{name} = {call(x)}")
        x = name
    return "; ".join(lines)


def is_grid(g) -> bool:
    """A value a primitive may hand on: a 2-D integer array of sides 1-30, colours 0-9."""
    return (isinstance(g, np.ndarray) and g.ndim == 2 and 1 <= g.shape[0] <= MAX_SIDE
            and 1 <= g.shape[1] <= MAX_SIDE and g.dtype == np.int8 and g.min() >= 0 and g.max() <= 9)


def run_step(step: Step, grid: Grid) -> Grid | None:
    """STEP on GRID, or None when it raises or makes something that is not a grid (a dead branch)."""
    try:
        out = step.primitive.fn(grid, *step.args)
    except Exception:  # noqa: BLE001  a primitive that cannot apply is a dead branch, never a failed task
        return None
    return as_grid_or_none(out)


def as_grid_or_none(out) -> Grid | None:
    """OUT as an int8 grid when it is a 2-D array of integer colours 0-9 (of any integer type), else None."""
    if (isinstance(out, np.ndarray) and out.dtype != np.int8 and out.dtype.kind in "biu" and out.ndim == 2
            and out.size and out.min() >= 0 and out.max() <= 9):
        out = out.astype(np.int8)  # not a float (1.5 is no colour), nor a value that wraps round in int8
    return out if is_grid(out) else None
