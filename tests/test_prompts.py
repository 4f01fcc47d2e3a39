import numpy as np
import pytest

from arc24.data.formats import FORMATS, get_format
from arc24.data.prompts import (
    IGNORE_INDEX,
    INPUT_FROM_INPUTS,
    OUTPUT_FROM_EXAMPLES,
    PROMPT_VERSIONS,
    answer_grid,
    build_messages,
    encode_for_inference,
    encode_for_training,
    fit_task,
    get_template,
)
from arc24.data.task import Pair, Task
from arc24.models import load_tokenizer

END_OF_TURN = "<|im_end|>"
SMOLLM_SYSTEM = "You are a helpful AI assistant named SmolLM"
OUT_V1 = "output-from-examples-v1"
IN_V1 = "input-from-inputs-v1"


def grid(fill: int, h: int = 2, w: int = 3) -> np.ndarray:
    return np.full((h, w), fill, dtype=np.int8)


def make_task(n_train: int = 3, side: int = 3, hidden_output: bool = False, n_test: int = 1) -> Task:
    # Every grid is recognisable in the prompt text: train inputs, train outputs, test inputs and
    # test outputs each have their own shape, and grids of one role differ by their fill.
    train = [Pair(grid(k, side, side), grid(k, side, side + 1)) for k in range(n_train)]
    test = [
        Pair(grid(9 - i, side + 1, side), None if hidden_output else grid(9 - i, side + 1, side + 1))
        for i in range(n_test)
    ]
    return Task(id="t0", train=train, test=test)


def learned_text(tokenizer, encoded) -> str:
    return tokenizer.decode([t for t, lab in zip(encoded.input_ids, encoded.labels) if lab != IGNORE_INDEX])


def test_registry():
    assert {OUT_V1, IN_V1} <= set(PROMPT_VERSIONS)
    assert get_template(OUT_V1).kind == OUTPUT_FROM_EXAMPLES
    assert get_template(IN_V1).kind == INPUT_FROM_INPUTS
    for name, template in PROMPT_VERSIONS.items():
        assert template.name == name
    with pytest.raises(ValueError, match="output-from-examples-v1.*input-from-inputs-v1"):
        get_template("output-from-examples-v0")
    with pytest.raises(ValueError, match="output-from-examples-v1"):
        build_messages(make_task(), "nope", "numbered-fence")
    with pytest.raises(ValueError, match="unknown grid format"):
        build_messages(make_task(), OUT_V1, "nope")


def test_output_from_examples_messages():
    task = make_task(n_train=2)
    fmt = get_format("numbered-fence")
    messages = build_messages(task, OUT_V1, "numbered-fence")
    assert [m["role"] for m in messages] == ["user", "assistant"]
    user = messages[0]["content"]
    for pair in task.train:
        assert fmt.render(pair.input) in user and fmt.render(pair.output) in user
    assert fmt.render(task.test[0].input) in user
    assert fmt.render(task.test[0].output) not in user
    assert user.index("Example 1 input") < user.index("Example 2 input") < user.index("Test input")
    assert messages[1]["content"] == fmt.render(task.test[0].output)
    np.testing.assert_array_equal(answer_grid(task, OUT_V1), task.test[0].output)

    assert build_messages(task, OUT_V1, "numbered-fence", include_answer=False) == messages[:1]
    hidden = make_task(n_train=2, hidden_output=True)
    assert [m["role"] for m in build_messages(hidden, OUT_V1, "numbered-fence")] == ["user"]
    assert answer_grid(hidden, OUT_V1) is None


def test_input_from_inputs_messages():
    # The held-out test input is the answer, so it exists even when the test output is hidden.
    task = make_task(n_train=2, hidden_output=True, n_test=2)
    fmt = get_format("plain-fence")
    messages = build_messages(task, IN_V1, "plain-fence", test_index=1)
    user = messages[0]["content"]
    shown = [task.train[0].input, task.train[1].input, task.test[0].input]
    for n, g in enumerate(shown, start=1):
        assert f"Input {n}:\n{fmt.render(g)}" in user
    assert "Input 4" not in user
    assert fmt.render(task.test[1].input) not in user
    assert fmt.render(task.train[0].output) not in user
    assert messages[1] == {"role": "assistant", "content": fmt.render(task.test[1].input)}


