"""Prompts for the two prompt tasks, built with the tokenizer's own chat template.

- "output-from-examples": the train pairs and a test input are shown; the answer is the
  test output. This is the ARC task itself.
- "input-from-inputs": inputs of a task are shown; the answer is one more input from the
  same distribution (the held-out test input). An auxiliary task: learning to generate
  inputs teaches the model what the task's inputs have in common.

Prompt wording is versioned by name in PROMPT_VERSIONS and never edited in place: a trained
model records the template names (and grid format) it was trained with in its prompt contract
(arc24.data.contract), and inference must use the same ones. A new wording gets a new name ("...-v2").

No system message is added: the chat template's default behaviour is kept (SmolLM2 and
Qwen2.5 inject their own default system prompt), so the prompt looks like what the
instruction-tuned model has seen. It is part of the prompt, hence masked from the loss.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from arc24.data.formats import get_format
from arc24.data.task import Grid, Task

OUTPUT_FROM_EXAMPLES = "output-from-examples"
INPUT_FROM_INPUTS = "input-from-inputs"
PROMPT_KINDS = (OUTPUT_FROM_EXAMPLES, INPUT_FROM_INPUTS)

IGNORE_INDEX = -100  # label value ignored by the cross-entropy loss


@dataclass(frozen=True)
class PromptTemplate:
    """The wording of one prompt version. The user message is intro, examples, query joined by blank lines.

    `example` is formatted with n (1-based), input and output (rendered grids; output unused
    by input-from-inputs); `query` with input (the rendered test input; unused by
    input-from-inputs, whose answer is itself an input).
    """

    name: str
    kind: str
    intro: str
    example: str
    query: str


PROMPT_VERSIONS: dict[str, PromptTemplate] = {
    t.name: t
    for t in (
        PromptTemplate(
            name="output-from-examples-v1",
            kind=OUTPUT_FROM_EXAMPLES,
            intro="Find the rule that transforms each input grid into its output grid.",
            example="Example {n} input:\n{input}\nExample {n} output:\n{output}",
            query="Test input:\n{input}\nApply the rule to the test input. Answer with the output grid only.",
        ),
        PromptTemplate(
            name="input-from-inputs-v1",
            kind=INPUT_FROM_INPUTS,
            intro="These input grids all follow the same hidden pattern.",
            example="Input {n}:\n{input}",
            query="Write one more input grid that follows the same pattern. Answer with the grid only.",
        ),
    )
}

# The template that asks for a task's answer when nothing says otherwise (a model without a
# prompt contract, the training default).
DEFAULT_TEMPLATE = "output-from-examples-v1"


def get_template(name: str) -> PromptTemplate:
    try:
        return PROMPT_VERSIONS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown prompt template {name!r}; known templates: {', '.join(PROMPT_VERSIONS)}") from None


def _shown_and_answer(task: Task, kind: str, test_index: int):
    """(shown examples as (input, output | None) pairs, the query grid or None, the answer grid or None)."""
    if not 0 <= test_index < len(task.test):
        raise IndexError(f"task {task.id} has {len(task.test)} test inputs, no test_index {test_index}")
    test = task.test[test_index]
    if kind == OUTPUT_FROM_EXAMPLES:
        return [(p.input, p.output) for p in task.train], test.input, test.output
    # input-from-inputs: every input but the held-out test input is shown, train inputs first.
    others = [p.input for i, p in enumerate(task.test) if i != test_index]
    return [(p.input, None) for p in task.train] + [(g, None) for g in others], None, test.input


def answer_grid(task: Task, template_name: str, test_index: int = 0) -> Grid | None:
    """The grid the assistant should answer with, or None when it is unknown (hidden test output)."""
    return _shown_and_answer(task, get_template(template_name).kind, test_index)[2]


def build_messages(
    task: Task, template_name: str, fmt: str, test_index: int = 0, include_answer: bool = True
) -> list[dict]:
    """The chat: one user message, plus the assistant answer when include_answer and the answer is known."""
    return _build(task, template_name, fmt, test_index, include_answer)[0]


def _build(task: Task, template_name: str, fmt: str, test_index: int, include_answer: bool):
    """The messages, and the character spans of the shown examples' outputs in the user message."""
    template = get_template(template_name)
    grid_format = get_format(fmt)
    shown, query, answer = _shown_and_answer(task, template.kind, test_index)
    parts, spans, start = [template.intro], [], len(template.intro) + 2
    for n, (inp, out) in enumerate(shown, start=1):
        output = grid_format.render(out) if out is not None else ""
        part = template.example.format(n=n, input=grid_format.render(inp), output=output)
        if output:  # the output is the last field of an example, so its last occurrence
            at = start + part.rindex(output)
            spans.append((at, at + len(output)))
        parts.append(part)
        start += len(part) + 2
    parts.append(template.query.format(input=grid_format.render(query) if query is not None else ""))
    messages = [{"role": "user", "content": "\n\n".join(parts)}]
    if include_answer and answer is not None:
        messages.append({"role": "assistant", "content": grid_format.render(answer)})
    return messages, spans


@dataclass(frozen=True)
class Encoded:
    input_ids: list[int]
    labels: list[int]  # IGNORE_INDEX except on the answer and the end-of-turn token closing it
    prompt_len: int  # tokens before the answer

    def __len__(self) -> int:
        return len(self.input_ids)


