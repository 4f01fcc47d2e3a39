"""More candidates than greedy decoding gives: a depth-first search over the answer's tokens.

Greedy decoding follows the likeliest token at every step and so gives one answer per view; a
right answer whose first uncertain cell lost by a little is never written. The search instead
keeps every answer whose probability (the product of its tokens') is at least `min_prob`,
likeliest branches first, so the greedy answer comes first when it qualifies. It needs grid-
constrained decoding (transformers_backend.GridConstraint): only tokens that continue a grid are followed,
and every answer ends with the end-of-turn token. At most 1/min_prob answers can qualify, and
`max_answers` caps them; a budget of forward steps (8 answers' worth) bounds the search when
many branches start likely and end unlikely.

One key-value cache serves the whole search: going back to a shorter prefix crops it
(DynamicCache.crop), so memory stays that of one sequence. Transformers backend only.
"""

from __future__ import annotations

import math

from arc24.solving.inference import Generation, cut_at_fence
from arc24.solving.transformers_backend import TransformersBackend

# The most answers one view may give; vLLM's beam search (VLLMBackend.search) uses it as its width.
MAX_ANSWERS = 8


def depth_first(backend: TransformersBackend, prompt_ids: list[int], max_new_tokens: int, min_prob: float,
                max_answers: int = MAX_ANSWERS) -> list[Generation]:
    """The answers of probability >= min_prob (likeliest branches first); the greedy one alone when none qualifies."""
    import torch

    model, constraint = backend.model, backend.constraint
    if constraint is None:
        raise ValueError("the depth-first search needs grid-constrained decoding (constrained_decoding=true)")
    end_ids = set(backend.end_ids)
    floor = math.log(min_prob)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    answers: list[Generation] = []
    try:
        with torch.inference_mode():
            out = model(input_ids=torch.tensor([prompt_ids], device=device), use_cache=True)
            cache = out.past_key_values
            start = constraint.start()

            def options(logits, state, logp: float) -> list[tuple[int, float]]:
                """(token, cumulative log-probability) of the tokens worth following, likeliest first."""
                lp = torch.log_softmax(logits.float(), dim=-1)
                allowed = torch.tensor(list(constraint.allowed(state)), device=lp.device)
                values = lp[allowed]
                keep = (values + logp >= floor).nonzero()[:, 0]
                order = keep[values[keep].argsort(descending=True)]
                return [(int(t), logp + float(lp[t])) for t in allowed[order]]

            # A frame: the tokens so far, the grammar state after them, the options still to try.
            stack = [([], start, options(out.logits[0, -1], start, 0.0))]
            budget = 8 * max_new_tokens
            while stack and len(answers) < max_answers and budget > 0:
                tokens, state, todo = stack[-1]
                if not todo:
                    stack.pop()
                    continue
                token, logp = todo.pop(0)
                if token in end_ids or len(tokens) + 1 >= max_new_tokens:
                    answers.append(_generation(backend, tokens + [token], logp))
                    continue
                after = constraint.allowed(state)[token]
                surplus = cache.get_seq_length() - (len(prompt_ids) + len(tokens))
                if surplus:  # back to this frame's prefix
                    cache.crop(-surplus)
                step = model(input_ids=torch.tensor([[token]], device=device), past_key_values=cache, use_cache=True)
                budget -= 1
                stack.append((tokens + [token], after, options(step.logits[0, -1], after, logp)))
    finally:
        model.train(was_training)
    if not answers:  # nothing reached min_prob: the greedy answer, as without the search
        return backend.generate([prompt_ids], max_new_tokens)
    return answers


def _generation(backend: TransformersBackend, tokens: list[int], logp: float) -> Generation:
    text = cut_at_fence(backend.tokenizer.decode(tokens, skip_special_tokens=True))
    return Generation(text=text, token_ids=tokens, logprob_mean=logp / len(tokens), n_tokens=len(tokens))


def predict_by_search(backend: TransformersBackend, requests: list, fmt: str, max_new_tokens: int,
                      min_prob: float, max_answers: int = MAX_ANSWERS) -> list:
    """inference.predict with the search: every qualifying answer of every view is a prediction."""
    from arc24.data.formats import get_format
    from arc24.solving.inference import to_prediction

    grid_format = get_format(fmt)
    return [to_prediction(request, answer, grid_format) for request in requests
            for answer in depth_first(backend, request.prompt_ids, max_new_tokens, min_prob, max_answers)]
