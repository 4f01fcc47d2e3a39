"""Check the Kaggle metadata offline, then upload the datasets and push the submission kernel.

    python tools/kaggle_push.py --dry-run --dataset build/kaggle-code
    python tools/kaggle_push.py --dataset build/kaggle-code --dataset runs/qwen-final

Every check runs first, with no network: each --dataset folder's dataset-metadata.json (id
"owner/slug", title of 6 to 50 characters, licenses), its arc24-manifest.json (the folder must
still match it), and kernel-metadata.json (id, title, code_file present, a Python notebook with
the GPU on and the internet off, competition and dataset sources). Each problem is one line, and
any problem ends the run with exit code 1 before anything is uploaded.

Then, without --dry-run, each dataset gets a new version
(`kaggle datasets version -p DIR -m MESSAGE --dir-mode zip`; `--create` for the first upload)
and the kernel is pushed (`kaggle kernels push -p DIR_OF_KERNEL_METADATA`). That needs the
kaggle CLI (`make install` installs it) and an API token in ~/.kaggle/kaggle.json. With --dry-run the
commands are printed, not run.

The competition whose tasks the kernel reads is a setting: `--competition SLUG` (default: the
first of kernel-metadata.json's competition_sources). The notebook finds the competition's
`arc-agi_test_challenges.json` under /kaggle/input, as both ARC Prize competitions name it
(arc-prize-2024, arc-prize-2025; kernel-metadata.json names the current one, arc-prize-2025). A
competition other than the file's is pushed from a copy of the metadata with that competition, in
a temporary folder; kernel-metadata.json is not changed.

Make the folders with tools/kaggle_package.py (code, model) and tools/kaggle_wheels.py.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
from arc24.kaggle_metadata import (  # noqa: E402  (the checks arc24 sweep --kaggle runs too)
    ARC_COMPETITIONS,
    dataset_metadata_problems,
    kernel_metadata_problems,
    load_json,
    slug_problem,
)
from arc24.manifest import verify_manifest  # noqa: E402


def check_dataset(folder: Path) -> tuple[list[str], str | None]:
    """Problems with a dataset folder (metadata and manifest), and its id when readable."""
    path = folder / "dataset-metadata.json"
    meta, error = load_json(path)
    if error:
        return [error], None
    problems = [f"{path}: {p}" for p in dataset_metadata_problems(meta)]
    # The run refuses a folder that does not match its manifest; better to find out before uploading.
    for problem in verify_manifest(folder):
        if not problem.startswith("extra:"):
            problems.append(f"{folder}: {problem}")
    return problems, meta.get("id")


def check_kernel(path: Path, competition: str | None = None) -> list[str]:
    meta, error = load_json(path)
    if error:
        return [error]
    if competition is not None:
        meta = {**meta, "competition_sources": [competition]}
    return [f"{path}: {p}" for p in kernel_metadata_problems(meta, path.parent)]


def kernel_with_competition(path: Path, competition: str) -> Path:
    """The metadata to push: PATH itself when it already names COMPETITION (alone), else a copy in a
    temporary folder with that competition and the code file's absolute path."""
    meta = json.loads(path.read_text())
    if meta.get("competition_sources") == [competition]:
        return path
    folder = Path(tempfile.mkdtemp(prefix="arc24-kernel-"))
    meta = {**meta, "competition_sources": [competition],
            "code_file": str((path.parent / meta["code_file"]).resolve())}
    (folder / "kernel-metadata.json").write_text(json.dumps(meta, indent=2) + "\n")
    return folder / "kernel-metadata.json"


def commands(datasets: list[Path], kernel_metadata: Path, message: str, create: bool) -> list[list[str]]:
    out = []
    for folder in datasets:
        if create:
            out.append(["kaggle", "datasets", "create", "-p", str(folder), "--dir-mode", "zip"])
        else:
            out.append(["kaggle", "datasets", "version", "-p", str(folder), "-m", message, "--dir-mode", "zip"])
    out.append(["kaggle", "kernels", "push", "-p", str(kernel_metadata.parent)])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dry-run", action="store_true", help="check and print the commands; upload nothing")
    parser.add_argument(
        "--dataset", action="append", default=[], type=Path, metavar="DIR",
        help="a dataset folder holding dataset-metadata.json (repeat for several)",
    )
    parser.add_argument(
        "--kernel-metadata", type=Path, default=REPO / "kernel-metadata.json", metavar="FILE",
        help="the kernel's metadata (default: kernel-metadata.json at the repo root)",
    )
    parser.add_argument("-m", "--message", default="arc24 upload", help="version notes for the datasets")
    parser.add_argument(
        "--competition", metavar="SLUG",
        help=f"the competition whose tasks the kernel reads ({' or '.join(ARC_COMPETITIONS)}; default: the first "
             "of the kernel metadata's competition_sources)",
    )
    parser.add_argument(
        "--create", action="store_true", help="first upload: create the datasets instead of versioning them"
    )
    args = parser.parse_args(argv)

    problems, ids = [], []
    for folder in args.dataset:
        found, dataset_id = check_dataset(folder)
        problems += found
        ids.append(dataset_id)
    competition = args.competition
    if competition is not None and (problem := slug_problem(competition, "--competition")):
        problems.append(problem)
        competition = None
    problems += check_kernel(args.kernel_metadata, competition)
    for line in problems:
        print(line)
    if problems:
        print(f"{len(problems)} problems; nothing was uploaded")
        return 1

    # Not an error (the kernel may be pushed before its datasets are attached), but the run
    # cannot see a dataset the kernel does not list.
    sources = json.loads(args.kernel_metadata.read_text()).get("dataset_sources", [])
    for folder, dataset_id in zip(args.dataset, ids):
        if dataset_id not in sources:
            print(
                f"warning: {args.kernel_metadata}: dataset_sources lacks {dataset_id} ({folder}); "
                "the kernel will not see it"
            )

    meta = json.loads(args.kernel_metadata.read_text())
    competition = competition or meta["competition_sources"][0]
    if competition not in ARC_COMPETITIONS:
        print(f"warning: --competition {competition}: not an ARC Prize competition ({', '.join(ARC_COMPETITIONS)}); "
              "the notebook looks for its arc-agi_test_challenges.json under /kaggle/input")
    print(f"competition: {competition}")
    kernel = kernel_with_competition(args.kernel_metadata, competition)
    if kernel != args.kernel_metadata:
        print(f"kernel metadata with competition_sources [{competition}]: {kernel}")
    todo = commands(args.dataset, kernel, args.message, args.create)
    if args.dry_run:
        for command in todo:
            print("would run:", shlex.join(command))
        return 0
    if shutil.which("kaggle") is None:
        print("error: the kaggle CLI is not installed (make install installs it; API token in ~/.kaggle/kaggle.json)")
        return 2
    for command in todo:
        print("running:", shlex.join(command), flush=True)
        result = subprocess.run(command)
        if result.returncode:
            print(f"error: {shlex.join(command)} exited with {result.returncode}")
            return result.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
