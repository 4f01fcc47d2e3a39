"""Augmented inference: predict every test output under many views of its task.

For each test input of each task, `build_requests` makes one prompt per augmented view
(`inference_augmentations`), `predict` has a backend answer them greedily, parses each answer
strictly with the grid format and maps the parsed grid back to the original task's frame, so
the predictions of all views can be voted on (see voting.py).

Two backends share one small interface (`Backend.generate`):
- `TransformersBackend`: batched greedy generation with Hugging Face transformers, on CPU or
  GPU; used in tests and as the fallback.
- `VLLMBackend`: vLLM's offline engine, for the Kaggle GPUs. vLLM is imported only inside it:
  it is not installed on CPU machines, and everything else (parsing, reversing, voting) is
  shared and tested without it.

Both stop an answer at the end-of-turn token or at the first complete closing-fence line
(FENCE_STOP, "\\n```\\n"), and drop anything after that line, exactly as vLLM's stop strings do.
Requiring the newline keeps parsing strict: a line that starts with ``` but goes on (e.g.
"```python") is not a closing fence, so generation runs on and the parser rejects the answer.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import json
import logging
import math
import os
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from arc24.config import ConfigError
from arc24.data.augment import Augmentation, inference_augmentations
from arc24.data.formats import DEFAULT_FORMAT, FENCE, get_format
from arc24.data.prompts import DEFAULT_TEMPLATE, fit_task
from arc24.data.task import MAX_SIDE, Grid, Task, as_grid, grid_to_list
from arc24.files import write_atomic

log = logging.getLogger(__name__)

FENCE_STOP = "\n" + FENCE + "\n"  # a closing-fence line, complete with its newline
ANSWER_MARGIN = 16  # extra tokens over a rendered 30x30 grid: end-of-turn token, tokenizer quirks


# ---------------------------------------------------------------- predictions


@dataclass
class Prediction:
    """One model answer for one view of one test input: a line of predictions.jsonl."""

    task_id: str
    test_index: int
    augmentation: dict  # Augmentation.to_dict() of the view the model saw
    grid: Grid | None  # parsed and mapped back to the original frame; None when unusable
    text: str  # the raw answer
    reason: str | None  # why grid is None; None when it is set
    logprob_mean: float  # mean log-probability of the generated tokens (<= 0)
    n_tokens: int
    weights: str = ""  # which weights answered: ttft | fine-tuned | base (see task_solver.py)
    # The grid's mean log-probability as the answer under the scoring views (likelihood.py);
    # None when candidates were not scored. Equal for every prediction of the same grid.
    score: float | None = None
    source: str = "model"  # model | programs (the program search, solving/programs.py)
    program: str = ""  # the program that made the grid, for a program's answer
    # A program's answer: whether its learned step predicts each train pair when fitted without it
    # (programs/search.py, leave-one-out); a program that only reproduces its pairs is trusted less
    generalises: bool = True

    def to_json(self) -> dict:
        d = dataclasses.asdict(self)
        d["grid"] = None if self.grid is None else grid_to_list(self.grid)
        return d

    @classmethod
    def from_json(cls, d: dict) -> Prediction:
        grid = d.get("grid")
        return cls(
            task_id=d["task_id"],
            test_index=int(d["test_index"]),
            augmentation=d["augmentation"],
            grid=None if grid is None else as_grid(grid),
            text=d["text"],
            reason=d.get("reason"),
            logprob_mean=float(d["logprob_mean"]),
            n_tokens=int(d["n_tokens"]),
            weights=d.get("weights", ""),
            score=None if d.get("score") is None else float(d["score"]),
            source=d.get("source", "model"),
            program=d.get("program", ""),
            generalises=bool(d.get("generalises", True)),
        )


def write_predictions(path: str | os.PathLike, predictions: Iterable[Prediction], append: bool = False) -> None:
    """The one writer of predictions.jsonl: one JSON object per line, so a cut-off file is still
    readable line by line. append=False replaces the file atomically."""
    lines = "".join(json.dumps(p.to_json()) + "\n" for p in predictions)
    if append:
        with open(path, "a", encoding="utf-8") as f:
            f.write(lines)
    else:
        write_atomic(path, lambda tmp: tmp.write_text(lines, encoding="utf-8"))


def read_predictions(path: str | os.PathLike) -> list[Prediction]:
    """The one reader of predictions.jsonl; a bad line is a ConfigError naming the file and line."""
    predictions = []
    try:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    predictions.append(Prediction.from_json(json.loads(line)))
                except (ValueError, KeyError, TypeError) as exc:
                    raise ConfigError(f"{path}: line {number} is not a prediction ({type(exc).__name__}: {exc})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read predictions: {exc.strerror or exc}") from None
    return predictions


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
    turn_end = _template_end_token(tokenizer)
    if turn_end is not None:
        ids.add(turn_end)
    config_eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if config_eos is not None:
        ids.update(int(i) for i in np.atleast_1d(config_eos))
    return sorted(ids)


def _template_end_token(tokenizer) -> int | None:
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


class TransformersBackend(Backend):
    """Batched greedy generation with a transformers model (KV cache, left padding), free or
    constrained to grids."""

    # Enough generated tokens to always contain FENCE_STOP (5 characters, so at most 5 tokens).
    _TAIL_TOKENS = 8

    def __init__(self, model, tokenizer, batch_size: int = 8, grid_format: str | None = None):
        """grid_format: constrain answers to grids of that format (GridConstraint); None: free."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.chunk_size = batch_size
        self.end_ids = end_token_ids(tokenizer, model)
        pad = tokenizer.pad_token_id
        self.pad_id = int(pad if pad is not None else self.end_ids[0])
        self.constraint = GridConstraint(tokenizer, grid_format, self.end_ids) if grid_format else None

    def generate(self, prompts: list[list[int]], max_new_tokens: int) -> list[Generation]:
        # Longest first, so similar lengths share a batch (less padding) and an out-of-memory
        # error shows up in the first batch rather than after hours.
        order = sorted(range(len(prompts)), key=lambda i: -len(prompts[i]))
        results: list[Generation | None] = [None] * len(prompts)
        for start in range(0, len(order), self.batch_size):
            batch = order[start: start + self.batch_size]
            for i, generation in zip(batch, self._generate_batch([prompts[i] for i in batch], max_new_tokens)):
                results[i] = generation
        return results

    def generate_keeping_prompts(self, prompts: list[list[int]], max_new_tokens: int):
        """generate() in one batch, in the order given, also returning the batch's prompt cache
        (likelihood.PromptCache), on which other answers can then be teacher-forced after the same
        prompts without computing them again."""
        return self._generate_batch(prompts, max_new_tokens, keep_prompts=True)

    def _generate_batch(self, prompts: list[list[int]], max_new_tokens: int, keep_prompts: bool = False):
        import torch

        device = next(self.model.parameters()).device
        width = max(len(p) for p in prompts)
        # Left padding: every prompt ends at the same position, where generation starts.
        input_ids = torch.tensor([[self.pad_id] * (width - len(p)) + list(p) for p in prompts], device=device)
        attention_mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], device=device)
        recorder = _GreedyLogprobs(self.constraint, keep_first=keep_prompts)
        stop = _AnswerStop(self.tokenizer, width, self.end_ids, len(prompts))
        # Eval mode for the call (dropout off, so greedy is deterministic), then the caller's mode
        # back: a model fine-tuned at test time may be handed over in training mode.
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.inference_mode():
                out = self._generate_call(input_ids, attention_mask, max_new_tokens, recorder, stop, keep_prompts)
        finally:
            self.model.train(was_training)
        sequences = out.sequences if keep_prompts else out
        generated = sequences[:, width:].tolist()
        chosen = torch.stack(recorder.tokens, dim=1).tolist()  # (batch, steps)
        logprobs = torch.stack(recorder.logprobs, dim=1).tolist()
        results = []
        for row, tokens in enumerate(generated):
            n = stop.lengths[row] or len(tokens)  # None: it ran to max_new_tokens
            tokens = tokens[:n]
            if tokens != chosen[row][:n]:
                raise RuntimeError(
                    "greedy generation picked a token other than the most likely one: a logits processor "
                    "from the model's generation config is active, so the log-probabilities would be wrong"
                )
            text = cut_at_fence(self.tokenizer.decode(tokens, skip_special_tokens=True))
            mean = sum(logprobs[row][:n]) / n if n else 0.0
            results.append(Generation(text=text, token_ids=tokens, logprob_mean=mean, n_tokens=n))
        if not keep_prompts:
            return results
        from arc24.solving.likelihood import PromptCache

        cache = out.past_key_values
        if cache.get_seq_length() > width:  # back to the prompts: the answers' entries go
            cache.crop(width - cache.get_seq_length())
        return results, PromptCache(self.model, cache, attention_mask, recorder.first)

    def _generate_call(self, input_ids, attention_mask, max_new_tokens, recorder, stop, keep_cache=False):
        from transformers import LogitsProcessorList, StoppingCriteriaList

        return self.model.generate(
            return_dict_in_generate=keep_cache,  # then with the cache (past_key_values)
            input_ids=input_ids,
            attention_mask=attention_mask,
            do_sample=False,
            num_beams=1,
            repetition_penalty=1.0,  # instruct models' generation configs may set one; grids repeat
            max_new_tokens=max_new_tokens,
            eos_token_id=self.end_ids,
            pad_token_id=self.pad_id,
            logits_processor=LogitsProcessorList([recorder]),
            stopping_criteria=StoppingCriteriaList([stop]),
        )


