"""Download the wheels that the Kaggle image lacks, to upload them as a dataset (needs network).

    python tools/kaggle_wheels.py build/kaggle-wheels            # the default list below
    python tools/kaggle_wheels.py build/kaggle-wheels vllm==0.19.1 liger-kernel
    python tools/kaggle_wheels.py build/kaggle-wheels --dry-run  # print the pip command only

The submission kernel runs with the internet off, so anything missing from Kaggle's image must
come from an attached dataset. This runs `pip download` for Kaggle's interpreter and platform
(Python 3.10 on x86-64 Linux), whatever this machine is, so only binary wheels qualify. The
defaults pull in vLLM's own dependencies (torch and CUDA libraries included): several GB.

Then: `python tools/kaggle_package.py model build/kaggle-wheels --id owner/arc24-wheels
--title "arc24 wheels"` and `python tools/kaggle_push.py --dataset build/kaggle-wheels`.
On Kaggle: `pip install --no-index --find-links /kaggle/input/arc24-wheels vllm==0.19.1`.

The vLLM pin is arc24's VLLM_PIN (src/arc24/solving/inference.py), the release whose API
src/arc24/solving/vllm_api.json records (tools/vllm_api.py); a test keeps the three equal.
vLLM 0.19.1 pins torch 2.10.0, so the kernel runs on that torch, not on the image's.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

# vLLM 0.19.1: the newest release built for CUDA 12 (from 0.20 on the wheels link CUDA 13, which
# needs an NVIDIA driver >= 580); its wheel is abi3 and accepts Python 3.10 to 3.13. Check
# Kaggle's `nvidia-smi` and `python --version` before a bump.
DEFAULT_PACKAGES = ["vllm==0.19.1"]
PYTHON_VERSION = "3.10"
# pip matches --platform tags exactly, and the dependencies are built against different glibc
# baselines (torch: manylinux_2_28, cuDNN: manylinux_2_27, most others: manylinux2014), so list
# every baseline that the Kaggle image (Ubuntu 22.04, glibc 2.35) can load.
PLATFORMS = [
    "manylinux2014_x86_64",
    "manylinux_2_24_x86_64",
    "manylinux_2_27_x86_64",
    "manylinux_2_28_x86_64",
    "manylinux_2_31_x86_64",
    "manylinux_2_34_x86_64",
    "manylinux_2_35_x86_64",
]


def pip_command(out_dir: Path, packages: list[str], python_version: str = PYTHON_VERSION) -> list[str]:
    command = [sys.executable, "-m", "pip", "download", "--only-binary=:all:", "--python-version", python_version]
    for platform in PLATFORMS:
        command += ["--platform", platform]
    return command + ["-d", str(out_dir), *packages]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="where the wheels go")
    parser.add_argument(
        "packages", nargs="*", metavar="PACKAGE",
        help=f"pip requirement specifiers (default: {' '.join(DEFAULT_PACKAGES)})",
    )
    parser.add_argument("--python-version", default=PYTHON_VERSION, help=f"Kaggle's Python (default {PYTHON_VERSION})")
    parser.add_argument("--dry-run", action="store_true", help="print the pip command, download nothing")
    args = parser.parse_args(argv)

    command = pip_command(args.out_dir, args.packages or DEFAULT_PACKAGES, args.python_version)
    print(shlex.join(command), flush=True)
    if args.dry_run:
        return 0
    args.out_dir.mkdir(parents=True, exist_ok=True)
    return subprocess.run(command).returncode


if __name__ == "__main__":
    sys.exit(main())
