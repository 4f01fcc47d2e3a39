"""Training speed: tokens/s, model FLOPs utilisation and peak memory. Prints JSON.

  cpu mode (default without a GPU): the embedded SmolLM2-135M, LoRA r16, 512 tokens; under a minute.
  gpu mode: the Qwen2.5-0.5B-Instruct architecture built from its config (random weights, same
  compute) at 8,192 tokens, LoRA rank 32/64/128 and full fine-tuning, with our loop (chunked or
  fused loss, gradient checkpointing) and a plain baseline in the same run: PEFT + transformers
  Trainer with the model's default loss.

    python tools/bench_train.py [--mode cpu|gpu] [--steps 5] [--seq-len N] [--peak-tflops 989]

FLOPs per token: 6N for full fine-tuning, 4N for LoRA (no weight gradients for frozen weights),
plus attention 12·layers·hidden·seq (forward and backward); N counts the non-embedding weights
and the lm_head matmul.
"""

import argparse
import json
import os
import platform
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

from arc24.config import load_config  # noqa: E402
from arc24.data.prompts import IGNORE_INDEX  # noqa: E402
from arc24.models import resolve_model, resolve_precision, torch_dtype  # noqa: E402
from arc24.training.batching import LossModel  # noqa: E402
from arc24.training.config import TrainConfig  # noqa: E402
from arc24.training.trainer import build_model  # noqa: E402

QWEN05_CONFIG = dict(  # Qwen2.5-0.5B-Instruct's published architecture
    vocab_size=151936, hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
    num_attention_heads=14, num_key_value_heads=2, max_position_embeddings=32768,
    rope_theta=1000000.0, rms_norm_eps=1e-6, tie_word_embeddings=True)


def peak_memory_bytes(device) -> int:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device)
    with open("/proc/self/status") as f:  # VmHWM: this process's peak resident memory
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def flops_per_token(model_config, seq_len, full) -> float:
    h, layers = model_config.hidden_size, model_config.num_hidden_layers
    kv = h * model_config.num_key_value_heads // model_config.num_attention_heads
    per_layer = h * h * 2 + h * kv * 2 + 3 * h * model_config.intermediate_size
    n = layers * per_layer + h * model_config.vocab_size
    return (6 if full else 4) * n + 12 * layers * h * seq_len


