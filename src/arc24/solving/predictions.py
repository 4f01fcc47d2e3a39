"""predictions.jsonl: one model or program answer per line (the `Prediction` record), its one
reader and its one writer."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass

from arc24.config import ConfigError
from arc24.data.task import Grid, as_grid, grid_to_list
from arc24.files import write_atomic


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
