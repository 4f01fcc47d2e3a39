"""The chunked causal-LM loss equals HF's loss and gradients, and does not keep full logits."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from arc24.training.loss import (
    causal_lm_loss,
    chunked_causal_lm_loss,
    fused_linear_cross_entropy_available,
    model_forward_with_loss,
    resolve_impl,
)

VOCAB = 1000
SRC = str(Path(__file__).resolve().parents[1] / "src")


def tiny_config(**overrides):
    from transformers import Qwen2Config

    kwargs = dict(vocab_size=VOCAB, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, intermediate_size=128)
    kwargs.update(overrides)
    return Qwen2Config(**kwargs)


def tiny_model(**overrides):
    from transformers import Qwen2ForCausalLM

    torch.manual_seed(0)
    return Qwen2ForCausalLM(tiny_config(**overrides)).eval()  # eval: no dropout noise


def tiny_lora_model():
    from peft import LoraConfig, get_peft_model

    model = get_peft_model(tiny_model(), LoraConfig(r=4, lora_alpha=8, target_modules="all-linear"))
    # LoRA's B starts at zero, which would make the adapters invisible; give them weight
    # so that a path that skipped them would show in the loss.
    torch.manual_seed(1)
    for name, param in model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(param, std=0.2)
    return model


def reference_loss(hidden, weight, labels, bias=None):
    """HF's reduction, written out: shift, full logits, mean over labelled tokens."""
    logits = F.linear(hidden, weight, bias).float()
    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1),
                           ignore_index=-100)


