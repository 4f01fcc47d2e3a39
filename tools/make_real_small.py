"""Choose the real-small benchmark suite: the real ARC tasks with the smallest prompts, and write it.

    python tools/make_real_small.py [--data DIR] [OUT.json]

The rule, per source, is: sort the tasks by their number of grid cells (every train input and
output, every test input and output) and take the first N, ties broken by task id. Cells are
what a prompt is made of (the default grid format spends about one token per cell), and unlike a
token count they depend on no tokenizer or prompt template, so the choice can be checked by hand.
A task is skipped when it repeats a puzzle already taken (the same train pairs: ConceptARC lists
each puzzle three times, once per test input) and, for ARC-AGI-2, when it is an ARC-AGI-1 task
(ARC-AGI-2 training includes most of them). A source with fewer than N tasks of at most
SMALL_CELLS cells is replaced by its next candidate: ARC-AGI-2 evaluation has none (its
smallest task has 668 cells), so its tasks come from the ARC-AGI-2 training tasks new in ARC-AGI-2.

OUT defaults to src/arc24/evaluation/suites/real-small-v1.json, the committed suite: it lists,
per source, the data paths (relative to the shared data folder) and the task ids. The suite is
versioned by name: a different choice (another rule, other data) is real-small-v2, never an edit of v1.
"""

import argparse
import json
import sys
from pathlib import Path

from arc24.data.tasks import load_tasks
from arc24.files import write_atomic

REPO = Path(__file__).resolve().parents[1]
SUITE_NAME = "real-small-v1"
DEFAULT_OUT = REPO / "src" / "arc24" / "evaluation" / "suites" / f"{SUITE_NAME}.json"
DEFAULT_DATA = REPO.parent / "shared" / "data"
SMALL_CELLS = 500  # about 2x the largest ARC-AGI-1 pick: prompts of about a thousand tokens at most

ARC1_TRAINING = ("arc-agi-1/arc-agi_training_challenges.json", "arc-agi-1/arc-agi_training_solutions.json")
ARC1_EVALUATION = ("arc-agi-1/arc-agi_evaluation_challenges.json", "arc-agi-1/arc-agi_evaluation_solutions.json")
# (source, how many tasks, candidate (challenges, solutions) in order of preference, data it must not repeat)
SOURCES = [
    ("arc-agi-1", 20, [ARC1_EVALUATION], []),
    ("conceptarc", 10, [("conceptarc/ConceptARC.json", None)], []),
    ("arc-agi-2", 10, [("arc-agi-2/evaluation", None), ("arc-agi-2/training", None)], [ARC1_TRAINING, ARC1_EVALUATION]),
]


def cells(task) -> int:
    return sum(g.size for p in task.train + task.test for g in (p.input, p.output))


def puzzle(task) -> str:
    """The task's train pairs as text: two tasks with the same ones are one puzzle."""
    return json.dumps(task.to_json()["train"])


def smallest(tasks: dict, n: int, taken: set) -> list:
    """Up to N of TASKS with the fewest cells (at most SMALL_CELLS), none whose id or puzzle is in TAKEN."""
    chosen, seen = [], set(taken)
    for task in sorted(tasks.values(), key=lambda t: (cells(t), t.id)):
        if len(chosen) == n or cells(task) > SMALL_CELLS:
            break
        if task.id not in seen and puzzle(task) not in seen:
            chosen.append(task)
            seen |= {task.id, puzzle(task)}
    return chosen


def choose(data: Path) -> list[dict]:
    def load(challenges, solutions):
        return load_tasks(data / challenges, data / solutions if solutions else None)

    suite, taken = [], set()
    for source, n, candidates, exclude in SOURCES:
        banned = taken | {key for paths in exclude for t in load(*paths).values() for key in (t.id, puzzle(t))}
        for challenges, solutions in candidates:
            chosen = smallest(load(challenges, solutions), n, banned)
            print(f"{source}: {len(chosen)} of {n} small tasks in {challenges}", file=sys.stderr)
            if len(chosen) == n:
                break
        else:
            raise SystemExit(f"{source}: fewer than {n} tasks of at most {SMALL_CELLS} cells in any candidate")
        taken |= {key for t in chosen for key in (t.id, puzzle(t))}
        suite.append({"source": source, "challenges": challenges, "solutions": solutions,
                      "task_ids": [t.id for t in chosen], "cells": [cells(t) for t in chosen]})
    return suite


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    args = parser.parse_args(argv)

    sources = choose(args.data)
    suite = {"name": SUITE_NAME,
             "rule": f"per source, the tasks with the fewest grid cells (train and test, inputs and outputs; "
                     f"at most {SMALL_CELLS}), ties by id; no repeated puzzle; no ARC-AGI-1 task among ARC-AGI-2's; "
                     "made by tools/make_real_small.py",
             "sources": sources}
    # one source per block, its ids on one line: a diff shows which tasks changed
    text = "{\n" + ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in suite.items() if k != "sources")
    text += ',\n "sources": [\n' + ",\n".join(f"  {json.dumps(s)}" for s in sources) + "\n ]\n}\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(args.out, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    print(f"{sum(len(s['task_ids']) for s in sources)} tasks -> {args.out}")


if __name__ == "__main__":
    main()
