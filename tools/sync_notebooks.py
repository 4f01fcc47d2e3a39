"""Write each notebooks/*.ipynb from its paired percent-format .py (the .py is the source).

Run after editing a notebook's .py: `python tools/sync_notebooks.py`. With --check it changes
nothing and exits 1 when a pair has drifted (the test suite runs the same check).
"""

import argparse
import sys
from pathlib import Path

import jupytext

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def cells(notebook) -> list[tuple[str, str, tuple]]:
    return [(c.cell_type, c.source.strip(), tuple(c.metadata.get("tags", []))) for c in notebook.cells]


def drifted() -> list[Path]:
    out = []
    for source in sorted(NOTEBOOKS.glob("*.py")):
        paired = source.with_suffix(".ipynb")
        if not paired.exists() or cells(jupytext.read(source)) != cells(jupytext.read(paired)):
            out.append(paired)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="report drift, change nothing")
    args = parser.parse_args()
    stale = drifted()
    if args.check:
        for path in stale:
            print(f"{path}: differs from {path.with_suffix('.py').name}; run python tools/sync_notebooks.py")
        return 1 if stale else 0
    for paired in stale:
        jupytext.write(jupytext.read(paired.with_suffix(".py")), paired, fmt="ipynb")
        print(f"wrote {paired}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