class GridConstraint:
    """A grid format's grammar (formats.GridGrammar) over one tokenizer's tokens.

    Constrained decoding masks, at every step, the tokens that cannot continue a grid of the
    format, so every answer parses: a small model that loses count of a row's cells then writes
    a grid of the shape it announced instead of an unparseable one, and never runs on to
    max_new_tokens. The model still chooses the shape and every cell.

    A token may continue the text when every character it decodes to does, so tokenizers that
    merge digits work too. Decoding tokens one by one must give the same text as decoding
    them together (true of byte-level BPE, as Qwen's and SmolLM's); that is checked here.
    """

    def __init__(self, tokenizer, fmt: str, end_ids: list[int]):
        self.grammar = get_format(fmt).grammar
        self.end_ids = list(end_ids)
        special = set(tokenizer.all_special_ids)
        pieces = tokenizer.batch_decode([[i] for i in range(len(tokenizer))])
        self._by_first: dict[str, list[tuple[int, str]]] = {}
        for token, piece in enumerate(pieces):
            if piece and token not in special and set(piece) <= self.grammar.alphabet:
                self._by_first.setdefault(piece[0], []).append((token, piece))
        sample = get_format(fmt).render(np.arange(12, dtype=np.int8).reshape(3, 4) % 10)
        ids = tokenizer(sample, add_special_tokens=False)["input_ids"]
        if "".join(pieces[i] for i in ids) != sample:
            raise ConfigError("this tokenizer's tokens do not decode one at a time into the text they make "
                              "together, so answers cannot be constrained to grids; set constrained_decoding=false")
        self._allowed: dict[tuple, dict[int, tuple | None]] = {}

    def start(self) -> tuple:
        return self.grammar.start()

    def allowed(self, state: tuple) -> dict[int, tuple | None]:
        """The tokens that may come next, each with the state after it (None: an end token)."""
        if state not in self._allowed:
            grammar, nexts = self.grammar, {}
            for first in self.grammar.alphabet:
                if grammar.step(state, first) is None:
                    continue
                for token, piece in self._by_first.get(first, ()):
                    after = state
                    for ch in piece:
                        after = grammar.step(after, ch)
                        if after is None:
                            break
                    if after is not None:
                        nexts[token] = after
            if grammar.complete(state):
                nexts.update({token: None for token in self.end_ids})
            if not nexts:
                raise RuntimeError(f"no token of this tokenizer continues a grid from grammar state {state}")
            self._allowed[state] = nexts
        return self._allowed[state]


