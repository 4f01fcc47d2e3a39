"""What the learners share to fit the train pairs: whether a rule reproduces them, what the pairs show.

A learner (the last step of a program) reads a rule off the train pairs, then checks with
`reproduces` that the rule makes every train output, and declines otherwise. These helpers say
what the pairs ask for before a learner tries: whether every pair is an edit in place
(`edited_in_place`), which colours the edits paint (`painted_colours`), and the task's background
(`task_bg`: the most frequent colour of its grids, steadier than each grid's own).
"""

from __future__ import annotations

import numpy as np

from arc24.programs.dsl import Grid


def edited_in_place(grids: list[Grid], outputs: list[Grid]) -> bool:
    """Every output keeps its grid's shape, and at least one differs from its grid."""
    pairs = list(zip(grids, outputs))
    return all(g.shape == o.shape for g, o in pairs) and any((g != o).any() for g, o in pairs)


def painted_colours(grids: list[Grid], outputs: list[Grid]) -> set[int]:
    """The colours the outputs hold where they differ from their grids."""
    return {int(v) for g, o in zip(grids, outputs) for v in np.unique(o[g != o])}


def reproduces(apply, grids: list[Grid], outputs: list[Grid]) -> bool:
    """APPLY makes every output from its grid (a KeyError, ValueError or IndexError is a miss)."""
    for g, o in zip(grids, outputs):
        try:
            out = apply(g)
        except (KeyError, ValueError, IndexError):
            return False
        if out.shape != o.shape or not (out == o).all():
            return False
    return True


def task_bg(grids: list[Grid]) -> int:
    """The most frequent colour of GRIDS together: the task's background."""
    return int(sum(np.bincount(g.ravel(), minlength=10) for g in grids).argmax())
