"""A fake `kaggle` CLI for the tests of `arc24 sweep --kaggle`: the commands the sweep runs, with
the real CLI's output lines, against a state folder ($FAKE_KAGGLE_DIR) instead of Kaggle.

    datasets status OWNER/SLUG               "ready", or exit 1 when never created
    datasets create -p DIR --dir-mode zip    keeps a copy of DIR as the dataset
    kernels push -p DIR                      a new version of the kernel; with $FAKE_KAGGLE_RUN=1 its
                                             notebook is executed by papermill as Kaggle would run it:
                                             in VERSION/working, the datasets under VERSION/input/SLUG
    kernels status OWNER/SLUG[/VERSION]      'OWNER/SLUG has status "KernelWorkerStatus.RUNNING"'
    kernels output OWNER/SLUG[/VERSION] -p DIR [-o] [-q]   VERSION/working's files, and SLUG.log

A version reports "running" to its first $FAKE_KAGGLE_CHECKS status checks (default 0), then its
final state ("complete", or "error" when its notebook failed; a test may set it in state.json).
At most $FAKE_KAGGLE_SESSIONS versions (default 2) may be running: a push beyond is refused with
Kaggle's message, and counted. Every call is appended to state.json's "calls".
"""

import json
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(os.environ["FAKE_KAGGLE_DIR"])
STATE = ROOT / "state.json"


def load() -> dict:
    if STATE.exists():
        return json.loads(STATE.read_text())
    return {"calls": [], "datasets": {}, "kernels": {}, "refused": 0, "max_running": 0}


def save(state: dict) -> None:
    STATE.write_text(json.dumps(state, indent=1))


def option(args: list, name: str) -> str:
    return args[args.index(name) + 1]


def version_of(state: dict, ref: str) -> tuple[str, dict]:
    parts = ref.split("/")
    versions = state["kernels"][f"{parts[0]}/{parts[1]}"]
    return parts[1], (versions[int(parts[2]) - 1] if len(parts) > 2 else versions[-1])


def running(state: dict) -> int:
    return sum(v["checks_left"] > 0 for versions in state["kernels"].values() for v in versions)


def execute(folder: Path, meta: dict, state: dict) -> tuple[str, list]:
    """Run the kernel's notebook with papermill, as Kaggle runs it; (final state, log entries)."""
    import papermill

    (folder / "working").mkdir()
    (folder / "input").mkdir()
    for source in meta.get("dataset_sources", []):
        if source in state["datasets"]:
            (folder / "input" / source.split("/")[1]).symlink_to(state["datasets"][source])
    began = time.monotonic()
    try:
        papermill.execute_notebook(str(folder / meta["code_file"]), str(folder / "executed.ipynb"),
                                   cwd=str(folder / "working"), kernel_name="python3", progress_bar=False)
        final = "complete"
    except Exception:  # the executed notebook holds the error, as Kaggle's log does
        final = "error"
    seconds = round(time.monotonic() - began, 3)
    log = []
    for cell in json.loads((folder / "executed.ipynb").read_text())["cells"]:
        for output in cell.get("outputs", []):
            if output["output_type"] == "stream":
                log.append({"stream_name": output["name"], "time": seconds, "data": "".join(output["text"])})
            elif output["output_type"] == "error":
                log.append({"stream_name": "stderr", "time": seconds, "data": "\n".join(output["traceback"]) + "\n"})
    return final, log


def main(args: list) -> int:
    state = load()
    state["calls"].append(args)
    save(state)
    if args[:2] == ["datasets", "status"]:
        if args[2] not in state["datasets"]:
            print("404 Client Error: Not Found for url: https://www.kaggle.com/api/v1/datasets/status", file=sys.stderr)
            return 1
        print("ready", end="")
        return 0
    if args[:2] == ["datasets", "create"]:
        folder = Path(option(args, "-p"))
        dataset_id = json.loads((folder / "dataset-metadata.json").read_text())["id"]
        copy = ROOT / "datasets" / dataset_id.replace("/", "__")
        shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("dataset-metadata.json"))
        state["datasets"][dataset_id] = str(copy)
        save(state)
        print(f"Your private Dataset is being created. Please check progress at https://www.kaggle.com/{dataset_id}")
        return 0
    if args[:2] == ["kernels", "push"]:
        folder = Path(option(args, "-p"))
        meta = json.loads((folder / "kernel-metadata.json").read_text())
        limit = int(os.environ.get("FAKE_KAGGLE_SESSIONS", "2"))
        if running(state) >= limit:
            state["refused"] += 1
            save(state)
            print(f"Kernel push error: Maximum batch GPU session count of {limit} reached.")
            return 0
        versions = state["kernels"].setdefault(meta["id"], [])
        number = len(versions) + 1
        copy = ROOT / "kernels" / meta["id"].replace("/", "__") / f"v{number}"
        shutil.copytree(folder, copy)
        version = {"version": number, "folder": str(copy), "final": "complete", "failure": "",
                   "checks_left": int(os.environ.get("FAKE_KAGGLE_CHECKS", "0")), "log": []}
        if os.environ.get("FAKE_KAGGLE_RUN"):
            version["final"], version["log"] = execute(copy, meta, state)
        versions.append(version)
        state["max_running"] = max(state["max_running"], running(state))
        save(state)
        print(f"Kernel version {number} successfully pushed.  Please check progress at "
              f"https://www.kaggle.com/code/{meta['id']}")
        return 0
    if args[:2] == ["kernels", "status"]:
        _, version = version_of(state, args[2])
        if version["checks_left"] > 0:
            version["checks_left"] -= 1
            status = "running"
        else:
            status = version["final"]
        save(state)
        print(f'{args[2]} has status "KernelWorkerStatus.{status.upper()}"')
        if status == "error" and version["failure"]:
            print(f'Failure message: "{version["failure"]}"')
        return 0
    if args[:2] == ["kernels", "output"]:
        slug, version = version_of(state, args[2])
        target = Path(option(args, "-p"))
        target.mkdir(parents=True, exist_ok=True)
        working = Path(version["folder"]) / "working"
        if working.is_dir():
            shutil.copytree(working, target, dirs_exist_ok=True)
        if version["log"]:
            (target / f"{slug}.log").write_text(json.dumps(version["log"]))
        return 0
    print(f"fake kaggle: unexpected command {' '.join(args)}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