class _GreedyLogprobs:
    """A logits processor that records, per step, the chosen token and its log-probability, and
    applies the grid constraint when there is one.

    Greedy decoding picks the most likely allowed token, so this gives each generated token's
    log-probability under the model (not renormalised over the allowed tokens) while keeping
    two numbers per step, where output_scores would keep the whole vocabulary per step
    (gigabytes for long answers with a 150k vocabulary). The caller checks that the recorded
    tokens are the generated ones.
    """

    def __init__(self, constraint: GridConstraint | None = None, keep_first: bool = False):
        self.constraint = constraint
        self.states: list | None = None  # per row: the grammar state; None once an end token came
        self.tokens = []
        self.logprobs = []
        self.keep_first = keep_first
        self.first = None  # with keep_first: the first step's log-probabilities (batch, vocab)

    def __call__(self, input_ids, scores):
        import torch

        logprobs = torch.log_softmax(scores.float(), dim=-1)
        if self.keep_first and self.first is None:
            self.first = logprobs
        if self.constraint is not None:
            scores = scores.masked_fill(self._forbidden(input_ids, scores), float("-inf"))
        chosen = scores.argmax(dim=-1)
        self.tokens.append(chosen)
        self.logprobs.append(logprobs.gather(-1, chosen[:, None])[:, 0])
        return scores

    def _forbidden(self, input_ids, scores):
        import torch

        c = self.constraint
        if self.states is None:
            self.states = [c.start()] * len(scores)
        else:  # the token each row got at the previous step
            for row, token in enumerate(input_ids[:, -1].tolist()):
                if self.states[row] is not None:
                    self.states[row] = c.allowed(self.states[row])[token]
        forbidden = torch.ones_like(scores, dtype=torch.bool)
        for row, state in enumerate(self.states):
            if state is None:  # finished: the padding after it is not the model's
                forbidden[row] = False
            else:
                forbidden[row, list(c.allowed(state))] = False
        return forbidden


