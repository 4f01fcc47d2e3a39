"""The one config object of `arc24 train`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, Optional

from arc24.config import ConfigError, check_range
from arc24.data.stream import StreamSettings
from arc24.data.tasks import DatasetSpec
from arc24.models import LORA_TARGET_MODULES, PRECISIONS


@dataclass
class LoraSettings:
    rank: int = 32  # 0 means full fine-tuning
    alpha: Optional[int] = None  # default: equal to the rank
    dropout: float = 0.0
    rslora: bool = False  # scale by alpha / sqrt(rank) (rsLoRA) instead of alpha / rank
    target_modules: list[str] = field(default_factory=lambda: list(LORA_TARGET_MODULES))


@dataclass(frozen=True)
class DataSettings(StreamSettings):
    """What the training stream is made of: the stream settings plus the datasets to draw from."""

    datasets: list[DatasetSpec] = field(default_factory=list)
    eval_datasets: list[DatasetSpec] = field(default_factory=list)  # held-out tasks for eval loss


@dataclass
class TrainConfig:
    output_dir: str
    model: str = "embedded"  # a model folder, or "embedded" for the packaged SmolLM2-135M-Instruct
    adapter: Optional[str] = None  # continual training: start from this adapter's weights
    lora: LoraSettings = field(default_factory=LoraSettings)
    data: DataSettings = field(default_factory=DataSettings)
    max_steps: int = 100
    global_batch_size: int = 16  # the same whatever the number of devices
    per_device_batch_size: int = 1
    learning_rate: float = 5e-5
    lr_scheduler: str = "linear"
    warmup_ratio: float = 0.05
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    seed: int = 0
    precision: Literal[PRECISIONS] = "auto"
    gradient_checkpointing: bool = True
    loss: Literal["auto", "chunked", "liger", "plain"] = "auto"
    loss_chunk_size: int = 1024
    save_steps: int = 50
    keep_checkpoints: int = 2
    eval_steps: int = 0  # 0: no eval loss
    eval_samples: int = 32
    logging_steps: int = 1
    report_to: list[str] = field(default_factory=lambda: ["tensorboard"])  # add "wandb" to use it
    length_stats_samples: int = 256  # samples measured at start for the length report
    dataloader_workers: int = 0
    memory_limit_gb: Optional[float] = None  # a soft cap (tests, shared machines); OOM error beyond it

    def check(self) -> None:
        """Every count and size setting within its range, before any work starts; the message
        names the setting, the allowed range and the value given."""
        counts = [("max_steps", self.max_steps, 1, None), ("global_batch_size", self.global_batch_size, 1, None),
                  ("per_device_batch_size", self.per_device_batch_size, 1, self.global_batch_size),
                  ("warmup_ratio", self.warmup_ratio, 0, 1), ("weight_decay", self.weight_decay, 0, None),
                  ("max_grad_norm", self.max_grad_norm, 0, None), ("seed", self.seed, 0, None),
                  ("loss_chunk_size", self.loss_chunk_size, 1, None), ("save_steps", self.save_steps, 1, None),
                  ("keep_checkpoints", self.keep_checkpoints, 1, None), ("eval_steps", self.eval_steps, 0, None),
                  ("eval_samples", self.eval_samples, 1, None), ("logging_steps", self.logging_steps, 1, None),
                  ("length_stats_samples", self.length_stats_samples, 0, None),
                  ("dataloader_workers", self.dataloader_workers, 0, None), ("lora.rank", self.lora.rank, 0, None),
                  ("lora.dropout", self.lora.dropout, 0, 1), ("data.max_seq_len", self.data.max_seq_len, 1, None)]
        notes = {"per_device_batch_size": " (at most global_batch_size)", "eval_steps": " (0: no eval loss)",
                 "lora.rank": " (0: full fine-tuning)"}
        for name, value, low, high in counts:
            check_range(name, value, low, high, notes.get(name, ""))
        if self.lora.alpha is not None:
            check_range("lora.alpha", self.lora.alpha, 1, None)
        if self.memory_limit_gb is not None and not self.memory_limit_gb > 0:
            raise ConfigError(f"memory_limit_gb must be above 0 (or unset), got {self.memory_limit_gb}")
        if not (math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise ConfigError(f"learning_rate must be a number above 0, got {self.learning_rate}")
