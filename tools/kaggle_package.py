"""Prepare folders for upload as Kaggle datasets, each with a manifest the offline run can check.

    python tools/kaggle_package.py code build/kaggle-code [--id owner/arc24]
        Copies src/arc24 (without __pycache__) to build/kaggle-code/src/arc24, writes
        dataset-metadata.json and the manifest. The submission notebook imports the package
        from /kaggle/input/arc24/src, so keep the slug "arc24".

    python tools/kaggle_package.py model runs/qwen-final [--id owner/name --title "..."]
        Writes the manifest into a trained model folder (base model + adapter), and
        dataset-metadata.json too when --id is given. Run it after the folder's last change:
        the submission run refuses a folder that no longer matches its manifest. Works for any
        folder, e.g. the wheels from tools/kaggle_wheels.py.

Then check and upload with tools/kaggle_push.py.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
from kaggle_push import dataset_metadata_problems  # noqa: E402  (same folder as this script)

from arc24.manifest import write_manifest  # noqa: E402

PACKAGE = REPO / "src" / "arc24"
DEFAULT_CODE_ID = "arc24/arc24"  # the owner of kernel-metadata.json; the slug the notebook looks for
LICENSE = "Apache 2.0"


def write_dataset_metadata(folder: Path, dataset_id: str, title: str) -> Path:
    meta = {"title": title, "id": dataset_id, "licenses": [{"name": LICENSE}]}
    # Refuse here rather than at upload time, when the folder may be many GB and hours old.
    problems = dataset_metadata_problems(meta)
    if problems:
        raise SystemExit("error: " + "; ".join(problems))
    path = folder / "dataset-metadata.json"
    path.write_text(json.dumps(meta, indent=2) + "\n")
    return path


def package_code(out_dir: Path, dataset_id: str, title: str) -> Path:
    target = out_dir / "src" / "arc24"
    if target.exists():
        shutil.rmtree(target)  # a module deleted from src/ must not survive in the upload
    shutil.copytree(PACKAGE, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    write_dataset_metadata(out_dir, dataset_id, title)
    return write_manifest(out_dir)


def package_model(folder: Path, dataset_id: str | None, title: str | None) -> Path:
    if not folder.is_dir():
        raise SystemExit(f"error: {folder}: not a folder")
    if dataset_id:
        write_dataset_metadata(folder, dataset_id, title or f"arc24 model {dataset_id.split('/')[-1]}"[:50])
    return write_manifest(folder)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    code = commands.add_parser("code", help="package src/arc24 as a dataset folder")
    code.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    code.add_argument("--id", default=DEFAULT_CODE_ID, help=f"Kaggle dataset id owner/slug (default {DEFAULT_CODE_ID})")
    code.add_argument("--title", default="arc24 code", help="dataset title, 6 to 50 characters")
    model = commands.add_parser("model", help="write the manifest (and metadata) into a model folder")
    model.add_argument("folder", type=Path, metavar="FOLDER")
    model.add_argument("--id", help="Kaggle dataset id owner/slug; writes dataset-metadata.json")
    model.add_argument("--title", help="dataset title, 6 to 50 characters (default from the slug)")
    args = parser.parse_args(argv)

    if args.command == "model" and args.title and not args.id:
        parser.error("--title needs --id (they go into dataset-metadata.json together)")
    if args.command == "code":
        args.out_dir.mkdir(parents=True, exist_ok=True)
        manifest = package_code(args.out_dir, args.id, args.title)
    else:
        manifest = package_model(args.folder, args.id, args.title)
    count = len(json.loads(manifest.read_text()))
    print(f"wrote {manifest} ({count} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
