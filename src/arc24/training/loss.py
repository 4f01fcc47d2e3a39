"""Causal-LM loss that never materialises the full logits.

At 8,192 tokens and Qwen2.5's 151,936-token vocabulary, the float32 logits of a single
sequence take 5 GB, and a plain ``model(input_ids, labels=labels)`` keeps several tensors
of that size alive until the backward pass (logits, log-softmax, their gradient). That,
not the transformer body, is what runs a small GPU out of memory on long ARC tasks.

So the loss here is computed from the final hidden states and the lm_head weight:

* ``chunked``: the tokens are split into chunks; each chunk's logits and cross-entropy are
  computed in float32 inside ``torch.utils.checkpoint``, so only the chunk's inputs are kept
  for backward and its logits are recomputed there, one chunk at a time. Peak memory is
  O(chunk_size x vocab) instead of O(T x vocab). Works on any device.
* ``liger``: Liger-Kernel's fused linear + cross-entropy (Triton, CUDA only), when installed.
* ``plain``: full logits, exactly what the HF model does; the reference in tests.

Every implementation first keeps only the positions that have a label. ARC prompts are
masked with ``ignore_index`` and are most of the sequence, so this alone removes most of
the lm_head work. All of them reduce as sum / number-of-labelled-tokens (HF's default mean
for one batch) and return 0, with a gradient, when nothing is labelled, instead of NaN.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

from arc24.data.prompts import IGNORE_INDEX
from arc24.models import LOSS_IMPLS

DEFAULT_CHUNK_SIZE = 1024
IMPLS = LOSS_IMPLS  # arc24.models keeps them, for the settings that choose one (no torch there)


def _shift_labels(labels: torch.Tensor, ignore_index: int) -> torch.Tensor:
    """Labels aligned with hidden states: position t is scored against labels[t + 1].

    Shifting the labels (padding the last position with ignore_index), as HF's ForCausalLMLoss
    does, rather than slicing the hidden states lets them be flattened without a copy.
    """
    return F.pad(labels[..., 1:], (0, 1), value=ignore_index)


def _labelled_rows(hidden_states: torch.Tensor, labels: torch.Tensor, ignore_index: int):
    """The flattened hidden states and targets of the positions that carry a loss."""
    hidden = hidden_states.reshape(-1, hidden_states.shape[-1])
    targets = _shift_labels(labels, ignore_index).reshape(-1).to(hidden.device)
    keep = targets != ignore_index
    return hidden[keep], targets[keep]


def _no_label_loss(hidden: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """A float32 zero that is still connected to the graph.

    Returning a constant would make ``loss.backward()`` fail on a batch whose answers were
    all truncated away; an empty matmul gives a zero whose gradients are zeros.
    """
    return (hidden[:0] @ weight[:0].t()).float().sum()


def _chunk_ce_sum(hidden: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                  targets: torch.Tensor) -> torch.Tensor:
    """Summed cross-entropy of one chunk, with its logits computed in float32."""
    # Autocast would silently put the matmul back in bf16; these logits are small enough
    # (one chunk) to afford full precision, which keeps the loss faithful to the reference.
    # For a bf16 model the float32 copy of the weight is transient too (0.5 GB for Qwen2.5-0.5B).
    with torch.autocast(device_type=hidden.device.type, enabled=False):
        logits = F.linear(hidden.float(), weight.float(), None if bias is None else bias.float())
        return F.cross_entropy(logits, targets, reduction="sum")


def chunked_causal_lm_loss(hidden_states: torch.Tensor, lm_head_weight: torch.Tensor,
                           labels: torch.Tensor, chunk_size: int = DEFAULT_CHUNK_SIZE,
                           ignore_index: int = IGNORE_INDEX,
                           lm_head_bias: torch.Tensor | None = None) -> torch.Tensor:
    """Mean next-token cross-entropy over labelled tokens, chunk by chunk.

    hidden_states: [B, T, H], the final (normed) hidden states.
    labels: [B, T], aligned like HF's (the shift happens here); ignore_index marks no loss.
    Returns a float32 scalar: sum of token losses / number of labelled tokens (0 if none).
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be positive, got {chunk_size}")
    hidden, targets = _labelled_rows(hidden_states, labels, ignore_index)
    n_tokens = targets.numel()
    if n_tokens == 0:
        return _no_label_loss(hidden, lm_head_weight)

    total = None
    for start in range(0, n_tokens, chunk_size):
        end = min(start + chunk_size, n_tokens)
        # Non-reentrant checkpoint keeps only the chunk's inputs (a view of the hidden
        # states, the shared weight) and recomputes the logits in backward, so at most
        # one chunk's logits exist at any time.
        part = checkpoint(_chunk_ce_sum, hidden[start:end], lm_head_weight, lm_head_bias,
                          targets[start:end], use_reentrant=False)
        total = part if total is None else total + part
    return total / n_tokens


