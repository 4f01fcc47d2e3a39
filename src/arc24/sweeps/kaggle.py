"""`arc24 sweep --kaggle`: a validation sweep on Kaggle's GPUs, one kernel per setting of the grid.

Three commands, from the grid to the table (docs/kaggle-sweeps.md):

    arc24 sweep --kaggle --out OUT --tasks 10 --grid ttft_lora_rank=32,64 ... [--dry-run]
    arc24 sweep --status --out OUT
    arc24 sweep --collect --out OUT

`--kaggle` plans the runs a local sweep would (the same names, in the grid's order) and writes,
for each, OUT/kaggle/RUN/submission.ipynb (the submission notebook with the run's parameters
injected by papermill, not executed) and OUT/kaggle/RUN/kernel-metadata.json (the repo's
kernel-metadata.json with a kernel of its own, arc24-val-<run>, the GPU on, the internet off,
the competition, and the validation tasks as one more dataset). The tasks are OUT/kaggle/tasks,
the chosen tasks' challenges.json and solutions.json, uploaded once as OWNER/arc24-val-tasks-HASH.
Every check runs before the network is used: the notebook's parameters, each run's solve
settings, Kaggle's session limit, every metadata file (arc24.kaggle_metadata, as
tools/kaggle_push.py checks). Then the kernels are pushed, never more running at once than
Kaggle's GPU sessions (--sessions); the others wait for one to end. OUT/kaggle.json records each
push (kernel, version, parameters, time): a kernel that is queued, running or finished is never
pushed again, and one that failed is pushed again by the next call, as a local sweep retries a
failed run.

`--status` lists each run's state (`kaggle kernels status KERNEL/VERSION`). `--collect` downloads
the output of each finished kernel (`kaggle kernels output KERNEL/VERSION`) into OUT/RUN, the
folder a local sweep writes, with the kernel's log as notebook.log and, last, metrics.json; then
report.aggregate makes results.md, results.csv and the plots, as after a local sweep. A failed
kernel is one line with the last error of its log.

The kaggle CLI runs as a child process; $ARC24_KAGGLE names another executable (the tests' fake).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from arc24.config import ConfigError
from arc24.files import first_difference, format_value, read_json, write_atomic, write_json_atomic
from arc24.kaggle_metadata import dataset_metadata_problems, kernel_metadata_problems, load_json, slug_problem
from arc24.sweeps.report import METRICS_NAME, aggregate, count_text, read_metrics
from arc24.sweeps.sweep import (
    LOG_NAME,
    REPO,
    Interrupted,
    Run,
    SweepConfig,
    check_config,
    check_run_settings,
    choose_task_ids,
    failure_line,
    notebook_parameters,
    plan_runs,
    run_metrics,
)

KAGGLE_ENV = "ARC24_KAGGLE"  # the kaggle executable, when not `kaggle` on the PATH
RECORD_NAME = "kaggle.json"  # OUT/kaggle.json: what was pushed
KERNELS_DIR = "kaggle"  # OUT/kaggle/RUN: one kernel's notebook and metadata; OUT/kaggle/tasks: the tasks
TASKS_DIR = "tasks"
CODE_FILE = "submission.ipynb"
PREFIX = "arc24-val"
# What the kernel is given: Kaggle runs the notebook in /kaggle/working, whose files become the
# kernel's output, and mounts each dataset at /kaggle/input/SLUG. Change KAGGLE_DATASET here if
# Kaggle mounts datasets elsewhere (e.g. "/kaggle/input/datasets/{owner}/{slug}"). The fine-tuned
# weights go outside the output.
KAGGLE_DATASET = "../input/{slug}"
KAGGLE_OUT_DIR = "."
KAGGLE_SCRATCH = "/tmp/arc24-scratch"
# Kaggle's limits; docs/kaggle-sweeps.md says where the figures come from.
GPU_SESSIONS = 2  # GPU sessions at once per account ("Maximum batch GPU session count of 2 reached")
SESSION_HOURS = 12  # a kernel's session ends after 12 hours
WEEKLY_GPU_HOURS = 30  # the weekly GPU quota, about 30 hours (it floats with demand)
# `kaggle kernels status` states (kagglesdk's KernelWorkerStatus, lower-cased)
ACTIVE = ("queued", "running", "new_script", "cancel_requested")  # holding (or about to hold) a session
FAILED = ("error", "cancel_acknowledged")
COMPLETE = "complete"
DATASET_POLLS = 60  # a new dataset is processed for a while before a kernel can use it


@dataclass
class KaggleSettings:
    kernel_metadata: str = str(REPO / "kernel-metadata.json")  # the datasets, owner and competition
    competition: str = ""  # empty: the first of the kernel metadata's competition_sources
    sessions: int = GPU_SESSIONS  # kernels running at once
    wait: bool = True  # wait for a free session until every run is pushed; False: push what fits now
    poll_seconds: float = 60.0  # between status checks while waiting


@dataclass
class Point:
    """One run of the grid as a Kaggle kernel."""

    run: Run  # name, swept values, the kernel's parameters, the local folder OUT/RUN
    kernel: str  # owner/slug
    folder: Path  # OUT/kaggle/RUN: submission.ipynb and kernel-metadata.json
    metadata: dict


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def say(text: str) -> None:
    print(text, flush=True)


# ---------------------------------------------------------------- the kaggle CLI


def kaggle_executable() -> str:
    return os.environ.get(KAGGLE_ENV) or "kaggle"


def require_cli() -> None:
    exe = kaggle_executable()
    if shutil.which(exe) is None:
        raise ConfigError(f"the kaggle CLI ({exe}) is not installed: `make install` installs it; it needs an API "
                          "token in ~/.kaggle/kaggle.json (or KAGGLE_USERNAME and KAGGLE_KEY)")


def cli_command(*args: str) -> list[str]:
    return [kaggle_executable(), *args]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    command = cli_command(*args)
    try:
        return subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=900)
    except FileNotFoundError:
        require_cli()
        raise
    except subprocess.TimeoutExpired:
        raise ConfigError(f"{shlex.join(command)}: no answer in 15 minutes") from None


def cli_message(result: subprocess.CompletedProcess) -> str:
    """The CLI's last line (its error, when it failed)."""
    lines = [line.strip() for line in (result.stderr + "\n" + result.stdout).splitlines() if line.strip()]
    return lines[-1] if lines else f"exit code {result.returncode}"


