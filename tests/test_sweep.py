"""`arc24 sweep`: grid parsing, skipping finished runs, the table, failed runs, and the whole
thing on the embedded model, stopped midway with SIGINT and continued (real processes)."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from arc24.config import ConfigError
from arc24.data.task import as_grid
from arc24.files import write_json_atomic
from arc24.solving.predictions import Prediction, write_predictions
from arc24.solving.records import Health
from arc24.sweeps.report import METRICS_NAME, compare_runs, mean_loss_curve, sort_runs
from arc24.sweeps.sweep import (
    Run,
    SweepConfig,
    is_finished,
    notebook_parameters,
    parse_fixed,
    parse_grid,
    plan_runs,
    run_metrics,
    run_name,
    sweep,
)

REPO = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# The tiny task every fake run solves (or not): one train pair, one test input whose output is [[2]].
TASK = {"t1": {"train": [{"input": [[1]], "output": [[2]]}], "test": [{"input": [[1]]}]}}
SOLUTION = {"t1": [[[2]]]}


def arc24(*args, **kwargs):
    env = {**os.environ, "ARC24_CACHE": os.environ.get("ARC24_CACHE", str(REPO / ".cache")),
           "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    return subprocess.run([sys.executable, "-m", "arc24.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=REPO, env=env, **kwargs)


def assert_png(path):
    import matplotlib.image

    assert Path(path).read_bytes()[:8] == PNG_MAGIC, path
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and min(image.shape[:2]) > 100, image.shape


def task_files(folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "challenges.json").write_text(json.dumps(TASK))
    (folder / "solutions.json").write_text(json.dumps(SOLUTION))
    return folder / "challenges.json", folder / "solutions.json"


def solve_outputs(folder: Path, answers: list, losses: list[float]) -> Path:
    """What solve writes for TASK: each answer a prediction, the first two the attempts."""
    task_files(folder)
    write_predictions(folder / "predictions.jsonl",
                      [Prediction("t1", 0, {}, as_grid(grid), "", None, -0.5, 1, "ttft") for grid in answers])
    (folder / "submission.json").write_text(json.dumps({"t1": [{"attempt_1": answers[0], "attempt_2": [[0]]}]}))
    (folder / "health.json").write_text(json.dumps([{"task_id": "t1", "ttft_status": "ok", "weights": "ttft",
                                                     "placeholders": 0, "unparseable": 0, "ttft_losses": losses}]))
    return folder


FAKE_PARAMETERS = ('challenges = ""\nsolutions = ""\ntask_ids = ""\nout_dir = "."\nx = 0\nrate = 0.5\n'
                   'flag = False\nname = "a"\ntemplate = ""  # a folder whose files the run copies\n')
FAKE_BODY = ("import pathlib, shutil\nif x == 1:\n    raise ValueError('x is one')\n"
             "for f in pathlib.Path(template).iterdir():\n    shutil.copy(f, out_dir)\n")


@pytest.fixture
def fake_notebook(tmp_path):
    """A notebook with a parameters cell like the submission kernel's, that copies a prepared
    run's files into out_dir, and fails when x == 1: runs in seconds, without a model."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(FAKE_PARAMETERS)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(FAKE_BODY)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "fake.ipynb"
    nbformat.write(nb, path)
    return path


def fake_config(tmp_path, fake_notebook, grid, fixed=None) -> SweepConfig:
    challenges, solutions = task_files(tmp_path / "data")
    return SweepConfig(out=str(tmp_path / "sweep"), challenges=str(challenges), solutions=str(solutions),
                       grid=grid, fixed=fixed or {}, n_tasks=1, notebook=str(fake_notebook))


# What the views of a fake run predicted: the truth alone; the truth second in the vote; never.
ANSWERS = {"solved": [[[2]]], "second": [[[3]], [[3]], [[2]]], "never": [[[3]]]}


