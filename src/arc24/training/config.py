"""The one config object of `arc24 train`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Optional


@dataclass
class DatasetConfig:
    path: str  # a challenges file, an inline-outputs file or a folder of task files
    solutions: Optional[str] = None
    weight: float = 1.0
    name: Optional[str] = None


@dataclass
class LoraSettings:
    rank: int = 32  # 0 means full fine-tuning
    alpha: Optional[int] = None  # default: equal to the rank
    dropout: float = 0.0
    target_modules: list[str] = field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    )


@dataclass
class DataSettings:
    datasets: list[DatasetConfig] = field(default_factory=list)
    eval_datasets: list[DatasetConfig] = field(default_factory=list)  # held-out tasks for eval loss
    # Share of each prompt task in the stream, by versioned prompt name.
    prompt_tasks: dict[str, float] = field(
        default_factory=lambda: {"output-from-examples-v1": 1.0, "input-from-inputs-v1": 0.0}
    )
    grid_format: str = "numbered-fence"
    problem_augmentation: float = 0.0  # probability of an extra input-only or output-only transform
    permute_background: bool = False
    swap_target: bool = True  # any pair with an output may be the target, not only the test pair
    max_seq_len: int = 2048


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
    precision: Literal["auto", "bf16", "fp16", "fp32"] = "auto"
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
