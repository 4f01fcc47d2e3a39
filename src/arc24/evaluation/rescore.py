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
from arc24.solving.predictions import read_predictions
from arc24.solving.submission import build_submission, write_submission
from arc24.solving.voting import DEFAULT_ENSEMBLE, ENSEMBLES, SELECTIONS, vote_all


def selection_submissions(tasks: dict, predictions: list, names, ensemble: str = DEFAULT_ENSEMBLE) -> dict[str, dict]:
    """The submission each selection makes from the same predictions."""
    return {name: build_submission(tasks, vote_all(predictions, name, ensemble))[0] for name in names}


def source_submissions(tasks: dict, predictions: list, selection: str) -> dict[str, dict]:
    """The submissions of each source alone ("programs", "model") and of every ensemble rule
    ("ensemble:NAME") from the same predictions; the model's candidates ranked by SELECTION."""
    programs = [p for p in predictions if p.source == "programs"]
    model = [p for p in predictions if p.source != "programs"]
    made = {"programs": build_submission(tasks, vote_all(programs))[0],
            "model": build_submission(tasks, vote_all(model, selection))[0]}
    for name in ENSEMBLES:
        made[f"ensemble:{name}"] = build_submission(tasks, vote_all(predictions, selection, name))[0]
    return made


def rescore(run_dir: str | Path, selections: list[str], ensembles: list[str] | None = None) -> list[dict]:
    """One row per selection and ensemble rule, and per source alone when the run searched programs:
    its submission file and, when the run has solutions, its score and pass_n."""
    from arc24.evaluation.scoring import prediction_metrics, score_submission

    run = Path(run_dir)
    ensembles = ensembles or [_run_setting(run, "ensemble", DEFAULT_ENSEMBLE)]
    for name in selections:
        if name not in SELECTIONS:
            raise ConfigError(f"unknown selection {name!r}; choose from {', '.join(SELECTIONS)}")
    for name in ensembles:
        if name not in ENSEMBLES:
            raise ConfigError(f"unknown ensemble {name!r}; choose from {', '.join(ENSEMBLES)}")
    for needed in ("predictions.jsonl", "challenges.json"):
        if not (run / needed).exists():
            raise ConfigError(f"{run}: no {needed}; give the folder of a solve, bench or sweep run")
    solutions = run / "solutions.json"
    tasks = load_tasks(run / "challenges.json", solutions if solutions.exists() else None)
    predictions = [p for p in read_predictions(run / "predictions.jsonl") if p.task_id in tasks]
    scored = any(p.score is not None for p in predictions)
    has_programs = any(p.source == "programs" for p in predictions)
    pass_n = prediction_metrics(predictions, tasks)["pass_n"] if solutions.exists() else None
    made = []  # (selection, ensemble or source, submission)
    for selection in selections:
        for ensemble in ensembles if has_programs else [None]:
            made.append((selection, ensemble, selection_submissions(tasks, predictions, [selection],
                                                                     ensemble or DEFAULT_ENSEMBLE)[selection]))
        if has_programs:
            alone = source_submissions(tasks, predictions, selection)
            made += [(selection, "model alone", alone["model"])]
    if has_programs:
        made.append(("-", "programs alone", source_submissions(tasks, predictions, "vote")["programs"]))
    rows = []
    for selection, how, submission in made:
        name = selection if how is None else f"{selection}.{how.replace(' ', '-')}" if selection != "-" else "programs"
        path = run / f"submission.{name}.json"
        write_submission(submission, path)
        row = {"selection": selection, "ensemble": how, "submission": str(path), "scored_candidates": scored}
        if solutions.exists():
            row |= {"score": score_submission(submission, tasks).score, "pass_n": pass_n}
        rows.append(row)
    return rows


def _run_setting(run: Path, name: str, default: str) -> str:
    settings = run / "solve_settings.json"
    if settings.exists():
        return json.loads(settings.read_text()).get(name, default)
    return default


def search_programs_again(run_dir: str | Path, seconds: float | None = None, workers: int = 0) -> dict:
    """Search programs again for every task of a run with this arc24's DSL, and put the new answers in
    place of the run's (programs.jsonl, the programs' lines of predictions.jsonl, the health rows).

    The model's predictions are kept as they are, so an improved DSL is measured with the model's
    answers of a run that took hours, without the model. Scores of program answers (ensemble=score)
    need the model, so the new answers have none. Returns the programs' summary.
    """
    import dataclasses
    import os

    from arc24.files import write_json_atomic
    from arc24.solving.config import SolveConfig
    from arc24.solving.predictions import write_predictions
    from arc24.solving.programs import PROGRAMS_FILE, ProgramPool, append_outcome, programs_summary
    from arc24.solving.records import read_health

    run = Path(run_dir)
    for needed in ("predictions.jsonl", "challenges.json", "health.json", "solve_settings.json"):
        if not (run / needed).exists():
            raise ConfigError(f"{run}: no {needed}; give the folder of a finished solve or bench run")
    stored = json.loads((run / "solve_settings.json").read_text())
    settings = SolveConfig().programs
    settings = dataclasses.replace(settings, **{k: v for k, v in stored.get("programs", {}).items()
                                                if k in {f.name for f in dataclasses.fields(settings)}})
    if seconds is not None:
        settings = dataclasses.replace(settings, seconds=seconds)
    tasks = load_tasks(run / "challenges.json")
    health = read_health(run / "health.json")
    done = [tasks[h.task_id] for h in health if h.task_id in tasks]
    pool = ProgramPool(done, settings, workers or os.cpu_count() or 1)
    try:
        pool.wait_all()
    finally:
        pool.close()
    (run / PROGRAMS_FILE).unlink(missing_ok=True)
    for task in done:
        append_outcome(run / PROGRAMS_FILE, pool.outcomes[task.id])
    kept = [p for p in read_predictions(run / "predictions.jsonl") if p.source != "programs"]
    write_predictions(run / "predictions.jsonl", kept + [p for t in done for p in pool.outcomes[t.id].predictions()])
    for h in health:
        if h.task_id in pool.outcomes:
            h.programs = pool.outcomes[h.task_id].health()
    write_json_atomic([dataclasses.asdict(h) for h in health], run / "health.json")
    stored["programs"] = dataclasses.asdict(settings)
    write_json_atomic(stored, run / "solve_settings.json", indent=1)
    return programs_summary(health)


def rescore_main(run_dir: str, selections: list[str], ensembles: list[str] | None = None, as_json: bool = False,
                 search_again: bool = False) -> int:
    if search_again:
        summary = search_programs_again(run_dir)
        print(f"programs searched again: {summary['fitted']} of {summary['searched']} tasks have a program that fits; "
              f"{summary['seconds']} s")
    rows = rescore(run_dir, selections, ensembles)
    if as_json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows[0]["scored_candidates"] and any(r["selection"] not in ("vote", "-") for r in rows):
        print("note: this run did not score its candidates (scoring_views=0): every selection but vote "
              "falls back to the vote")
    for r in rows:
        figures = f"score {r['score']:.4f}, pass_n {r['pass_n']:.4f}" if "score" in r else "no solutions.json"
        how = f" {r['ensemble']}" if r["ensemble"] else ""
        print(f"{r['selection'] + how:<32} {figures}  {r['submission']}")
    return 0