def _token_ids(tokenizer, messages: list[dict], add_generation_prompt: bool) -> list[int]:
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt)
    # The chat template writes any BOS/special tokens itself; adding them again would double them.
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def _encode_training(tokenizer, messages: list[dict], example_spans=()) -> Encoded:
    """example_spans: character spans of the user message whose tokens are learned too (the shown
    examples' outputs, see fit_task's learn_examples)."""
    if not messages or messages[-1].get("role") != "assistant":
        raise ValueError("training messages must end with the assistant answer")
    prompt = _token_ids(tokenizer, messages[:-1], add_generation_prompt=True)
    full = _token_ids(tokenizer, messages, add_generation_prompt=False)
    if full[: len(prompt)] != prompt:
        raise ValueError(
            "the chat template does not tokenize the prompt as a prefix of the full conversation, "
            "so the answer tokens cannot be located; this tokenizer/template is not supported"
        )
    completion = full[len(prompt) :]
    # The template closes the answer with end-of-turn token(s), often followed by a newline.
    # The model must learn to emit the end-of-turn token (that is what stops generation), but
    # what follows it is never generated, so labels stop at the last special token.
    special = set(tokenizer.all_special_ids)
    last_special = max((i for i, t in enumerate(completion) if t in special), default=len(completion) - 1)
    n_learned = last_special + 1
    labels = [IGNORE_INDEX] * len(prompt) + completion[:n_learned] + [IGNORE_INDEX] * (len(completion) - n_learned)
    if example_spans:
        _label_spans(tokenizer, messages, example_spans, full, labels)
    return Encoded(input_ids=full, labels=labels, prompt_len=len(prompt))


def _label_spans(tokenizer, messages: list[dict], spans, ids: list[int], labels: list[int]) -> None:
    """Give the tokens that lie inside the user message's character spans their own ids as labels."""
    text = tokenizer.apply_chat_template(messages, tokenize=False)
    base = text.index(messages[0]["content"])
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    if list(encoded["input_ids"]) != ids:
        raise ValueError("the tokenizer's offsets do not match its tokens; learn_examples is not supported with it")
    bounds = [(base + a, base + b) for a, b in spans]
    for i, (a, b) in enumerate(encoded["offset_mapping"]):
        if a < b and any(lo <= a and b <= hi for lo, hi in bounds):
            labels[i] = ids[i]


def encode_for_training(tokenizer, messages: list[dict], max_seq_len: int) -> Encoded | None:
    """Token ids and labels for a conversation ending with the answer; None when longer than max_seq_len."""
    encoded = _encode_training(tokenizer, messages)
    return encoded if len(encoded) <= max_seq_len else None


def encode_for_inference(tokenizer, messages: list[dict]) -> list[int]:
    """Token ids of the prompt, ending with the generation prompt (the assistant turn's opening)."""
    if not messages or messages[-1].get("role") != "user":
        raise ValueError("inference messages must end with the user message (build them with include_answer=False)")
    return _token_ids(tokenizer, messages, add_generation_prompt=True)


@dataclass(frozen=True)
class Fitted:
    """A task's prompt fitted into max_seq_len, or the report that it cannot be.

    When too_long, messages/input_ids/labels are None and `length` is the token count with a
    single train pair (the shortest prompt tried); the caller counts and names such tasks.
    """

    task_id: str
    template_name: str
    test_index: int
    n_train: int  # train pairs kept
    n_dropped: int  # train pairs dropped (the last ones) to fit
    length: int
    too_long: bool = False
    messages: list[dict] | None = None
    input_ids: list[int] | None = None
    labels: list[int] | None = None  # only when fitted for training
    answer: Grid | None = None  # the expected answer grid when known (for scoring)


def fit_task(
    tokenizer,
    task: Task,
    template_name: str,
    fmt: str,
    max_seq_len: int,
    for_training: bool = True,
    test_index: int = 0,
    learn_examples: bool = False,
) -> Fitted:
    """Build and encode the prompt, dropping train pairs (last first, keeping at least one) until it fits.

    For training the answer counts towards the length and must be known. For inference only
    the prompt is encoded; the caller must leave room for the generated answer in max_seq_len.
    learn_examples (training): the shown examples' outputs are learned too, each predicted from
    the examples before it, so one sequence teaches the rule several times over.
    """
    answer = answer_grid(task, template_name, test_index)
    if for_training and answer is None:
        raise ValueError(f"task {task.id}: test output {test_index} is unknown, cannot build a training example")
    n_total = len(task.train)
    min_train = min(n_total, 1)  # keep at least one pair (a task without any stays as it is)
    length = 0
    # Prompt length grows with the number of pairs, so the first count that fits keeps the most.
    for n_train in range(n_total, min_train - 1, -1):
        trimmed = dataclasses.replace(task, train=task.train[:n_train])
        messages, spans = _build(trimmed, template_name, fmt, test_index, include_answer=for_training)
        if for_training:
            encoded = _encode_training(tokenizer, messages, spans if learn_examples else ())
            input_ids, labels = encoded.input_ids, encoded.labels
        else:
            input_ids, labels = encode_for_inference(tokenizer, messages), None
        length = len(input_ids)
        if length <= max_seq_len:
            return Fitted(
                task_id=task.id,
                template_name=template_name,
                test_index=test_index,
                n_train=n_train,
                n_dropped=n_total - n_train,
                length=length,
                messages=messages,
                input_ids=input_ids,
                labels=labels,
                answer=answer,
            )
    return Fitted(
        task_id=task.id,
        template_name=template_name,
        test_index=test_index,
        n_train=min_train,
        n_dropped=n_total - min_train,
        length=length,
        too_long=True,
        answer=answer,
    )