class _AnswerStop:
    """A stopping criterion: a row is done at an end token or once its text has a closing-fence line.

    It records how many tokens each row had generated when it finished (`lengths`), as
    finished rows are then filled with padding, which may be the end token itself.
    """

    def __init__(self, tokenizer, prompt_width: int, end_ids: list[int], batch: int):
        self.tokenizer = tokenizer
        self.prompt_width = prompt_width
        self.end_ids = set(end_ids)
        self.lengths: list[int | None] = [None] * batch

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        generated = input_ids[:, self.prompt_width:].tolist()
        for row, tokens in enumerate(generated):
            if self.lengths[row] is None and tokens and self._finished(tokens):
                self.lengths[row] = len(tokens)
        done = [n is not None for n in self.lengths]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)

    def _finished(self, tokens: list[int]) -> bool:
        if tokens[-1] in self.end_ids:
            return True
        # Only the tail is decoded (checked every step, so a fence cannot slip past it). The
        # generation's first line is never preceded by "\n", so an opening fence cannot match.
        tail = self.tokenizer.decode(tokens[-TransformersBackend._TAIL_TOKENS:], skip_special_tokens=True)
        return FENCE_STOP in tail


# The vLLM that tools/kaggle_wheels.py bundles for the offline Kaggle kernel, and whose wheel
# tools/vllm_api.py read into vllm_api.json (the contract tests/test_vllm_api.py checks). 0.19.1
# is the newest release on PyPI built for CUDA 12: from 0.20 on the wheels link CUDA 13, which
# needs an NVIDIA driver >= 580 that Kaggle's T4 images are not known to have.
VLLM_PIN = "0.19.1"
VLLM_API_FILE = Path(__file__).with_name("vllm_api.json")
VLLM_DTYPES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}  # arc24 precision -> vLLM dtype
# What _from_vllm and _from_beams read of each output (the contract test checks these names
# against the snapshot).
VLLM_OUTPUT_FIELDS = {"CompletionOutput": ("text", "token_ids", "logprobs", "cumulative_logprob"),
                      "Logprob": ("logprob",),
                      "BeamSearchOutput": ("sequences",),
                      "BeamSearchSequence": ("tokens", "logprobs", "cum_logprob")}


def vllm_engine_kwargs(model_path, *, tensor_parallel_size: int = 1, max_model_len: int = 8192,
                       gpu_memory_utilization: float = 0.9, dtype: str = "auto", enable_lora: bool = False,
                       max_lora_rank: int = 64, seed: int = 0, sleep_mode: bool = False) -> dict:
    """The keyword arguments VLLMBackend gives vllm.LLM (kept apart so the contract test can check them)."""
    return dict(
        model=str(model_path),
        tensor_parallel_size=tensor_parallel_size,
        max_model_len=max_model_len,
        # A share of the whole GPU (total memory, not free memory), which must be free when the
        # engine starts; the fine-tuned model already loaded in this process counts against the rest.
        gpu_memory_utilization=gpu_memory_utilization,
        dtype=dtype,
        enable_lora=enable_lora,
        max_lora_rank=supported_lora_rank(max_lora_rank),
        # One task's adapter at a time: solve predicts task by task. vLLM's CPU adapter cache
        # defaults to the same size, so each new task's adapter evicts the previous one (no growth).
        max_loras=1,
        seed=seed,
        # Sleep mode puts the engine's weights and KV cache in vLLM's own allocator, so sleep()
        # can hand that memory back while the task is fine-tuned (see VLLMBackend).
        enable_sleep_mode=sleep_mode,
    )


