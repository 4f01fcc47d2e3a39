"""`arc24 train`: LoRA or full fine-tuning on the indexed sample stream.

A plain loop (PyTorch + PEFT + transformers models), not transformers' Trainer; README
"Training" says why: the memory-safe loss must run inside the DDP forward, and checkpoints
must be atomic and resume by index. What one optimizer step sees is fixed by arithmetic:
step s trains on samples [s*G, (s+1)*G) of the stream (G: global batch), rank r taking every
world_size-th of them. So resuming at step 40,000 costs what resuming at step 10 does, and
the global batch is the same whatever the device count.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import math
import os
import random
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

from arc24.config import ConfigError, flatten, save_config
from arc24.data.contract import PromptContract, tokenizer_fingerprint, write_contract
from arc24.data.prompts import IGNORE_INDEX
from arc24.data.stream import SampleStream, length_report
from arc24.data.tasks import DatasetMix
from arc24.files import require_same_settings
from arc24.models import autocast, load_tokenizer, resolve_model, resolve_precision, torch_dtype
from arc24.training import checkpoints
from arc24.training.batching import LossModel, collate
from arc24.training.config import TrainConfig
from arc24.training.memory import MemoryLimit, MemorySettings, oom_guard


# ---------------------------------------------------------------- processes and devices
@dataclass(frozen=True)
class Processes:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_env(cls) -> "Processes":
        return cls(int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)),
                   int(os.environ.get("LOCAL_RANK", 0)))


def _barrier(procs: Processes) -> None:
    if procs.world > 1:
        dist.barrier()


def _all_sum(value: float, procs: Processes, device) -> float:
    if procs.world == 1:
        return float(value)
    tensor = torch.tensor([float(value)], dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return float(tensor.item())


# ---------------------------------------------------------------- model
def build_model(config: TrainConfig, device: torch.device, precision: str):
    """The model to train: base weights plus a new LoRA, an existing adapter (continual), or all weights."""
    from transformers import AutoModelForCausalLM

    full = config.lora.rank == 0
    # LoRA: frozen base weights in the compute dtype, adapters in fp32. Full fine-tuning keeps
    # fp32 master weights and computes in the low precision under autocast.
    base_dtype = torch.float32 if full else torch_dtype(precision)
    model = AutoModelForCausalLM.from_pretrained(resolve_model(config.model), dtype=base_dtype)
    model.config.use_cache = False
    if config.gradient_checkpointing:
        # Non-reentrant: LoRA needs no gradient on the inputs. (Renamed in transformers 5.)
        kwargs = {"use_reentrant": False}
        if hasattr(model, "activation_checkpointing_enable"):
            model.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
        else:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)
    if config.adapter:
        from peft import PeftModel

        adapter = Path(config.adapter)
        if not (adapter / "adapter_config.json").is_file():
            raise ConfigError(f"adapter: {adapter} is not a LoRA adapter folder (no adapter_config.json)")
        model = PeftModel.from_pretrained(model, str(adapter), is_trainable=True)
    elif not full:
        from peft import LoraConfig, get_peft_model

        lora = LoraConfig(r=config.lora.rank, lora_alpha=config.lora.alpha or config.lora.rank,
                          lora_dropout=config.lora.dropout, use_rslora=config.lora.rslora,
                          target_modules=list(config.lora.target_modules),
                          task_type="CAUSAL_LM")
        model = get_peft_model(model, lora)
    return model.to(device)


def _trainable(model) -> list[tuple[str, torch.nn.Parameter]]:
    return [(n, p) for n, p in model.named_parameters() if p.requires_grad]


# ---------------------------------------------------------------- data
def build_stream(config: TrainConfig, tokenizer, eval_data: bool = False) -> SampleStream:
    specs = config.data.eval_datasets if eval_data else config.data.datasets
    if not specs:
        raise ConfigError("data.datasets: give at least one dataset (path, optional solutions and weight)")
    mix = DatasetMix(specs)
    if eval_data:  # held-out tasks as they are, and samples of their own
        return SampleStream(replace(config.data, problem_augmentation=0.0), mix, tokenizer,
                            config.seed + 1)
    return SampleStream(config.data, mix, tokenizer, config.seed)


def prompt_contract(stream: SampleStream) -> PromptContract:
    """What a model trained on STREAM must be prompted with."""
    s = stream.settings
    return PromptContract(tuple(n for n, w in s.prompt_tasks.items() if w > 0), s.grid_format, s.max_seq_len,
                          tokenizer_fingerprint(stream.tokenizer))


class StepBatches(torch.utils.data.Dataset):
    """Item `s` is this rank's micro-batches for optimizer step `s` (a pure function of s)."""

    def __init__(self, stream: SampleStream, global_batch: int, per_device: int, procs: Processes, pad_id: int):
        self.stream, self.global_batch, self.per_device = stream, global_batch, per_device
        self.procs, self.pad_id = procs, pad_id

    def __len__(self):
        return 2**62

    def __getitem__(self, step: int):
        first = step * self.global_batch
        mine = [first + j for j in range(self.procs.rank, self.global_batch, self.procs.world)]
        samples = [self.stream.sample(i) for i in mine]
        micro = [collate(samples[k:k + self.per_device], self.pad_id)
                 for k in range(0, len(samples), self.per_device)]
        skipped = [t for s in samples for t in s.skipped_too_long]
        return micro, skipped


