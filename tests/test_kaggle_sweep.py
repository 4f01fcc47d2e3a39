"""`arc24 sweep --kaggle / --status / --collect` against a fake kaggle CLI (tests/fake_kaggle.py):
the prepared notebooks and metadata, the pushes (one per run, never two, never more running than
the sessions), and the collected outputs reported as a local sweep reports them. The real CLI is
never called: $ARC24_KAGGLE points at the fake."""

import ast
import csv
import json
import os
import sys
from pathlib import Path

import pytest
from test_sweep import (  # noqa: F401  (fake_notebook is a fixture)
    ANSWERS,
    REPO,
    arc24,
    assert_png,
    fake_config,
    fake_notebook,
    finish,
    solve_outputs,
    task_files,
)

from arc24.config import ConfigError
from arc24.kaggle_metadata import SLUG, dataset_metadata_problems, kernel_metadata_problems
from arc24.sweeps.kaggle import (
    RECORD_NAME,
    KaggleSettings,
    kaggle_collect,
    kaggle_status,
    kaggle_sweep,
    last_error,
    point_slugs,
    read_kernel_log,
)
from arc24.sweeps.report import METRICS_NAME, aggregate
from arc24.files import run_name
from arc24.sweeps.sweep import Run, SweepConfig, plan_runs, sweep

FAST = KaggleSettings(poll_seconds=0)


