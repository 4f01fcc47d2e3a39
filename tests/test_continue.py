"""A long run never loses finished work, and a person can watch it (the tiny random model, real
processes): solve continues its folder, refuses other settings without touching a file, stops
cleanly on Ctrl-C, survives kill -9, and `arc24 status` reads a run's state from its folder."""

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from arc24.cli import main
from processes import HAS_PROC, alive, children, wait_until_gone

# The model alone: these tests are about continuing its work (test_solve_programs.py continues the programs')
STEPS = ["ttft.lora=new", "ttft.learning_rate=1e-3", "n_views=2", "max_new_tokens=8", "batch_size=2",
         "max_seq_len=1024", "allow_base_model=true", "solvers=model"]


def solve_args(out: Path, tasks, model, ids, *sets):
    challenges, solutions = tasks
    args = ["solve", str(challenges), "--out", str(out / "submission.json"), "--set", f"solutions={solutions}",
            "--set", f"model={model}", "--set", f"task_ids=[{','.join(ids)}]"]
    for item in STEPS + list(sets):
        args += ["--set", item]
    return args


def files(folder: Path) -> dict:
    """Every file of a folder: its bytes and modification time."""
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def rows(folder: Path) -> dict:
    return {h["task_id"]: h for h in json.loads((folder / "health.json").read_text())}


def predictions(folder: Path) -> list:
    lines = [json.loads(line) for line in (folder / "predictions.jsonl").read_text().splitlines()]
    return sorted((p["task_id"], p["test_index"], json.dumps(p["augmentation"]), p["text"]) for p in lines)


def ids_of(tasks, n):
    return sorted(json.loads(tasks[0].read_text()))[:n]


@pytest.mark.slow
def test_the_same_command_continues_its_folder_and_other_settings_are_refused(tmp_path, small_tasks_file,
                                                                              tiny_model_dir, capsys):
    out = tmp_path / "run"
    ids = ids_of(small_tasks_file, 2)
    args = solve_args(out, small_tasks_file, tiny_model_dir, ids, "ttft.steps=2", "in_process=true")
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "fine-tuning step 2/2 loss" in err and "predicting 2/2" in err  # the bar inside a task
    first_rows, first_predictions = rows(out), predictions(out)

    # The same command again: every task kept as it was (timings included), no model work.
    assert main(args) == 0
    captured = capsys.readouterr()
    assert f"continuing the run in {out}: kept 2 finished tasks; solving 0" in captured.out
    assert "fine-tuning step" not in captured.err and "Loading weights" not in captured.err
    assert rows(out) == first_rows and predictions(out) == first_predictions
    assert json.loads((out / "summary.json").read_text())["kept"] == 2

    # A prediction setting changed: exit 2 before any model loads, naming the settings, no file changed.
    before = files(out)
    assert main(args + ["--set", "n_views=3", "--set", "ttft.steps=3"]) == 2
    err = capsys.readouterr().err
    assert "n_views: 2 there, 3 now" in err and "ttft.steps: 2 there, 3 now" in err and "--overwrite" in err
    assert files(out) == before

    # A setting that only changes speed is no reason to refuse.
    assert main(args + ["--set", "batch_size=1"]) == 0
    assert rows(out) == first_rows

    # --overwrite starts over: the old run's records are gone.
    (out / "errors.log").write_text("an old run's\n")
    assert main(args + ["--set", "ttft.steps=1", "--overwrite"]) == 0
    assert all(r["ttft_steps"] == 1 for r in rows(out).values()) and not (out / "errors.log").exists()
    assert json.loads((out / "summary.json").read_text())["kept"] == 0


