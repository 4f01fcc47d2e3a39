"""The prompt contract: what a trained model records about the prompt it learned."""

import json

import pytest

from arc24.config import ConfigError
from arc24.data.contract import CONTRACT_FILE, PromptContract, read_contract, tokenizer_fingerprint, write_contract
from arc24.models import load_tokenizer

CONTRACT = PromptContract(("output-from-examples-v1", "input-from-inputs-v1"), "numbered-fence", 768,
                          "0123456789abcdef")


def test_round_trip_through_a_folder(tmp_path):
    assert read_contract(tmp_path) is None  # no contract: a plain base model
    path = write_contract(tmp_path, CONTRACT)
    assert path == tmp_path / CONTRACT_FILE
    assert read_contract(tmp_path) == CONTRACT
    assert PromptContract.from_json(CONTRACT.to_json(), "here") == CONTRACT
    assert CONTRACT.prompt_tasks == ("input-from-inputs-v1", "output-from-examples-v1")  # sorted
    assert CONTRACT.answer_template == "output-from-examples-v1"
    assert PromptContract(("input-from-inputs-v1",), "spaced", 100, "0" * 16).answer_template is None


def test_a_corrupt_contract_is_a_one_line_error_naming_the_file(tmp_path):
    path = tmp_path / CONTRACT_FILE
    path.write_text('{"prompt_tasks": ["output-from-examples-v1"], "grid_')
    with pytest.raises(ConfigError) as info:
        read_contract(tmp_path)
    message = str(info.value)
    assert str(path) in message and "invalid JSON" in message and "\n" not in message


@pytest.mark.parametrize("change, field", [
    ({"max_seq_len": "long"}, "max_seq_len"),
    ({"prompt_tasks": []}, "prompt_tasks"),
    ({"prompt_tasks": ["output-from-examples-v9"]}, "prompt_tasks"),
    ({"grid_format": "braille"}, "grid_format"),
    ({"tokenizer": None}, "tokenizer"),
    ({"colour": "blue"}, "colour"),
])
def test_a_bad_field_is_named(tmp_path, change, field):
    (tmp_path / CONTRACT_FILE).write_text(json.dumps({**CONTRACT.to_json(), **change}))
    with pytest.raises(ConfigError, match=f"{CONTRACT_FILE}: .*{field}"):
        read_contract(tmp_path)


@pytest.mark.parametrize("field", ["prompt_tasks", "grid_format", "max_seq_len", "tokenizer"])
def test_a_missing_field_is_named(field):
    data = CONTRACT.to_json()
    del data[field]
    with pytest.raises(ConfigError, match=f"^where: missing field {field}$"):
        PromptContract.from_json(data, "where")


@pytest.mark.slow
def test_tokenizer_fingerprint_is_stable_and_sees_an_added_token(smollm_dir, smollm_tokenizer, tiny_model_dir):
    first = tokenizer_fingerprint(smollm_tokenizer)
    assert len(first) == 16 and int(first, 16) >= 0
    assert tokenizer_fingerprint(load_tokenizer(smollm_dir, padding_side="left")) == first
    # A saved copy (the tiny model's, a checkpoint's) is the same tokenizer.
    assert tokenizer_fingerprint(load_tokenizer(tiny_model_dir)) == first
    grown = load_tokenizer(smollm_dir)
    grown.add_tokens(["<arc24-new-token>"])
    assert tokenizer_fingerprint(grown) != first
