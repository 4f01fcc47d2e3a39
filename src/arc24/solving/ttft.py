"""Test-time fine-tuning: train the model on one task alone before predicting it.

Each step holds out one train pair as the target and shows the others (the target swap of the
augmentations, over train pairs only: test outputs are never seen, even when a validation run
knows them), with a fresh random augmentation. The same one-task sample stream as training is
used, so the prompts match what the model was trained on.

The tuner keeps a copy of the starting adapter weights and restores them after every task, so
each task starts from the trained adapter, never from the previous task's fine-tuning.

Precision follows the base weights: fp32 or bf16 as they are; fp16 (GPUs without bf16, such as
Kaggle's T4s) under fp16 autocast with a gradient scaler. The LoRA weights and the optimizer
state are fp32 in all three.
"""

from __future__ import annotations

import dataclasses
import math
import time

import torch

from arc24.data.prompts import IGNORE_INDEX
from arc24.data.stream import SampleStream, StreamSettings, TooLong
from arc24.data.task import Pair, Task
from arc24.data.tasks import DatasetMix
from arc24.models import LORA_TARGET_MODULES, autocast, grad_scaler, weights_precision
from arc24.solving.config import Prompt, TTFTSettings
from arc24.solving.records import TTFTResult
from arc24.training.batching import LossModel, collate
from arc24.training.memory import MemoryLimit, MemorySettings, OutOfMemory, oom_guard


class NonFiniteLoss(FloatingPointError):
    """The loss became NaN or infinite: this task's fine-tuning cannot go on."""


# The failures that belong to a task (its size, its data), not to our code: the task falls back
# to the weights before its fine-tuning, and the report says why. Anything else is a bug and is
# raised with its traceback.
TASK_FAILURES = (OutOfMemory, TooLong, NonFiniteLoss)


def hide_test_outputs(task: Task) -> Task:
    return dataclasses.replace(task, test=[Pair(p.input) for p in task.test])


