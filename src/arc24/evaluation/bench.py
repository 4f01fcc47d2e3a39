"""`arc24 bench SUITE`: the solve pipeline on a named suite of tasks with known outputs, measured.

A suite is a file in `suites/`, versioned by its name: either the tasks themselves with their
test outputs inline (`one-rule-v1`), or a list of task ids per source in the shared ARC data
(`real-small-v1`, made by tools/make_real_small.py; the paths are relative to --data).

The run folder gets the suite's tasks as challenges.json + solutions.json, everything `solve`
writes, and then:
- `bench.json`: the suite, the settings, the machine, the commit, the ARC score, the pass_n and
  vote_2 means (scoring.prediction_metrics), one row per task (solved, pass_n, vote_2, seconds),
  the mean of the tasks' seconds and this command's wall seconds (shorter when it resumed a run);
- `bench.md`: the same as a table;
- `solved/` and `missed/`: a PNG per task with its attempts (a task is solved when all its test
  outputs are).

The defaults suit a CPU: the embedded SmolLM2 and the `new-lora` profile (a new LoRA per task,
40 steps, 8 views); `--set` changes any SolveConfig setting. Runs continue: the same command again
keeps the tasks already done (as solve does), a run with other settings in the same folder is
refused, and `--set overwrite=true` starts over.

`--grid KEY=V1,V2` (repeatable) is a sweep: one bench run per combination of the values, each in
OUT/<the settings it changes from the run without --grid> (`baseline` when it changes none, so
one-setting sweeps into the same OUT share their baseline), then `sweep.json` and `sweep.md`
over every run in OUT: a row per run (best score first) and which tasks each one solved.
"""

from __future__ import annotations

import itertools
import os
import platform
import subprocess
import time
from dataclasses import asdict
from pathlib import Path

from arc24.config import ConfigError, flatten, load_config
from arc24.data.task import grid_to_list
from arc24.data.tasks import load_tasks, select_tasks
from arc24.evaluation.render import render_task
from arc24.evaluation.rescore import selection_submissions, source_submissions
from arc24.evaluation.scoring import prediction_metrics, read_submission, score_submission
from arc24.files import read_json, run_name, write_atomic, write_json_atomic
from arc24.solving.config import SolveConfig
from arc24.solving.predictions import read_predictions
from arc24.solving.records import read_health
from arc24.solving.voting import SELECTIONS

SUITES_DIR = Path(__file__).resolve().parent / "suites"
REPO = Path(__file__).resolve().parents[3]

# The embedded model with the recipe for a new LoRA per task (solving.config.PROFILES), so the
# bench measures what a user of the CPU would run. 200 new tokens hold the longest answer of both
# suites (143 tokens): a model that never closes its grid costs 200 tokens per view, not a 30x30
# grid's 1,039.
# Candidates are scored under 8 views, so that `arc24 rescore` can compare every selection and the
# score ensemble on the same run (the profile itself votes).
CPU_BENCH = ["model=embedded", "profile=new-lora", "max_new_tokens=200", "scoring_views=8"]
# `make demo`'s tasks (arc24 demo --tasks N takes the first N): real ARC-AGI-1 evaluation tasks
# of real-small-v1 that the new-lora profile solved in its benchmark (README, "Benchmark suites"),
# the likeliest first (8, 4 and 2 of the 8 views right there).
DEMO_SUITE = "real-small-v1"
DEMO_TASKS = ["66e6c45b", "e633a9e5", "ca8de6ea"]
# Settings the bench sets itself.
OWN = {"challenges": "the suite", "solutions": "the suite", "task_ids": "--tasks", "out_dir": "--out"}


def suite_names() -> list[str]:
    return sorted(p.stem for p in SUITES_DIR.glob("*.json"))


def check_suite(name: str) -> Path:
    if name not in suite_names():
        raise ConfigError(f"unknown suite {name!r} (known: {', '.join(suite_names())})")
    return SUITES_DIR / f"{name}.json"


def load_suite(name: str, data_dir: str | os.PathLike) -> tuple[dict, dict[str, str]]:
    """The suite's tasks with their test outputs, in suite order, and the source of each task."""
    path = check_suite(name)
    suite = read_json(path, "suite")
    if "sources" not in suite:  # the tasks themselves
        tasks = load_tasks(path)
        return tasks, {task_id: name for task_id in tasks}
    tasks, sources = {}, {}
    for source in suite["sources"]:
        files = [Path(data_dir) / f for f in (source["challenges"], source["solutions"]) if f]
        for f in files:
            if not f.exists():
                raise ConfigError(f"{f}: not found; suite {name} takes its tasks from the shared ARC data "
                                  f"(--data DIR, the folder with {source['challenges'].split('/')[0]}/)")
        chosen = select_tasks(load_tasks(*files), source["task_ids"])
        tasks.update(chosen)
        sources.update({task_id: source["source"] for task_id in chosen})
    return tasks, sources


