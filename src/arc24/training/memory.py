"""Running out of memory must end in a clear error, never a silent death.

An out-of-memory error deep in a training step (a CUDA allocator failure, a CPU allocation
refused by the kernel) says nothing about *why* the step was too big. ``oom_guard`` turns any
such error into ``OutOfMemory``, whose message names the step, the memory in use, the
settings that drive memory, and what to lower, in order.

For testing that handling by real means, ``MemoryLimit`` caps memory: on CUDA through the
allocator (``torch.cuda.set_per_process_memory_fraction``, a hard cap that makes allocations
fail for real); on CPU only as a *soft* cap, ``check_memory_limit``, to be called between
steps, which raises when the process RSS is above the limit. (``resource.setrlimit`` would be
a hard cap on CPU, but it applies to the whole process's address space, including every
thread and mapped library, and cannot safely be undone; the Linux OOM killer, which is the
silent death this module is about, sends SIGKILL and cannot be caught at all.)
"""

from __future__ import annotations

import contextlib
import gc
import os
from dataclasses import dataclass
from typing import Callable, Iterator

import torch

GIB = 1024 ** 3

# Substrings of RuntimeError messages that mean an allocation failed, by backend.
_OOM_MESSAGES = (
    "out of memory",               # CUDA ("CUDA out of memory"), MPS ("MPS backend out of memory"), XPU
    "cublas_status_alloc_failed",  # cuBLAS could not allocate its workspace
    "cudnn_status_alloc_failed",
    "can't allocate memory",       # CPU: "DefaultCPUAllocator: can't allocate memory: ..."
)


@dataclass
class MemorySettings:
    """The run settings that decide how much memory a training step needs."""

    max_seq_len: int
    per_device_batch: int = 1
    grad_accum: int = 1
    lora_rank: int | None = None  # None: full fine-tuning
    precision: str = "bf16"
    gradient_checkpointing: bool = False

    def describe(self) -> str:
        rank = "full fine-tuning" if self.lora_rank is None else str(self.lora_rank)
        return (f"max_seq_len={self.max_seq_len}, per_device_batch={self.per_device_batch}, "
                f"grad_accum={self.grad_accum}, lora_rank={rank}, precision={self.precision}, "
                f"gradient_checkpointing={'on' if self.gradient_checkpointing else 'off'}")

    def remedies(self) -> list[str]:
        """What to lower, most effective first; steps that are already taken are left out."""
        out = [f"lower max_seq_len (now {self.max_seq_len}); activation memory grows with it"]
        if self.per_device_batch > 1:
            keep = self.per_device_batch * self.grad_accum
            out.append(f"lower per_device_batch (now {self.per_device_batch}) and raise grad_accum "
                       f"(now {self.grad_accum}) to keep the global batch of {keep}")
        if self.lora_rank is None:
            out.append("use LoRA instead of full fine-tuning (no optimizer state for the base weights)")
        elif self.lora_rank > 8:
            out.append(f"lower the LoRA rank (now {self.lora_rank})")
        if not self.gradient_checkpointing:
            out.append("enable gradient checkpointing")
        if self.precision not in ("bf16", "fp16", "bfloat16", "float16"):
            out.append(f"train in bf16 (or fp16 where bf16 is not supported) instead of {self.precision}")
        return out


def _device_name(device) -> str:
    device = torch.device(device)
    if device.type == "cuda" and device.index is None and torch.cuda.is_available():
        device = torch.device("cuda", torch.cuda.current_device())
    return str(device)


