"""Scoring candidates under augmented views (solving/likelihood.py), with real models."""

import numpy as np
import pytest
import torch

from arc24.data.augment import inference_augmentations
from arc24.data.prompts import fit_task
from arc24.data.task import Pair, Task
from arc24.solving.likelihood import answer_ids, answer_logprobs, score_candidates

FMT = "numbered-fence"
TEMPLATE = "output-from-examples-v1"


def flip_task() -> Task:
    grids = [np.array([[1, 0, 2], [0, 3, 0]], np.int8), np.array([[4, 5], [0, 6], [7, 0]], np.int8),
             np.array([[8, 0, 0, 9]], np.int8), np.array([[1, 2], [3, 4]], np.int8)]
    pairs = [Pair(g, g[:, ::-1].copy()) for g in grids]
    return Task(id="flip", train=pairs[:3], test=[Pair(pairs[3].input)])


def full_sequence_logprob(model, prompt: list[int], answer: list[int]) -> float:
    """The same quantity the plain way: one forward pass over prompt + answer, no cache."""
    with torch.inference_mode():
        logits = model(input_ids=torch.tensor([prompt + answer])).logits[0].float()
    steps = torch.log_softmax(logits[len(prompt) - 1: -1], dim=-1)
    return float(steps.gather(-1, torch.tensor(answer)[:, None]).sum())


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    from arc24.models import load_model, load_tokenizer

    return load_model(tiny_model_dir, precision="fp32", device="cpu"), load_tokenizer(tiny_model_dir)


@pytest.mark.slow
def test_answers_on_a_shared_prompt_cache_equal_full_forward_passes(tiny):
    model, tokenizer = tiny
    task = flip_task()
    prompt = fit_task(tokenizer, task, TEMPLATE, FMT, 4096, for_training=False).input_ids
    grids = [np.array([[2, 1], [4, 3]], np.int8), np.array([[1, 2], [3, 4]], np.int8),
             np.zeros((3, 5), np.int8)]  # answers of different lengths share a padded batch
    answers = [answer_ids(tokenizer, g, FMT) for g in grids]
    assert len({len(a) for a in answers}) > 1
    got = answer_logprobs(model, prompt, answers, group=2)  # two groups: the cache is reused intact
    expected = [full_sequence_logprob(model, prompt, a) for a in answers]
    assert got == pytest.approx(expected, abs=2e-3)
    assert all(v < 0 for v in got)


@pytest.mark.slow
def test_score_candidates_one_score_per_view(tiny):
    model, tokenizer = tiny
    task = flip_task()
    views = inference_augmentations(4, 0, task)
    grids = [np.array([[2, 1], [4, 3]], np.int8), np.array([[1, 2], [3, 4]], np.int8)]
    scores = score_candidates(model, tokenizer, task, 0, grids, views, TEMPLATE, FMT, 4096)
    assert [len(s) for s in scores] == [4, 4]
    # The candidate goes into each view's frame: under a view, it is scored as that view's answer.
    view = views[1]
    prompt = fit_task(tokenizer, view.apply_task(task), TEMPLATE, FMT, 4096, for_training=False).input_ids
    expected = full_sequence_logprob(model, prompt, answer_ids(tokenizer, view.apply_grid(grids[0]), FMT))
    assert scores[0][1] == pytest.approx(expected, abs=2e-3)


@pytest.mark.slow
def test_prompt_cache_kept_from_generation_scores_as_a_fresh_prompt(tiny):
    """Scoring on the cache generation kept (left-padded batch) equals scoring each prompt afresh,
    and keeping the cache does not change what is generated."""
    from arc24.solving.transformers_backend import TransformersBackend

    model, tokenizer = tiny
    task = flip_task()
    views = inference_augmentations(3, 0, task)
    prompts = [fit_task(tokenizer, v.apply_task(task), TEMPLATE, FMT, 4096, for_training=False).input_ids
               for v in views]
    prompts[1] = prompts[1][:-7] + prompts[1][-3:]  # a shorter prompt: the others' rows are left-padded
    assert len({len(p) for p in prompts}) > 1
    backend = TransformersBackend(model, tokenizer, batch_size=3, grid_format=FMT)
    generations, cache = backend.generate_keeping_prompts(prompts, 30)
    assert [g.token_ids for g in generations] == [g.token_ids for g in backend.generate(prompts, 30)]
    answers = [answer_ids(tokenizer, g, FMT) for g in (np.array([[2, 1], [4, 3]], np.int8), np.zeros((3, 5), np.int8))]
    for row, prompt in enumerate(prompts):
        assert cache.answer_logprobs(row, answers) == pytest.approx(answer_logprobs(model, prompt, answers), abs=2e-3)