def vllm_sampling_kwargs(max_new_tokens: int, end_ids: list[int]) -> dict:
    """The keyword arguments of VLLMBackend's SamplingParams: greedy, one answer per prompt."""
    return dict(
        temperature=0.0,  # greedy (vLLM samples greedily below a temperature of 1e-5)
        max_tokens=max_new_tokens,
        # The sampled token's log-probability at each step: vLLM gathers it besides the top-k, so it
        # is in every step's dict even when it is not the likeliest (it always is, greedily).
        logprobs=1,
        stop=[FENCE_STOP],
        include_stop_str_in_output=True,
        stop_token_ids=list(end_ids),
        skip_special_tokens=True,
    )


def vllm_beam_search_kwargs(max_new_tokens: int, beam_width: int) -> dict:
    """The keyword arguments of VLLMBackend's BeamSearchParams."""
    return dict(
        beam_width=beam_width,
        max_tokens=max_new_tokens,
        # vLLM ranks beams by cum_logprob / len(tokens) ** length_penalty with the prompt counted in
        # len, which favours long answers; 0 ranks them by probability alone, as the search does.
        length_penalty=0.0,
    )


def vllm_lora_kwargs(lora_id: int, lora_path) -> dict:
    """The keyword arguments of a LoRARequest. The name is unique too: vLLM 0.19's prefix cache and
    LoRARequest's equality go by the name, its adapter cache by the id."""
    return dict(lora_name=f"adapter-{lora_id}", lora_int_id=lora_id, lora_path=str(lora_path))


def vllm_calls() -> dict[str, dict]:
    """Every call VLLMBackend makes into vLLM, by name, with the keywords it passes (values are examples)."""
    return {
        "LLM": vllm_engine_kwargs("model", dtype="float16", enable_lora=True, sleep_mode=True),
        "SamplingParams": vllm_sampling_kwargs(16, [2]),
        "BeamSearchParams": vllm_beam_search_kwargs(16, 8),
        "LoRARequest": vllm_lora_kwargs(1, "adapter"),
        "LLM.generate": dict(prompts=[{"prompt_token_ids": [1]}], sampling_params=None, lora_request=None,
                             use_tqdm=True),
        "LLM.beam_search": dict(prompts=[{"prompt_token_ids": [1]}], params=None, lora_request=None, use_tqdm=True),
        "LLM.get_tokenizer": {},
        "LLM.sleep": dict(level=1),
        "LLM.wake_up": {},
    }


def vllm_contract_problems(api: dict, calls: dict[str, dict] | None = None) -> list[str]:
    """What in CALLS (default: vllm_calls()) the vLLM API snapshot API does not accept, one line each."""
    calls = vllm_calls() if calls is None else calls
    engine_args = set(api["EngineArgs"])
    accepted = {
        # LLM takes its own keywords and passes any others on to EngineArgs, which refuses unknown ones.
        "LLM": set(api["LLM"]["keywords"]) | (engine_args if api["LLM"]["var_keyword"] else set()),
        "SamplingParams": set(api["SamplingParams"]),
        "BeamSearchParams": set(api.get("BeamSearchParams", ())),
        "LoRARequest": set(api["LoRARequest"]),
        **{f"LLM.{name}": set(p["keywords"]) for name, p in api["LLM methods"].items()},
    }
    problems = []
    for call, kwargs in calls.items():
        if call not in accepted:
            problems.append(f"{call}: not in the snapshot of vLLM {api['vllm']}")
            continue
        for key in kwargs:
            if key not in accepted[call]:
                where = " or EngineArgs" if call == "LLM" else ""
                problems.append(f"{call}({key}=...): not an argument of {call}{where} in vLLM {api['vllm']}")
    llm = calls.get("LLM", {})
    if "max_lora_rank" in llm and llm["max_lora_rank"] not in api["max_lora_rank"]:
        problems.append(f"LLM(max_lora_rank={llm['max_lora_rank']}): vLLM {api['vllm']} accepts {api['max_lora_rank']}")
    if "dtype" in llm and llm["dtype"] not in api["dtype"]:
        problems.append(f"LLM(dtype={llm['dtype']!r}): vLLM {api['vllm']} accepts {api['dtype']}")
    for cls, fields in VLLM_OUTPUT_FIELDS.items():
        problems += [f"{cls}.{f}: not a field in vLLM {api['vllm']}" for f in fields if f not in api.get(cls, ())]
    return problems