def prompt_answer_labels(batch, seq_len, prompt_len, vocab, seed=0):
    """Token ids and labels with the prompt masked and the answer labelled."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, vocab, (batch, seq_len), generator=g)
    labels = ids.clone()
    labels[:, :prompt_len] = -100
    return ids, labels


def grads_of(loss, tensors):
    return torch.autograd.grad(loss, tensors)


def assert_close(a, b, rtol=1e-5, atol=1e-6):
    torch.testing.assert_close(a, b, rtol=rtol, atol=atol)


# --- the chunked loss on raw tensors ---------------------------------------------------------

@pytest.mark.parametrize("chunk_size", [1, 7, 16, 1024])
@pytest.mark.parametrize("with_bias", [False, True])
@pytest.mark.slow
def test_chunked_equals_full_logits_loss_and_gradients(chunk_size, with_bias):
    torch.manual_seed(0)
    B, T, H, V = 2, 37, 16, 50  # 37 is prime: no chunk size divides the token count
    hidden = torch.randn(B, T, H, requires_grad=True)
    weight = torch.randn(V, H, requires_grad=True)
    bias = torch.randn(V, requires_grad=True) if with_bias else None
    _, labels = prompt_answer_labels(B, T, prompt_len=11, vocab=V)
    labels[1, 30:] = -100  # padding at the end of the second row

    inputs = [hidden, weight] + ([bias] if with_bias else [])
    ref = reference_loss(hidden, weight, labels, bias)
    got = chunked_causal_lm_loss(hidden, weight, labels, chunk_size=chunk_size, lm_head_bias=bias)
    assert got.dtype == torch.float32
    assert_close(got, ref)
    for g_got, g_ref in zip(grads_of(got, inputs), grads_of(ref, inputs)):
        assert_close(g_got, g_ref, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("impl", ["chunked", "plain"])
def test_all_ignored_labels_give_zero_with_gradient(impl):
    head = torch.nn.Linear(8, 20, bias=False)
    hidden = torch.randn(2, 5, 8, requires_grad=True)
    labels = torch.full((2, 5), -100)
    labels[:, 0] = 3  # only the first position is labelled, and nothing predicts it
    loss = causal_lm_loss(hidden, head, labels, impl=impl, chunk_size=2)
    assert loss.item() == 0.0 and torch.isfinite(loss)
    loss.backward()
    assert torch.equal(hidden.grad, torch.zeros_like(hidden))
    assert torch.equal(head.weight.grad, torch.zeros_like(head.weight))


def test_single_token_sequence_has_no_loss():
    head = torch.nn.Linear(8, 20)
    hidden = torch.randn(1, 1, 8, requires_grad=True)
    loss = causal_lm_loss(hidden, head, torch.tensor([[4]]), impl="chunked")
    loss.backward()
    assert loss.item() == 0.0


def test_bf16_inputs_are_close_to_float32_reference():
    torch.manual_seed(0)
    hidden = torch.randn(1, 40, 16)
    weight = torch.randn(64, 16)
    _, labels = prompt_answer_labels(1, 40, prompt_len=10, vocab=64)
    ref = reference_loss(hidden.bfloat16().float(), weight.bfloat16().float(), labels)
    got = chunked_causal_lm_loss(hidden.bfloat16(), weight.bfloat16(), labels, chunk_size=8)
    assert got.dtype == torch.float32
    assert_close(got, ref, rtol=1e-5, atol=1e-5)  # logits are computed in float32


def test_impl_choice_and_errors():
    assert resolve_impl("plain", "cpu") == "plain"
    assert resolve_impl("auto", "cpu") == "chunked"  # Liger is CUDA-only
    with pytest.raises(ValueError, match="unknown loss impl"):
        resolve_impl("fast", "cpu")
    if not torch.cuda.is_available():
        assert not fused_linear_cross_entropy_available()
        with pytest.raises(RuntimeError, match="liger"):
            causal_lm_loss(torch.randn(1, 4, 8), torch.nn.Linear(8, 10), torch.ones(1, 4, dtype=torch.long),
                           impl="liger")
    with pytest.raises(ValueError, match="chunk_size"):
        chunked_causal_lm_loss(torch.randn(1, 4, 8), torch.randn(10, 8), torch.ones(1, 4, dtype=torch.long),
                               chunk_size=0)


def test_wrapped_lm_head_is_refused():
    class Head(torch.nn.Linear):  # e.g. a LoRA-wrapped head: its weight alone is not the head
        pass

    with pytest.raises(TypeError, match="plain torch.nn.Linear"):
        causal_lm_loss(torch.randn(1, 4, 8), Head(8, 10), torch.ones(1, 4, dtype=torch.long), impl="chunked")


def test_liger_path_glue(monkeypatch):
    """Real Liger needs CUDA; a stand-in with its interface checks the argument order and reduction."""
    import types

    import arc24.training.loss as loss_module

    class FakeLigerLoss(torch.nn.Module):
        def __init__(self, ignore_index=-100, reduction="mean"):
            super().__init__()
            self.ignore_index, self.reduction = ignore_index, reduction

        def forward(self, lin_weight, _input, target, bias=None):
            logits = F.linear(_input.float(), lin_weight.float(), bias)
            return F.cross_entropy(logits, target, ignore_index=self.ignore_index, reduction=self.reduction)

    fake = types.ModuleType("liger_kernel.transformers")
    fake.LigerFusedLinearCrossEntropyLoss = FakeLigerLoss
    monkeypatch.setitem(sys.modules, "liger_kernel", types.ModuleType("liger_kernel"))
    monkeypatch.setitem(sys.modules, "liger_kernel.transformers", fake)
    monkeypatch.setattr(loss_module, "fused_linear_cross_entropy_available", lambda: True)

    torch.manual_seed(0)
    head = torch.nn.Linear(16, 50)
    hidden = torch.randn(2, 21, 16, requires_grad=True)
    _, labels = prompt_answer_labels(2, 21, prompt_len=8, vocab=50)
    ref = reference_loss(hidden, head.weight, labels, head.bias)
    assert_close(causal_lm_loss(hidden, head, labels, impl="liger"), ref)
    assert causal_lm_loss(hidden, head, torch.full_like(labels, -100), impl="liger").item() == 0.0


# --- through a real (tiny) HF model --------------------------------------------------------

def param_grads(model, loss):
    params = [p for p in model.parameters() if p.requires_grad]
    return params, torch.autograd.grad(loss, params, allow_unused=True)


@pytest.mark.parametrize("chunk_size", [5, 64, 1024])
@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.slow
def test_model_loss_equals_hf_loss_and_gradients(chunk_size, tied):
    model = tiny_model(tie_word_embeddings=tied)
    ids, labels = prompt_answer_labels(1, 45, prompt_len=30, vocab=VOCAB)

    ref = model(input_ids=ids, labels=labels).loss
    got = model_forward_with_loss(model, ids, labels, impl="chunked", chunk_size=chunk_size)
    assert_close(got, ref)
    params, g_ref = param_grads(model, ref)
    _, g_got = param_grads(model, got)
    for p, a, b in zip(params, g_got, g_ref):
        assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_padded_batch_equals_hf_loss():
    model = tiny_model()
    ids, labels = prompt_answer_labels(3, 33, prompt_len=12, vocab=VOCAB, seed=3)
    mask = torch.ones_like(ids)
    for row, length in ((1, 25), (2, 17)):  # right padding: pad positions masked and unlabelled
        mask[row, length:] = 0
        labels[row, length:] = -100
    ref = model(input_ids=ids, attention_mask=mask, labels=labels).loss
    for impl in ("chunked", "plain", "auto"):
        got = model_forward_with_loss(model, ids, labels, attention_mask=mask, impl=impl, chunk_size=10)
        assert_close(got, ref)


def test_peft_lora_model_equals_hf_loss_and_gradients():
    model = tiny_lora_model()
    ids, labels = prompt_answer_labels(2, 40, prompt_len=25, vocab=VOCAB, seed=5)

    ref = model(input_ids=ids, labels=labels).loss
    got = model_forward_with_loss(model, ids, labels, impl="chunked", chunk_size=9)
    assert_close(got, ref)
    # The adapters are really used: without them the loss is different.
    with model.disable_adapter():
        base_loss = model_forward_with_loss(model, ids, labels, impl="chunked")
    assert abs(base_loss.item() - got.item()) > 1e-3

    params, g_ref = param_grads(model, ref)
    _, g_got = param_grads(model, got)
    assert params and all("lora_" in n for n, p in model.named_parameters() if p.requires_grad)
    for a, b in zip(g_got, g_ref):
        assert_close(a, b, rtol=1e-4, atol=1e-6)


# --- memory: no full logits ---------------------------------------------------------------

def saved_tensor_sizes(fn):
    """Numel of every tensor autograd saves for backward while ``fn`` runs."""
    sizes = []

    def pack(t):
        sizes.append(t.numel())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = fn()
    return sizes, loss


@pytest.mark.slow
def test_chunked_loss_saves_no_logits_for_backward():
    T, V, H, chunk = 4096, 32000, 64, 1024
    torch.manual_seed(0)
    head = torch.nn.Linear(H, V, bias=False)
    hidden = torch.randn(1, T, H, requires_grad=True)
    labels = torch.randint(0, V, (1, T))

    sizes, loss = saved_tensor_sizes(lambda: causal_lm_loss(hidden, head, labels, impl="chunked",
                                                            chunk_size=chunk))
    # Only inputs are kept (hidden states, the weight); no chunk's logits, let alone all of them.
    assert max(sizes) <= V * H < chunk * V
    loss.backward()  # the recomputation in backward works
    assert hidden.grad is not None and torch.isfinite(hidden.grad).all()

    # Control: the hook does see full logits when they are kept.
    plain_sizes, _ = saved_tensor_sizes(lambda: causal_lm_loss(hidden, head, labels, impl="plain"))
    assert max(plain_sizes) >= (T - 1) * V


PEAK_PROBE = """
import json
import torch
from arc24.training.loss import causal_lm_loss

