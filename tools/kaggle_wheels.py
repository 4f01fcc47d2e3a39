"""Download the wheels that the Kaggle image lacks, to upload them as a dataset (needs network),
and check offline that they install there.

    python tools/kaggle_wheels.py build/kaggle-wheels            # the default list below
    python tools/kaggle_wheels.py build/kaggle-wheels vllm==0.19.1 liger-kernel
    python tools/kaggle_wheels.py build/kaggle-wheels --dry-run  # print the pip command only
    python tools/kaggle_wheels.py check build/kaggle-wheels      # resolve it over Kaggle's image

The submission kernel runs with the internet off, so anything missing from Kaggle's image must
come from an attached dataset. This runs `pip download` for Kaggle's interpreter and platform
(Python 3.12 on x86-64 Linux), whatever this machine is, so only binary wheels qualify. The
defaults pull in vLLM's own dependencies (torch and CUDA libraries included): several GB.

`check` answers offline whether `pip install --no-index --find-links BUNDLE vllm==0.19.1` would
work on Kaggle: pip resolves the bundle for Kaggle's Python and platform in a throwaway
environment that holds, as metadata only, the packages of Kaggle's image
(tools/kaggle_image_packages.txt: where and when that list was taken is written at its top).
As on Kaggle, pip keeps an installed package that satisfies a requirement and takes the bundle's
wheel otherwise. It prints JSON: ok, which wheels come from the bundle (and which image versions
they replace), which image packages are kept, and pip's error naming a missing wheel; exit 1
when it would fail on Kaggle. Approximate: the list is the image as its public sources describe
it, not read off Kaggle; an image package whose version is unknown counts as absent; an image
package carries the dependencies (and extras) of the bundle's version of it, the others none.

Then: `python tools/kaggle_package.py model build/kaggle-wheels --id owner/arc24-wheels
--title "arc24 wheels"` and `python tools/kaggle_push.py --dataset build/kaggle-wheels`.
On Kaggle: `pip install --no-index --find-links /kaggle/input/arc24-wheels vllm==0.19.1`.

The vLLM pin is arc24's VLLM_PIN (src/arc24/solving/inference.py), the release whose API
src/arc24/solving/vllm_api.json records (tools/vllm_api.py); a test keeps the three equal.
vLLM 0.19.1 pins torch 2.10.0, so the kernel runs on that torch (the image's 2.10.0+cu128
satisfies it, so pip keeps the image's).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

# vLLM 0.19.1: the newest release built for CUDA 12 (from 0.20 on the wheels link CUDA 13, which
# needs an NVIDIA driver >= 580); its wheel is abi3 and accepts Python 3.10 to 3.13. Check
# Kaggle's `nvidia-smi` and `python --version` before a bump.
DEFAULT_PACKAGES = ["vllm==0.19.1"]
# Kaggle's image is Colab's runtime plus Kaggle's packages, on Python 3.12 since Kaggle/docker-python
# #1516 (2025-12-12): Dockerfile.tmpl installs into /usr/local/lib/python3.12/dist-packages, and
# Colab's os-info-gpu.txt for the base image in use says Python 3.12.13 (sources and dates in
# tools/kaggle_image_packages.txt). Colab itself moved to 3.13 in 2026-08: `check` says when a
# bundle does not fit a new version.
PYTHON_VERSION = "3.12"
IMAGE_PACKAGES = Path(__file__).resolve().with_name("kaggle_image_packages.txt")
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

# pip's --python-version picks wheels and checks Requires-Python, but pip evaluates environment
# markers (`six; python_version > "3.11"`, as vLLM 0.19.1 has for six and setuptools) for the
# interpreter that runs it. This runner starts pip with the markers' python_version set to the
# target's (and the platform markers to Kaggle's x86-64 Linux, whatever this machine is), and
# imports pip from PIP_PARENT without putting that folder on sys.path (as pip's own --python
# option does), so that the packages installed there stay invisible to pip.
#     python -c RUNNER PIP_PARENT TARGET_VERSION pip-arguments...
PIP_RUNNER = """
import runpy, sys
from importlib.machinery import PathFinder
pip_parent, target = sys.argv[1], sys.argv[2]
del sys.argv[1:3]
sys.argv[0] = "pip"