def test_test_index_out_of_range():
    with pytest.raises(IndexError, match="no test_index 1"):
        build_messages(make_task(), OUT_V1, "numbered-fence", test_index=1)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("template", [OUT_V1, IN_V1])
def test_labels_cover_only_the_answer_and_end_of_turn(smollm_tokenizer, fmt, template):
    task = make_task()
    messages = build_messages(task, template, fmt)
    encoded = encode_for_training(smollm_tokenizer, messages, max_seq_len=4096)
    assert len(encoded.input_ids) == len(encoded.labels) == len(encoded)
    assert learned_text(smollm_tokenizer, encoded) == messages[-1]["content"] + END_OF_TURN
    # The learned tokens are one contiguous run, starting right after the prompt.
    learned = [i for i, lab in enumerate(encoded.labels) if lab != IGNORE_INDEX]
    assert learned == list(range(encoded.prompt_len, learned[-1] + 1))
    assert all(encoded.labels[i] == encoded.input_ids[i] for i in learned)
    # The prompt is exactly what inference feeds the model.
    assert encoded.input_ids[: encoded.prompt_len] == encode_for_inference(smollm_tokenizer, messages[:-1])
    # The newline the template writes after the end-of-turn token is in the input, not learned.
    assert smollm_tokenizer.decode(encoded.input_ids[learned[-1] + 1 :]) == "\n"


def test_system_prompt_is_present_and_masked(smollm_tokenizer):
    messages = build_messages(make_task(), OUT_V1, "numbered-fence")
    encoded = encode_for_training(smollm_tokenizer, messages, max_seq_len=4096)
    full_text = smollm_tokenizer.decode(encoded.input_ids)
    assert full_text.startswith("<|im_start|>system\n" + SMOLLM_SYSTEM)
    assert SMOLLM_SYSTEM not in learned_text(smollm_tokenizer, encoded)
    assert encoded.labels[0] == IGNORE_INDEX


def test_encode_for_inference(smollm_tokenizer):
    messages = build_messages(make_task(), OUT_V1, "numbered-fence", include_answer=False)
    ids = encode_for_inference(smollm_tokenizer, messages)
    assert smollm_tokenizer.decode(ids).endswith("<|im_start|>assistant\n")
    assert ids.count(smollm_tokenizer.bos_token_id) == 3  # system, user, assistant turns: no doubled BOS
    with pytest.raises(ValueError, match="end with the user message"):
        encode_for_inference(smollm_tokenizer, build_messages(make_task(), OUT_V1, "numbered-fence"))


def test_encode_for_training_errors_and_limit(smollm_tokenizer):
    messages = build_messages(make_task(), OUT_V1, "numbered-fence")
    n = len(encode_for_training(smollm_tokenizer, messages, max_seq_len=10**6))
    assert encode_for_training(smollm_tokenizer, messages, max_seq_len=n) is not None
    assert encode_for_training(smollm_tokenizer, messages, max_seq_len=n - 1) is None
    with pytest.raises(ValueError, match="must end with the assistant answer"):
        encode_for_training(smollm_tokenizer, messages[:1], max_seq_len=n)


def test_prompt_not_a_prefix_is_a_clear_error(smollm_dir):
    tokenizer = load_tokenizer(smollm_dir)  # a private copy: the template is changed below
    # A template whose generation prompt differs from how it writes the assistant turn.
    tokenizer.chat_template = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n<think>\n{% endif %}"
    )
    messages = build_messages(make_task(), OUT_V1, "numbered-fence")
    with pytest.raises(ValueError, match="not .*prefix"):
        encode_for_training(tokenizer, messages, max_seq_len=4096)


@pytest.mark.parametrize("template", [OUT_V1, IN_V1])
def test_fit_task_keeps_everything_when_it_fits(smollm_tokenizer, template):
    fitted = fit_task(smollm_tokenizer, make_task(), template, "numbered-fence", max_seq_len=4096)
    assert not fitted.too_long
    assert (fitted.n_train, fitted.n_dropped) == (3, 0)
    assert fitted.length == len(fitted.input_ids) == len(fitted.labels)
    assert fitted.messages[-1]["role"] == "assistant"