class VLLMBackend(Backend):
    """vLLM's offline engine (GPU only), with an optional LoRA adapter.

    Written against vLLM VLLM_PIN, checked without a GPU against vllm_api.json (read from that
    wheel's source); vllm is imported here only, as it is not installable on CPU machines.

    The engine runs in this process (VLLM_ENABLE_V1_MULTIPROCESSING=0): the solve workers are
    daemon processes, which may not start the engine-core child vLLM starts by default, and a
    worker killed for a hung task must take the engine's GPU memory with it.

    With sleep_mode (the default) the engine sleeps except inside generate(): sleep(level=1)
    copies its weights to CPU memory and frees them and the KV cache, so test-time fine-tuning in
    the same process has the whole GPU but the fine-tuned model itself; generate() wakes it up.
    """

    # vLLM schedules its own batches and keeps the GPU busiest with every prompt at once; its
    # own progress bar (use_tqdm) then shows the progress that predict's cannot.
    chunk_size = 1 << 20

    def __init__(
        self,
        model_path: str | os.PathLike,
        tensor_parallel_size: int = 1,
        max_model_len: int = 8192,
        gpu_memory_utilization: float = 0.9,
        enable_lora: bool = False,
        lora_path: str | os.PathLike | None = None,
        max_lora_rank: int = 64,
        seed: int = 0,
        precision: str = "auto",
        sleep_mode: bool = True,
    ):
        reason = vllm_unavailable_reason()
        if reason:
            raise RuntimeError(f"cannot use the vLLM backend: {reason}")
        # Read by vLLM when the engine starts; a person's own setting wins.
        os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
        import vllm
        from vllm.lora.request import LoRARequest
        from vllm.sampling_params import BeamSearchParams

        from arc24.models import resolve_model, resolve_precision

        if vllm.__version__ != VLLM_PIN:
            log.warning("vLLM %s is installed; arc24's vLLM backend was checked against %s (VLLM_PIN)",
                        vllm.__version__, VLLM_PIN)
        model_path = resolve_model(model_path)  # also accepts the embedded model's alias
        n_heads = attention_heads(model_path)
        tp = usable_tensor_parallel(tensor_parallel_size, n_heads)
        if tp != tensor_parallel_size:
            log.warning("%d GPUs cannot split the model's %s attention heads evenly; using 1 GPU",
                        tensor_parallel_size, n_heads)
        # The engine computes in what fine-tuning uses: bf16, or fp16 on GPUs without bf16 (T4).
        self.precision = resolve_precision(precision, "cuda")
        self.sleep_mode = sleep_mode
        self.llm = vllm.LLM(**vllm_engine_kwargs(
            model_path, tensor_parallel_size=tp, max_model_len=max_model_len,
            gpu_memory_utilization=gpu_memory_utilization, dtype=VLLM_DTYPES[self.precision],
            enable_lora=enable_lora or lora_path is not None, max_lora_rank=max_lora_rank, seed=seed,
            sleep_mode=sleep_mode))
        self._LoRARequest = LoRARequest
        self._lora_ids = 0
        self.lora_request = None
        if lora_path is not None:
            self.set_adapter(lora_path)
        self.tokenizer = self.llm.get_tokenizer()
        self.end_ids = end_token_ids(self.tokenizer)
        self._SamplingParams = vllm.SamplingParams
        self._BeamSearchParams = BeamSearchParams
        if sleep_mode:
            self.llm.sleep(level=1)

    def set_adapter(self, lora_path: str | os.PathLike | None) -> None:
        """Serve the next prompts with this LoRA adapter folder (None: the model alone).

        Every call gets a new LoRA id: vLLM caches adapters by id, and a task's test-time
        fine-tuned adapter may be saved at a path an earlier task used. With max_loras=1 the
        previous adapter is evicted when the new one loads (the ids are never reused).
        """
        if lora_path is None:
            self.lora_request = None
            return
        self._lora_ids += 1
        self.lora_request = self._LoRARequest(**vllm_lora_kwargs(self._lora_ids, lora_path))

    def generate(self, prompts: list[list[int]], max_new_tokens: int) -> list[Generation]:
        params = self._SamplingParams(**vllm_sampling_kwargs(max_new_tokens, self.end_ids))
        with self._awake():
            outputs = self.llm.generate([{"prompt_token_ids": list(p)} for p in prompts], params,
                                        lora_request=self.lora_request, use_tqdm=True)
        return [_from_vllm(out.outputs[0]) for out in outputs]

    def search(self, prompts: list[list[int]], max_new_tokens: int, min_prob: float) -> list[list[Generation]]:
        """Per prompt, the answers of a beam search of width search.MAX_ANSWERS whose probability is at
        least min_prob, likeliest first; the likeliest alone when none is (as search.depth_first
        returns, which falls back to the greedy answer instead).

        Not a threshold search: vLLM keeps a fixed number of unfinished beams, so an answer above
        min_prob is lost when, at some step, that many likelier prefixes crowd out its own, even
        if they end in less likely answers.
        """
        from arc24.solving.search import MAX_ANSWERS

        params = self._BeamSearchParams(**vllm_beam_search_kwargs(max_new_tokens, MAX_ANSWERS))
        with self._awake():
            outputs = self.llm.beam_search([{"prompt_token_ids": list(p)} for p in prompts], params=params,
                                           lora_request=self.lora_request, use_tqdm=True)
        answers = [_from_beams(out.sequences, self.tokenizer, self.end_ids, min_prob) for out in outputs]
        # vLLM drops a beam that reaches max_model_len without a trace; a prompt can lose them all.
        bare = [i for i, found in enumerate(answers) if not found]
        if bare:
            for i, generation in zip(bare, self.generate([prompts[i] for i in bare], max_new_tokens)):
                answers[i] = [generation]
        return answers

    @contextlib.contextmanager
    def _awake(self):
        """The engine awake for the block, asleep again after it (sleep mode only)."""
        if not self.sleep_mode:
            yield
            return
        import torch

        # wake_up maps new physical memory outside PyTorch's allocator: the blocks fine-tuning
        # left in PyTorch's cache must be returned to the driver first.
        torch.cuda.empty_cache()
        self.llm.wake_up()
        try:
            yield
        finally:
            self.llm.sleep(level=1)