def _labelled(batch) -> int:
    return int((batch["labels"][:, 1:] != IGNORE_INDEX).sum())


# ---------------------------------------------------------------- checkpoints
def _rng_state() -> dict:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(out: Path, step: int, model, optimizer, scheduler, scaler, tokenizer, procs, keep: int,
                    meta: dict, contract: PromptContract) -> Path | None:
    partial = checkpoints.partial_path(out, step)
    if procs.main:
        partial.mkdir(parents=True, exist_ok=True)
    _barrier(procs)
    torch.save(_rng_state(), partial / f"rng_state_{procs.rank}.pt")
    final = None
    if procs.main:
        model.save_pretrained(partial / "model")
        tokenizer.save_pretrained(partial / "model")
        write_contract(partial / "model", contract)
        torch.save(optimizer.state_dict(), partial / "optimizer.pt")
        torch.save(scheduler.state_dict(), partial / "scheduler.pt")
        if scaler is not None:
            torch.save(scaler.state_dict(), partial / "scaler.pt")
        (partial / "state.json").write_text(json.dumps({"step": step, **meta}, indent=1))
    _barrier(procs)
    if procs.main:
        final = checkpoints.finalize(partial)
        checkpoints.rotate(out, keep)
    _barrier(procs)
    return final


def load_checkpoint(path: Path, model, optimizer, scheduler, scaler, procs, full: bool) -> int:
    from safetensors.torch import load_file

    weights = path / "model"
    if full:
        state = load_file(weights / "model.safetensors")
        missing, unexpected = model.load_state_dict(state, strict=False)
        tied = {n for n in missing if "lm_head" in n}
        if set(missing) - tied or unexpected:
            raise RuntimeError(f"{path}: weights do not match the model (missing {missing[:3]}, unexpected {unexpected[:3]})")
    else:
        from peft import set_peft_model_state_dict

        set_peft_model_state_dict(model, load_file(weights / "adapter_model.safetensors"))
    optimizer.load_state_dict(torch.load(path / "optimizer.pt", weights_only=False))
    scheduler.load_state_dict(torch.load(path / "scheduler.pt", weights_only=False))
    if scaler is not None and (path / "scaler.pt").exists():
        scaler.load_state_dict(torch.load(path / "scaler.pt", weights_only=False))
    rng_file = path / f"rng_state_{procs.rank}.pt"
    if rng_file.exists():  # absent when the device count changed: then only the RNG differs
        _set_rng_state(torch.load(rng_file, weights_only=False))
    return json.loads((path / "state.json").read_text())["step"]