def kernel_state(ref: str) -> tuple[str, str]:
    """(state, failure message) of a kernel version: `kaggle kernels status OWNER/SLUG/VERSION`."""
    result = run_cli("kernels", "status", ref)
    found = re.search(r'has status "([^"]+)"', result.stdout)
    if result.returncode or not found:
        raise ConfigError(f"kaggle kernels status {ref}: {cli_message(result)}")
    failure = re.search(r'Failure message: "(.*)"', result.stdout)
    return found.group(1).split(".")[-1].lower(), failure.group(1) if failure else ""


# ---------------------------------------------------------------- planning the kernels


def _slug_text(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def point_slugs(runs: list[Run]) -> dict[str, str]:
    """Each run's kernel slug (a Kaggle slug is its title lower-cased, at most 50 characters):
    arc24-val- and the run's name (arc24-val-lora-rank-32-learning-rate-2e-05), or, where some
    name is too long, its values alone (arc24-val-32-2e-05); a hash of the name where even that is
    too long or two runs would share a slug."""
    for form in ([r.name for r in runs], ["-".join(format_value(v) for v in r.swept.values()) for r in runs]):
        slugs = {r.name: f"{PREFIX}-" + (_slug_text(text) or "default") for r, text in zip(runs, form)}
        if max(map(len, slugs.values()), default=0) <= 50:
            break
    counts = Counter(slugs.values())
    for name, slug in slugs.items():
        if len(slug) > 50 or counts[slug] > 1:
            slugs[name] = f"{slug[:41].rstrip('-')}-{hashlib.sha1(name.encode()).hexdigest()[:8]}"
    return slugs


def base_metadata(settings: KaggleSettings) -> tuple[dict, str, str]:
    """The repo's kernel-metadata.json (checked), its owner, and the competition to attach."""
    path = Path(settings.kernel_metadata)
    meta, error = load_json(path)
    if error:
        raise ConfigError(error)
    problems = [f"{path}: {p}" for p in kernel_metadata_problems(meta, path.parent)]
    if problems:
        raise ConfigError(problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    competition = settings.competition or meta["competition_sources"][0]
    if problem := slug_problem(competition, "--competition"):
        raise ConfigError(problem)
    if settings.sessions < 1:
        raise ConfigError(f"--sessions must be at least 1, got {settings.sessions}")
    return meta, meta["id"].split("/")[0], competition


def tasks_dataset(config: SweepConfig, task_ids: list[str], owner: str) -> tuple[str, dict[str, dict]]:
    """The chosen tasks as a dataset: its id, OWNER/arc24-val-tasks-HASH (it changes with the
    tasks), and its files: challenges.json, solutions.json and dataset-metadata.json."""
    from arc24.data.task import grid_to_list
    from arc24.data.tasks import load_tasks

    tasks = load_tasks(config.challenges, config.solutions)
    challenges = {t: tasks[t].to_json(with_test_outputs=False) for t in task_ids}
    solutions = {t: [grid_to_list(p.output) for p in tasks[t].test] for t in task_ids}
    digest = hashlib.sha1(json.dumps([challenges, solutions], sort_keys=True).encode()).hexdigest()[:8]
    dataset_id = f"{owner}/{PREFIX}-tasks-{digest}"
    metadata = {"id": dataset_id, "title": f"arc24 validation tasks {digest}", "licenses": [{"name": "Apache 2.0"}]}
    return dataset_id, {"challenges.json": challenges, "solutions.json": solutions, "dataset-metadata.json": metadata}


def plan_points(config: SweepConfig, task_ids: list[str], defaults: dict, base: dict, owner: str,
                competition: str, dataset_id: str) -> list[Point]:
    """One kernel per run of plan_runs, with the parameters the kernel's notebook is given."""
    runs = plan_runs(config, task_ids)
    slugs = point_slugs(runs)
    owner, slug = dataset_id.split("/")
    tasks_dir = KAGGLE_DATASET.format(owner=owner, slug=slug)
    datasets = [d for d in base.get("dataset_sources", []) if d != dataset_id] + [dataset_id]
    points = []
    for run in runs:
        parameters = {"challenges": f"{tasks_dir}/challenges.json", "solutions": f"{tasks_dir}/solutions.json",
                      "task_ids": ",".join(task_ids), **config.fixed, **run.swept, "out_dir": KAGGLE_OUT_DIR}
        if "scratch_dir" in defaults and "scratch_dir" not in parameters:
            parameters["scratch_dir"] = KAGGLE_SCRATCH
        kernel = f"{owner}/{slugs[run.name]}"
        metadata = {**base, "id": kernel, "title": slugs[run.name], "code_file": CODE_FILE, "is_private": True,
                    "enable_gpu": True, "enable_internet": False, "dataset_sources": datasets,
                    "competition_sources": [competition]}
        points.append(Point(Run(run.name, run.swept, parameters, run.folder), kernel,
                            Path(config.out) / KERNELS_DIR / run.name, metadata))
    return points


def check_session_hours(points: list[Point], defaults: dict) -> None:
    for point in points:
        hours = point.run.parameters.get("deadline_hours", defaults.get("deadline_hours"))
        if isinstance(hours, (int, float)) and hours > SESSION_HOURS:
            raise ConfigError(f"run {point.run.name}: deadline_hours={hours:g} is over the {SESSION_HOURS} hours "
                              f"Kaggle gives a session; set deadline_hours (a few validation tasks need far less, "
                              f"e.g. --set deadline_hours=2)")


def gpu_hours(points: list[Point], defaults: dict) -> float:
    """The most GPU time the points may take: each kernel stops by its deadline_hours."""
    return sum(float(p.run.parameters.get("deadline_hours", defaults.get("deadline_hours")) or SESSION_HOURS)
               for p in points)


def write_point(point: Point, notebook: str) -> None:
    """The notebook with the point's parameters injected (papermill's injected-parameters cell,
    right after the parameters cell; not executed) and its kernel-metadata.json."""
    import nbformat
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    nb = load_notebook_node(str(notebook))  # as papermill reads a notebook before it injects parameters
    nb = parameterize_notebook(nb, point.run.parameters,
                               comment=f"Parameters of {point.run.name} (arc24 sweep --kaggle)")
    point.folder.mkdir(parents=True, exist_ok=True)
    write_atomic(point.folder / CODE_FILE, lambda tmp: nbformat.write(nb, str(tmp)))
    write_json_atomic(point.metadata, point.folder / "kernel-metadata.json", indent=2)


def metadata_problems(points: list[Point], tasks_folder: Path) -> list[str]:
    meta, error = load_json(tasks_folder / "dataset-metadata.json")
    problems = [error] if error else [f"{tasks_folder / 'dataset-metadata.json'}: {p}"
                                      for p in dataset_metadata_problems(meta)]
    for point in points:
        problems += [f"{point.folder / 'kernel-metadata.json'}: {p}"
                     for p in kernel_metadata_problems(point.metadata, point.folder)]
    return problems


# ---------------------------------------------------------------- the record of pushes


def read_record(out: Path) -> dict:
    path = out / RECORD_NAME
    if not path.exists():
        return {"grid": {}, "planned": [], "dataset": None, "points": {}}
    return read_json(path, "Kaggle sweep record")


def require_record(out: Path) -> dict:
    if not (out / RECORD_NAME).exists():
        raise ConfigError(f"{out}: no {RECORD_NAME}, so no Kaggle sweep was pushed into it "
                          f"(push one with arc24 sweep --kaggle --out {out})")
    return read_record(out)


def save_record(out: Path, record: dict) -> None:
    write_json_atomic(record, out / RECORD_NAME, indent=1)


def pushed_settings(point: Point) -> dict:
    """What a pushed kernel was made with; a run pushed with other settings is refused."""
    return json.loads(json.dumps({**point.run.parameters, "kernel": point.kernel,
                                  "dataset_sources": point.metadata["dataset_sources"],
                                  "competition_sources": point.metadata["competition_sources"]}))


def check_against_record(points: list[Point], record: dict, out: Path) -> None:
    for point in points:
        pushed = record["points"].get(point.run.name)
        if pushed is None:
            continue
        before, now = pushed["settings"], pushed_settings(point)
        key = first_difference(before, now)
        if key is not None:
            raise ConfigError(f"{out / RECORD_NAME}: {point.run.name} was pushed with other settings ({key}: "
                              f"{before.get(key)!r} there, {now.get(key)!r} now); use another --out")


def kernel_ref(pushed: dict) -> str:
    return f"{pushed['kernel']}/{pushed['version']}" if pushed.get("version") else pushed["kernel"]


def refresh(record: dict, names) -> None:
    """The current state of these pushed kernels (their latest recorded version)."""
    for name in names:
        pushed = record["points"][name]
        pushed["state"], pushed["failure"] = kernel_state(kernel_ref(pushed))
        pushed["checked_at"] = _now()


# ---------------------------------------------------------------- pushing


def ensure_dataset(record: dict, dataset_id: str, folder: Path, out: Path, poll_seconds: float) -> None:
    """Create the tasks dataset unless it exists, and wait until Kaggle has processed it."""
    if (record.get("dataset") or {}).get("id") == dataset_id:
        return
    status = run_cli("datasets", "status", dataset_id)
    if status.returncode:  # not there yet
        created = run_cli("datasets", "create", "-p", str(folder), "--dir-mode", "zip")
        if created.returncode or "error" in created.stdout.lower():
            raise ConfigError(f"{folder}: kaggle datasets create: {cli_message(created)}")
        say(f"[arc24 sweep] created the tasks dataset {dataset_id} from {folder}")
    for _ in range(DATASET_POLLS):
        status = run_cli("datasets", "status", dataset_id)
        if status.returncode == 0 and status.stdout.strip().lower() == "ready":
            break
        time.sleep(min(poll_seconds, 10.0))
    else:
        raise ConfigError(f"kaggle datasets status {dataset_id}: not ready after {DATASET_POLLS} checks "
                          f"({cli_message(status)}); start the same command again later")
    record["dataset"] = {"id": dataset_id, "folder": str(folder), "ready_at": _now()}
    save_record(out, record)


def push_kernel(point: Point) -> int | None | bool:
    """`kaggle kernels push -p FOLDER`: the version pushed (None when the CLI names none), or False
    when Kaggle refused it for want of a free GPU session."""
    result = run_cli("kernels", "push", "-p", str(point.folder))
    text = result.stdout + "\n" + result.stderr
    pushed = re.search(r"Kernel version (\d+)? ?successfully pushed", text)
    if result.returncode == 0 and pushed:
        # e.g. a dataset Kaggle has not processed yet, or a competition whose rules were not accepted
        for line in re.findall(r"^.*not valid .*sources.*$", text, re.MULTILINE):
            say(f"warning: {point.run.name}: kaggle kernels push: {line.strip()}")
        return int(pushed.group(1)) if pushed.group(1) else None
    if re.search(r"session count of \d+ reached", text, re.IGNORECASE):
        return False
    raise ConfigError(f"{point.folder}: kaggle kernels push: {cli_message(result)}")


def kaggle_sweep(config: SweepConfig, settings: KaggleSettings, dry_run: bool = False) -> dict:
    """Prepare one kernel per run of the grid, check everything offline, then push those not pushed
    before (or failed), at most settings.sessions running at once."""
    defaults = notebook_parameters(config.notebook)
    check_config(config, defaults)
    base, owner, competition = base_metadata(settings)
    task_ids = choose_task_ids(config)
    out = Path(config.out)
    tasks_folder = out / KERNELS_DIR / TASKS_DIR
    dataset_id, dataset_files = tasks_dataset(config, task_ids, owner)
    points = plan_points(config, task_ids, defaults, base, owner, competition, dataset_id)
    check_run_settings([p.run for p in points], defaults)
    check_session_hours(points, defaults)
    record = read_record(out)
    check_against_record(points, record, out)
    tasks_folder.mkdir(parents=True, exist_ok=True)
    for name, content in dataset_files.items():
        write_json_atomic(content, tasks_folder / name, indent=2 if name == "dataset-metadata.json" else None)
    for point in points:
        write_point(point, config.notebook)
    problems = metadata_problems(points, tasks_folder)
    if problems:
        raise ConfigError(problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    local = sorted({f"{k}={v}" for k, v in config.fixed.items() if isinstance(v, str) and v and Path(v).exists()})
    for item in local:
        say(f"warning: --set {item}: a path on this machine; the kernel sees only its datasets, under "
            "/kaggle/input/SLUG")

    names = [p.run.name for p in points]
    if not dry_run:
        require_cli()
        record["grid"] = config.grid
        record["planned"] = [n for n in record["planned"] if n not in names] + names
        save_record(out, record)
        refresh(record, [n for n, p in record["points"].items() if p.get("state") in ACTIVE])
        save_record(out, record)
    finished = {p.run.name for p in points if read_metrics(p.run.folder) is not None}
    todo = [p for p in points if p.run.name not in finished and (p.run.name not in record["points"]
                                                                 or record["points"][p.run.name]["state"] in FAILED)]
    todo_names = {p.run.name for p in todo}
    say(f"[arc24 sweep] {count_text(len(points), 'kernel')} x {count_text(len(task_ids), 'task')} into {out}/ "
        f"({len(points) - len(todo)} pushed before; at most {count_text(settings.sessions, 'GPU session')} at once); "
        f"tasks: dataset {dataset_id}; competition: {competition}")
    hours = gpu_hours(todo, defaults)
    if hours > WEEKLY_GPU_HOURS:
        say(f"warning: up to {hours:g} GPU hours ({count_text(len(todo), 'kernel')}, each stopping by its "
            f"deadline_hours); Kaggle's weekly GPU quota is about {WEEKLY_GPU_HOURS} hours: lower deadline_hours "
            f"(10 validation tasks need far less than {SESSION_HOURS} hours) or push the grid over several weeks")
    for i, point in enumerate(points, 1):
        pushed = record["points"].get(point.run.name)
        if pushed and point.run.name not in todo_names:
            state = "collected" if point.run.name in finished else pushed["state"]
            say(f"[{i}/{len(points)}] {point.run.name}: pushed before ({kernel_ref(pushed)}, {state})")
    if dry_run:
        commands = []
        if (record.get("dataset") or {}).get("id") != dataset_id:
            commands.append(cli_command("datasets", "create", "-p", str(tasks_folder), "--dir-mode", "zip"))
        commands += [cli_command("kernels", "push", "-p", str(p.folder)) for p in todo]
        for command in commands:
            say(f"would run: {shlex.join(command)}")
        if commands[:1] and commands[0][1] == "datasets":
            say(f"(the dataset is created only if {dataset_id} does not exist yet)")
        return {"out": str(out), "points": len(points), "pushed": [], "todo": [p.run.name for p in todo],
                "commands": commands, "dataset": dataset_id}
    if todo:
        ensure_dataset(record, dataset_id, tasks_folder, out, settings.poll_seconds)
    pushed_now = push_queue(todo, points, record, out, settings)
    left = [p.run.name for p in todo if p.run.name not in pushed_now]
    return {"out": str(out), "points": len(points), "pushed": pushed_now, "todo": left, "dataset": dataset_id}


def push_queue(todo: list[Point], points: list[Point], record: dict, out: Path, settings: KaggleSettings) -> list[str]:
    """Push TODO in order, never more kernels active than settings.sessions; wait for a free
    session (or, without settings.wait, stop) when all are taken."""
    order = {p.run.name: i for i, p in enumerate(points, 1)}
    queue, pushed = list(todo), []
    waiting_said = False
    try:
        while queue:
            active = [n for n, p in record["points"].items() if p.get("state") in ACTIVE]
            free = settings.sessions - len(active)
            while free > 0 and queue:
                point = queue[0]
                version = push_kernel(point)
                if version is False:  # a session we do not know of (another kernel of the account)
                    free = 0
                    break
                queue.pop(0)
                record["points"][point.run.name] = {
                    "kernel": point.kernel, "version": version, "swept": point.run.swept,
                    "parameters": point.run.parameters, "settings": pushed_settings(point), "pushed_at": _now(),
                    "state": "queued", "failure": "", "checked_at": _now()}
                save_record(out, record)  # after every push: a stop never loses one
                pushed.append(point.run.name)
                free -= 1
                waiting_said = False
                say(f"[{order[point.run.name]}/{len(points)}] {point.run.name}: pushed "
                    f"{kernel_ref(record['points'][point.run.name])}")
            if not queue:
                break
            if not settings.wait:
                say(f"[arc24 sweep] {count_text(len(queue), 'kernel')} left to push: every GPU session is taken; "
                    "start the same command again when one has ended (arc24 sweep --status)")
                break
            if not waiting_said:
                say(f"[arc24 sweep] every GPU session is taken ({settings.sessions} at once): waiting to push "
                    f"{count_text(len(queue), 'more kernel')} (a check every {settings.poll_seconds:g} s; Ctrl-C "
                    "stops, and the same command continues)")
                waiting_said = True
            time.sleep(settings.poll_seconds)
            refresh(record, [n for n, p in record["points"].items() if p.get("state") in ACTIVE])
            save_record(out, record)
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted with {len(pushed)} of {count_text(len(todo), 'kernel')} pushed; start the "
                          "same command again to push the rest (pushed kernels are not pushed again)") from None
    return pushed


# ---------------------------------------------------------------- status and collecting


def kaggle_status(out: str | os.PathLike) -> list[dict]:
    """Each planned run's kernel and state: not pushed, queued, running, complete, error, or
    collected (its metrics.json is here)."""
    out = Path(out)
    record = require_record(out)
    require_cli()
    rows = []
    for name in record["planned"]:
        pushed = record["points"].get(name)
        row = {"run": name, "kernel": "", "version": "", "pushed": "", "state": "not pushed"}
        if pushed is not None:
            row.update(kernel=pushed["kernel"], version=pushed.get("version") or "", pushed=pushed["pushed_at"])
            if read_metrics(out / name) is not None:
                row["state"] = "collected"
            else:
                refresh(record, [name])
                row["state"] = pushed["state"] + (f": {pushed['failure']}" if pushed.get("failure") else "")
        rows.append(row)
    save_record(out, record)
    return rows


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_ERROR_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)\b(:.*)?$")
_WRAPPERS = ("CellExecutionError", "PapermillExecutionError")  # they repeat the cell's error, less clearly


def read_kernel_log(raw: str) -> tuple[str, float]:
    """The text of a kernel's log and its last time stamp (seconds into the session). Kaggle's log
    is a JSON list of {"stream_name", "time", "data"}; plain text is taken as it is."""
    try:
        entries = json.loads(raw)
    except ValueError:
        entries = None
    if not isinstance(entries, list):
        entries = []
        for line in raw.splitlines():
            try:
                entry = json.loads(line.strip().lstrip("[,").rstrip("],"))
            except ValueError:
                continue
            if isinstance(entry, dict):
                entries.append(entry)
        if not entries:
            return raw, 0.0
    entries = [e for e in entries if isinstance(e, dict)]
    text = "".join(str(e.get("data", "")) for e in entries)
    times = [float(e["time"]) for e in entries if isinstance(e.get("time"), (int, float))]
    return text, max(times, default=0.0)


def last_error(text: str) -> str | None:
    """The last `SomeError: message` line of a log (without colour codes)."""
    lines = [line.strip() for line in _ANSI.sub("", text).splitlines()]
    found = [line for line in lines if _ERROR_LINE.match(line)]
    plain = [line for line in found if not line.startswith(_WRAPPERS)]
    return (plain or found or [None])[-1]


def download(pushed: dict, folder: Path) -> tuple[str, float] | None:
    """`kaggle kernels output KERNEL/VERSION -p FOLDER`; then FOLDER/notebook.log, the log as text.
    (text, seconds), or None when the CLI failed."""
    folder.mkdir(parents=True, exist_ok=True)
    result = run_cli("kernels", "output", kernel_ref(pushed), "-p", str(folder), "-o", "-q")
    if result.returncode:
        return None
    raw = folder / f"{pushed['kernel'].split('/')[1]}.log"
    text, seconds = read_kernel_log(raw.read_text(errors="replace")) if raw.is_file() else ("", 0.0)
    write_atomic(folder / LOG_NAME, lambda tmp: tmp.write_text(text))
    return text, seconds


def kaggle_collect(out: str | os.PathLike) -> dict:
    """Download every finished kernel not collected yet into OUT/RUN with its metrics.json, then
    the report over every finished run in OUT (report.aggregate, as a local sweep)."""
    out = Path(out)
    record = require_record(out)
    require_cli()
    collected, before, failed, pending, not_pushed = [], [], [], [], []
    for i, name in enumerate(record["planned"], 1):
        head = f"[{i}/{len(record['planned'])}] {name}"
        pushed, folder = record["points"].get(name), out / name
        if pushed is None:
            not_pushed.append(name)
            say(f"{head}: not pushed")
            continue
        if read_metrics(folder) is not None:
            before.append(name)
            say(f"{head}: collected before")
            continue
        refresh(record, [name])
        save_record(out, record)
        state, ref = pushed["state"], kernel_ref(pushed)
        if state in ACTIVE:
            pending.append(name)
            say(f"{head}: {state} ({ref})")
            continue
        got = download(pushed, folder)
        if state != COMPLETE:
            why = (last_error(got[0]) if got else None) or pushed.get("failure") or f"the kernel ended {state}"
            failed.append({"run": name, "kernel": ref, "error": why, "log": str(folder / LOG_NAME)})
            say(f"{head}: FAILED on Kaggle ({ref}): {why}")
            continue
        if got is None:
            raise ConfigError(f"kaggle kernels output {ref}: could not download it; start the same command again")
        run = Run(name, pushed["swept"], {**pushed["parameters"], "out_dir": str(folder.resolve())}, folder)
        try:
            metrics = run_metrics(run, got[1])
        except Exception as exc:  # a kernel that left unusable files is a failed run, not a crashed collect
            why = f"metrics: {failure_line(exc)}"
            failed.append({"run": name, "kernel": ref, "error": why, "log": str(folder / LOG_NAME)})
            say(f"{head}: FAILED ({ref}): {why}")
            continue
        metrics["kaggle"] = {"kernel": pushed["kernel"], "version": pushed.get("version")}
        write_json_atomic(metrics, folder / METRICS_NAME)  # last: from now on the run counts as finished
        collected.append(name)
        m = metrics["metrics"]
        say(f"{head}: collected {ref}: vote_2 {m['vote_2']:.3f}, pass_n {m['pass_n']:.3f}, "
            f"score {metrics['score']:.3f}")
    save_record(out, record)
    summary = aggregate(out, list(record["grid"]))
    return {**summary, "collected": collected, "before": before, "failed": failed, "pending": pending,
            "not_pushed": not_pushed}