def _from_vllm(completion) -> Generation:
    token_ids = list(completion.token_ids)
    n = len(token_ids)
    if completion.logprobs:
        values = [step[t].logprob for t, step in zip(token_ids, completion.logprobs)]
        mean = sum(values) / len(values)
    elif completion.cumulative_logprob is not None and n:
        mean = completion.cumulative_logprob / n
    else:
        mean = 0.0 if not n else float("nan")
    return Generation(text=completion.text, token_ids=token_ids, logprob_mean=mean, n_tokens=n)


def _from_beams(beams, tokenizer, end_ids: list[int], min_prob: float) -> list[Generation]:
    """The answers of one prompt's returned beams (ended at eos or at max_tokens) with probability
    >= min_prob, likeliest first; the likeliest alone when none qualifies, none when no beams."""
    ends = set(end_ids)
    best: dict[tuple, float] = {}
    for beam in beams:
        # beam.tokens starts with the prompt; beam.logprobs has one entry per generated token.
        steps = beam.logprobs
        tokens = list(beam.tokens)[len(beam.tokens) - len(steps):]
        n = next((i + 1 for i, t in enumerate(tokens) if t in ends), len(tokens))
        if n < len(tokens):
            # vLLM ends a beam at the tokenizer's eos only: one that went on after another end token
            # (the chat template's end of turn) is that answer, with the probability of its tokens.
            logp = sum(step[t].logprob for t, step in zip(tokens[:n], steps))
        else:
            logp = beam.cum_logprob  # the generated tokens' log-probabilities summed, eos included
        key = tuple(tokens[:n])
        # Beams that differ only after the answer ended are one answer.
        best[key] = max(logp, best.get(key, -math.inf))
    ranked = sorted(best.items(), key=lambda item: -item[1])
    floor = math.log(min_prob)
    kept = [item for item in ranked if item[1] >= floor] or ranked[:1]
    # vLLM's own beam.text decodes the prompt and special tokens too.
    return [Generation(text=cut_at_fence(tokenizer.decode(list(tokens), skip_special_tokens=True)),
                       token_ids=list(tokens), logprob_mean=logp / len(tokens) if tokens else 0.0,
                       n_tokens=len(tokens))
            for tokens, logp in kept]


