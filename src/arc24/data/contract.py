"""The prompt a model was trained with, recorded next to its weights.

A fine-tuned model answers well only in the prompt it learned: the template wording, the grid
format, the length it was trained at, and the tokenizer that turned the text into tokens. The
trainer writes this record (prompt_contract.json) into every checkpoint's model folder, and so
into final/; solving reads it instead of relying on settings that may have drifted from training.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from arc24.config import ConfigError
from arc24.data.formats import get_format
from arc24.data.prompts import OUTPUT_FROM_EXAMPLES, get_template
from arc24.files import read_json, write_json_atomic

CONTRACT_FILE = "prompt_contract.json"


@dataclass(frozen=True)
class PromptContract:
    prompt_tasks: tuple[str, ...]  # the prompt template names trained on (weight > 0), sorted
    grid_format: str
    max_seq_len: int
    tokenizer: str  # tokenizer_fingerprint() of the tokenizer trained with

    def __post_init__(self):
        object.__setattr__(self, "prompt_tasks", tuple(sorted(self.prompt_tasks)))

    @property
    def answer_template(self) -> str | None:
        """The output-from-examples template among prompt_tasks (the one that answers tasks), or None."""
        return next((n for n in self.prompt_tasks if get_template(n).kind == OUTPUT_FROM_EXAMPLES), None)

    def to_json(self) -> dict:
        return {"prompt_tasks": list(self.prompt_tasks), "grid_format": self.grid_format,
                "max_seq_len": self.max_seq_len, "tokenizer": self.tokenizer}

    @classmethod
    def from_json(cls, d, where: str) -> PromptContract:
        """The contract in D; ConfigError naming WHERE and the field when a field is missing or wrong."""
        if not isinstance(d, dict):
            raise ConfigError(f"{where}: expected a mapping of the contract's fields, got {type(d).__name__}")
        unknown = sorted(set(d) - {"prompt_tasks", "grid_format", "max_seq_len", "tokenizer"})
        if unknown:
            raise ConfigError(f"{where}: unknown field {unknown[0]}")

        def value(name, ok, expected):
            if name not in d:
                raise ConfigError(f"{where}: missing field {name}")
            if not ok(d[name]):
                raise ConfigError(f"{where}: {name}: expected {expected}, got {d[name]!r}")
            return d[name]

        tasks = value("prompt_tasks", lambda v: isinstance(v, list) and v and all(isinstance(n, str) for n in v),
                      "a non-empty list of prompt template names")
        grid_format = value("grid_format", lambda v: isinstance(v, str), "a grid format name")
        max_seq_len = value("max_seq_len", lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0,
                            "a positive integer")
        tokenizer = value("tokenizer", lambda v: isinstance(v, str) and len(v) == 16, "a 16-character fingerprint")
        # Names this code does not know (a contract from a newer version) are refused here, not
        # found out when the first prompt is built.
        try:
            for name in tasks:
                get_template(name)
        except ValueError as exc:
            raise ConfigError(f"{where}: prompt_tasks: {exc}") from None
        try:
            get_format(grid_format)
        except ValueError as exc:
            raise ConfigError(f"{where}: grid_format: {exc}") from None
        return cls(tuple(tasks), grid_format, max_seq_len, tokenizer)


def tokenizer_fingerprint(tokenizer) -> str:
    """16 hex characters of sha256 over the vocabulary (token -> id), the special tokens and the chat template.

    The pad token is left out: it never reaches a prompt, and load_tokenizer sets it when the
    model has none, so leaving it in would tell apart tokenizers that encode prompts alike.
    About 0.1 s for a 50,000-token vocabulary.
    """
    special = sorted((role, token) for role, token in tokenizer.special_tokens_map.items() if role != "pad_token")
    # The chat template is part of every prompt: a changed template changes what the model sees.
    blob = json.dumps([sorted(tokenizer.get_vocab().items()), special, getattr(tokenizer, "chat_template", None)])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def write_contract(folder: str | os.PathLike, contract: PromptContract) -> Path:
    return write_json_atomic(contract.to_json(), Path(folder) / CONTRACT_FILE, indent=1)


def read_contract(folder: str | os.PathLike) -> PromptContract | None:
    """The contract in FOLDER; None when it has none; ConfigError naming the file when it is unreadable or wrong."""
    path = Path(folder) / CONTRACT_FILE
    if not path.exists():
        return None
    return PromptContract.from_json(read_json(path, "prompt contract"), where=str(path))
