"""Out-of-memory errors become a clear OutOfMemory; other errors pass through untouched."""

import pickle

import pytest
import torch

from arc24.training.memory import (
    MemoryLimit,
    MemorySettings,
    OutOfMemory,
    check_memory_limit,
    describe_memory,
    is_oom_error,
    oom_guard,
)

SETTINGS = MemorySettings(max_seq_len=8192, per_device_batch=2, grad_accum=8, lora_rank=128,
                          precision="fp32", gradient_checkpointing=False)


def test_real_cpu_allocation_failure_becomes_out_of_memory():
    step = {"n": 1234}
    with pytest.raises(OutOfMemory) as info:
        with oom_guard(SETTINGS, lambda: step["n"], "cpu"):
            # 4 EiB: refused by the allocator at once, without touching memory.
            torch.empty(2 ** 62, dtype=torch.uint8)
    err = info.value
    message = str(err)
    assert message.startswith("Out of memory at step 1234 on cpu (")
    assert " GiB used)." in message
    for field in ("max_seq_len=8192", "per_device_batch=2", "grad_accum=8", "lora_rank=128",
                  "precision=fp32", "gradient_checkpointing=off"):
        assert field in message
    # The remedies come in order, and the original error is kept as the cause.
    order = [message.index(s) for s in ("lower max_seq_len", "lower per_device_batch",
                                        "keep the global batch of 16", "lower the LoRA rank",
                                        "enable gradient checkpointing", "train in bf16")]
    assert order == sorted(order)
    assert "can't allocate memory" in message
    assert isinstance(err.__cause__, RuntimeError)
    assert err.step == 1234 and err.used_bytes > 0 and err.total_bytes >= err.used_bytes


def test_message_shape_and_remedies_skip_what_is_already_done():
    settings = MemorySettings(max_seq_len=8192, per_device_batch=1, grad_accum=16, lora_rank=128,
                              precision="bf16", gradient_checkpointing=True)
    err = OutOfMemory(1234, "cuda:0", settings, int(15.6 * 2 ** 30), int(15.9 * 2 ** 30))
    message = str(err)
    assert message.startswith(
        "Out of memory at step 1234 on cuda:0 (15.6 of 15.9 GiB used). Settings: max_seq_len=8192, "
        "per_device_batch=1, grad_accum=16, lora_rank=128, precision=bf16, gradient_checkpointing=on. "
        "Try, in order: 1) lower max_seq_len")
    assert "per_device_batch (now" not in message and "enable gradient" not in message
    assert "train in bf16" not in message

    full = MemorySettings(max_seq_len=2048, lora_rank=None)
    assert "lora_rank=full fine-tuning" in str(OutOfMemory(None, "cpu", full))
    assert "use LoRA instead of full fine-tuning" in str(OutOfMemory(None, "cpu", full))
    # Picklable, so it survives being sent from a worker process.
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == message and again.step == 1234


@pytest.mark.parametrize("exc", [
    torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
    torch.cuda.OutOfMemoryError("CUDA out of memory."),
    RuntimeError("CUDA out of memory. Tried to allocate 20.00 MiB (GPU 0; 15.90 GiB total capacity)"),
    RuntimeError("MPS backend out of memory (MPS allocated: 17.00 GB)"),
    RuntimeError("CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`"),
    RuntimeError("[enforce fail at alloc_cpu.cpp:127] DefaultCPUAllocator: can't allocate memory: "
                 "you tried to allocate 1099511627776 bytes."),
    MemoryError(),
    OutOfMemory(3, "cpu", None),
])
def test_is_oom_error_recognises_allocation_failures(exc):
    assert is_oom_error(exc)


@pytest.mark.parametrize("exc", [
    RuntimeError("mat1 and mat2 shapes cannot be multiplied (4x8 and 9x10)"),
    ValueError("out of memory"),  # only RuntimeErrors carry backend allocation failures
    KeyError("memory"),
])
def test_is_oom_error_rejects_other_errors(exc):
    assert not is_oom_error(exc)


def test_other_errors_pass_through_unchanged():
    original = RuntimeError("mat1 and mat2 shapes cannot be multiplied")
    with pytest.raises(RuntimeError) as info:
        with oom_guard(SETTINGS, lambda: 5, "cpu"):
            raise original
    assert info.value is original

    with pytest.raises(KeyError):
        with oom_guard(SETTINGS, 5, "cpu"):
            {}["missing"]

    with oom_guard(SETTINGS, 5, "cpu"):  # and no error at all is no error
        pass


def test_out_of_memory_inside_the_guard_is_not_wrapped_twice():
    inner = OutOfMemory(7, "cpu", SETTINGS, 1, 2)
    with pytest.raises(OutOfMemory) as info:
        with oom_guard(SETTINGS, 8, "cpu"):
            raise inner
    assert info.value is inner


def test_python_memory_error_is_converted():
    with pytest.raises(OutOfMemory, match="at step 9 on cpu"):
        with oom_guard(None, 9, "cpu"):
            raise MemoryError()


def test_describe_memory_on_cpu():
    info = describe_memory("cpu")
    assert info["device"] == "cpu"
    assert 0 < info["used_bytes"] < info["total_bytes"]


def test_check_memory_limit_with_tiny_limit_raises():
    with pytest.raises(OutOfMemory) as info:
        check_memory_limit(1024, SETTINGS, step=42)
    message = str(info.value)
    assert message.startswith("Out of memory at step 42 on cpu (")
    assert "of 0.0 GiB used" in message and "soft memory cap" in message
    assert "max_seq_len=8192" in message
    check_memory_limit(2 ** 60)  # far above: nothing happens


def test_memory_limit_on_cpu_is_a_soft_cap_checked_between_steps():
    limit = MemoryLimit(limit_bytes=1024, device="cpu")
    limit.apply()  # nothing to set on CPU
    with pytest.raises(OutOfMemory):
        with oom_guard(SETTINGS, 3, "cpu"):
            limit.check(SETTINGS, step=3)
    MemoryLimit(limit_bytes=2 ** 60).check(SETTINGS, step=3)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_memory_limit_makes_a_real_allocation_fail():
    limit = MemoryLimit(limit_bytes=256 * 2 ** 20, device="cuda")
    limit.apply()
    try:
        with pytest.raises(OutOfMemory) as info:
            with oom_guard(SETTINGS, 1, "cuda"):
                torch.empty(2 ** 30, dtype=torch.uint8, device="cuda")
        assert "on cuda:" in str(info.value) and isinstance(info.value.__cause__, torch.OutOfMemoryError)
    finally:
        limit.release()
