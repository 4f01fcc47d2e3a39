"""Write docs/settings.md, the settings reference of `arc24 solve`, `train` and `sweep`, from the code.

Each setting's type and default come from its dataclass field, its allowed values from the limits
its config checks (solving/config.py: solve_limits, training/config.py: train_limits) and from
Literal types, and its meaning from the field's comment. Run after changing a setting:
`python tools/settings_reference.py`. With --check it changes nothing and exits 1 when the file
is out of date (the test suite runs the same check).
"""

import argparse
import sys
from pathlib import Path

from arc24.cli import settings_reference

SETTINGS_MD = Path(__file__).resolve().parents[1] / "docs" / "settings.md"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when the file is out of date")
    parser.add_argument("--out", type=Path, default=SETTINGS_MD, help="default: docs/settings.md")
    args = parser.parse_args()
    text = settings_reference()
    current = args.out.read_text() if args.out.exists() else None
    if args.check:
        if current != text:
            print(f"{args.out}: out of date; run python tools/settings_reference.py", file=sys.stderr)
            return 1
        print(f"{args.out}: up to date")
        return 0
    if current != text:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    print(f"{args.out}: {'written' if current != text else 'already up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
