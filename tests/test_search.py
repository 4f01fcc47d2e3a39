"""The depth-first search over answer tokens (solving/search.py), on the embedded SmolLM2."""

import math

import numpy as np
import pytest

from arc24.data.formats import get_format
from arc24.solving.transformers_backend import TransformersBackend
from arc24.solving.likelihood import answer_logprobs

FMT = "numbered-fence"


@pytest.fixture(scope="module")
def backend(smollm_dir):
    from arc24.models import load_model, load_tokenizer

    model = load_model(smollm_dir, precision="fp32", device="cpu")
    return TransformersBackend(model, load_tokenizer(smollm_dir, padding_side="left"), batch_size=1, grid_format=FMT)


def copy_prompt(tokenizer, big: bool = False) -> list[int]:
    grid = get_format(FMT).render(np.array([[3, 0], [0, 3]], np.int8) if big else np.array([[3]], np.int8))
    chat = [{"role": "user", "content": f"Copy the following grid, answer with the grid only.\n{grid}"}]
    text = tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
    return tokenizer(text, add_special_tokens=False)["input_ids"]


@pytest.mark.slow
def test_search_keeps_every_likely_answer_greedy_first(backend):
    from arc24.solving.search import depth_first

    tokenizer = backend.tokenizer
    prompt = copy_prompt(tokenizer)
    greedy = backend.generate([prompt], 30)[0]
    min_prob = 5e-5  # the base model is unsure: its greedy copy of a 1x1 grid has p = 0.003
    answers = depth_first(backend, prompt, 30, min_prob, max_answers=8)
    assert len(answers) > 1  # an unsure base model: more than the greedy answer qualifies
    assert answers[0].token_ids == greedy.token_ids  # likeliest branches first
    assert len({tuple(a.token_ids) for a in answers}) == len(answers)
    probs = [math.exp(a.logprob_mean * a.n_tokens) for a in answers]
    assert all(p >= min_prob for p in probs) and sum(probs) <= 1 + 1e-6
    # Each answer's probability is the model's own, as teacher forcing computes it.
    forced = answer_logprobs(backend.model, prompt, [a.token_ids for a in answers])
    assert [a.logprob_mean * a.n_tokens for a in answers] == pytest.approx(forced, abs=2e-3)
    for a in answers:
        assert get_format(FMT).parse(a.text).ok, a.text
        assert a.token_ids[-1] in backend.end_ids


@pytest.mark.slow
def test_search_falls_back_to_greedy_when_nothing_qualifies(backend):
    from arc24.solving.search import depth_first

    prompt = copy_prompt(backend.tokenizer)
    answers = depth_first(backend, prompt, 30, min_prob=0.999)
    assert len(answers) == 1 and answers[0].token_ids == backend.generate([prompt], 30)[0].token_ids
