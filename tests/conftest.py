"""Shared fixtures. The embedded model is converted once into the arc24 cache ($ARC24_CACHE if
set, else ~/.cache/arc24) and reused by every later session, so only the first run is slow."""

import os

# Before anything imports transformers: nothing may be fetched from a model hub in tests.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import pytest


@pytest.fixture(scope="session")
def smollm_dir():
    from arc24.models import EMBEDDED_MODEL, resolve_model

    return resolve_model(EMBEDDED_MODEL)


@pytest.fixture(scope="session")
def smollm_tokenizer(smollm_dir):
    from arc24.models import load_tokenizer

    return load_tokenizer(smollm_dir)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, smollm_tokenizer):
    """A tiny random Qwen2 with the SmolLM2 tokenizer: loads like a real model, runs in milliseconds."""
    from arc24.models import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"), smollm_tokenizer)
