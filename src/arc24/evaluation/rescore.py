"""`arc24 rescore RUN --selection NAME`: a finished run's attempts chosen again, without the model.

Every prediction of every view is in the run's predictions.jsonl, with each candidate's score
when the run scored candidates, so the selections (voting.SELECTIONS) can be compared on the
same candidates: each writes `submission.NAME.json` in the run folder, and with the run's
solutions.json its score is printed beside pass_n, the share of test outputs that some
candidate got right (the ceiling any selection can reach).
"""

from __future__ import annotations

import json
from pathlib import Path

from arc24.config import ConfigError
from arc24.data.tasks import load_tasks
from arc24.solving.inference import read_predictions
from arc24.solving.submission import build_submission, write_submission
from arc24.solving.voting import SELECTIONS, vote_all


def selection_submissions(tasks: dict, predictions: list, names) -> dict[str, dict]:
    """The submission each selection makes from the same predictions."""
    return {name: build_submission(tasks, vote_all(predictions, name))[0] for name in names}


def rescore(run_dir: str | Path, selections: list[str]) -> list[dict]:
    """One row per selection: its submission file and, when the run has solutions, its score and pass_n."""
    from arc24.evaluation.scoring import prediction_metrics, score_submission

    run = Path(run_dir)
    for name in selections:
        if name not in SELECTIONS:
            raise ConfigError(f"unknown selection {name!r}; choose from {', '.join(SELECTIONS)}")
    for needed in ("predictions.jsonl", "challenges.json"):
        if not (run / needed).exists():
            raise ConfigError(f"{run}: no {needed}; give the folder of a solve, bench or sweep run")
    solutions = run / "solutions.json"
    tasks = load_tasks(run / "challenges.json", solutions if solutions.exists() else None)
    predictions = [p for p in read_predictions(run / "predictions.jsonl") if p.task_id in tasks]
    scored = any(p.score is not None for p in predictions)
    pass_n = prediction_metrics(predictions, tasks)["pass_n"] if solutions.exists() else None
    rows = []
    for name, submission in selection_submissions(tasks, predictions, selections).items():
        path = run / f"submission.{name}.json"
        write_submission(submission, path)
        row = {"selection": name, "submission": str(path), "scored_candidates": scored}
        if solutions.exists():
            row |= {"score": score_submission(submission, tasks).score, "pass_n": pass_n}
        rows.append(row)
    return rows


def rescore_main(run_dir: str, selections: list[str], as_json: bool = False) -> int:
    rows = rescore(run_dir, selections)
    if as_json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows[0]["scored_candidates"] and any(r["selection"] != "vote" for r in rows):
        print("note: this run did not score its candidates (scoring_views=0): every selection but vote "
              "falls back to the vote")
    for r in rows:
        figures = f"score {r['score']:.4f}, pass_n {r['pass_n']:.4f}" if "score" in r else "no solutions.json"
        print(f"{r['selection']:<11} {figures}  {r['submission']}")
    return 0