def bench_config(sets: list[str], out: Path) -> SolveConfig:
    """SolveConfig from the CPU defaults and the --set overrides; the tasks and the folder are the bench's."""
    for item in sets:
        key = item.split("=", 1)[0].strip()
        if key in OWN:
            raise ConfigError(f"--set {key}: the bench sets it from {OWN[key]}")
    config = load_config(SolveConfig, None, CPU_BENCH + list(sets)).with_profile()  # as solve will
    config.challenges, config.solutions = str(out / "challenges.json"), str(out / "solutions.json")
    config.out_dir = str(out)
    config.check()
    return config


def machine() -> dict:
    import torch

    return {"platform": platform.platform(), "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def git_commit() -> str | None:
    """The checkout's commit, with -dirty when it has changes; None outside a git checkout."""
    try:
        done = subprocess.run(["git", "describe", "--always", "--dirty", "--abbrev=40"], cwd=REPO,
                              capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def write_suite_tasks(tasks: dict, folder: Path) -> tuple[Path, Path]:
    """A suite's tasks as FOLDER/challenges.json and FOLDER/solutions.json (the Kaggle layout)."""
    folder.mkdir(parents=True, exist_ok=True)
    challenges, solutions = folder / "challenges.json", folder / "solutions.json"
    write_json_atomic({t: task.to_json(with_test_outputs=False) for t, task in tasks.items()}, challenges)
    write_json_atomic({t: [grid_to_list(p.output) for p in task.test] for t, task in tasks.items()}, solutions)
    return challenges, solutions


def bench(suite: str, sets: list[str], data: str | os.PathLike, out: str | os.PathLike | None = None,
          n_tasks: int | None = None, progress: bool = True) -> dict:
    from arc24.solving.solve import solve

    check_suite(suite)
    out = Path(out or Path("runs") / "bench" / suite).resolve()  # x and ./x: one run in solve's settings
    config = bench_config(sets, out)
    tasks, sources = load_suite(suite, data)
    if n_tasks is not None and not 1 <= n_tasks <= len(tasks):
        raise ConfigError(f"--tasks must be between 1 and {len(tasks)} (the suite has {len(tasks)} tasks), got {n_tasks}")
    tasks = dict(list(tasks.items())[:n_tasks])
    # solve writes these two files again, the same, from what it loaded: they are the run's record of its tasks
    write_suite_tasks(tasks, out)
    began = time.monotonic()
    solve(config, progress=progress)
    wall = time.monotonic() - began
    return report(suite, tasks, sources, config, sets, wall)


def report(suite: str, tasks: dict, sources: dict, config: SolveConfig, sets: list[str], wall: float) -> dict:
    """bench.json, bench.md and the PNGs of a finished run, from the files solve wrote."""
    out = Path(config.out_dir)
    submission = read_submission(out / "submission.json")
    score = score_submission(submission, tasks)
    predictions = read_predictions(out / "predictions.jsonl")
    model_predictions = [p for p in predictions if p.source != "programs"]
    metrics = prediction_metrics(model_predictions, tasks)  # pass_n, vote_2: the model's views
    health = {h.task_id: h for h in read_health(out / "health.json")}
    # With scored candidates, every selection's score on the same candidates (arc24 rescore).
    selections = {}
    if any(p.score is not None for p in predictions):
        selections = {name: score_submission(made, tasks).score
                      for name, made in selection_submissions(tasks, predictions, SELECTIONS, config.ensemble).items()}
    by_source = {name: score_submission(made, tasks)
                 for name, made in source_submissions(tasks, predictions, config.selection).items()}
    rows = [{"task_id": t, "source": sources[t], "solved": score.per_task[t]["score"] == 1.0,
             "score": score.per_task[t]["score"], "pass_n": metrics["per_task"][t]["pass_n"],
             "vote_2": metrics["per_task"][t]["vote_2"], "seconds": health[t].seconds, "weights": health[t].weights,
             "programs": by_source["programs"].per_task[t]["score"] == 1.0,
             "model": by_source["model"].per_task[t]["score"] == 1.0,
             "program": health[t].programs.get("program", ""),
             "program_seconds": health[t].programs.get("seconds", 0.0),
             "model_seconds": 0.0 if health[t].weights in ("programs", "none") else health[t].seconds}
            for t in tasks]
    result = {"suite": suite, "tasks": len(rows), "settings": asdict(config), "overrides": CPU_BENCH + list(sets),
              "machine": machine(), "commit": git_commit(), "wall_seconds": round(wall, 1),
              "seconds_per_task": round(sum(r["seconds"] for r in rows) / len(rows), 2),
              "score": score.score, "pass_n": metrics["pass_n"], "vote_2": metrics["vote_2"],
              "selections": selections, "three_way": three_way(rows, by_source, config), "per_task": rows}
    write_json_atomic(result, out / "bench.json", indent=1)
    table = markdown(result)
    write_atomic(out / "bench.md", lambda tmp: tmp.write_text(table, encoding="utf-8"))
    # the pictures of this report's tasks only: an earlier run in this folder may have had more
    for old in [*out.glob("solved/*.png"), *out.glob("missed/*.png")]:
        old.unlink()
    for row in rows:
        folder = out / ("solved" if row["solved"] else "missed")
        render_task(tasks[row["task_id"]], folder / f"{row['task_id']}.png", attempts=submission.get(row["task_id"]),
                    title=f"{row['task_id']} ({row['source']})")
    summary = {k: result[k] for k in ("suite", "tasks", "score", "pass_n", "vote_2", "seconds_per_task",
                                      "wall_seconds", "commit")}
    return {**result, "table": table, "summary": {**summary, "out": str(out)}}


def three_way(rows: list[dict], by_source: dict, config: SolveConfig) -> dict:
    """Programs alone, the model alone and the ensemble on the same tasks: score, tasks solved, seconds per
    task (the ensemble's are the two together), and the score of every ensemble rule."""
    n = max(len(rows), 1)
    program_seconds = sum(r["program_seconds"] for r in rows) / n
    model_seconds = sum(r["model_seconds"] for r in rows) / n

    def entry(name: str, seconds: float) -> dict:
        made = by_source[name]
        return {"score": made.score, "solved": sum(t["score"] == 1.0 for t in made.per_task.values()),
                "seconds_per_task": round(seconds, 2)}

    return {"solvers": config.solvers, "ensemble_rule": config.ensemble,
            "programs": entry("programs", program_seconds), "model": entry("model", model_seconds),
            "ensemble": entry(f"ensemble:{config.ensemble}", program_seconds + model_seconds),
            "ensembles": {name.split(":", 1)[1]: made.score for name, made in by_source.items() if ":" in name}}


def markdown(result: dict) -> str:
    lines = [f"# {result['suite']}: score {result['score']:.3f}, pass_n {result['pass_n']:.3f}, "
             f"vote_2 {result['vote_2']:.3f} over {result['tasks']} tasks",
             "",
             f"{result['seconds_per_task']} s per task, {result['wall_seconds']} s wall; "
             f"{result['machine']['platform']}, {result['machine']['cores']} cores; commit {result['commit']}",
             f"settings: {' '.join(result['overrides'])}",
             *(["score by selection (the same candidates): "
                + ", ".join(f"{k} {v:.3f}" for k, v in result["selections"].items())] if result["selections"] else []),
             "",
             *three_way_markdown(result["three_way"]),
             "| task | source | solved | by programs | by the model | pass_n | vote_2 | seconds | weights | program |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    yes = {True: "yes", False: "no"}
    lines += [f"| {r['task_id']} | {r['source']} | {yes[r['solved']]} | {yes[r['programs']]} | {yes[r['model']]} | "
              f"{r['pass_n']:.2f} | {r['vote_2']:.2f} | {r['seconds']:.1f} | {r['weights']} | "
              f"{r['program'].replace('|', '/')} |" for r in result["per_task"]]
    return "\n".join(lines) + "\n"


def three_way_markdown(t: dict) -> list[str]:
    lines = ["| solver | score | tasks solved | seconds per task |", "| --- | --- | --- | --- |"]
    for name, label in (("programs", "programs alone"), ("model", "model alone"),
                        ("ensemble", f"ensemble ({t['ensemble_rule']})")):
        lines.append(f"| {label} | {t[name]['score']:.3f} | {t[name]['solved']} | {t[name]['seconds_per_task']} |")
    lines += ["", "ensemble rules on the same candidates: "
              + ", ".join(f"{k} {v:.3f}" for k, v in t["ensembles"].items()), ""]
    return lines


# ---------------------------------------------------------------- sweeps (--grid)


def plan_grid(sets: list[str], grid: list[str], out: Path) -> list[tuple[str, list[str]]]:
    """(folder name, --set list) per combination of GRID's values, every one checked before any work.

    A folder is named by the settings its combination changes from the run without the grid
    (resolved, so ttft.learning_rate=2e-3 under the new-lora profile changes nothing: `baseline`).
    """
    axes = []
    for item in grid:
        key, sep, values = item.partition("=")
        key = key.strip()
        if not sep or not key or not all(v.strip() for v in values.split(",")):
            raise ConfigError(f"--grid {item!r}: expected KEY=V1,V2 (a SolveConfig setting and its values, comma-separated)")
        if any(key == a[0] for a in axes):
            raise ConfigError(f"--grid {key}: given twice; put all its values in one --grid {key}=V1,V2")
        axes.append((key, [v.strip() for v in values.split(",")]))
    base = flatten(asdict(bench_config(sets, out)))
    runs: dict[str, list[str]] = {}
    for combination in itertools.product(*(values for _, values in axes)):
        combo_sets = list(sets) + [f"{k}={v}" for (k, _), v in zip(axes, combination)]
        try:
            resolved = flatten(asdict(bench_config(combo_sets, out)))
        except ConfigError as exc:
            raise ConfigError(f"--grid {', '.join(f'{k}={v}' for (k, _), v in zip(axes, combination))}: {exc}") from None
        changed = {k: v for (k, _), v in zip(axes, combination) if resolved[k] != base.get(k)}
        runs.setdefault(run_name(changed) if changed else "baseline", combo_sets)
    return list(runs.items())


def bench_grid(suite: str, sets: list[str], grid: list[str], data: str | os.PathLike,
               out: str | os.PathLike | None = None, n_tasks: int | None = None, progress: bool = True) -> dict:
    """A bench run per combination of GRID in OUT/<name>, then the sweep table over every run in OUT."""
    check_suite(suite)
    out = Path(out or Path("runs") / "bench" / f"{suite}-sweep").resolve()
    runs = plan_grid(sets, grid, out / "baseline")
    load_suite(suite, data)  # missing data ends here, before the first run
    for name, combo_sets in runs:
        if progress:
            print(f"arc24 bench: run {name} ({len(runs)} in this grid) in {out / name}", flush=True)
        bench(suite, combo_sets, data, out=out / name, n_tasks=n_tasks, progress=progress)
    return sweep_report(out)


def sweep_report(out: Path) -> dict:
    """sweep.json and sweep.md over every finished bench run in OUT's sub-folders, best first."""
    results = {}
    for path in sorted(out.glob("*/bench.json")):
        results[path.parent.name] = read_json(path, "bench result")
    # Runs over different tasks (a whole suite beside --tasks 10 runs) are ranked on the tasks
    # they all have: a score over other tasks compares the tasks, not the settings.
    task_sets = [{t["task_id"] for t in r["per_task"]} for r in results.values()]
    shared = set.intersection(*task_sets) if task_sets else set()
    mixed = any(s != shared for s in task_sets)

    def shared_score(r: dict) -> float:
        return sum(t["score"] for t in r["per_task"] if t["task_id"] in shared) / len(shared) if shared else 0.0

    rows = [{"run": name, "suite": r["suite"], "tasks": r["tasks"], "score": r["score"], "pass_n": r["pass_n"],
             "vote_2": r["vote_2"], "seconds_per_task": r["seconds_per_task"], "commit": r["commit"],
             "solved": [t["task_id"] for t in r["per_task"] if t["solved"]], "shared_score": shared_score(r)}
            for name, r in results.items()]
    rows.sort(key=lambda r: (-r["shared_score"], -r["score"], r["seconds_per_task"], r["run"]))
    sweep = {"out": str(out), "shared_tasks": len(shared), "runs": rows}
    write_json_atomic(sweep, out / "sweep.json", indent=1)
    table = sweep_markdown(rows, results, len(shared) if mixed else None)
    write_atomic(out / "sweep.md", lambda tmp: tmp.write_text(table, encoding="utf-8"))
    return {**sweep, "table": table}


def sweep_markdown(rows: list[dict], results: dict, shared: int | None = None) -> str:
    """SHARED: the number of tasks every run has, when the runs' tasks differ (a column, and the order)."""
    extra = f" score on the {shared} shared tasks |" if shared is not None else ""
    lines = ["| run | tasks | score | pass_n | vote_2 | seconds per task | solved |" + extra,
             "| --- | --- | --- | --- | --- | --- | --- |" + (" --- |" if extra else "")]
    lines += [f"| {r['run']} | {r['tasks']} | {r['score']:.3f} | {r['pass_n']:.3f} | {r['vote_2']:.3f} | "
              f"{r['seconds_per_task']:.1f} | {len(r['solved'])} |" + (f" {r['shared_score']:.3f} |" if extra else "")
              for r in rows]
    # which tasks each run solved: what a setting gains and loses, not only how many
    tasks = list(dict.fromkeys(t["task_id"] for r in results.values() for t in r["per_task"]))
    names = [r["run"] for r in rows]
    lines += ["", "| task | " + " | ".join(names) + " |", "| --- |" + " --- |" * len(names)]
    solved = {name: {t["task_id"]: t["solved"] for t in results[name]["per_task"]} for name in names}
    for task_id in tasks:
        marks = ["" if task_id not in solved[n] else "yes" if solved[n][task_id] else "-" for n in names]
        lines.append(f"| {task_id} | " + " | ".join(marks) + " |")
    return "\n".join(lines) + "\n"