def _liger_loss(hidden: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                targets: torch.Tensor) -> torch.Tensor:
    # Imported here: liger_kernel is optional and pulls in Triton.
    from liger_kernel.transformers import LigerFusedLinearCrossEntropyLoss

    # "sum" and our own division keeps the reduction identical to the other paths.
    loss_fn = LigerFusedLinearCrossEntropyLoss(reduction="sum")
    out = loss_fn(weight, hidden.contiguous(), targets, bias)
    # Some Liger versions can also return a z-loss; the loss comes first.
    return out[0] if isinstance(out, tuple) else out


def fused_linear_cross_entropy_available() -> bool:
    """True when Liger's fused linear cross-entropy can run here (CUDA and liger_kernel)."""
    if not torch.cuda.is_available():
        return False
    try:
        import liger_kernel.transformers  # noqa: F401
    except Exception:  # ImportError, or a Triton that fails to initialise
        return False
    return True


def resolve_impl(impl: str, device: torch.device | str) -> str:
    """The implementation "auto" stands for on this device: liger on CUDA if present, else chunked."""
    if impl not in IMPLS:
        raise ValueError(f"unknown loss impl {impl!r}; expected one of {IMPLS}")
    if impl != "auto":
        return impl
    on_cuda = torch.device(device).type == "cuda"
    return "liger" if on_cuda and fused_linear_cross_entropy_available() else "chunked"


def causal_lm_loss(hidden_states: torch.Tensor, lm_head: torch.nn.Module, labels: torch.Tensor,
                   impl: str = "auto", chunk_size: int = DEFAULT_CHUNK_SIZE,
                   ignore_index: int = IGNORE_INDEX) -> torch.Tensor:
    """Mean next-token cross-entropy of a causal LM from its final hidden states.

    For "chunked" and "liger", lm_head must be a plain ``torch.nn.Linear`` (tied to the
    embeddings or not): they use its weight directly, so a wrapped head (e.g. LoRA on
    lm_head) would have its adapter silently ignored; that is refused rather than risked.
    """
    impl = resolve_impl(impl, hidden_states.device)
    if impl == "plain":
        # The reference calls the head itself, so it is right for any head.
        hidden, targets = _labelled_rows(hidden_states, labels, ignore_index)
        if targets.numel() == 0:
            return lm_head(hidden).float().sum()  # an empty sum: zero, still in the graph
        logits = lm_head(hidden).float()  # HF's numerics: the model's dtype, upcast for the loss
        return F.cross_entropy(logits, targets, reduction="sum") / targets.numel()

    weight, bias = _linear_params(lm_head)
    if impl == "chunked":
        return chunked_causal_lm_loss(hidden_states, weight, labels, chunk_size=chunk_size,
                                      ignore_index=ignore_index, lm_head_bias=bias)
    if not fused_linear_cross_entropy_available():
        raise RuntimeError("impl='liger' needs CUDA and the liger-kernel package")
    hidden, targets = _labelled_rows(hidden_states, labels, ignore_index)
    if targets.numel() == 0:
        return _no_label_loss(hidden, weight)
    return _liger_loss(hidden, weight, bias, targets).float() / targets.numel()


def _linear_params(lm_head: torch.nn.Module):
    if type(lm_head) is not torch.nn.Linear:
        raise TypeError(
            f"the loss needs the lm_head to be a plain torch.nn.Linear, got {type(lm_head).__name__}; "
            "do not put adapters on lm_head, or compute the loss from the model's own logits")
    return lm_head.weight, lm_head.bias


def _unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The transformers model under a PEFT wrapper (adapters are injected in place, so its
    modules still run them)."""
    # Duck-typed so that peft need not be imported here.
    while hasattr(model, "get_base_model"):
        inner = model.get_base_model()
        if inner is model:
            break
        model = inner
    return model


def model_forward_with_loss(model: torch.nn.Module, input_ids: torch.Tensor, labels: torch.Tensor,
                            attention_mask: torch.Tensor | None = None, impl: str = "auto",
                            chunk_size: int = DEFAULT_CHUNK_SIZE,
                            ignore_index: int = IGNORE_INDEX, **body_kwargs) -> torch.Tensor:
    """Loss of an HF causal LM (or a PEFT wrapper of one) without computing its full logits.

    Runs the transformer body (``get_decoder()``, the final norm included) for the hidden
    states, then ``causal_lm_loss`` with the output embeddings. Extra keyword arguments
    (e.g. position_ids) go to the body.
    """
    base = _unwrap(model)
    config = getattr(base, "config", None)
    # Heads that transform the logits after the matmul would make this loss wrong.
    for attr in ("final_logit_softcapping", "logit_scale"):
        if getattr(config, attr, None) not in (None, 1.0):
            raise NotImplementedError(f"model config sets {attr}; the chunked loss does not apply it")
    body = base.get_decoder() if hasattr(base, "get_decoder") else base.model
    out = body(input_ids=input_ids, attention_mask=attention_mask, use_cache=False, **body_kwargs)
    hidden_states = out.last_hidden_state if hasattr(out, "last_hidden_state") else out[0]
    return causal_lm_loss(hidden_states, base.get_output_embeddings(), labels, impl=impl,
                          chunk_size=chunk_size, ignore_index=ignore_index)