def high_water_mark():
    # VmHWM belongs to this process's address space, which exec creates afresh; ru_maxrss
    # would not do: Linux carries it over from the parent (pytest) across exec.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024

T, V, H = 4096, 32000, 64
torch.manual_seed(0)
head = torch.nn.Linear(H, V, bias=False)
hidden = torch.randn(1, T, H, requires_grad=True)
labels = torch.randint(0, V, (1, T))
growth, start = {}, high_water_mark()
# Chunked first: the high-water mark only rises, so after plain it could not show chunked's peak.
for impl in ("chunked", "plain"):
    causal_lm_loss(hidden, head, labels, impl=impl, chunk_size=512).backward()
    growth[impl] = high_water_mark() - start
print(json.dumps(growth))
"""


@pytest.mark.slow  # ~10 s: two forward+backward passes over 4096 x 32000 logits
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak RSS from Linux's /proc")
def test_chunked_peak_memory_is_below_one_copy_of_the_logits():
    """Real peak memory of forward+backward, in a fresh process (VmHWM is a high-water mark)."""
    full_logits = 4096 * 32000 * 4  # 500 MiB of float32
    out = subprocess.run([sys.executable, "-c", PEAK_PROBE], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": SRC, "OMP_NUM_THREADS": "2"})
    growth = json.loads(out.stdout.strip().splitlines()[-1])
    plain, chunked = growth["plain"], growth["chunked"]
    assert plain > 2 * full_logits  # control: the measurement sees logits, log-softmax, gradient
    # A few chunks' logits, log-softmax and gradients (62.5 MiB each); about 310 MiB measured.
    assert chunked < 0.75 * full_logits