class FakeKaggle:
    """The fake CLI's state folder and the executable that $ARC24_KAGGLE names."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir()
        self.executable = folder / "kaggle"
        self.executable.write_text(f'#!/bin/sh\nexec {sys.executable} {REPO / "tests" / "fake_kaggle.py"} "$@"\n')
        self.executable.chmod(0o755)

    def state(self) -> dict:
        path = self.folder / "state.json"
        return json.loads(path.read_text()) if path.exists() else {"calls": [], "kernels": {}, "datasets": {}}

    def calls(self, *prefix) -> list:
        return [c for c in self.state()["calls"] if c[: len(prefix)] == list(prefix)]

    def version(self, kernel: str, number: int = -1) -> dict:
        return self.state()["kernels"][kernel][number if number < 0 else number - 1]

    def set_version(self, kernel: str, number: int = -1, **fields) -> None:
        state = self.state()
        state["kernels"][kernel][number if number < 0 else number - 1].update(fields)
        (self.folder / "state.json").write_text(json.dumps(state))

    def env(self, **more) -> dict:
        return {**os.environ, "ARC24_KAGGLE": str(self.executable), "FAKE_KAGGLE_DIR": str(self.folder), **more}


@pytest.fixture
def fake_kaggle(tmp_path, monkeypatch):
    fake = FakeKaggle(tmp_path / "fake-kaggle")
    for name, value in fake.env().items():
        if name in ("ARC24_KAGGLE", "FAKE_KAGGLE_DIR"):
            monkeypatch.setenv(name, value)
    for name in ("FAKE_KAGGLE_RUN", "FAKE_KAGGLE_CHECKS", "FAKE_KAGGLE_SESSIONS"):
        monkeypatch.delenv(name, raising=False)
    return fake


def records(out: Path) -> dict:
    return json.loads((out / RECORD_NAME).read_text())["points"]


def csv_rows(path: Path) -> list[dict]:
    """results.csv without the seconds (a kernel's time is not a local run's)."""
    with open(path) as f:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]


# ---------------------------------------------------------------- preparing, offline


def test_kernel_slugs_are_kaggle_slugs_named_by_the_run():
    from slugify import slugify  # python-slugify: how the kaggle CLI derives a kernel's slug from its title

    def runs(*swept):
        return [Run(run_name(s), s, {}, Path(run_name(s))) for s in swept]

    short = point_slugs(runs({"lora_rank": 32, "learning_rate": 2e-05}, {"lora_rank": 64, "learning_rate": 2e-05}))
    assert list(short.values()) == ["arc24-val-lora-rank-32-learning-rate-2e-05",
                                    "arc24-val-lora-rank-64-learning-rate-2e-05"]
    long = point_slugs(runs({"ttft_lora_rank": 32, "ttft_learning_rate": 0.0001}))
    assert list(long.values()) == ["arc24-val-32-0-0001"]  # the names would be too long: the values alone
    alike = point_slugs(runs({"model": "a_b"}, {"model": "a-b"}, {"model": "x" * 60}))
    assert len(set(alike.values())) == 3
    for slug in [*short.values(), *long.values(), *alike.values()]:
        assert SLUG.match(slug) and "--" not in slug and slugify(slug) == slug, slug


def test_prepared_notebooks_carry_their_parameters_and_valid_metadata(tmp_path, fake_notebook, fake_kaggle):
    import nbformat
    import papermill
    from papermill.translators import papermill_translators

    config = fake_config(tmp_path, fake_notebook, {"x": [4, 8], "rate": [0.1, 0.2]}, {"name": "b"})
    summary = kaggle_sweep(config, FAST, dry_run=True)
    out = Path(config.out)
    tasks = out / "kaggle" / "tasks"
    dataset = json.loads((tasks / "dataset-metadata.json").read_text())
    assert summary["dataset"] == dataset["id"] and dataset["id"].startswith("arc24/arc24-val-tasks-")
    assert dataset_metadata_problems(dataset) == []
    assert json.loads((tasks / "challenges.json").read_text()) == {"t1": {"train": [{"input": [[1]], "output": [[2]]}],
                                                                         "test": [{"input": [[1]]}]}}
    assert json.loads((tasks / "solutions.json").read_text()) == {"t1": [[[2]]]}
    slug = dataset["id"].split("/")[1]
    repo_meta = json.loads((REPO / "kernel-metadata.json").read_text())
    runs = plan_runs(config, ["t1"])
    assert len(runs) == 4
    for run in runs:
        folder = out / "kaggle" / run.name
        nb = nbformat.read(folder / "submission.ipynb", as_version=4)
        # the parameters, read back by papermill's own inspection of the cell it injected
        injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
        assert len(injected) == 1 and nb.cells.index(injected[0]) == 1  # right after the parameters cell
        found = papermill_translators.find_translator("python3", "python").inspect(injected[0])
        values = {p.name: ast.literal_eval(p.default) for p in found}
        expected = {"challenges": f"../input/{slug}/challenges.json", "solutions": f"../input/{slug}/solutions.json",
                    "task_ids": "t1", "name": "b", **run.swept, "out_dir": "."}
        assert values == expected and nb.metadata.papermill.parameters == expected
        assert papermill.inspect_notebook(folder / "submission.ipynb")["x"]["default"] == "0"  # the defaults stay
        assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code")  # prepared, not executed
        meta = json.loads((folder / "kernel-metadata.json").read_text())
        assert kernel_metadata_problems(meta, folder) == []
        assert meta["id"] == f"arc24/arc24-val-{run.name.replace('=', '-').replace('__', '-').replace('.', '-')}"
        assert meta["title"] == meta["id"].split("/")[1] and meta["code_file"] == "submission.ipynb"
        assert meta["enable_gpu"] is True and meta["enable_internet"] is False and meta["is_private"] is True
        assert meta["competition_sources"] == ["arc-prize-2025"]
        assert meta["dataset_sources"] == repo_meta["dataset_sources"] + [dataset["id"]]
    assert fake_kaggle.state()["calls"] == []  # a dry run uses no network
    assert not (out / RECORD_NAME).exists()


def test_dry_run_prints_one_push_per_run(tmp_path, fake_notebook, fake_kaggle):
    challenges, solutions = task_files(tmp_path / "data")
    out = tmp_path / "sweep"
    args = ["sweep", "--kaggle", "--dry-run", "--notebook", fake_notebook, "--challenges", challenges,
            "--solutions", solutions, "--tasks", 1, "--out", out, "--grid", "x=4,8", "rate=0.1,0.2"]
    res = arc24(*args, timeout=120)
    assert res.returncode == 0, res.stderr
    pushes = [line for line in res.stdout.splitlines() if line.startswith("would run: ") and " kernels push " in line]
    assert sorted(pushes) == sorted(f"would run: {fake_kaggle.executable} kernels push -p {out / 'kaggle' / name}"
                                    for name in ("x=4__rate=0.1", "x=4__rate=0.2", "x=8__rate=0.1", "x=8__rate=0.2"))
    tasks = out / "kaggle" / "tasks"
    assert f"would run: {fake_kaggle.executable} datasets create -p {tasks} --dir-mode zip" in res.stdout
    assert fake_kaggle.state()["calls"] == [] and not (out / RECORD_NAME).exists()


# ---------------------------------------------------------------- pushing


def test_pushes_wait_for_free_sessions_and_no_run_is_pushed_twice(tmp_path, fake_notebook, fake_kaggle, monkeypatch):
    monkeypatch.setenv("FAKE_KAGGLE_CHECKS", "1")  # each kernel runs until its second status check
    config = fake_config(tmp_path, fake_notebook, {"x": [4, 8, 16, 32, 64]})
    out = Path(config.out)
    summary = kaggle_sweep(config, FAST)
    names = ["x=4", "x=8", "x=16", "x=32", "x=64"]
    assert summary["pushed"] == names and summary["todo"] == []
    state = fake_kaggle.state()
    assert state["refused"] == 0 and state["max_running"] == 2  # queued behind Kaggle's 2 GPU sessions
    assert len(fake_kaggle.calls("datasets", "create")) == 1
    pushed = records(out)
    assert [p["kernel"] for p in pushed.values()] == [f"arc24/arc24-val-x-{x}" for x in (4, 8, 16, 32, 64)]
    assert {p["version"] for p in pushed.values()} == {1}
    assert pushed["x=8"]["parameters"]["x"] == 8 and pushed["x=8"]["swept"] == {"x": 8} and pushed["x=8"]["pushed_at"]

    again = kaggle_sweep(config, FAST)  # every kernel pushed before: nothing is pushed again
    assert again["pushed"] == [] and len(fake_kaggle.calls("kernels", "push")) == 5
    assert len(fake_kaggle.calls("datasets", "create")) == 1
    dry = kaggle_sweep(config, FAST, dry_run=True)
    assert dry["commands"] == []

    # a failed kernel is pushed again (a local sweep retries a failed run); the others are not
    fake_kaggle.set_version("arc24/arc24-val-x-16", final="error")
    record = json.loads((out / RECORD_NAME).read_text())
    record["points"]["x=16"]["state"] = "running"  # its end not seen yet
    (out / RECORD_NAME).write_text(json.dumps(record))
    retried = kaggle_sweep(config, FAST)
    assert retried["pushed"] == ["x=16"] and records(out)["x=16"]["version"] == 2
    assert len(fake_kaggle.calls("kernels", "push")) == 6


def test_without_waiting_only_what_the_sessions_take_is_pushed(tmp_path, fake_notebook, fake_kaggle, monkeypatch):
    monkeypatch.setenv("FAKE_KAGGLE_CHECKS", "100")  # still running for the whole test
    config = fake_config(tmp_path, fake_notebook, {"x": [4, 8, 16]})
    settings = KaggleSettings(sessions=1, wait=False, poll_seconds=0)
    first = kaggle_sweep(config, settings)
    assert first["pushed"] == ["x=4"] and first["todo"] == ["x=8", "x=16"]
    second = kaggle_sweep(config, settings)  # the session is still taken
    assert second["pushed"] == [] and len(fake_kaggle.calls("kernels", "push")) == 1
    rows = kaggle_status(config.out)
    assert [(r["run"], r["kernel"], r["version"], r["state"]) for r in rows] == [
        ("x=4", "arc24/arc24-val-x-4", 1, "running"), ("x=8", "", "", "not pushed"), ("x=16", "", "", "not pushed")]
    assert fake_kaggle.calls("kernels", "status")[-1] == ["kernels", "status", "arc24/arc24-val-x-4/1"]


def test_a_push_refused_for_sessions_waits_and_other_settings_are_refused(tmp_path, fake_notebook, fake_kaggle,
                                                                          monkeypatch):
    monkeypatch.setenv("FAKE_KAGGLE_SESSIONS", "0")  # another kernel of the account holds the sessions
    config = fake_config(tmp_path, fake_notebook, {"x": [4]})
    summary = kaggle_sweep(config, KaggleSettings(wait=False, poll_seconds=0))
    assert summary["pushed"] == [] and summary["todo"] == ["x=4"] and fake_kaggle.state()["refused"] == 1
    monkeypatch.setenv("FAKE_KAGGLE_SESSIONS", "2")
    assert kaggle_sweep(config, FAST)["pushed"] == ["x=4"]
    changed = fake_config(tmp_path, fake_notebook, {"x": [4]}, {"rate": 0.25})
    with pytest.raises(ConfigError, match=r"x=4 was pushed with other settings \(rate: None there, 0.25 now\); "
                                          r"use another --out"):
        kaggle_sweep(changed, FAST, dry_run=True)


# ---------------------------------------------------------------- collecting


def kaggle_log(*lines: str) -> list:
    return [{"stream_name": "stdout", "time": 1.5, "data": "arc24 0.1.0\n"},
            {"stream_name": "stderr", "time": 42.25, "data": "".join(line + "\n" for line in lines)}]


def test_collect_reports_the_finished_kernels_as_a_local_sweep(tmp_path, fake_notebook, fake_kaggle, monkeypatch):
    """Kernels laid out as `kaggle kernels output` gives them: two finished, one failed, one running."""
    config = fake_config(tmp_path, fake_notebook, {"x": [4, 8, 16, 32]})
    out = Path(config.out)
    assert kaggle_sweep(config, KaggleSettings(sessions=4, poll_seconds=0))["pushed"] == ["x=4", "x=8", "x=16", "x=32"]
    outcomes = {"x=4": "solved", "x=8": "second"}
    for name, answers in outcomes.items():
        working = Path(fake_kaggle.version(f"arc24/arc24-val-{name.replace('=', '-')}")["folder"]) / "working"
        solve_outputs(working, ANSWERS[answers], [1.0, 0.5])
        fake_kaggle.set_version(f"arc24/arc24-val-{name.replace('=', '-')}", log=kaggle_log("done"))
    fake_kaggle.set_version("arc24/arc24-val-x-16", final="error", log=kaggle_log(
        "Traceback (most recent call last):", "\x1b[0;31mValueError\x1b[0m: boom in cell 3",
        "CellExecutionError: An error occurred while executing the following cell:"))
    fake_kaggle.set_version("arc24/arc24-val-x-32", checks_left=100)

    summary = kaggle_collect(out)
    assert summary["collected"] == ["x=4", "x=8"] and summary["pending"] == ["x=32"]
    assert summary["failed"] == [{"run": "x=16", "kernel": "arc24/arc24-val-x-16/1",
                                  "error": "ValueError: boom in cell 3", "log": str(out / "x=16" / "notebook.log")}]
    metrics = json.loads((out / "x=4" / METRICS_NAME).read_text())
    assert metrics["seconds"] == 42.2 and metrics["kaggle"] == {"kernel": "arc24/arc24-val-x-4", "version": 1}
    assert metrics["parameters"]["out_dir"] == str((out / "x=4").resolve())
    assert (out / "x=4" / "notebook.log").read_text() == "arc24 0.1.0\ndone\n"
    for name in ("vote_2_heatmap.png", "ttft_loss.png"):
        assert_png(out / name)

    # the same runs made locally: the same table (but for the seconds)
    local = SweepConfig(**{**config.__dict__, "out": str(tmp_path / "local")})
    for run in plan_runs(local, ["t1"]):
        if run.name in outcomes:
            finish(run, outcomes[run.name], seconds=1)
    aggregate(local.out, list(local.grid))
    assert csv_rows(out / "results.csv") == csv_rows(Path(local.out) / "results.csv")
    assert [r["run"] for r in csv_rows(out / "results.csv")] == ["x=4", "x=8"]

    # later: the running kernel finished; what was collected is not downloaded again
    working = Path(fake_kaggle.version("arc24/arc24-val-x-32")["folder"]) / "working"
    solve_outputs(working, ANSWERS["never"], [1.0])
    fake_kaggle.set_version("arc24/arc24-val-x-32", checks_left=0)
    downloads = len(fake_kaggle.calls("kernels", "output"))
    again = kaggle_collect(out)
    assert again["collected"] == ["x=32"] and again["before"] == ["x=4", "x=8"] and again["finished"] == 3
    assert len(fake_kaggle.calls("kernels", "output")) == downloads + 2  # x=32, and x=16's log again
    assert [r["state"] for r in kaggle_status(out)] == ["collected", "collected", "error", "collected"]


def test_kernel_logs_and_their_last_error():
    raw = json.dumps(kaggle_log("\x1b[0;31mKeyError\x1b[0m: 'programs_searches'"))
    text, seconds = read_kernel_log(raw)
    assert seconds == 42.25 and text == "arc24 0.1.0\n\x1b[0;31mKeyError\x1b[0m: 'programs_searches'\n"
    assert last_error(text) == "KeyError: 'programs_searches'"
    assert read_kernel_log("plain text\n") == ("plain text\n", 0.0)
    assert last_error("all went well\n") is None
    assert last_error("torch.OutOfMemoryError: CUDA out of memory\nCellExecutionError: cell 4\n") == \
        "torch.OutOfMemoryError: CUDA out of memory"


# ---------------------------------------------------------------- the command line


@pytest.mark.parametrize("extra, message", [
    (["--status"], "arc24 sweep: --kaggle and --status: one at a time"),
    (["--competition", "ARC Prize"], "arc24 sweep: --competition 'ARC Prize': not a Kaggle slug"),
    (["--set", "deadline_hours=13"],
     "arc24 sweep: run ttft_lora_rank=4: deadline_hours=13 is over the 12 hours Kaggle gives a session"),
])
def test_kaggle_mistakes_are_one_line(tmp_path, fake_kaggle, extra, message):
    challenges, solutions = task_files(tmp_path / "data")
    res = arc24("sweep", "--kaggle", "--dry-run", "--challenges", challenges, "--solutions", solutions, "--tasks", 1,
                "--out", tmp_path / "s", "--grid", "ttft_lora_rank=4", "--set", "ttft_lora=new", *extra,
                timeout=120)
    assert res.returncode == 2, res.stdout + res.stderr
    assert res.stderr.strip().startswith(message) and "\n" not in res.stderr.strip() and "Traceback" not in res.stderr
    assert fake_kaggle.state()["calls"] == []


def test_status_collect_and_pushes_without_the_cli_are_one_line(tmp_path, fake_notebook, fake_kaggle,
                                                                 monkeypatch):
    res = arc24("sweep", "--status", "--out", tmp_path, timeout=120)
    assert res.returncode == 2 and res.stderr.strip() == (
        f"arc24 sweep: {tmp_path}: no {RECORD_NAME}, so no Kaggle sweep was pushed into it "
        f"(push one with arc24 sweep --kaggle --out {tmp_path})")
    res = arc24("sweep", "--dry-run", "--out", tmp_path, timeout=120)
    assert res.returncode == 2 and "--dry-run goes with --kaggle" in res.stderr
    challenges, solutions = task_files(tmp_path / "data")
    monkeypatch.setenv("ARC24_KAGGLE", str(tmp_path / "no-such-kaggle"))
    res = arc24("sweep", "--kaggle", "--notebook", fake_notebook, "--challenges", challenges, "--solutions", solutions,
                "--tasks", 1, "--out", tmp_path / "s", "--grid", "x=4", timeout=120)
    assert res.returncode == 2 and res.stderr.startswith(
        f"arc24 sweep: the kaggle CLI ({tmp_path / 'no-such-kaggle'}) is not installed: `make install` installs it")


# ---------------------------------------------------------------- notebooks run as Kaggle runs them


@pytest.mark.slow
def test_collect_of_kernels_run_by_papermill_makes_a_local_sweeps_report(tmp_path, fake_notebook, fake_kaggle,
                                                                          monkeypatch):
    """The prepared notebooks executed by papermill on the CPU, in a Kaggle-like tree (the fake's
    push), collected: the same results.csv as a local sweep of the same grid, and the failed runs'
    errors. About 30 seconds: 8 notebook kernels."""
    monkeypatch.setenv("FAKE_KAGGLE_RUN", "1")
    template = solve_outputs(tmp_path / "template", ANSWERS["second"], [0.9, 0.4])
    grid = {"x": [0, 1], "rate": [0.1, 0.2]}  # x=1 fails
    config = fake_config(tmp_path, fake_notebook, grid, {"template": str(template)})
    out = Path(config.out)
    assert len(kaggle_sweep(config, KaggleSettings(sessions=4, poll_seconds=0))["pushed"]) == 4
    res = arc24("sweep", "--collect", "--out", out, timeout=300)
    assert res.returncode == 1, res.stderr
    failed = [line for line in res.stderr.splitlines() if line.startswith("arc24 sweep: x=1")]
    assert len(failed) == 2 and all("ValueError: x is one" in line for line in failed)
    assert "[arc24 sweep] 2 finished runs in" in res.stdout

    local = SweepConfig(**{**config.__dict__, "out": str(tmp_path / "local")})
    summary = sweep(local, progress=False)
    assert sorted(f["run"] for f in summary["failed"]) == ["x=1__rate=0.1", "x=1__rate=0.2"]
    kaggle_rows, local_rows = csv_rows(out / "results.csv"), csv_rows(Path(local.out) / "results.csv")
    assert len(kaggle_rows) == 2 and sorted(kaggle_rows, key=str) == sorted(local_rows, key=str)
    for name in ("vote_2_heatmap.png", "ttft_loss.png"):
        assert_png(out / name)


@pytest.mark.slow
def test_the_submission_notebook_on_kaggle_and_here_gives_one_table(tmp_path, fake_kaggle, monkeypatch):
    """The real submission notebook with the program search alone (no model) on three one-rule
    tasks it solves at any depth (so that the table does not hang on the search's clock): pushed,
    run by the fake as Kaggle runs it (the tasks under ../input, the output in its working folder),
    collected; then the same grid swept here. About 30 seconds on 2 cores."""
    from arc24.evaluation.bench import load_suite, write_suite_tasks

    monkeypatch.setenv("FAKE_KAGGLE_RUN", "1")
    suite, _ = load_suite("one-rule-v1", tmp_path)
    names = ["one-rule-v1-flip-horizontal", "one-rule-v1-rotate-90", "one-rule-v1-transpose"]
    challenges, solutions = write_suite_tasks({t: suite[t] for t in names}, tmp_path / "tasks")
    config = SweepConfig(out=str(tmp_path / "kaggle"), challenges=str(challenges), solutions=str(solutions),
                         grid={"programs_max_depth": [0, 1]}, fixed={"solvers": "programs", "programs_seconds": 2.0},
                         n_tasks=0)
    runs = ["programs_max_depth=0", "programs_max_depth=1"]
    assert kaggle_sweep(config, KaggleSettings(poll_seconds=0))["pushed"] == runs
    summary = kaggle_collect(config.out)
    assert summary["failed"] == [] and summary["collected"] == runs
    metrics = json.loads((Path(config.out) / runs[1] / METRICS_NAME).read_text())
    assert metrics["parameters"]["scratch_dir"] == "/tmp/arc24-scratch" and metrics["tasks"] == 3
    assert metrics["score"] == 1.0 and metrics["seconds"] > 0
    local = SweepConfig(**{**config.__dict__, "out": str(tmp_path / "local")})
    assert sweep(local, progress=False)["failed"] == []
    assert sorted(csv_rows(Path(config.out) / "results.csv"), key=str) == \
        sorted(csv_rows(Path(local.out) / "results.csv"), key=str)
