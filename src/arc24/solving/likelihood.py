"""Scoring candidate answers by how likely the model finds them under augmented views of the task.

A right answer should stay likely whatever the view: rotate or recolour the task and the
answer with it, and the model should still expect it. So each distinct candidate grid of a
test input is mapped into the frame of each of K views, rendered, and teacher-forced after
that view's prompt; its score is the sum over the views of the answer's log-probability (a
product of experts, as the ARChitects chose their attempts in ARC Prize 2024). Greedy voting
only counts how often a grid came first; the score also weighs how close the others came.

One forward pass per view computes the prompt once; the candidates then run together on its
key-value cache, so K views of C candidates cost K prompts plus K x C short answers. On the
transformers backend the prompts are not even computed again: the scoring views are the first
K prediction views, whose cache generation keeps (`PromptCache`).
"""

from __future__ import annotations

import copy

from arc24.data.augment import Augmentation
from arc24.data.formats import get_format
from arc24.data.prompts import fit_task
from arc24.data.task import Grid, Task
from arc24.solving.inference import template_end_token


def answer_ids(tokenizer, grid: Grid, fmt: str) -> list[int]:
    """The tokens of an answer as the model writes it: the rendered grid and the end-of-turn token."""
    ids = list(tokenizer(get_format(fmt).render(grid), add_special_tokens=False)["input_ids"])
    end = template_end_token(tokenizer)
    return ids + [end if end is not None else tokenizer.eos_token_id]


class PromptCache:
    """The key-value cache of a batch of prompts (left-padded), kept to teacher-force answers after
    any of them (TransformersBackend.generate_keeping_prompts makes one while generating)."""

    def __init__(self, model, cache, attention_mask, first_logprobs):
        self.model = model
        self.cache = cache
        self.mask = attention_mask  # (batch, width); 0 on each row's left padding
        self.first = first_logprobs  # (batch, vocab): what each prompt predicts first

    def answer_logprobs(self, row: int, answers: list[list[int]], group: int = 8) -> list[float]:
        """The log-probability of each answer after prompt ROW (its tokens' log-probabilities summed)."""
        import torch

        from transformers import DynamicCache

        # One row of the batch's cache (slicing copies it); the batch's cache stays as it is.
        mine = DynamicCache(ddp_cache_data=[(layer.keys[row: row + 1].clone(), layer.values[row: row + 1].clone())
                                            for layer in self.cache.layers])
        scores = []
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.inference_mode():
                for start in range(0, len(answers), group):
                    scores += _chunk_logprobs(self.model, mine, self.mask[row: row + 1], self.first[row],
                                              answers[start: start + group])
        finally:
            self.model.train(was_training)
        return scores


def answer_logprobs(model, prompt_ids: list[int], answers: list[list[int]], group: int = 8) -> list[float]:
    """The log-probability of each answer after the prompt (its tokens' log-probabilities summed)."""
    import torch

    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            prompt = model(input_ids=torch.tensor([prompt_ids], device=device), use_cache=True)
            first = torch.log_softmax(prompt.logits[0, -1].float(), dim=-1)
            cache = PromptCache(model, prompt.past_key_values, torch.ones(1, len(prompt_ids), dtype=torch.long,
                                                                          device=device), first[None])
    finally:
        model.train(was_training)
    return cache.answer_logprobs(0, answers, group)


def _chunk_logprobs(model, past, prompt_mask, first, answers: list[list[int]]) -> list[float]:
    """Answers teacher-forced together on a copy of one prompt's cache (PROMPT_MASK: its (1, width) mask)."""
    import torch

    device = prompt_mask.device
    n, width = len(answers), max(len(a) for a in answers)
    ids = torch.tensor([a + [a[-1]] * (width - len(a)) for a in answers], device=device)  # right-padded
    answer_mask = torch.tensor([[1] * len(a) + [0] * (width - len(a)) for a in answers], device=device)
    mask = torch.cat([prompt_mask.expand(n, -1), answer_mask], dim=1)
    # Positions count the prompt's real tokens only, as generation counted them (left padding).
    positions = (int(prompt_mask.sum()) + torch.arange(width, device=device)).expand(n, -1)
    cache = copy.deepcopy(past)  # the forward pass appends to the cache it is given
    cache.batch_repeat_interleave(n)
    logits = model(input_ids=ids, attention_mask=mask, position_ids=positions, past_key_values=cache,
                   use_cache=True).logits
    scores = []
    for row, answer in enumerate(answers):
        # Token 0 is predicted by the prompt's last position, token t by the answer's position t-1.
        steps = torch.log_softmax(logits[row, : len(answer) - 1].float(), dim=-1)
        later = steps.gather(-1, ids[row, 1: len(answer), None])[:, 0]
        scores.append(float(first[answer[0]] + later.sum()))
    return scores


def score_candidates(model, tokenizer, task: Task, test_index: int, grids: list[Grid], views: list[Augmentation],
                     template: str, fmt: str, max_prompt_len: int) -> list[list[float]]:
    """Per candidate grid (in the task's own frame), its answer log-probability under each view.

    A view whose prompt does not fit max_prompt_len is left out (every candidate has the same
    number of scores: one per view that fits).
    """
    per_grid: list[list[float]] = [[] for _ in grids]
    for view in views:
        fitted = fit_task(tokenizer, view.apply_task(task), template, fmt, max_prompt_len, for_training=False,
                          test_index=test_index)
        if fitted.too_long:
            continue
        answers = [answer_ids(tokenizer, view.apply_grid(g), fmt) for g in grids]
        for row, value in enumerate(answer_logprobs(model, fitted.input_ids, answers)):
            per_grid[row].append(value)
    return per_grid
