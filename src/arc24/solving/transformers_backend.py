"""The transformers backend: batched greedy generation with a Hugging Face model (KV cache, left
padding), free or constrained to the grids of a format (GridConstraint), with each generated
token's log-probability recorded on the way."""

from __future__ import annotations

import numpy as np

from arc24.config import ConfigError
from arc24.data.formats import get_format
from arc24.solving.likelihood import PromptCache
from arc24.solving.inference import FENCE_STOP, Backend, Generation, cut_at_fence, end_token_ids


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