def finish(run: Run, answers: str, seconds: float, losses=(1.0, 0.5)) -> dict:
    """Make RUN a finished run: solve's files, then its metrics.json, as the sweep writes them."""
    solve_outputs(run.folder, ANSWERS[answers], list(losses))
    metrics = run_metrics(run, seconds)
    write_json_atomic(metrics, run.folder / METRICS_NAME)
    return metrics


# ---------------------------------------------------------------- parsing


def test_grid_values_take_the_type_of_the_notebook_default():
    defaults = notebook_parameters(REPO / "notebooks/submission.ipynb")
    assert defaults["ttft_lora_rank"] == 16 and defaults["ttft_learning_rate"] == 8e-5 and defaults["allow_base_model"] is False
    grid = parse_grid(["ttft_lora_rank=32,64", "ttft_learning_rate=2e-5,1", "allow_base_model=true,False", "backend=auto"],
                      defaults)
    assert grid == {"ttft_lora_rank": [32, 64], "ttft_learning_rate": [2e-5, 1.0], "allow_base_model": [True, False],
                    "backend": ["auto"]}
    assert isinstance(grid["ttft_learning_rate"][1], float) and isinstance(grid["ttft_lora_rank"][0], int)
    assert list(grid) == ["ttft_lora_rank", "ttft_learning_rate", "allow_base_model", "backend"]  # the order given
    assert parse_fixed(["ttft_steps=12", "model=/some/folder"], defaults) == {"ttft_steps": 12, "model": "/some/folder"}


@pytest.mark.parametrize("items, message", [
    (["ttft_lora_rank=32,abc"], "--grid ttft_lora_rank=abc: not an integer"),
    (["ttft_learning_rate=fast"], "--grid ttft_learning_rate=fast: not a number"),
    (["allow_base_model=maybe"], "--grid allow_base_model=maybe: not a boolean"),
    (["ttft_lora_rank=4,,8"], "an empty value"),
    (["ttft_lora_rank=4,4"], "listed twice"),
    (["ttft_lora_rank"], "expected name=value"),
    (["lora_rnak=4,8"], "--grid lora_rnak: unknown notebook parameter lora_rnak (known: adapter,"),
    (["out_dir=a,b"], "--grid out_dir: set by the sweep"),
])
def test_bad_grid_items_are_one_line_errors(items, message):
    defaults = notebook_parameters(REPO / "notebooks/submission.ipynb")
    with pytest.raises(ConfigError) as caught:
        parse_grid(items, defaults)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_parameter_cannot_be_both_swept_and_fixed():
    defaults = notebook_parameters(REPO / "notebooks/submission.ipynb")
    with pytest.raises(ConfigError, match="--set ttft_lora_rank: also swept by --grid"):
        parse_fixed(["ttft_lora_rank=8"], defaults, parse_grid(["ttft_lora_rank=4,8"], defaults))


@pytest.mark.parametrize("args, message", [
    (["--grid", "lora_rnak=4,8"], "arc24 sweep: --grid lora_rnak: unknown notebook parameter lora_rnak"),
    (["--grid", "ttft_lora_rank=4,x"], "arc24 sweep: --grid ttft_lora_rank=x: not an integer"),
    (["--set", "n_veiws=8"], "arc24 sweep: --set n_veiws: unknown notebook parameter n_veiws"),
    (["--set", "task_ids=a,b"], "arc24 sweep: --set task_ids: set by the sweep, use --task-ids or --tasks"),
    (["--grid", "n_views=8,0", "--set", "ttft_lora=new"],
     "arc24 sweep: run n_views=0: n_views must be at least 1, got 0"),
    (["--grid", "ttft_steps=-1", "--set", "ttft_lora=new"],
     "arc24 sweep: run ttft_steps=-1: ttft_steps must be at least 0, got -1"),
])
@pytest.mark.slow
def test_the_command_names_the_bad_parameter_and_exits_2(tmp_path, args, message):
    res = arc24("sweep", "--out", tmp_path / "sweep", *args, timeout=120)
    assert res.returncode == 2, res.stderr
    assert res.stderr.strip() == res.stderr.strip().splitlines()[0]  # one line, no traceback
    assert res.stderr.startswith(message), res.stderr
    assert not (tmp_path / "sweep").exists()  # nothing started