def _read_proc_kib(path: str, key: str) -> int | None:
    """A "Key:   123 kB" field of a /proc file, in bytes (Linux only)."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def process_rss_bytes() -> int | None:
    """Resident memory of this process, or None where it cannot be read."""
    try:
        import psutil
        return psutil.Process().memory_info().rss
    except ImportError:
        return _read_proc_kib("/proc/self/status", "VmRSS")


def _total_ram_bytes() -> int | None:
    try:
        import psutil
        return psutil.virtual_memory().total
    except ImportError:
        pass
    total = _read_proc_kib("/proc/meminfo", "MemTotal")
    if total is None and hasattr(os, "sysconf"):
        try:
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError):
            pass
    return total


def describe_memory(device="cpu") -> dict:
    """Memory in use on ``device``: {"device", "used_bytes", "total_bytes", ...}.

    CUDA: used is everything taken on the GPU (total minus free, other processes included),
    with this process's allocator peak as "peak_allocated_bytes". CPU: this process's RSS
    out of the machine's RAM. Values that cannot be read are None; this never raises, as it
    runs while an error is being reported.
    """
    device = torch.device(device)
    info = {"device": _device_name(device), "used_bytes": None, "total_bytes": None}
    try:
        if device.type == "cuda":
            free, total = torch.cuda.mem_get_info(device)
            info.update(used_bytes=total - free, total_bytes=total,
                        allocated_bytes=torch.cuda.memory_allocated(device),
                        peak_allocated_bytes=torch.cuda.max_memory_allocated(device))
        elif device.type == "mps":
            info.update(used_bytes=torch.mps.driver_allocated_memory(),
                        total_bytes=torch.mps.recommended_max_memory())
        else:
            info.update(used_bytes=process_rss_bytes(), total_bytes=_total_ram_bytes())
    except Exception:  # a broken device must not hide the error being reported
        pass
    return info


def _gib(n: int | None) -> str:
    return "?" if n is None else f"{n / GIB:.1f}"


class OutOfMemory(RuntimeError):
    """A training step ran out of memory; the message says where, with what, and what to do."""

    def __init__(self, step, device, settings: MemorySettings | None,
                 used_bytes: int | None = None, total_bytes: int | None = None,
                 cause: str | None = None):
        self.step, self.device, self.settings = step, str(device), settings
        self.used_bytes, self.total_bytes, self.cause = used_bytes, total_bytes, cause
        where = f"at step {step}" if step is not None else "before the first step"
        parts = [f"Out of memory {where} on {self.device} "
                 f"({_gib(used_bytes)} of {_gib(total_bytes)} GiB used)."]
        if settings is not None:
            parts.append(f"Settings: {settings.describe()}.")
            steps = "; ".join(f"{i}) {r}" for i, r in enumerate(settings.remedies(), 1))
            parts.append(f"Try, in order: {steps}.")
        if cause:
            # The first line of the original error (e.g. how much it tried to allocate).
            parts.append(f"Cause: {cause.strip().splitlines()[0][:300]}")
        super().__init__(" ".join(parts))

    def __reduce__(self):
        # Keeps the exception picklable (e.g. across DataLoader or multiprocessing workers).
        return (type(self), (self.step, self.device, self.settings, self.used_bytes,
                             self.total_bytes, self.cause))


def is_oom_error(exc: BaseException) -> bool:
    """Whether ``exc`` is an allocation failure on any backend."""
    if isinstance(exc, (OutOfMemory, MemoryError, torch.OutOfMemoryError)):
        return True
    if isinstance(exc, RuntimeError):
        message = str(exc).lower()
        return any(s in message for s in _OOM_MESSAGES)
    return False


def free_memory(device="cpu") -> None:
    """Give back what can be given back after a failed step."""
    gc.collect()
    if torch.device(device).type == "cuda" and torch.cuda.is_available():
        torch.cuda.empty_cache()


def _current_step(step_getter):
    if callable(step_getter):
        try:
            return step_getter()
        except Exception:
            return None
    return step_getter


@contextlib.contextmanager
def oom_guard(settings: MemorySettings | None, step_getter: Callable[[], int] | int | None = None,
              device="cpu") -> Iterator[None]:
    """Turn an out-of-memory error inside the block into ``OutOfMemory``.

    step_getter: a callable returning the current step (or the step itself). Other errors, and
    an ``OutOfMemory`` already raised inside, pass through unchanged.
    """
    try:
        yield
    except OutOfMemory:
        raise
    except Exception as exc:  # MemoryError included
        if not is_oom_error(exc):
            raise
        # Measured before freeing: the numbers should show the state that failed.
        memory = describe_memory(device)
        free_memory(device)
        raise OutOfMemory(_current_step(step_getter), memory["device"], settings,
                          memory["used_bytes"], memory["total_bytes"],
                          cause=f"{type(exc).__name__}: {exc}") from exc


def check_memory_limit(limit_bytes: int, settings: MemorySettings | None = None, step=None) -> None:
    """Soft memory cap on CPU: raise ``OutOfMemory`` if this process's RSS is above the limit.

    Call it between steps. It cannot stop a single step from overshooting (only a hard cap
    could), but it makes the run stop with a clear error well before the OOM killer acts.
    """
    rss = process_rss_bytes()
    if rss is not None and rss > limit_bytes:
        # The cap stands in for the total, so the message reads "X of <cap> GiB used".
        raise OutOfMemory(step, "cpu", settings, rss, limit_bytes,
                          cause=f"process RSS of {rss} bytes is over the soft memory cap of {limit_bytes} bytes")


@dataclass
class MemoryLimit:
    """An optional memory cap, to exercise out-of-memory handling for real.

    CUDA: ``apply()`` caps this process's allocator at ``limit_bytes`` (hard: allocations
    beyond it raise torch.OutOfMemoryError, which ``oom_guard`` converts). CPU: soft cap,
    enforced only when ``check()`` is called, between steps.
    """

    limit_bytes: int
    device: str = "cpu"

    def apply(self) -> None:
        device = torch.device(self.device)
        if device.type == "cuda":
            _, total = torch.cuda.mem_get_info(device)
            fraction = min(1.0, self.limit_bytes / total)
            torch.cuda.set_per_process_memory_fraction(fraction, device)

    def release(self) -> None:
        """Lift the CUDA cap again (nothing to do on CPU)."""
        device = torch.device(self.device)
        if device.type == "cuda":
            torch.cuda.set_per_process_memory_fraction(1.0, device)

    def check(self, settings: MemorySettings | None = None, step=None) -> None:
        if torch.device(self.device).type != "cuda":
            check_memory_limit(self.limit_bytes, settings, step)