class TaskFineTuner:
    """Fine-tunes a PEFT model on one task at a time, restoring the starting adapter in between."""

    def __init__(self, model, tokenizer, settings: TTFTSettings, prompt: Prompt, seed: int = 0, device=None,
                 dihedral: bool = True):
        from peft import LoraConfig, PeftModel, get_peft_model

        self.settings, self.prompt, self.seed, self.dihedral = settings, prompt, seed, dihedral
        self.tokenizer = tokenizer
        self.device = device or next(model.parameters()).device
        if settings.lora == "new":
            if isinstance(model, PeftModel):  # a new LoRA goes on the merged fine-tuned weights
                model = model.merge_and_unload()
            lora = LoraConfig(r=settings.lora_rank, lora_alpha=settings.lora_alpha or settings.lora_rank,
                              use_rslora=settings.rslora, target_modules=list(LORA_TARGET_MODULES),
                              task_type="CAUSAL_LM")
            model = get_peft_model(model, lora)
        elif not isinstance(model, PeftModel):
            raise ValueError("ttft.lora=continue needs a LoRA adapter to continue: load one, or use ttft.lora=new")
        self.model = model
        self.rank = int(model.peft_config[model.active_adapter].r)  # of the LoRA being fine-tuned
        self.precision = weights_precision(model)
        self.params = [p for p in model.parameters() if p.requires_grad]
        for p in self.params:
            # PEFT already keeps adapters in fp32 over half-precision weights; an adapter saved in
            # fp16 is upcast here, as the gradient scaler refuses to unscale fp16 gradients.
            if p.dtype != torch.float32:
                p.data = p.data.float()
        self._start = [p.detach().clone() for p in self.params]

    def reset(self) -> None:
        """Back to the starting adapter weights."""
        with torch.no_grad():
            for p, start in zip(self.params, self._start):
                p.copy_(start)

    def fine_tune(self, task: Task, steps: int | None = None) -> TTFTResult:
        """Fine-tune on `task`; never raises for a task's own failure (the result says why)."""
        from transformers import get_scheduler

        s = self.settings
        steps = s.steps if steps is None else steps
        began = time.perf_counter()
        if len(task.train) < 2:
            return TTFTResult(task.id, "skipped", "a single train pair: nothing to hold out")
        if steps <= 0:
            return TTFTResult(task.id, "skipped", "0 steps requested")
        mix = DatasetMix.from_tasks([("task", {task.id: hide_test_outputs(task)}, 1.0)])
        # Only output-from-examples samples, with train pairs only: the target swap holds one out.
        sampling = StreamSettings(prompt_tasks={self.prompt.template: 1.0}, grid_format=self.prompt.grid_format,
                                  max_seq_len=self.prompt.max_seq_len, swap_target=True,
                                  learn_examples=s.learn_examples, dihedral=self.dihedral)
        stream = SampleStream(sampling, mix, self.tokenizer, self.seed)
        optimizer = torch.optim.AdamW(self.params, lr=s.learning_rate)
        scheduler = get_scheduler(s.lr_scheduler, optimizer, num_warmup_steps=s.warmup_steps,
                                  num_training_steps=steps)
        runner = LossModel(self.model, s.loss, 1024)
        # fp16: autocast keeps the matrix products in fp16 (the fp32 LoRA weights are cast per
        # product) and the scaler guards the gradients; bf16 and fp32 run as the weights are.
        scaler = grad_scaler(self.precision, self.device)
        memory = MemorySettings(self.prompt.max_seq_len, s.batch_size, 1, self.rank, self.precision, False)
        limit = MemoryLimit(int(s.memory_limit_gb * 2**30), str(self.device)) if s.memory_limit_gb else None
        result = TTFTResult(task.id, "ok")
        self.model.train()
        step = overflows = 0
        try:
            with oom_guard(memory, lambda: step, self.device):
                if limit:
                    limit.apply()
                for step in range(steps):
                    samples = [stream.sample(step * s.batch_size + k) for k in range(s.batch_size)]
                    batch = {k: v.to(self.device) for k, v in collate(samples, self.tokenizer.pad_token_id).items()}
                    if not (batch["labels"] != IGNORE_INDEX).any():
                        continue
                    with autocast("fp16" if self.precision == "fp16" else "fp32", self.device):
                        loss = runner(**batch)
                    scaler.scale(loss).backward()
                    scaler.unscale_(optimizer)  # clip the true gradients, not the scaled ones
                    torch.nn.utils.clip_grad_norm_(self.params, 1.0)
                    scale = scaler.get_scale() if scaler.is_enabled() else 1.0
                    scaler.step(optimizer)  # optimizer.step(), unless a gradient overflowed in fp16
                    scaler.update()
                    skipped = scaler.is_enabled() and scaler.get_scale() < scale
                    overflows += skipped
                    if not skipped:  # a skipped step moves neither the weights nor the schedule
                        scheduler.step()
                    optimizer.zero_grad(set_to_none=True)
                    value = float(loss.detach())
                    if skipped and not math.isfinite(value):
                        continue  # an fp16 overflow in the forward pass: the scaler skipped it, lowering its scale
                    if not math.isfinite(value):
                        raise NonFiniteLoss(f"loss became {value} at step {step + 1}")
                    result.losses.append(value)
                    result.steps = step + 1
                    if limit:
                        limit.check(memory, step + 1)
                    if s.max_seconds and time.perf_counter() - began > s.max_seconds:
                        result.reason = f"time budget of {s.max_seconds:.0f} s reached after {step + 1} steps"
                        break
        except TASK_FAILURES as exc:
            result.status = "failed"
            result.reason = str(exc).splitlines()[0][:500]
            self.reset()
        finally:
            if limit:
                limit.release()
            optimizer.zero_grad(set_to_none=True)
            self.model.eval()
        if overflows and result.status == "ok":
            note = f"fp16: {overflows} of {result.steps} steps skipped (gradient overflow; loss scale lowered)"
            result.reason = f"{result.reason}; {note}" if result.reason else note
        if result.losses:
            result.first_loss, result.last_loss = result.losses[0], result.losses[-1]
        result.seconds = time.perf_counter() - began
        return result