def batch(seq_len, vocab, device):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, vocab, (1, seq_len), generator=g)
    labels = ids.clone()
    labels[:, : seq_len * 3 // 4] = IGNORE_INDEX  # prompt masked, the answer learned, as in ARC samples
    return {"input_ids": ids.to(device), "labels": labels.to(device),
            "attention_mask": torch.ones_like(ids).to(device)}


def run_ours(config, device, steps, seq_len):
    precision = resolve_precision(config.precision, device)
    model = build_model(config, device, precision)
    runner = LossModel(model, config.loss, config.loss_chunk_size)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-5)
    data = batch(seq_len, model.config.vocab_size, device)
    dtype = None if precision == "fp32" else torch_dtype(precision)
    times = []
    for _ in range(steps + 1):  # the first step warms up
        t = time.perf_counter()
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            loss = runner(**data)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return model.config, sorted(times[1:])[len(times[1:]) // 2]


def run_trainer_baseline(config, device, steps, seq_len, out):
    """PEFT + transformers Trainer, default loss (full logits), default settings otherwise."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, Trainer, TrainerCallback, TrainingArguments

    precision = resolve_precision(config.precision, device)
    model = AutoModelForCausalLM.from_pretrained(resolve_model(config.model),
                                                 dtype=torch.bfloat16 if precision == "bf16" else torch.float32)
    if config.lora.rank:
        model = get_peft_model(model, LoraConfig(r=config.lora.rank, lora_alpha=config.lora.rank,
                                                 target_modules=list(config.lora.target_modules)))
    data = {k: v[0].cpu() for k, v in batch(seq_len, model.config.vocab_size, "cpu").items()}

    class Times(TrainerCallback):
        def __init__(self):
            self.t, self.steps = None, []

        def on_step_begin(self, args, state, control, **kw):
            self.t = time.perf_counter()

        def on_step_end(self, args, state, control, **kw):
            if device.type == "cuda":
                torch.cuda.synchronize()
            self.steps.append(time.perf_counter() - self.t)

    timer = Times()
    args = TrainingArguments(output_dir=out, max_steps=steps + 1, per_device_train_batch_size=1,
                             bf16=precision == "bf16", fp16=precision == "fp16", report_to=[],
                             save_strategy="no", logging_strategy="no", use_cpu=device.type != "cuda",
                             gradient_checkpointing=config.gradient_checkpointing)
    Trainer(model=model, args=args, train_dataset=[data] * (steps + 1), callbacks=[timer]).train()
    return sorted(timer.steps[1:])[len(timer.steps[1:]) // 2]


def measure(name, config, device, steps, seq_len, peak_tflops, baseline=False, workdir=None):
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    try:
        if baseline:
            model_config = None
            seconds = run_trainer_baseline(config, device, steps, seq_len, workdir)
        else:
            model_config, seconds = run_ours(config, device, steps, seq_len)
    except torch.OutOfMemoryError as exc:
        return {"run": name, "error": f"out of memory: {str(exc).splitlines()[0][:200]}"}
    row = {"run": name, "seq_len": seq_len, "seconds_per_step": round(seconds, 3),
           "tokens_per_s": round(seq_len / seconds, 1),
           "peak_memory_gib": round(peak_memory_bytes(device) / 2**30, 2)}
    if model_config is not None:
        achieved = flops_per_token(model_config, seq_len, config.lora.rank == 0) * seq_len / seconds
        row["achieved_tflops"] = round(achieved / 1e12, 3)
        if peak_tflops:
            row["mfu"] = round(achieved / (peak_tflops * 1e12), 4)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["cpu", "gpu"], default="gpu" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--seq-len", type=int)
    parser.add_argument("--peak-tflops", type=float, help="the device's dense peak for MFU (H100 bf16: 989)")
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    device = torch.device("cuda" if args.mode == "gpu" else "cpu")
    work = tempfile.mkdtemp(prefix="arc24-bench-train-")
    rows = []
    if args.mode == "cpu":
        seq = args.seq_len or 512
        cfg = load_config(TrainConfig, None, ["output_dir=unused", "lora.rank=16"])
        rows.append(measure("ours lora r16", cfg, device, args.steps, seq, args.peak_tflops))
        if not args.skip_baseline:
            rows.append(measure("baseline Trainer lora r16", cfg, device, args.steps, seq, None, True, work))
        model_name = "SmolLM2-135M-Instruct (embedded)"
    else:
        from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM  # noqa: F401

        seq = args.seq_len or 8192
        model_dir = os.path.join(work, "qwen2.5-0.5b-arch")
        torch.manual_seed(0)
        Qwen2ForCausalLM(Qwen2Config(**QWEN05_CONFIG)).save_pretrained(model_dir)
        peak = args.peak_tflops or 989.0
        for rank in (32, 64, 128, 0):
            name = f"lora r{rank}" if rank else "full fine-tuning"
            cfg = load_config(TrainConfig, None, ["output_dir=unused", f"model={model_dir}", f"lora.rank={rank}"])
            rows.append(measure(f"ours {name}", cfg, device, args.steps, seq, peak))
            if not args.skip_baseline:
                rows.append(measure(f"baseline Trainer {name}", cfg, device, args.steps, seq, None, True, work))
        model_name = "Qwen2.5-0.5B-Instruct architecture (random weights)"
    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{platform.machine()} CPU, {os.cpu_count()} cores"
    print(json.dumps({"benchmark": "training step", "device": device_name, "model": model_name,
                      "per_device_batch": 1, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
