"""The program search alone over whole corpora: tasks solved, seconds per task, primitives used.

    python tools/bench_programs.py arc-agi-1-evaluation [--seconds 10] [--workers 2] [--limit N]
    python tools/bench_programs.py one-rule-v1 real-small-v1 arc-agi-2-evaluation conceptarc

A task is solved when, for every test input, one of the search's two answers is right (the ARC
score counts each test output; `score` here is that mean, `solved` the tasks all right). Each
search runs in a process of its own with one thread (`--workers` at a time). Prints one JSON
object; `--out FILE` also keeps per-task rows (status, seconds, states, depth, the program).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from arc24.programs import SEARCHES, ProgramSettings

CORPORA = {
    "arc-agi-1-evaluation": ("arc-agi-1/arc-agi_evaluation_challenges.json", "arc-agi-1/arc-agi_evaluation_solutions.json"),
    "arc-agi-1-training": ("arc-agi-1/arc-agi_training_challenges.json", "arc-agi-1/arc-agi_training_solutions.json"),
    "arc-agi-2-evaluation": ("arc-agi-2/evaluation", None),
    "arc-agi-2-training": ("arc-agi-2/training", None),
    "conceptarc": ("conceptarc/ConceptARC.json", None),
}


def load_corpus(name: str, data: Path) -> dict:
    from arc24.data.tasks import load_tasks
    from arc24.evaluation.bench import load_suite, suite_names

    if name in suite_names():
        return load_suite(name, data)[0]
    if name not in CORPORA:
        sys.exit(f"unknown corpus {name!r} (known: {', '.join(list(CORPORA) + suite_names())})")
    challenges, solutions = CORPORA[name]
    return load_tasks(data / challenges, data / solutions if solutions else None)


def _solve(args):
    task, budget = args
    from arc24.programs.solver import right, solve

    result = solve(task, budget)
    hits = [right(result.attempts(i), pair.output) for i, pair in enumerate(task.test)]
    best = result.best
    return {"task": task.id, "status": result.status, "seconds": round(result.seconds, 3), "states": result.states,
            "depth": result.depth, "fits": best is not None, "right": [any(h) for h in hits],
            "first_right": [bool(h) and h[0] for h in hits],
            # which search gave the right answer, per test input (None: neither)
            "right_by": [next((a.source for a, ok in zip(result.attempts(i), h) if ok), None) for i, h in enumerate(hits)],
            # the steps of the program that gave each right answer (a learner's name, or "compiled")
            "right_primitives": [next((a.primitives for a, ok in zip(result.attempts(i), h) if ok), None)
                                 for i, h in enumerate(hits)],
            "program": best.program if best else None, "primitives": best.primitives if best else []}


def bench(name: str, data: Path, budget, workers: int, limit: int) -> tuple[dict, list]:
    tasks = list(load_corpus(name, data).values())[:limit or None]
    began = time.perf_counter()
    with mp.get_context("spawn").Pool(workers, initializer=_one_thread) as pool:
        rows = pool.map(_solve, [(t, budget) for t in tasks], chunksize=1)
    wall = time.perf_counter() - began
    solved = [r for r in rows if all(r["right"])]
    wrong_fit = [r for r in rows if r["fits"] and not any(r["right"])]
    used = Counter(p for r in solved for p in set(r["primitives"]))
    # The ensemble's default rule (first-and-fits, as first-each) keeps the programs' first answer whatever the
    # model says.
    first = [r for r in rows if all(r["first_right"])]
    return {"corpus": name, "tasks": len(rows), "solved": len(solved), "solved_by_the_first_answer": len(first),
            "score": round(sum(sum(r["right"]) / len(r["right"]) for r in rows) / max(len(rows), 1), 4),
            "fitted_but_wrong": len(wrong_fit),
            "seconds_per_task": round(sum(r["seconds"] for r in rows) / max(len(rows), 1), 2),
            "max_seconds": round(max((r["seconds"] for r in rows), default=0), 2),
            "stopped_by": dict(Counter(r["status"] for r in rows)),
            "solved_by": dict(Counter(r["right_by"][0] for r in solved)),
            "wall_seconds": round(wall, 1), "workers": workers, "budget": asdict(budget),
            "solved_tasks": [r["task"] for r in solved], "primitives": dict(used.most_common())}, rows


def _one_thread():
    os.environ["OMP_NUM_THREADS"] = "1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = ProgramSettings()  # the search's defaults are `arc24 solve`'s
    parser.add_argument("corpora", nargs="+")
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
    parser.add_argument("--seconds", type=float, default=default.seconds, help="the search's budget per task")
    parser.add_argument("--max-depth", type=int, default=default.max_depth, help="the learner search's depth")
    parser.add_argument("--searches", choices=SEARCHES, default=default.searches)
    parser.add_argument("--compiled-depth", type=int, default=default.compiled_depth)
    parser.add_argument("--compiled-share", type=float, default=default.compiled_share)
    parser.add_argument("--compiled-views", default=default.compiled_views, help="comma-separated (solver.VIEWS)")
    parser.add_argument("--no-partial-fits", dest="partial_fits", action="store_false",
                        help="only answers that reproduce every train pair")
    parser.add_argument("--max-states", type=int, default=default.max_states)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--limit", type=int, default=0, help="only the first N tasks of each corpus")
    parser.add_argument("--out", type=Path, help="a JSON file for the summaries and the per-task rows")
    args = parser.parse_args()
    from arc24.evaluation.bench import git_commit, machine

    results, all_rows = [], {}
    for name in args.corpora:
        budget = ProgramSettings(seconds=args.seconds, searches=args.searches, max_depth=args.max_depth,
                                 compiled_depth=args.compiled_depth, compiled_share=args.compiled_share,
                                 compiled_views=args.compiled_views, partial_fits=args.partial_fits,
                                 max_states=args.max_states)
        summary, rows = bench(name, args.data, budget, args.workers, args.limit)
        results.append(summary)
        all_rows[name] = rows
        print(json.dumps({k: v for k, v in summary.items() if k != "solved_tasks"}), flush=True)
    report = {"machine": machine(), "commit": git_commit(), "results": results}
    if args.out:
        args.out.write_text(json.dumps({**report, "rows": all_rows}, indent=1))


if __name__ == "__main__":
    main()