@pytest.mark.slow
def test_bad_task_choices_name_the_file(tmp_path, small_tasks_file):
    challenges, solutions = small_tasks_file
    res = arc24("sweep", "--challenges", challenges, "--solutions", solutions, "--task-ids", "nope,nah",
                "--out", tmp_path / "s", timeout=120)
    assert res.returncode == 1
    assert res.stderr.strip() == (f"arc24 sweep: {challenges}: task nope: unknown task id "
                                  "(not among the 8 loaded tasks) (and 1 more)")
    res = arc24("sweep", "--challenges", challenges, "--solutions", solutions, "--tasks", 9, "--out", tmp_path / "s",
                timeout=120)
    assert res.returncode == 2 and res.stderr.strip() == (f"arc24 sweep: --tasks must be between 0 and 8 (0: all; "
                                                          f"{challenges} has 8 tasks), got 9")
    res = arc24("sweep", "--challenges", challenges, "--tasks", 2, "--out", tmp_path / "s", timeout=120)  # no solutions
    assert res.returncode == 1 and "no test outputs, so a sweep cannot score it (give --solutions FILE)" in res.stderr


# ---------------------------------------------------------------- planning and skipping


def test_runs_are_every_combination_named_by_their_values(tmp_path, fake_notebook):
    config = fake_config(tmp_path, fake_notebook, {"x": [4, 8], "rate": [2e-5, 0.001]}, {"name": "b"})
    runs = plan_runs(config, ["t1"])
    assert [r.name for r in runs] == ["x=4__rate=2e-05", "x=4__rate=0.001", "x=8__rate=2e-05", "x=8__rate=0.001"]
    assert runs[0].parameters == {"challenges": str(Path(config.challenges).resolve()),
                                  "solutions": str(Path(config.solutions).resolve()), "task_ids": "t1",
                                  "name": "b", "x": 4, "rate": 2e-5, "out_dir": str(runs[0].folder.resolve())}
    assert run_name({"model": "/models/qwen 0.5b"}).startswith("model=-models-qwen-0.5b-")  # safe, and unique
    assert run_name({"model": "/models/qwen 0.5b"}) != run_name({"model": "/models/qwen_0.5b"})


def test_finished_runs_are_skipped_and_other_settings_are_an_error(tmp_path, fake_notebook):
    config = fake_config(tmp_path, fake_notebook, {"x": [4, 8]})
    first, second = plan_runs(config, ["t1"])
    assert not is_finished(first)
    solve_outputs(first.folder, [[[2]]], [1.0])  # everything but metrics.json: not finished
    assert not is_finished(first)
    finish(first, "solved", seconds=3)
    finish(second, "never", seconds=4)
    assert is_finished(first) and is_finished(second)

    summary = sweep(config, progress=False)  # nothing left to run: no kernel is started
    assert summary["skipped"] == ["x=4", "x=8"] and summary["ran"] == [] and summary["failed"] == []
    assert summary["best"] == "x=4" and summary["worst"] == "x=8"

    changed = fake_config(tmp_path, fake_notebook, {"x": [4, 8]}, {"rate": 0.25})
    with pytest.raises(ConfigError, match=r"x=4: finished with other settings \(rate: None there, 0.25 now\)"):
        sweep(changed, progress=False)


def test_metrics_of_a_run_come_from_its_own_files(tmp_path, fake_notebook):
    config = fake_config(tmp_path, fake_notebook, {"x": [4]})
    run = plan_runs(config, ["t1"])[0]
    metrics = finish(run, "second", seconds=12.34)  # [[3]] twice, [[2]] once: found, voted second
    assert metrics["parameters"] == run.parameters and metrics["swept"] == {"x": 4}
    assert metrics["metrics"]["pass_n"] == 1 and metrics["metrics"]["vote_1"] == 0 and metrics["metrics"]["vote_2"] == 1
    assert metrics["metrics"]["accuracy"] == pytest.approx(1 / 3)
    assert metrics["score"] == 0  # the submission's attempts are [[3]] and [[0]]
    assert metrics["seconds"] == 12.3
    assert metrics["health"] == {"weights": {"ttft": 1}, "ttft_failed": 0, "ttft_skipped": 0, "placeholders": 0,
                                 "unparseable": 0, "errors": 0}


