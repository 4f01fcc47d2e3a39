"""Training on a tiny random Qwen2 (CPU): exact resume, continual training, clear errors, two processes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from arc24.config import ConfigError, load_config
from arc24.data.contract import PromptContract, read_contract, tokenizer_fingerprint
from arc24.models import load_tokenizer
from arc24.training.config import TrainConfig
from arc24.training.trainer import train

REPO = Path(__file__).resolve().parents[1]


def write_config(path, out, model, tasks, **extra):
    challenges, solutions = tasks
    lines = [
        f"output_dir: {out}",
        f"model: {model}",
        "lora: {rank: 4, dropout: 0.1}",  # dropout draws random numbers: resume must restore the RNG
        "data:",
        f"  datasets: [{{path: {challenges}, solutions: {solutions}}}]",
        f"  eval_datasets: [{{path: {challenges}, solutions: {solutions}}}]",
        "  prompt_tasks: {output-from-examples-v1: 0.7, input-from-inputs-v1: 0.3}",
        "  problem_augmentation: 0.3",
        "  max_seq_len: 768",
        "max_steps: 6",
        "global_batch_size: 2",
        "learning_rate: 1.0e-3",
        "save_steps: 2",
        "eval_steps: 3",
        "eval_samples: 2",
        "length_stats_samples: 8",
        "gradient_checkpointing: true",
    ]
    lines += [f"{k}: {v}" for k, v in extra.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def losses(out):
    rows = [json.loads(line) for line in (Path(out) / "metrics.jsonl").read_text().splitlines()]
    return {r["step"]: r["loss"] for r in rows if "loss" in r}


def adapter_weights(folder):
    return load_file(Path(folder) / "adapter_model.safetensors")


@pytest.fixture
def cfg(tmp_path, tiny_model_dir, small_tasks_file):
    def make(name, **extra):
        return write_config(tmp_path / f"{name}.yaml", tmp_path / name, tiny_model_dir, small_tasks_file, **extra)
    return make


@pytest.mark.slow
def test_resume_is_exact(cfg):
    straight = train(load_config(TrainConfig, cfg("straight")), progress=False)
    assert straight["end_step"] == 6

    first = train(load_config(TrainConfig, cfg("resumed")), progress=False, stop_at=3)
    assert first["end_step"] == 3
    second = train(load_config(TrainConfig, cfg("resumed")), progress=False)
    assert second["resumed_from"].endswith("checkpoint-3") and second["start_step"] == 3

    a, b = losses(Path(straight["output_dir"])), losses(Path(second["output_dir"]))
    assert sorted(a) == sorted(b) == [1, 2, 3, 4, 5, 6]  # one record per step, no duplicates
    for step in a:
        assert b[step] == pytest.approx(a[step], rel=1e-5, abs=1e-6), step
    wa, wb = adapter_weights(straight["final"]), adapter_weights(second["final"])
    assert wa.keys() == wb.keys()
    for name in wa:
        torch.testing.assert_close(wa[name], wb[name], rtol=1e-5, atol=1e-6)
    # the run actually learned something and logged eval loss and the length report
    rows = (Path(second["output_dir"]) / "metrics.jsonl").read_text()
    assert "eval_loss" in rows
    assert json.loads((Path(second["output_dir"]) / "length_stats.json").read_text())["samples"] == 8


@pytest.mark.slow
def test_half_written_checkpoint_is_never_used(cfg):
    out = train(load_config(TrainConfig, cfg("crash")), progress=False, stop_at=2)["output_dir"]
    # what a run killed mid-save leaves behind
    partial = Path(out) / "checkpoint-4.partial"
    (partial / "model").mkdir(parents=True)
    (partial / "optimizer.pt").write_bytes(b"trunc")
    summary = train(load_config(TrainConfig, cfg("crash")), progress=False, stop_at=3)
    assert summary["resumed_from"].endswith("checkpoint-2")
    assert not partial.exists()


@pytest.mark.slow
def test_keeps_last_k_checkpoints_each_with_the_prompt_contract(cfg, tiny_model_dir):
    out = Path(train(load_config(TrainConfig, cfg("keep", keep_checkpoints=2)), progress=False)["output_dir"])
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-4", "checkpoint-6"]
    # The model folders record the prompt they were trained with (the settings of write_config).
    expected = PromptContract(("input-from-inputs-v1", "output-from-examples-v1"), "numbered-fence", 768,
                              tokenizer_fingerprint(load_tokenizer(tiny_model_dir)))
    for folder in (out / "checkpoint-4" / "model", out / "checkpoint-6" / "model", out / "final"):
        assert read_contract(folder) == expected, folder


@pytest.mark.slow
def test_continual_training_starts_from_the_adapter(cfg, tmp_path):
    first = train(load_config(TrainConfig, cfg("stage1", max_steps=2)), progress=False)
    start = adapter_weights(first["final"])
    stage2 = load_config(TrainConfig, cfg("stage2", max_steps=2), [f"adapter={first['final']}"])
    from arc24.training.trainer import build_model

    model = build_model(stage2, torch.device("cpu"), "fp32")
    from peft import get_peft_model_state_dict

    loaded = get_peft_model_state_dict(model)
    assert loaded.keys() == start.keys()
    for name in start:
        torch.testing.assert_close(loaded[name], start[name])
    # and it is trainable: the weights move from there
    second = train(stage2, progress=False)
    moved = adapter_weights(second["final"])
    assert any(not torch.equal(moved[n], start[n]) for n in start)


@pytest.mark.slow
def test_resume_with_other_settings_is_refused(cfg):
    train(load_config(TrainConfig, cfg("refuse", max_steps=1)), progress=False)
    changed = load_config(TrainConfig, cfg("refuse", max_steps=2), ["learning_rate=0.5"])
    with pytest.raises(ConfigError, match="learning_rate: 0.001 there, 0.5 now.*Use a new output_dir"):
        train(changed, progress=False)
    nested = load_config(TrainConfig, cfg("refuse", max_steps=2), ["data.max_seq_len=512"])
    with pytest.raises(ConfigError, match="data.max_seq_len: 768 there, 512 now"):
        train(nested, progress=False)


def test_config_errors_name_the_key(cfg):
    with pytest.raises(ConfigError, match="unknown key lora.rnak"):
        load_config(TrainConfig, cfg("bad"), ["lora.rnak=8"])
    with pytest.raises(ConfigError, match="max_steps: expected an integer"):
        load_config(TrainConfig, cfg("bad"), ["max_steps=many"])


def run_cli(*args, env_extra=None, timeout=600):
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "arc24.cli", *args], capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=REPO)


@pytest.mark.slow
def test_out_of_memory_is_a_clear_error_and_keeps_the_checkpoint(cfg):
    path = cfg("oom", max_steps=4)
    ok = run_cli("train", str(path), "--set", "max_steps=2")  # fine: 2 steps, checkpoint-2
    assert ok.returncode == 0, ok.stderr[-2000:]
    # The same run continued with a memory cap far below what it uses: a real OutOfMemory at step 3.
    res = run_cli("train", str(path), "--set", "memory_limit_gb=0.01")
    assert res.returncode == 3, res.stderr[-2000:]
    message = res.stderr.strip().splitlines()[-1]
    from arc24.models import resolve_precision

    precision = resolve_precision("auto", "cpu")  # bf16 on a CPU that computes it natively, else fp32
    for part in ("Out of memory at step 3", "max_seq_len=768", "per_device_batch=1", "lora_rank=4",
                 f"precision={precision}", "GiB used", "Try, in order: 1) lower max_seq_len"):
        assert part in message
    assert "Traceback" not in res.stderr
    out = path.parent / "oom"
    assert (out / "checkpoint-2" / "state.json").exists()
    # and the run continues from there once the cap is lifted
    again = run_cli("train", str(path))
    assert again.returncode == 0 and "resuming from checkpoint-2" in again.stdout


@pytest.mark.slow
def test_two_processes_match_one(cfg, tmp_path):
    single = train(load_config(TrainConfig, cfg("single", max_steps=2, save_steps=2)), progress=False)
    path = cfg("ddp", max_steps=2, save_steps=2)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    res = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                          "--master_port", "29517", "-m", "arc24.cli", "train", str(path)],
                         capture_output=True, text=True, env=env, timeout=600, cwd=REPO)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "2 process(es)" in res.stdout
    a, b = losses(single["output_dir"]), losses(tmp_path / "ddp")
    assert sorted(a) == sorted(b) == [1, 2]
    for step in a:  # the same samples per step, whatever the device count
        assert b[step] == pytest.approx(a[step], rel=1e-4)


@pytest.mark.slow
def test_ctrl_c_then_start_again_continues_the_curve(cfg):
    import signal
    import time

    path = cfg("ctrlc", max_steps=400, save_steps=2, eval_steps=0)
    out = path.parent / "ctrlc"
    # SIGINT back to its default: a test run started in the background (`make test &`) passes SIGINT
    # on ignored, Python then installs no KeyboardInterrupt handler, and the run would finish all its steps.
    proc = subprocess.Popen([sys.executable, "-m", "arc24.cli", "train", str(path)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 300
    # Any checkpoint from step 4 on: on a busy machine the poll may miss checkpoint-4 itself, which
    # rotation deletes a few steps later.
    while time.time() < deadline and proc.poll() is None and not any(
            int(p.name.split("-")[1]) >= 4 for p in out.glob("checkpoint-*") if not p.name.endswith(".partial")):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    assert "interrupted" in err and "Traceback" not in err
    done = [p.name for p in out.glob("checkpoint-*") if not p.name.endswith(".partial")]
    assert done, "a checkpoint must survive the interruption"
    last = max(int(n.split("-")[1]) for n in done)
    again = run_cli("train", str(path), "--stop-at", str(last + 3))
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"resuming from checkpoint-{last}" in again.stdout
    steps = [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, last + 4))  # unbroken: every step once, in order
