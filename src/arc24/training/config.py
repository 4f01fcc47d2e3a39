"""The one config object of `arc24 train`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Optional

from arc24.data.stream import StreamSettings
from arc24.data.tasks import DatasetSpec
from arc24.models import LORA_TARGET_MODULES, PRECISIONS


@dataclass
class LoraSettings:
    rank: int = 32  # 0 means full fine-tuning
    alpha: Optional[int] = None  # default: equal to the rank
    dropout: float = 0.0
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