# ---------------------------------------------------------------- the table and plots


def fake_metrics(name, vote_2, score, seconds, pass_n=0.0):
    return {"run": name, "metrics": {"vote_2": vote_2, "pass_n": pass_n}, "score": score, "seconds": seconds}


def test_best_vote_2_first_then_score_then_time():
    runs = [fake_metrics("a", 0.2, 0.1, 5), fake_metrics("b", 0.5, 0.0, 9), fake_metrics("c", 0.2, 0.3, 5),
            fake_metrics("d", 0.2, 0.3, 2), fake_metrics("e", 0.0, 0.0, 1)]
    assert [r["run"] for r in sort_runs(runs)] == ["b", "d", "c", "a", "e"]


def test_table_and_plots_over_finished_runs(tmp_path, fake_notebook):
    config = fake_config(tmp_path, fake_notebook, {"x": [4, 8], "rate": [0.1, 0.2]})
    runs = plan_runs(config, ["t1"])
    for run, answers, seconds in zip(runs, ["never", "second", "solved", "never"], [10, 11, 12, 13]):
        finish(run, answers, seconds, losses=[1.0 - seconds / 100, 0.5, 0.25][: seconds - 9])
    summary = sweep(config, progress=False)
    out = Path(config.out)
    with open(out / "results.csv") as f:
        rows = list(csv.DictReader(f))
    # vote_2 first; the two with vote_2 1 by score; the two with vote_2 0 by seconds
    assert [r["run"] for r in rows] == ["x=8__rate=0.1", "x=4__rate=0.2", "x=4__rate=0.1", "x=8__rate=0.2"]
    assert list(rows[0])[:3] == ["run", "x", "rate"] and rows[0]["vote_2"] == "1.0" and rows[0]["score"] == "1.0"
    assert {"accuracy", "correct_pixels", "correct_size", "pass_n", "vote_1", "unanswered", "seconds", "weights",
            "ttft_failed"} <= set(rows[0])
    md = (out / "results.md").read_text().splitlines()
    assert md[0].startswith("| run | x | rate | accuracy") and len(md) == 2 + 4
    assert md[2].startswith("| x=8__rate=0.1 | 8 | 0.1 | 1.000 |")
    assert summary["table"] == "\n".join(md)
    for name in ("vote_2_heatmap.png", "ttft_loss.png"):
        assert str(out / name) in summary["plots"]
        assert_png(out / name)


def test_one_swept_parameter_gives_a_bar_chart(tmp_path, fake_notebook):
    config = fake_config(tmp_path, fake_notebook, {"x": [4, 8]})
    for run in plan_runs(config, ["t1"]):
        finish(run, "solved" if run.swept["x"] == 8 else "never", seconds=1, losses=[])  # no fine-tuning losses at all
    summary = sweep(config, progress=False)
    assert_png(summary["plots"][0])
    assert_png(summary["plots"][1])  # says there is nothing to draw, but is still a picture


def test_mean_loss_curve_averages_the_tasks_that_reached_each_step():
    health = [Health("a", "ok", ttft_losses=[1.0, 0.5, 0.25]), Health("b", "ok", ttft_losses=[3.0]),
              Health("c", "skipped")]
    assert mean_loss_curve(health) == [2.0, 0.5, 0.25]
    assert mean_loss_curve([Health("c", "skipped")]) == []