# ---------------------------------------------------------------- logging
class RunLog:
    """Metrics to metrics.jsonl and TensorBoard (and W&B when asked); main process only."""

    def __init__(self, out: Path, config: TrainConfig, enabled: bool, start_step: int):
        self.enabled = enabled
        self.writers = []
        self.wandb = None
        if not enabled:
            return
        path = out / "metrics.jsonl"
        # Steps after the checkpoint we resume from were trained by a run that was cut off; they are
        # trained again now, so their old records go and the curve stays one line per step.
        kept = [line for line in (path.read_text().splitlines() if path.exists() else [])
                if json.loads(line).get("step", 0) <= start_step]
        path.write_text("".join(line + "\n" for line in kept))
        self.jsonl = open(path, "a")
        if "tensorboard" in config.report_to:
            from torch.utils.tensorboard import SummaryWriter

            self.writers.append(SummaryWriter(str(out / "tensorboard"), purge_step=start_step + 1))
        if "wandb" in config.report_to:
            try:
                import wandb
            except ImportError:
                raise ConfigError("report_to includes wandb but the wandb package is not installed "
                                  "(pip install wandb, or remove it from report_to)") from None
            self.wandb = wandb.init(project="arc24", dir=str(out), config=asdict(config), resume="allow",
                                    id=hashlib.sha256(str(out.resolve()).encode()).hexdigest()[:12])

    def log(self, step: int, metrics: dict) -> None:
        if not self.enabled:
            return
        self.jsonl.write(json.dumps({"step": step, **metrics}) + "\n")
        self.jsonl.flush()
        for writer in self.writers:
            for key, value in metrics.items():
                if isinstance(value, (int, float)):
                    writer.add_scalar(key, value, step)
        if self.wandb is not None:
            self.wandb.log(metrics, step=step)

    def close(self) -> None:
        if self.enabled:
            self.jsonl.close()
            for writer in self.writers:
                writer.close()
            if self.wandb is not None:
                self.wandb.finish()


# ---------------------------------------------------------------- the run
def _run_fingerprint(config: TrainConfig) -> dict:
    """The settings a resumed run must share with the run it continues, as dotted keys (data.max_seq_len),
    so that a refusal names the setting rather than the whole section."""
    keep = asdict(config)
    for key in ("output_dir", "save_steps", "keep_checkpoints", "eval_steps", "logging_steps",
                "report_to", "max_steps", "dataloader_workers", "memory_limit_gb", "length_stats_samples"):
        keep.pop(key)
    return flatten(keep)


def _evaluate(model: LossModel, batches: list[dict], device, precision) -> float:
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad(), autocast(precision, device):
        for batch in batches:
            n = _labelled(batch)
            batch = {k: v.to(device) for k, v in batch.items()}
            total += float(model(**batch)) * n
            count += n
    model.train(was_training)
    return total / max(count, 1)


