import subprocess
import sys
import time

import pytest

import arc24.models as models
from arc24.config import ConfigError
from arc24.models import (
    EMBEDDED_ALIASES,
    build_tiny_model,
    cpu_supports_bf16,
    load_model,
    load_tokenizer,
    resolve_model,
    resolve_precision,
    torch_dtype,
)


def test_import_is_cheap():
    # A fresh interpreter: importing arc24.models must not pull in torch or transformers.
    code = "import sys, arc24.models; print('torch' in sys.modules, 'transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_cache_dir_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv("ARC24_CACHE", str(tmp_path))
    assert models.cache_dir() == tmp_path
    monkeypatch.delenv("ARC24_CACHE")
    assert models.cache_dir().parts[-2:] == (".cache", "arc24")


def test_resolve_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        resolve_model(tmp_path / "missing")
    with pytest.raises(ValueError, match="no config.json"):
        resolve_model(tmp_path)
    (tmp_path / "config.json").write_text("{}")
    assert resolve_model(str(tmp_path)) == tmp_path


def test_move_into_place_keeps_the_winner_of_a_race(tmp_path):
    target = tmp_path / "model"
    first = tmp_path / "tmp1"
    first.mkdir()
    (first / "config.json").write_text("first")
    models._move_into_place(first, target)
    assert (target / "config.json").read_text() == "first" and not first.exists()

    second = tmp_path / "tmp2"
    second.mkdir()
    (second / "config.json").write_text("second")
    models._move_into_place(second, target)  # the target already exists: no error, keep it
    assert (target / "config.json").read_text() == "first"


def test_move_into_place_replaces_an_empty_leftover(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    (tmp / "config.json").write_text("{}")
    models._move_into_place(tmp, target)
    assert (target / "config.json").is_file()


@pytest.mark.slow
def test_embedded_model_resolves_from_the_cache(smollm_dir):
    assert (smollm_dir / "config.json").is_file()
    assert smollm_dir.name == "smollm2-135m-instruct"
    start = time.perf_counter()
    for alias in EMBEDDED_ALIASES:
        assert resolve_model(alias) == smollm_dir
    assert time.perf_counter() - start < 3


@pytest.mark.slow
def test_embedded_model_generates_text(smollm_dir, smollm_tokenizer):
    import torch

    model = load_model(smollm_dir, precision="fp32", device="cpu")
    assert model.dtype == torch.float32 and not model.training
    prompt = smollm_tokenizer.apply_chat_template(
        [{"role": "user", "content": "What is the capital of France?"}], tokenize=False, add_generation_prompt=True
    )
    ids = smollm_tokenizer(prompt, add_special_tokens=False, return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=12, do_sample=False)
    text = smollm_tokenizer.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True)
    assert "Paris" in text


def test_load_tokenizer(smollm_dir):
    tok = load_tokenizer(smollm_dir, padding_side="left")
    assert tok.padding_side == "left"
    assert tok.pad_token is not None
    assert tok.chat_template
    with pytest.raises(ValueError):
        load_tokenizer(smollm_dir, padding_side="middle")


def test_load_model_rejects_unknown_precision(tiny_model_dir):
    with pytest.raises(ValueError, match="unknown precision 'int3'"):
        load_model(tiny_model_dir, precision="int3")


def test_precisions():
    import torch

    assert [torch_dtype(p) for p in ("fp32", "bf16", "fp16")] == [torch.float32, torch.bfloat16, torch.float16]
    with pytest.raises(ValueError):
        torch_dtype("auto")
    assert resolve_precision("fp32", torch.device("cpu")) == "fp32"
    # bf16 on the CPU only where it is native; emulated, it runs many times slower than fp32
    native = cpu_supports_bf16()
    assert resolve_precision("auto", "cpu") == ("bf16" if native else "fp32")
    if native:
        assert resolve_precision("bf16", "cpu") == "bf16"
    else:
        with pytest.raises(ConfigError, match="does not compute in bf16 natively"):
            resolve_precision("bf16", "cpu")
    with pytest.raises(ConfigError, match="does not compute in fp16 natively"):
        resolve_precision("fp16", "cpu")
    with pytest.raises(ConfigError, match="unknown"):
        resolve_precision("float32", "cpu")


def test_tiny_model_builds_and_loads(tiny_model_dir, smollm_tokenizer):
    import torch

    model = load_model(tiny_model_dir, precision="bf16", device="cpu")
    assert model.config.model_type == "qwen2"
    assert model.dtype == torch.bfloat16
    assert model.config.vocab_size == len(smollm_tokenizer)
    assert sum(p.numel() for p in model.parameters()) < 5_000_000
    tok = load_tokenizer(tiny_model_dir)
    assert tok.chat_template == smollm_tokenizer.chat_template
    ids = torch.tensor([tok("hello world").input_ids])
    with torch.no_grad():
        logits = model(ids).logits
    assert logits.shape == (1, ids.shape[1], len(smollm_tokenizer))


def test_tiny_model_is_seeded(tmp_path, smollm_tokenizer):
    import torch

    a = load_model(build_tiny_model(tmp_path / "a", smollm_tokenizer, seed=1), device="cpu")
    b = load_model(build_tiny_model(tmp_path / "b", smollm_tokenizer, seed=1), device="cpu")
    c = load_model(build_tiny_model(tmp_path / "c", smollm_tokenizer, seed=2), device="cpu")
    wa, wb, wc = (m.model.embed_tokens.weight for m in (a, b, c))
    assert torch.equal(wa, wb) and not torch.equal(wa, wc)


def test_tiny_model_vocab_too_small(tmp_path, smollm_tokenizer):
    with pytest.raises(ValueError, match="smaller than the tokenizer"):
        build_tiny_model(tmp_path, smollm_tokenizer, vocab_size=10)