def predict_by_beam_search(backend: VLLMBackend, requests: list[PredictRequest], fmt: str, max_new_tokens: int,
                           min_prob: float) -> list[Prediction]:
    """search.predict_by_search on vLLM (VLLMBackend.search): every kept answer of every view is a prediction."""
    grid_format = get_format(fmt)
    answers = backend.search([r.prompt_ids for r in requests], max_new_tokens, min_prob)
    if len(answers) != len(requests):
        raise RuntimeError(f"the backend returned answers for {len(answers)} of {len(requests)} prompts")
    return [to_prediction(request, answer, grid_format) for request, found in zip(requests, answers)
            for answer in found]


# max_lora_rank values vLLM accepts (it also takes 1; a rank-1 adapter fits in 8 as well).
VLLM_LORA_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)


def supported_lora_rank(rank: int) -> int:
    """The smallest max_lora_rank vLLM accepts that holds an adapter of this rank."""
    for allowed in VLLM_LORA_RANKS:
        if rank <= allowed:
            return allowed
    raise ValueError(f"LoRA rank {rank} is above the largest rank vLLM serves ({VLLM_LORA_RANKS[-1]})")


def attention_heads(model_path: str | os.PathLike) -> int | None:
    """num_attention_heads from the model folder's config.json (None when not found)."""
    try:
        with open(Path(model_path) / "config.json", encoding="utf-8") as f:
            config = json.load(f)
    except (OSError, ValueError):
        return None
    config = config.get("text_config", config)  # multimodal configs nest the language model's
    heads = config.get("num_attention_heads")
    return int(heads) if heads else None


def usable_tensor_parallel(requested: int, n_heads: int | None) -> int:
    """The requested GPU count if it splits the attention heads evenly, else 1."""
    if requested <= 1 or not n_heads or n_heads % requested:
        return 1
    return requested


def vllm_unavailable_reason() -> str | None:
    """Why vLLM cannot be used here, or None when it can."""
    if importlib.util.find_spec("vllm") is None:
        return "vLLM is not installed"
    import torch

    if not torch.cuda.is_available():
        return "no CUDA GPU is available (vLLM needs one)"
    return None


BACKENDS = ("auto", "vllm", "transformers")


def resolve_backend_name(name: str = "auto") -> str:
    """'vllm' or 'transformers'. auto = vLLM when it is installed and a CUDA GPU is available."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    if name == "auto":
        return "transformers" if vllm_unavailable_reason() else "vllm"
    if name == "vllm":
        reason = vllm_unavailable_reason()
        if reason:
            raise RuntimeError(f"the vLLM backend was asked for, but {reason}; use --backend transformers")
    return name


def choose_backend(
    name: str = "auto",
    model_path: str | os.PathLike | None = None,
    *,
    lora_path: str | os.PathLike | None = None,
    precision: str = "auto",
    batch_size: int = 8,
    tensor_parallel_size: int = 1,
    max_model_len: int = 8192,
    gpu_memory_utilization: float = 0.9,
) -> Backend:
    """Load the model with the chosen backend (see resolve_backend_name)."""
    if model_path is None:
        raise ValueError("choose_backend needs model_path")
    resolved = resolve_backend_name(name)
    if resolved == "vllm":
        # Nothing is fine-tuned beside this engine: it can stay awake.
        return VLLMBackend(model_path, tensor_parallel_size=tensor_parallel_size, max_model_len=max_model_len,
                           gpu_memory_utilization=gpu_memory_utilization, lora_path=lora_path,
                           precision=precision, sleep_mode=False)
    from arc24.models import load_model, load_tokenizer

    model = load_model(model_path, precision=precision)
    if lora_path is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(lora_path)).merge_and_unload().eval()
    return TransformersBackend(model, load_tokenizer(model_path, padding_side="left"), batch_size=batch_size)


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