def _start(args, log: Path) -> subprocess.Popen:
    # A background test run passes SIGINT on ignored: the child gets Ctrl-C's default back.
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false"}
    return subprocess.Popen([sys.executable, "-m", "arc24.cli", *args], stdout=subprocess.PIPE,
                            stderr=log.open("w"), text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _wait_for_second_task(proc: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    """Until the progress bar shows the second task fine-tuning: 30 tiny-model steps take a few
    seconds, so a signal sent now lands in the middle of it."""
    deadline = time.monotonic() + timeout
    while "1/3 done; " not in log.read_text() or "fine-tuning step" not in log.read_text().split("1/3 done; ", 1)[1]:
        assert time.monotonic() < deadline and proc.poll() is None, "the second task did not start"
        time.sleep(0.05)


@pytest.mark.skipif(not HAS_PROC, reason="finds the worker processes through Linux's /proc")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
@pytest.mark.slow
def test_ctrl_c_stops_the_workers_and_says_how_to_continue(signum, tmp_path, small_tasks_file, tiny_model_dir):
    out = tmp_path / "run"
    # one worker: the tasks run one after another, so the signal lands in the second
    args = solve_args(out, small_tasks_file, tiny_model_dir, ids_of(small_tasks_file, 3), "ttft.steps=30", "workers=1")
    log = tmp_path / "stderr.log"
    proc = _start(args, log)
    try:
        _wait_for_second_task(proc, log)
        workers = children(proc.pid)
        assert workers
        sent = time.monotonic()
        proc.send_signal(signum)  # SIGTERM: `kill`, a job scheduler, a stopped Kaggle session
        proc.wait(timeout=20)
        took = time.monotonic() - sent
    finally:
        proc.kill()
        proc.wait()
    err = log.read_text()
    assert proc.returncode == 130 and took < 15, (proc.returncode, took, err[-2000:])
    message = [line for line in err.splitlines() if line.startswith("arc24 solve: interrupted")]
    assert message == [f"arc24 solve: interrupted with 1 of 3 tasks finished (kept in {out}); to continue, run the "
                       f"same command: {shlex.join(['arc24', *args])}"], err[-2000:]
    assert "fine-tuning step" in err  # the worker's progress reached the bar
    assert "Traceback" not in err and "leaked" not in err and "Warning: resource_tracker" not in err
    time.sleep(1)
    assert not [w for w in workers if alive(w)], "a worker outlived its supervisor's Ctrl-C"
    assert len(rows(out)) == 1


@pytest.mark.skipif(not HAS_PROC, reason="waits on the worker processes through /proc")
@pytest.mark.slow
def test_kill_9_in_the_middle_of_a_task_then_the_same_command_finishes_the_run(tmp_path, small_tasks_file,
                                                                             tiny_model_dir):
    out = tmp_path / "run"
    ids = ids_of(small_tasks_file, 3)
    args = solve_args(out, small_tasks_file, tiny_model_dir, ids, "ttft.steps=30", "workers=1")
    proc = _start(args, tmp_path / "first.log")
    try:
        _wait_for_second_task(proc, tmp_path / "first.log")
        workers = children(proc.pid)
    finally:
        proc.kill()  # SIGKILL: no cleanup runs, as when a machine or a kernel dies
        proc.wait()
    wait_until_gone(workers, 30, "the workers outlived their killed supervisor")
    before = rows(out)
    assert len(before) == 1

    done = subprocess.run([sys.executable, "-m", "arc24.cli", *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"kept {len(before)} finished task" in done.stdout
    after = rows(out)
    assert sorted(after) == ids and all(after[t] == before[t] for t in before)  # kept, not solved again

    straight = tmp_path / "straight"
    assert main(solve_args(straight, small_tasks_file, tiny_model_dir, ids, "ttft.steps=30", "in_process=true")) == 0
    assert predictions(out) == predictions(straight)
    assert json.loads((out / "submission.json").read_text()) == json.loads((straight / "submission.json").read_text())


@pytest.mark.slow
def test_status_reads_a_run_from_its_folder_without_torch(tmp_path, small_tasks_file, tiny_model_dir):
    out = tmp_path / "run"
    assert main(solve_args(out, small_tasks_file, tiny_model_dir, ids_of(small_tasks_file, 2),
                           "ttft.steps=1", "in_process=true")) == 0
    (tmp_path / "empty").mkdir()
    code = ("import sys; from arc24.cli import main\n"
            "for folder in sys.argv[1:]:\n"
            "    assert main(['status', folder]) == 0\n"
            "assert 'torch' not in sys.modules, 'status imported torch'\n")

    def status(*folders):
        done = subprocess.run([sys.executable, "-c", code, *map(str, folders)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout

    text = status(out, tmp_path / "empty")
    assert f"{out}: finished" in text and "tasks: 2 of 2 done" in text and "seconds per task:" in text
    assert "placeholders:" in text and "ttft.steps=1" in text and "n_views=2" in text
    assert f"{tmp_path / 'empty'}: not started" in text

    # A run stopped midway: the summary is written only when a run ends.
    (out / "summary.json").unlink()
    health = json.loads((out / "health.json").read_text())
    (out / "health.json").write_text(json.dumps(health[:1]))
    text = status(out)
    assert f"{out}: running or interrupted" in text and "tasks: 1 of 2 done" in text
    assert main(["status", str(tmp_path / "nowhere")]) == 2


def test_a_setting_added_by_a_later_version_at_its_default_does_not_strand_a_run(tmp_path):
    """A run folder made before a setting existed continues when the setting is at its default,
    and is refused when it is not (the old run did not use it)."""
    from arc24.config import ConfigError
    from arc24.solving.config import SolveConfig, TTFTSettings
    from arc24.solving.records import SETTINGS_FILE, check_same_run
    from arc24.solving.solve import resume_settings

    now = resume_settings(SolveConfig(ttft=TTFTSettings(lora="new")))
    old = json.loads(json.dumps(now))
    del old["ttft"]["rslora"]  # as a folder written before rsLoRA was a setting
    (tmp_path / SETTINGS_FILE).write_text(json.dumps(old))
    defaults = resume_settings(SolveConfig())
    check_same_run(tmp_path, now, defaults)
    with pytest.raises(ConfigError, match=r"ttft.rslora: '\(not set\)' there, True now"):
        check_same_run(tmp_path, resume_settings(SolveConfig(ttft=TTFTSettings(lora="new", rslora=True))), defaults)