class PipFinder:
    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        return PathFinder.find_spec(fullname, [pip_parent], target) if fullname == "pip" else None

sys.meta_path.insert(0, PipFinder)
if target:
    from pip._vendor.packaging import markers
    running = markers.default_environment

    def target_environment():
        parts = target.split(".")
        full = ".".join(parts + ["0"] * (3 - len(parts)))
        return {**running(), "python_version": ".".join(parts[:2]), "python_full_version": full,
                "implementation_version": full, "sys_platform": "linux", "platform_system": "Linux",
                "platform_machine": "x86_64", "os_name": "posix"}

    markers.default_environment = target_environment
runpy.run_module("pip", run_name="__main__", alter_sys=True)
"""


def pip_parent() -> str:
    import pip

    return str(Path(pip.__file__).resolve().parents[1])


def pip_command(out_dir: Path, packages: list[str], python_version: str = PYTHON_VERSION) -> list[str]:
    """The `pip download` command, as a person would type it (main runs it through PIP_RUNNER)."""
    command = [sys.executable, "-m", "pip", "download", "--only-binary=:all:", "--python-version", python_version]
    for platform in PLATFORMS:
        command += ["--platform", platform]
    return command + ["-d", str(out_dir), *packages]


def run_pip(python: str, pip_args: list[str], target: str, **kwargs) -> subprocess.CompletedProcess:
    """pip_args run by PYTHON through PIP_RUNNER, environment markers evaluated for TARGET."""
    return subprocess.run([python, "-c", PIP_RUNNER, pip_parent(), target, *pip_args], **kwargs)


# ---------------------------------------------------------------- check


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_image_packages(path: Path) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """{canonical name: (name, version)} of the `name==version` lines, and the bare names."""
    pinned: dict[str, tuple[str, str]] = {}
    bare: list[str] = []
    for number, raw in enumerate(Path(path).read_text().splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = (part.strip() for part in line.partition("=="))
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name) or (sep and not version):
            raise ValueError(f"{path}:{number}: expected name==version or a bare name, got {raw!r}")
        if sep:
            pinned[canonical(name)] = (name, version)
        else:
            bare.append(name)
    return pinned, bare


def bundle_dependencies(bundle: Path) -> dict[str, list[str]]:
    """{canonical name: its Requires-Dist and Provides-Extra lines} of each wheel in BUNDLE."""
    import zipfile

    found: dict[str, list[str]] = {}
    for wheel in sorted(Path(bundle).glob("*.whl")):
        try:
            with zipfile.ZipFile(wheel) as zf:
                name = next(n for n in zf.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA"))
                text = zf.read(name).decode("utf-8", "replace")
        except (zipfile.BadZipFile, StopIteration, OSError):
            continue  # pip reports a broken wheel itself
        headers = text.split("\n\n", 1)[0].splitlines()
        found[canonical(wheel.name.split("-", 1)[0])] = [
            line for line in headers if line.startswith(("Requires-Dist:", "Provides-Extra:"))]
    return found


def write_installed_stub(site_packages: Path, name: str, version: str, dependencies: list[str] = ()) -> None:
    """An installed distribution as pip sees one: a .dist-info folder with metadata and no files."""
    info = site_packages / f"{re.sub(r'[-_.]+', '_', name)}-{version}.dist-info"
    info.mkdir()
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}", *dependencies]
    (info / "METADATA").write_text("\n".join(lines) + "\n")
    (info / "INSTALLER").write_text("kaggle-image-stub\n")
    (info / "RECORD").write_text("")


def wheels_not_for(bundle: Path, python_version: str, platforms: list[str]) -> list[str]:
    """The bundle's wheels that pip would not install on that Python and platform (by file name):
    pip stops at the first requirement it cannot meet, this lists all such wheels at once."""
    # pip's own list of tags for --python-version/--platform (it adds manylinux2010 and manylinux1
    # to manylinux2014, for example); internal to pip, so a pip upgrade may need a look here.
    from pip._internal.utils.compatibility_tags import get_supported
    from pip._vendor.packaging.utils import InvalidWheelFilename, parse_wheel_filename

    major, minor = python_version.split(".")[:2]
    supported = set(get_supported(version=f"{major}{minor}", platforms=platforms, impl="cp"))
    unfit = []
    for wheel in sorted(Path(bundle).glob("*.whl")):
        try:
            tags = parse_wheel_filename(wheel.name)[3]
        except InvalidWheelFilename:
            unfit.append(wheel.name)
            continue
        if not tags & supported:
            unfit.append(wheel.name)
    return unfit


def check_bundle(bundle: Path, packages: list[str], image: Path = IMAGE_PACKAGES,
                 python_version: str = PYTHON_VERSION, platforms: list[str] = PLATFORMS,
                 timeout: float = 900) -> dict:
    """Resolve PACKAGES from BUNDLE alone over Kaggle's image, for Kaggle's Python and platform."""
    bundle = Path(bundle).resolve()
    if not bundle.is_dir():
        raise FileNotFoundError(f"{bundle}: no such folder")
    pinned, bare = read_image_packages(image)
    with tempfile.TemporaryDirectory(prefix="kaggle-check-") as tmp:
        env_dir, report_path = Path(tmp) / "image", Path(tmp) / "report.json"
        # The image: a virtual environment without pip whose site-packages holds only metadata.
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
        python = str(env_dir / "bin" / "python")
        site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                   capture_output=True, text=True, check=True).stdout.strip())
        # The list has no dependencies; an image package that the bundle also holds gets those of
        # the bundle's version (its extras too: `fastapi[standard]` needs them), the others none.
        dependencies = bundle_dependencies(bundle)
        for key, (name, version) in pinned.items():
            write_installed_stub(site, name, version, dependencies.get(key, []))
        pip_args = ["install", "--dry-run", "--report", str(report_path), "--no-index", "--find-links", str(bundle),
                    "--only-binary=:all:", "--python-version", python_version, "--disable-pip-version-check",
                    "--no-input"]
        for platform in platforms:
            pip_args += ["--platform", platform]
        pip_args += packages
        # Nothing from this machine's pip configuration (extra indexes, find-links, constraints).
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
        env["PIP_CONFIG_FILE"] = os.devnull
        try:
            done = run_pip(python, pip_args, python_version, capture_output=True, text=True, env=env, timeout=timeout)
        except subprocess.TimeoutExpired as exc:  # pip backtracking through a conflict it cannot solve
            done = subprocess.CompletedProcess(exc.cmd, 1, _text(exc.stdout), _text(exc.stderr) + (
                f"\nERROR: pip did not finish resolving in {timeout:g} s (backtracking: a missing wheel or "
                "a version conflict deep in the tree; the last lines above say where)"))
        report = json.loads(report_path.read_text()) if done.returncode == 0 and report_path.is_file() else None
    return summarize(done, report, bundle, packages, pinned, bare, python_version, platforms, image)


def _text(output) -> str:
    return output.decode("utf-8", "replace") if isinstance(output, bytes) else output or ""


def summarize(done, report, bundle, packages, pinned, bare, python_version, platforms, image) -> dict:
    result = {
        "ok": done.returncode == 0 and report is not None,
        "bundle": str(bundle),
        "requested": packages,
        "python_version": python_version,
        "platforms": platforms,
        "image_list": str(image),
        "image_packages": len(pinned),
        "image_unversioned": len(bare),
    }
    result["wheels_not_for_target"] = wheels_not_for(bundle, python_version, platforms)
    result["pip_warnings"] = sorted({line for line in done.stderr.splitlines() if line.startswith("WARNING:")})
    kept = {}
    for line in done.stdout.splitlines():
        found = re.match(r"Requirement already satisfied: ([A-Za-z0-9._-]+)", line)
        if found and canonical(found.group(1)) in pinned:
            name, version = pinned[canonical(found.group(1))]
            kept[canonical(name)] = {"name": name, "version": version}
    if not result["ok"]:
        stderr = done.stderr.strip()
        first_error = stderr.find("ERROR:")
        result["error"] = (stderr[first_error:] if first_error >= 0 else stderr)[-4000:]
        conflict = done.stdout.find("The conflict is caused by:")  # pip logs that part to stdout
        if conflict >= 0:
            result["conflict"] = done.stdout[conflict:].strip()[:4000]
        stderr = done.stdout + "\n" + stderr
        # what pip could not find: named outright, or behind a conflict ("x 1.0 depends on y")
        # when the bundle has no wheel of y that fits and the image has no y
        named = re.findall(r"No matching distribution found for ([A-Za-z0-9._-]+)", stderr)
        unavailable = re.search(r"no matching distributions available for your environment:\n((?:[ \t]+\S+\n?)+)", stderr)
        named += unavailable.group(1).split() if unavailable else []
        fitting = {canonical(p.name.split("-", 1)[0]) for p in Path(bundle).glob("*.whl")} - {
            canonical(name.split("-", 1)[0]) for name in result["wheels_not_for_target"]}
        behind = [name for name in re.findall(r" depends on ([A-Za-z0-9._-]+)", stderr)
                  if canonical(name) not in fitting and canonical(name) not in pinned]
        result["missing"] = sorted({canonical(name) for name in named + behind})
        result["kept_from_image"] = sorted(kept.values(), key=lambda p: canonical(p["name"]))
        return result
    taken, used_files = [], set()
    bare_names = {canonical(name) for name in bare}
    for item in report["install"]:
        name, version = item["metadata"]["name"], item["metadata"]["version"]
        file = item["download_info"]["url"].rsplit("/", 1)[-1]
        used_files.add(file)
        entry = {"name": name, "version": version, "file": file}
        if canonical(name) in pinned:
            entry["replaces_image"] = pinned[canonical(name)][1]
        if canonical(name) in bare_names:
            entry["image_has_unknown_version"] = True
        taken.append(entry)
    unused = sorted(p for p in bundle.glob("*.whl") if p.name not in used_files)
    result["from_bundle"] = sorted(taken, key=lambda p: canonical(p["name"]))
    result["kept_from_image"] = sorted(kept.values(), key=lambda p: canonical(p["name"]))
    result["bundle_wheels"] = len(list(bundle.glob("*.whl")))
    result["bundle_unused"] = [p.name for p in unused]
    result["bundle_unused_bytes"] = sum(p.stat().st_size for p in unused)
    return result


def check_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="kaggle_wheels.py check",
        description="Resolve a wheels bundle offline over Kaggle's image, for Kaggle's Python and platform: "
                    "would `pip install --no-index --find-links BUNDLE PACKAGE...` work there? Prints JSON; "
                    "exit 1 when it would not.")
    parser.add_argument("bundle", type=Path, metavar="BUNDLE", help="the folder of wheels")
    parser.add_argument("packages", nargs="*", metavar="PACKAGE",
                        help=f"what the kernel installs (default: {' '.join(DEFAULT_PACKAGES)})")
    parser.add_argument("--image", type=Path, default=IMAGE_PACKAGES,
                        help="Kaggle's installed packages, name==version a line (default: %(default)s)")
    parser.add_argument("--python-version", default=PYTHON_VERSION, help="Kaggle's Python (default %(default)s)")
    parser.add_argument("--report", type=Path, help="also write the JSON to this file")
    parser.add_argument("--timeout", type=float, default=900, help="seconds pip may take (default %(default)s)")
    args = parser.parse_args(argv)
    try:
        result = check_bundle(args.bundle, args.packages or DEFAULT_PACKAGES, args.image, args.python_version,
                              timeout=args.timeout)
    except (OSError, ValueError) as exc:
        print(f"kaggle_wheels.py check: {exc}", file=sys.stderr)
        return 2
    text = json.dumps(result, indent=1)
    if args.report:
        args.report.write_text(text + "\n")
    print(text)
    return 0 if result["ok"] else 1


# ---------------------------------------------------------------- download


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["check"]:
        return check_main(argv[1:])
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
    print(f"# environment markers evaluated for Python {args.python_version}, not this interpreter's", flush=True)
    if args.dry_run:
        return 0
    args.out_dir.mkdir(parents=True, exist_ok=True)
    return run_pip(sys.executable, command[3:], args.python_version).returncode


if __name__ == "__main__":
    sys.exit(main())
