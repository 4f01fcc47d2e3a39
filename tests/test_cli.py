"""The arc24 command: subcommands, help, exit codes and one-line errors (real processes, real files)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from data_paths import ARC1, CONCEPT

REPO = Path(__file__).resolve().parents[1]


def arc24(*args):
    return subprocess.run([sys.executable, "-m", "arc24.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=REPO, env=dict(os.environ), timeout=300)


def test_help_lists_subcommands():
    res = arc24("--help")
    assert res.returncode == 0
    for name in ("check-data", "prompt", "train", "demo"):
        assert name in res.stdout


@pytest.mark.slow
def test_check_data_on_the_real_sets():
    res = arc24("check-data", ARC1 / "arc-agi_training_challenges.json",
                "--solutions", ARC1 / "arc-agi_training_solutions.json")
    assert res.returncode == 0 and "400 tasks" in res.stdout and "0 problems" in res.stdout
    res = arc24("check-data", ARC1 / "arc-agi_evaluation_challenges.json",
                "--solutions", ARC1 / "arc-agi_evaluation_solutions.json")
    assert res.returncode == 0 and res.stdout.strip().endswith("400 tasks, 419 test outputs, 0 problems")
    res = arc24("check-data", CONCEPT)
    assert res.returncode == 0 and "0 problems" in res.stdout


def test_check_data_reports_bad_input_with_exit_1(tmp_path):
    bad = tmp_path / "bad.json"
    tasks = json.loads((ARC1 / "arc-agi_training_challenges.json").read_text())
    tid = sorted(tasks)[0]
    task = tasks[tid]
    task["train"][0]["output"] = [[1, 2], [3]]
    bad.write_text(json.dumps({tid: task}))
    res = arc24("check-data", bad)
    assert res.returncode == 1
    assert f"task {tid}: train[0].output: not rectangular" in res.stdout
    assert "Traceback" not in res.stderr
    broken = tmp_path / "broken.json"
    broken.write_text('{"a": [1, 2,\n')
    res = arc24("check-data", broken)
    assert res.returncode == 1 and "line" in res.stdout and "column" in res.stdout


@pytest.mark.slow
def test_train_with_an_unknown_key_is_one_line(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("output_dir: x\nlearnig_rate: 1\n")
    res = arc24("train", cfg)
    assert res.returncode == 2
    assert "unknown key learnig_rate" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.slow
def test_prompt_shows_the_chat_template(small_tasks_file):
    challenges, solutions = small_tasks_file
    res = arc24("prompt", challenges, "--solutions", solutions, "--augment")
    assert res.returncode == 0, res.stderr
    assert "<|im_start|>user" in res.stdout and "```grid shape:" in res.stdout


@pytest.mark.slow
def test_show_draws_a_png(tmp_path):
    out = tmp_path / "t.png"
    res = arc24("show", ARC1 / "arc-agi_evaluation_challenges.json", "--solutions",
                ARC1 / "arc-agi_evaluation_solutions.json", "--task", "00576224", "--out", out)
    assert res.returncode == 0, res.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_score_and_validate_a_submission(tmp_path):
    solutions = json.loads((ARC1 / "arc-agi_evaluation_solutions.json").read_text())
    perfect = {t: [{"attempt_1": g, "attempt_2": g} for g in grids] for t, grids in solutions.items()}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(perfect))
    res = arc24("validate-submission", path, "--challenges", ARC1 / "arc-agi_evaluation_challenges.json")
    assert res.returncode == 0, res.stdout + res.stderr
    res = arc24("score", path, "--solutions", ARC1 / "arc-agi_evaluation_solutions.json", "--json")
    assert res.returncode == 0 and json.loads(res.stdout)["score"] == 1.0


def test_a_bug_of_ours_gets_one_line_and_its_traceback_in_a_file(tmp_path, monkeypatch, capsys):
    # A failure no user causes (injected here) must not vanish into one line: the line names the
    # file that keeps the whole traceback.
    import arc24.data.tasks as tasks
    from arc24.cli import ERROR_LOG, main

    def broken(path, solutions=None):
        raise KeyError("an internal lookup that should never fail")

    monkeypatch.setattr(tasks, "check_data", broken)
    monkeypatch.chdir(tmp_path)
    assert main(["check-data", str(ARC1 / "arc-agi_training_challenges.json")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("arc24 check-data: KeyError:") and str(tmp_path / ERROR_LOG) in err[1]
    log = (tmp_path / ERROR_LOG).read_text()
    assert "Traceback (most recent call last)" in log and "in broken" in log