@pytest.mark.parametrize("template", [OUT_V1, IN_V1])
def test_fit_task_drops_last_pairs_first(smollm_tokenizer, template):
    task = make_task(n_train=4, side=6)
    lengths = [
        fit_task(smollm_tokenizer, task, template, "numbered-fence", max_seq_len=10**6, test_index=0).length
        for task in [Task(task.id, task.train[:n], task.test) for n in (1, 2, 3, 4)]
    ]
    assert lengths == sorted(lengths) and len(set(lengths)) == 4
    # Room for exactly two pairs.
    fitted = fit_task(smollm_tokenizer, task, template, "numbered-fence", max_seq_len=lengths[1])
    assert not fitted.too_long
    assert (fitted.n_train, fitted.n_dropped) == (2, 2)
    assert fitted.length == lengths[1]
    user = fitted.messages[0]["content"]
    fmt = get_format("numbered-fence")
    assert fmt.render(task.train[0].input) in user and fmt.render(task.train[1].input) in user
    assert fmt.render(task.train[2].input) not in user and fmt.render(task.train[3].input) not in user


@pytest.mark.parametrize("template", [OUT_V1, IN_V1])
def test_fit_task_reports_too_long(smollm_tokenizer, template):
    task = make_task(n_train=3, side=20)
    fitted = fit_task(smollm_tokenizer, task, template, "numbered-fence", max_seq_len=200)
    assert fitted.too_long
    assert fitted.task_id == "t0"
    assert fitted.length > 200  # the length with a single pair left
    assert (fitted.n_train, fitted.n_dropped) == (1, 2)
    assert fitted.input_ids is None and fitted.messages is None


def test_fit_task_for_inference(smollm_tokenizer):
    task = make_task(hidden_output=True)
    fitted = fit_task(smollm_tokenizer, task, OUT_V1, "spaced", max_seq_len=4096, for_training=False)
    assert not fitted.too_long
    assert fitted.labels is None and fitted.answer is None
    assert [m["role"] for m in fitted.messages] == ["user"]
    assert fitted.input_ids == encode_for_inference(smollm_tokenizer, fitted.messages)

    # A known answer is kept out of the inference prompt but returned for scoring.
    known = fit_task(smollm_tokenizer, make_task(), OUT_V1, "spaced", max_seq_len=4096, for_training=False)
    assert [m["role"] for m in known.messages] == ["user"]
    np.testing.assert_array_equal(known.answer, make_task().test[0].output)


def test_fit_task_training_needs_the_answer(smollm_tokenizer):
    with pytest.raises(ValueError, match="unknown"):
        fit_task(smollm_tokenizer, make_task(hidden_output=True), OUT_V1, "numbered-fence", max_seq_len=4096)
    # input-from-inputs trains fine on the same task: its answer is the test input.
    fitted = fit_task(smollm_tokenizer, make_task(hidden_output=True), IN_V1, "numbered-fence", max_seq_len=4096)
    assert not fitted.too_long and fitted.labels is not None


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_learn_examples_labels_every_shown_output(smollm_tokenizer, fmt):
    """With learn_examples the labelled tokens are the examples' outputs, in order, then the answer;
    never an input, even one equal to an output."""
    tokenizer = smollm_tokenizer
    task = make_task(n_train=3)
    task.train[1] = Pair(task.train[1].output.copy(), task.train[1].output)  # an input equal to its output
    render = get_format(fmt).render
    plain = fit_task(tokenizer, task, "output-from-examples-v1", fmt, 4096)
    learned = fit_task(tokenizer, task, "output-from-examples-v1", fmt, 4096, learn_examples=True)
    assert learned.input_ids == plain.input_ids
    runs, current = [], []
    for token, label in zip(learned.input_ids, learned.labels):
        if label != IGNORE_INDEX:
            assert label == token
            current.append(token)
        elif current:
            runs.append(tokenizer.decode(current))
            current = []
    if current:
        runs.append(tokenizer.decode(current))
    expected = [render(p.output) for p in task.train] + [learned_text(tokenizer, plain)]
    assert runs == expected