@pytest.mark.slow
def test_compare_draws_the_tasks_that_changed(tmp_path, fake_notebook):
    config = fake_config(tmp_path, fake_notebook, {"x": [4, 8, 16]})
    a, b, c = plan_runs(config, ["t1"])
    finish(a, "second", seconds=1)
    finish(b, "solved", seconds=1)
    finish(c, "never", seconds=1)
    paths = compare_runs(a.folder, b.folder)
    assert paths == [a.folder.parent / "compare" / "x=4__vs__x=8" / "t1.png"]
    assert_png(paths[0])
    assert compare_runs(a.folder, c.folder, tmp_path / "same") == []
    res = arc24("compare", a.folder, b.folder, "--out", tmp_path / "pngs", timeout=120)
    assert res.returncode == 0 and "1 task changed" in res.stdout and (tmp_path / "pngs" / "t1.png").exists()
    res = arc24("compare", a.folder, tmp_path, timeout=120)
    assert res.returncode == 2 and res.stderr.strip().startswith(f"arc24 compare: {tmp_path}: no challenges.json")


# ---------------------------------------------------------------- notebooks through papermill


@pytest.mark.slow
def test_a_failed_run_is_reported_and_retried_next_time(tmp_path, fake_notebook):
    """Real kernels on the fake notebook: x=1 fails, the sweep goes on, exits 1; again, x=0 is skipped."""
    challenges, solutions = task_files(tmp_path / "data")
    template = solve_outputs(tmp_path / "template", [[[2]]], [0.9, 0.4])
    out = tmp_path / "sweep"
    args = ["sweep", "--notebook", fake_notebook, "--challenges", challenges, "--solutions", solutions, "--tasks", 1,
            "--out", out, "--grid", "x=1,0", "--set", f"template={template}", "--no-progress"]
    res = arc24(*args, timeout=300)
    assert res.returncode == 1, res.stderr
    assert "[1/2] x=1: FAILED after" in res.stdout and "ValueError: x is one" in res.stdout
    assert f"(notebook {out / 'x=1' / 'submission.executed.ipynb'}" in res.stdout
    assert "[2/2] x=0: done in" in res.stdout  # the sweep went on
    assert "arc24 sweep: x=1 failed: cell" in res.stderr and "Traceback" not in res.stderr
    assert (out / "x=1" / "submission.executed.ipynb").exists() and not (out / "x=1" / METRICS_NAME).exists()
    # one line for the user, and the whole traceback kept where the message says
    assert f"traceback in {out / 'x=1' / 'notebook.log'}" in res.stderr
    assert "Traceback" in (out / "x=1" / "notebook.log").read_text()
    assert (out / "x=0" / METRICS_NAME).exists()
    assert len((out / "results.csv").read_text().splitlines()) == 2  # the header and the finished run

    res = arc24(*args, timeout=300)
    assert res.returncode == 1
    assert "[1/2] x=1: FAILED after" in res.stdout and "[2/2] x=0: skipped (finished before)" in res.stdout


def notebook_children(out: Path) -> list:
    """The sweep's notebook processes still alive (their command line names the sweep's folder)."""
    import psutil

    found = []
    for p in psutil.process_iter(["cmdline"]):
        if "arc24.sweeps.sweep" in (p.info["cmdline"] or []) and str(out) in " ".join(p.info["cmdline"] or []):
            found.append(p)
    return found


