"""The one config object of `arc24 train`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Optional

from arc24.config import Limit, check_limits
from arc24.data.stream import StreamSettings
from arc24.data.tasks import DatasetSpec
from arc24.models import LORA_TARGET_MODULES, LOSS_IMPLS, LR_SCHEDULERS, PRECISIONS


@dataclass
class LoraSettings:
    rank: int = 32  # 0 means full fine-tuning
    alpha: Optional[int] = None  # default: equal to the rank
    dropout: float = 0.0  # LoRA dropout: the share of the LoRA's inputs zeroed while training
    rslora: bool = False  # scale by alpha / sqrt(rank) (rsLoRA) instead of alpha / rank
    target_modules: list[str] = field(default_factory=lambda: list(LORA_TARGET_MODULES))  # the layers given a LoRA


@dataclass(frozen=True)
class DataSettings(StreamSettings):
    """What the training stream is made of: the stream settings plus the datasets to draw from."""

    datasets: list[DatasetSpec] = field(default_factory=list)  # the training tasks, each dataset drawn by its weight
    eval_datasets: list[DatasetSpec] = field(default_factory=list)  # held-out tasks for eval loss


@dataclass
class TrainConfig:
    output_dir: str  # checkpoints, logs and the final weights; the same folder again resumes
    model: str = "embedded"  # a model folder, or "embedded" for the packaged SmolLM2-135M-Instruct
    adapter: Optional[str] = None  # continual training: start from this adapter's weights
    lora: LoraSettings = field(default_factory=LoraSettings)
    data: DataSettings = field(default_factory=DataSettings)
    max_steps: int = 100  # optimizer steps in all
    global_batch_size: int = 16  # the same whatever the number of devices
    per_device_batch_size: int = 1  # samples per forward pass; gradients are accumulated up to global_batch_size
    learning_rate: float = 5e-5  # the peak learning rate
    lr_scheduler: str = "linear"  # how the learning rate changes over the steps (transformers' schedulers)
    warmup_ratio: float = 0.05  # the share of max_steps with a rising learning rate at the start
    weight_decay: float = 0.0  # AdamW's weight decay
    max_grad_norm: float = 1.0  # gradients clipped to this norm
    seed: int = 0  # of the sample stream and the new weights
    # The weights' dtype: auto is bf16 where the device computes it natively, else fp32
    precision: Literal[PRECISIONS] = "auto"
    gradient_checkpointing: bool = True  # recompute activations in the backward pass: less memory, more time
    # The loss's implementation (training/loss.py); auto: liger on CUDA when installed, else chunked
    loss: Literal[LOSS_IMPLS] = "auto"
    loss_chunk_size: int = 1024  # tokens per chunk of the chunked loss
    save_steps: int = 50  # a checkpoint every this many steps
    keep_checkpoints: int = 2  # the newest checkpoints kept; older ones are removed
    eval_steps: int = 0  # 0: no eval loss
    eval_samples: int = 32  # held-out samples per eval loss
    logging_steps: int = 1  # the loss and learning rate logged every this many steps
    report_to: list[str] = field(default_factory=lambda: ["tensorboard"])  # add "wandb" to use it
    length_stats_samples: int = 256  # samples measured at start for the length report
    dataloader_workers: int = 0  # processes making samples; 0: the training process
    memory_limit_gb: Optional[float] = None  # a soft cap (tests, shared machines); OOM error beyond it

    def check(self) -> None:
        """Every setting within its own range, before any work starts, then the ranges bounded by
        another setting; the message names the setting, the allowed range and the value given."""
        check_limits(self, train_limits())


def train_limits() -> dict[str, Limit]:
    """Each setting's own allowed values (a Literal-typed one's are its type's): checked by
    TrainConfig.check, and listed by `arc24 train --help-settings`."""
    return {
        "max_steps": Limit(1), "global_batch_size": Limit(1), "per_device_batch_size": Limit(1, "global_batch_size"),
        "learning_rate": Limit(0, above=True), "lr_scheduler": Limit(choices=LR_SCHEDULERS),
        "warmup_ratio": Limit(0, 1), "weight_decay": Limit(0), "max_grad_norm": Limit(0), "seed": Limit(0),
        "loss_chunk_size": Limit(1), "save_steps": Limit(1), "keep_checkpoints": Limit(1),
        "eval_steps": Limit(0, note="0: no eval loss"), "eval_samples": Limit(1), "logging_steps": Limit(1),
        "length_stats_samples": Limit(0), "dataloader_workers": Limit(0),
        "lora.rank": Limit(0, note="0: full fine-tuning"), "lora.alpha": Limit(1, note="unset: the rank"),
        "lora.dropout": Limit(0, 1), "data.max_seq_len": Limit(1), "data.problem_augmentation": Limit(0, 1),
        "memory_limit_gb": Limit(0, above=True, note="unset: none"),
    }