def train(config: TrainConfig, progress: bool = True, stop_at: int | None = None) -> dict:
    """Run (or resume) a training run; return a summary. Raises OutOfMemory with a clear message.

    stop_at: leave after this step (its checkpoint written) as if interrupted; the schedule still
    runs to max_steps, so starting again continues the same run.
    """
    from tqdm.auto import tqdm
    from transformers import get_scheduler

    config.check()
    began = time.perf_counter()
    first_step_seconds = None
    procs = Processes.from_env()
    if torch.cuda.is_available():
        device = torch.device("cuda", procs.local_rank)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if procs.world > 1 and not dist.is_initialized():
        # A dead peer must end the run with an error, not a hang: collectives time out.
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo",
                                timeout=datetime.timedelta(minutes=30))
    precision = resolve_precision(config.precision, device)
    per_step = procs.world * config.per_device_batch_size
    if config.global_batch_size % per_step:
        raise ConfigError(f"global_batch_size={config.global_batch_size} is not a multiple of "
                          f"per_device_batch_size x devices = {per_step}")
    accumulation = config.global_batch_size // per_step
    full = config.lora.rank == 0
    memory = MemorySettings(config.data.max_seq_len, config.per_device_batch_size, accumulation,
                            None if full else config.lora.rank, precision, config.gradient_checkpointing)
    limit = MemoryLimit(int(config.memory_limit_gb * 2**30), str(device)) if config.memory_limit_gb else None

    out = Path(config.output_dir)
    if procs.main:
        out.mkdir(parents=True, exist_ok=True)
        require_same_settings(out / "run.json", _run_fingerprint(config),
                              remedy="resuming would not be exact. Use a new output_dir (set adapter: to continue "
                                     "training from this run's adapter).")
        save_config(config, out / "config.yaml")
        checkpoints.remove_partial(out)
    _barrier(procs)

    tokenizer = load_tokenizer(config.model)
    stream = build_stream(config, tokenizer)
    eval_batches = []
    if config.eval_steps and config.data.eval_datasets:
        eval_stream = build_stream(config, tokenizer, eval_data=True)
        eval_samples = [eval_stream.sample(i) for i in range(config.eval_samples)]
        eval_batches = [collate(eval_samples[k:k + config.per_device_batch_size], tokenizer.pad_token_id)
                        for k in range(0, len(eval_samples), config.per_device_batch_size)]

    torch.manual_seed(config.seed)
    model = build_model(config, device, precision)
    params = [p for _, p in _trainable(model)]
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=config.weight_decay)
    scheduler = get_scheduler(config.lr_scheduler, optimizer,
                              num_warmup_steps=math.ceil(config.warmup_ratio * config.max_steps),
                              num_training_steps=config.max_steps)
    scaler = torch.amp.GradScaler("cuda") if precision == "fp16" else None
    loss_model = LossModel(model, config.loss, config.loss_chunk_size)
    runner = loss_model
    if procs.world > 1:
        runner = torch.nn.parallel.DistributedDataParallel(
            loss_model, device_ids=[device.index] if device.type == "cuda" else None)

    start = 0
    resumed_from = checkpoints.latest_complete(out)
    if resumed_from is not None:
        start = load_checkpoint(resumed_from, model, optimizer, scheduler, scaler, procs, full)

    log = RunLog(out, config, procs.main, start)
    if procs.main:
        print(f"[arc24 train] data: {stream.mix.describe()}", flush=True)
    if procs.main and config.length_stats_samples:
        stats = length_report(stream, config.length_stats_samples, start=start * config.global_batch_size)
        (out / "length_stats.json").write_text(json.dumps(stats, indent=1))
        print(f"[arc24 train] sample lengths over {stats['samples']} samples: "
              f"percentiles {stats['length_percentiles']}, pairs dropped in "
              f"{stats['share_with_pairs_dropped']:.1%}, too long: {stats['too_long_draws']} draws "
              f"({', '.join(stats['too_long_tasks'][:5]) or 'none'})", flush=True)
    if procs.main:
        where = f"resuming from {resumed_from.name}" if resumed_from else "starting fresh"
        n_train = sum(p.numel() for p in params)
        print(f"[arc24 train] {where}; step {start}/{config.max_steps}; {procs.world} process(es) on {device.type}; "
              f"precision {precision}; batch {config.global_batch_size} = {config.per_device_batch_size} x "
              f"{accumulation} accumulation x {procs.world}; {n_train:,} trainable parameters", flush=True)

    loader = torch.utils.data.DataLoader(
        torch.utils.data.Subset(StepBatches(stream, config.global_batch_size, config.per_device_batch_size,
                                            procs, tokenizer.pad_token_id), range(start, config.max_steps)),
        batch_size=None, num_workers=config.dataloader_workers,
        # Its own generator: the loader must not draw from the global RNG, which a resumed run
        # restores from the checkpoint (dropout draws from it).
        generator=torch.Generator().manual_seed(config.seed),
        prefetch_factor=2 if config.dataloader_workers else None)
    meta = {"stream": stream.fingerprint, "world": procs.world}
    contract = prompt_contract(stream)
    step = start
    bar = tqdm(total=config.max_steps, initial=start, disable=not (progress and procs.main), desc="train")
    losses = []
    model.train()
    try:
        with oom_guard(memory, lambda: step, device):
            if limit:
                limit.apply()
            for micro, skipped in loader:
                tick = time.perf_counter()
                labelled = _all_sum(sum(_labelled(b) for b in micro), procs, device)
                loss_sum = 0.0
                tokens = 0
                for k, batch in enumerate(micro):
                    n = _labelled(batch)
                    tokens += int(batch["attention_mask"].sum())
                    batch = {key: v.to(device) for key, v in batch.items()}
                    sync = k == len(micro) - 1 or procs.world == 1
                    ctx = runner.no_sync() if not sync and hasattr(runner, "no_sync") else contextlib.nullcontext()
                    with ctx:
                        with autocast(precision, device):
                            mean = runner(**batch)
                        # Token-weighted over the whole global batch; DDP averages gradients over ranks.
                        scaled = mean * (n * procs.world / max(labelled, 1))
                        (scaler.scale(scaled) if scaler else scaled).backward()
                    loss_sum += float(mean.detach()) * n
                if scaler:
                    scaler.unscale_(optimizer)
                grad_norm = float(torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm))
                if scaler:
                    scaler.step(optimizer)
                    scaler.update()
                else:
                    optimizer.step()
                lr = scheduler.get_last_lr()[0]
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                step += 1
                if first_step_seconds is None:
                    first_step_seconds = time.perf_counter() - began
                loss = _all_sum(loss_sum, procs, device) / max(labelled, 1)
                tokens = _all_sum(tokens, procs, device)
                seconds = time.perf_counter() - tick
                losses.append(loss)
                metrics = {"loss": loss, "learning_rate": lr, "grad_norm": grad_norm,
                           "tokens_per_second": tokens / seconds, "step_seconds": seconds,
                           "too_long_skipped": len(skipped)}
                if step % config.logging_steps == 0 or step == config.max_steps:
                    log.log(step, metrics)
                bar.set_postfix(loss=f"{loss:.4f}", lr=f"{lr:.2e}", tok_s=f"{tokens / seconds:.0f}")
                bar.update(1)
                if limit:
                    limit.check(memory, step)
                if eval_batches and step % config.eval_steps == 0:
                    if procs.main:
                        log.log(step, {"eval_loss": _evaluate(loss_model, eval_batches, device, precision)})
                    _barrier(procs)
                if step % config.save_steps == 0 or step == config.max_steps:
                    save_checkpoint(out, step, model, optimizer, scheduler, scaler, tokenizer, procs,
                                    config.keep_checkpoints, meta, contract)
                if stop_at is not None and step >= stop_at:
                    if step % config.save_steps:
                        save_checkpoint(out, step, model, optimizer, scheduler, scaler, tokenizer, procs,
                                        config.keep_checkpoints, meta, contract)
                    break
    finally:
        bar.close()
        log.close()
        if limit:
            limit.release()
    final = None
    if procs.main:
        final = _publish_final(out)
    _barrier(procs)
    return {"output_dir": str(out), "start_step": start, "end_step": step, "losses": losses,
            "final": str(final) if final else None, "resumed_from": str(resumed_from) if resumed_from else None,
            "seconds_to_first_step": first_step_seconds}


def _publish_final(out: Path) -> Path | None:
    """Copy the newest checkpoint's weights to out/final (what `solve` and continual training use)."""
    import shutil

    latest = checkpoints.latest_complete(out)
    if latest is None:
        return None
    final = out / "final"
    staging = out / "final.partial"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(latest / "model", staging)
    shutil.copy2(latest / "state.json", staging / "state.json")
    shutil.rmtree(final, ignore_errors=True)
    os.replace(staging, final)
    return final