class Sweep:
    """`arc24 sweep` as a real process, output to files; stopped the clean way (SIGTERM) if a test
    gives up on it, so that its notebook, kernel and workers end too."""

    def __init__(self, args, folder: Path):
        env = {**os.environ, "ARC24_CACHE": os.environ.get("ARC24_CACHE", str(REPO / ".cache")),
               "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
        self.stdout, self.stderr = folder / "stdout", folder / "stderr"
        with open(self.stdout, "w") as out, open(self.stderr, "w") as err:
            # SIGINT back to its default: a test run started in the background (`pytest &`) passes
            # SIGINT on ignored, and the sweep would then never see the Ctrl-C this test sends.
            self.proc = subprocess.Popen([sys.executable, "-m", "arc24.cli", *map(str, args)], stdout=out, stderr=err,
                                         cwd=REPO, env=env,
                                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def output(self) -> tuple[str, str]:
        return self.stdout.read_text(), self.stderr.read_text()


@pytest.mark.slow
def test_sweep_on_the_embedded_model_stopped_midway_and_continued(tmp_path, small_tasks_file, smollm_dir):
    """A sweep of 2x2 settings on 3 small tasks with the embedded model runs on CPU from one command,
    is stopped midway (SIGINT) and continued, and yields the table and the plots. About 3 minutes
    on 2 idle cores; the time limits are for a machine busy with other work."""
    challenges, solutions = small_tasks_file
    out = tmp_path / "sweep"
    cmd = ["sweep", "--challenges", challenges, "--solutions", solutions, "--out", out, "--tasks", 3, "--seed", 0,
           "--grid", "ttft_lora_rank=4,8", "ttft_learning_rate=1e-4,1e-3",
           "--set", "ttft_lora=new", "ttft_steps=2", "n_views=2", "max_new_tokens=24", "max_seq_len=1024", "batch_size=2",
           "--no-progress"]
    began = time.monotonic()
    (tmp_path / "first").mkdir()
    with Sweep(cmd, tmp_path / "first") as first:
        while not list(out.glob(f"*/{METRICS_NAME}")):
            assert first.proc.poll() is None, first.output()[1][-3000:]
            assert time.monotonic() - began < 900, "the first run took over 15 minutes"
            time.sleep(0.5)
        first.proc.send_signal(signal.SIGINT)  # as Ctrl-C: the second run is under way
        first.proc.wait(timeout=120)
    first_stderr = first.output()[1]
    assert first.proc.returncode == 130, first_stderr[-3000:]
    assert "arc24 sweep: interrupted with 1 of 4 runs finished; start the same command again" in first_stderr
    assert "Traceback" not in first_stderr
    finished = sorted(p.parent.name for p in out.glob(f"*/{METRICS_NAME}"))
    assert finished == ["ttft_lora_rank=4__ttft_learning_rate=0.0001"]
    assert notebook_children(out) == []  # the interrupted run's notebook process was stopped
    first_metrics = out / finished[0] / METRICS_NAME
    mtime = first_metrics.stat().st_mtime_ns

    (tmp_path / "again").mkdir()
    with Sweep(cmd, tmp_path / "again") as again:
        again.proc.wait(timeout=1800)
    stdout, stderr = again.output()
    assert again.proc.returncode == 0, stderr[-3000:]
    assert "[1/4] ttft_lora_rank=4__ttft_learning_rate=0.0001: skipped (finished before)" in stdout
    assert first_metrics.stat().st_mtime_ns == mtime
    for i, name in enumerate(["ttft_lora_rank=4__ttft_learning_rate=0.001", "ttft_lora_rank=8__ttft_learning_rate=0.0001",
                              "ttft_lora_rank=8__ttft_learning_rate=0.001"], 2):
        assert f"[{i}/4] {name}: done in" in stdout
        folder = out / name
        for produced in ("submission.executed.ipynb", "submission.json", "predictions.jsonl", "health.json",
                         "summary.json", "challenges.json", "solutions.json", METRICS_NAME):
            assert (folder / produced).is_file(), folder / produced
        metrics = json.loads((folder / METRICS_NAME).read_text())
        assert metrics["parameters"]["ttft_steps"] == 2 and metrics["tasks"] == 3
        assert metrics["health"]["weights"] == {"ttft": 3} and metrics["health"]["ttft_failed"] == 0

    with open(out / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4 and {r["run"] for r in rows} == {p.parent.name for p in out.glob(f"*/{METRICS_NAME}")}
    vote_2 = [float(r["vote_2"]) for r in rows]
    assert vote_2 == sorted(vote_2, reverse=True)
    md = (out / "results.md").read_text()
    assert md.startswith("| run | ttft_lora_rank | ttft_learning_rate | accuracy") and md.count("\n") == 6
    assert md.strip() in stdout  # the table is printed at the end
    for name in ("vote_2_heatmap.png", "ttft_loss.png"):
        assert_png(out / name)
        assert str(out / name) in stdout
    print(f"sweep test: {time.monotonic() - began:.0f}s")
