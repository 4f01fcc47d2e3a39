"""Shared fixtures. The embedded model is converted once into the arc24 cache ($ARC24_CACHE if
set, else ~/.cache/arc24) and reused by every later session, so only the first run is slow."""

import os

# Before anything imports transformers: nothing may be fetched from a model hub in tests.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import pytest
from data_paths import ARC1


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


@pytest.fixture(scope="session")
def tiny_vllm_model_dir(tmp_path_factory, smollm_tokenizer):
    """The tiny random Qwen2 with heads of 64 dimensions, the smallest vLLM's CPU attention takes."""
    from arc24.models import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-vllm-model"), smollm_tokenizer, hidden_size=128,
                            num_heads=2, num_kv_heads=1)


@pytest.fixture(scope="session")
def small_tasks_file(tmp_path_factory):
    """Kaggle-layout challenges + solutions holding the 8 ARC-AGI-1 training tasks with the fewest
    cells: prompts of a few hundred tokens, so CPU training steps take well under a second."""
    import json

    with open(os.path.join(ARC1, "arc-agi_training_challenges.json")) as f:
        challenges = json.load(f)
    with open(os.path.join(ARC1, "arc-agi_training_solutions.json")) as f:
        solutions = json.load(f)

    def cells(task):
        grids = [p[k] for p in task["train"] for k in ("input", "output")] + [p["input"] for p in task["test"]]
        return sum(len(g) * len(g[0]) for g in grids)

    ids = sorted(challenges, key=lambda t: (cells(challenges[t]), t))[:8]
    folder = tmp_path_factory.mktemp("small-tasks")
    (folder / "challenges.json").write_text(json.dumps({t: challenges[t] for t in ids}))
    (folder / "solutions.json").write_text(json.dumps({t: solutions[t] for t in ids}))
    return folder / "challenges.json", folder / "solutions.json"
