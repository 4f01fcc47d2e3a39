"""Write the one-rule benchmark suite (arc24.evaluation.one_rule) as one JSON file with the test outputs inline.

    python tools/make_one_rule.py [OUT.json] [--png DIR]

OUT defaults to src/arc24/evaluation/suites/one-rule-v1.json, the committed copy that
tests/test_one_rule.py compares with the generator. The file is one task per line, so that a
diff shows which tasks changed. --png DIR also draws every task, for a person to look at.
"""

import argparse
import json
from pathlib import Path

from arc24.evaluation.one_rule import SUITE_NAME, make_one_rule_suite
from arc24.evaluation.render import render_task
from arc24.files import write_atomic

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "src" / "arc24" / "evaluation" / "suites" / f"{SUITE_NAME}.json"


def suite_text(tasks) -> str:
    lines = [f"{json.dumps(task_id)}:{json.dumps(t.to_json(), separators=(',', ':'))}" for task_id, t in tasks.items()]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--png", type=Path, metavar="DIR", help="also draw every task as DIR/<task id>.png")
    args = parser.parse_args(argv)

    tasks = make_one_rule_suite()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(args.out, lambda tmp: tmp.write_text(suite_text(tasks), encoding="utf-8"))
    print(f"{len(tasks)} tasks -> {args.out}")
    if args.png:
        for task_id, task in tasks.items():
            render_task(task, args.png / f"{task_id}.png")
        print(f"{len(tasks)} pictures -> {args.png}")


if __name__ == "__main__":
    main()
