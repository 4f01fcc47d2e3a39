"""The `arc24` command. Each subcommand is a thin layer over a module that does the work.

User mistakes (bad data, bad config, a missing file, running out of memory) end with a one-line
message and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import signal
import sys
from pathlib import Path

EXIT_PROBLEMS = 1  # the command ran and found problems (bad data, failed checks)
EXIT_USAGE = 2  # the command could not run as asked (bad config, missing file)
EXIT_OOM = 3  # out of memory: the message says what to lower
EXIT_INTERRUPTED = 130  # Ctrl-C: the message says how to continue


def _default_data_dir() -> Path:
    return Path(__file__).resolve().parents[3] / "shared" / "data"


def cmd_check_data(args) -> int:
    from arc24.data.tasks import check_data

    return check_data(args.path, args.solutions)


def cmd_prompt(args) -> int:
    """Print the prompt of one task as the model sees it (chat template applied)."""
    import numpy as np

    from arc24.data.augment import random_augmentation
    from arc24.data.prompts import fit_task
    from arc24.data.tasks import load_tasks
    from arc24.models import load_tokenizer

    tasks = load_tasks(args.path, args.solutions)
    task_id = args.task or sorted(tasks)[0]
    if task_id not in tasks:
        print(f"{args.path}: no task {task_id}", file=sys.stderr)
        return EXIT_USAGE
    task = tasks[task_id]
    if args.augment:
        task = random_augmentation(np.random.default_rng(args.seed), task).apply_task(task)
    tokenizer = load_tokenizer(args.model)
    fitted = fit_task(tokenizer, task, args.template, args.format, args.max_seq_len,
                      for_training=task.test[0].output is not None)
    if fitted.too_long:
        print(f"task {task_id}: too long ({fitted.length} tokens with one train pair, "
              f"max_seq_len={args.max_seq_len})", file=sys.stderr)
        return EXIT_PROBLEMS
    print(tokenizer.decode(fitted.input_ids))
    print(f"[task {task_id}: {fitted.length} tokens, {fitted.n_train} train pairs shown, "
          f"{fitted.n_dropped} dropped to fit]", file=sys.stderr)
    return 0


def cmd_train(args) -> int:
    from arc24.config import load_config
    from arc24.training.config import TrainConfig
    from arc24.training.trainer import train

    config = load_config(TrainConfig, args.config, args.set)
    summary = train(config, stop_at=args.stop_at)
    print(f"[arc24 train] done: steps {summary['start_step']} -> {summary['end_step']}; "
          f"weights in {summary['final']}")
    return 0


def cmd_solve(args) -> int:
    from arc24.config import load_config
    from arc24.solving.config import SolveConfig
    from arc24.solving.records import health_table
    from arc24.solving.solve import SolveInterrupted, solve

    overrides = [f"challenges={args.challenges}", f"out_dir={Path(args.out).parent}"] + args.set
    overrides += ["overwrite=true"] if args.overwrite else []
    config = load_config(SolveConfig, args.config, overrides)
    try:
        summary = solve(config)
    except SolveInterrupted as exc:
        again = _without_overwrite(args.argv)  # starting over again would drop what was kept
        print(f"arc24 solve: interrupted with {exc.finished} of {exc.total} tasks finished (kept in {exc.out}); "
              f"to continue, run the same command: {shlex.join(['arc24', *again])}", file=sys.stderr)
        return EXIT_INTERRUPTED
    produced = Path(summary["submission"])
    if produced.resolve() != Path(args.out).resolve():
        produced.replace(args.out)
    print(health_table(summary["health"]))
    print(f"[arc24 solve] {summary['tasks']} tasks; weights used: {summary['weights']}; "
          f"placeholders: {summary['placeholders']}; submission: {args.out}")
    return 0


def _without_overwrite(argv: list[str]) -> list[str]:
    kept, i = [], 0
    while i < len(argv):
        if argv[i] == "--overwrite" or argv[i].replace(" ", "").startswith("--set=overwrite="):
            i += 1
        elif argv[i] == "--set" and i + 1 < len(argv) and argv[i + 1].replace(" ", "").startswith("overwrite="):
            i += 2
        else:
            kept.append(argv[i])
            i += 1
    return kept


def cmd_status(args) -> int:
    """A run's state from its folder alone: no model, no torch."""
    from arc24.solving.status import run_status, status_text

    print(status_text(run_status(args.run_dir)))
    return 0


def cmd_rescore(args) -> int:
    """A finished run's attempts chosen again by other selections, without the model."""
    from arc24.evaluation.rescore import rescore_main
    from arc24.solving.voting import ENSEMBLES, SELECTIONS

    selections = list(SELECTIONS) if "all" in args.selection else args.selection
    ensembles = list(ENSEMBLES) if args.ensemble and "all" in args.ensemble else args.ensemble
    return rescore_main(args.run_dir, selections, ensembles, args.json, args.search_programs)


def cmd_validate_submission(args) -> int:
    from arc24.solving.submission import validate_submission_main

    return validate_submission_main(args.submission, args.challenges)


def cmd_combine(args) -> int:
    from arc24.solving.submission import combine_main

    return combine_main(args.a, args.b, args.out, args.mode)


def cmd_score(args) -> int:
    from arc24.evaluation.scoring import score_main

    return score_main(args.submission, args.solutions, args.challenges, as_json=args.json)


def cmd_show(args) -> int:
    import json

    from arc24.data.tasks import load_tasks
    from arc24.evaluation.render import render_task

    tasks = load_tasks(args.path, args.solutions)
    if args.task not in tasks:
        print(f"{args.path}: no task {args.task}", file=sys.stderr)
        return EXIT_USAGE
    attempts = json.loads(Path(args.submission).read_text()).get(args.task) if args.submission else None
    notes = None
    if args.run:
        from arc24.solving.programs import attempt_sources

        attempts, lines, notes = attempt_sources(args.run, tasks[args.task])  # notes: under each attempt
        print("\n".join(lines))
    out = render_task(tasks[args.task], args.out or f"{args.task}.png", attempts=attempts, title=args.task,
                      notes=notes)
    print(out)
    return 0


def cmd_demo(args) -> int:
    """The main job on the embedded model: the submission notebook, through papermill, with the CPU
    profile on real ARC-AGI-1 evaluation tasks it can solve; prints the health table, how many it
    solved and where the pictures are."""
    from arc24.evaluation.bench import DEMO_SUITE, DEMO_TASKS, load_suite, write_suite_tasks
    from arc24.evaluation.render import render_task
    from arc24.evaluation.scoring import read_submission, score_submission
    from arc24.solving.records import health_table
    from arc24.sweeps.sweep import execute_submission_notebook

    if not 1 <= args.tasks <= len(DEMO_TASKS):
        print(f"arc24 demo: --tasks must be between 1 and {len(DEMO_TASKS)}, got {args.tasks}", file=sys.stderr)
        return EXIT_USAGE
    suite, _ = load_suite(DEMO_SUITE, args.data)
    tasks = {t: suite[t] for t in DEMO_TASKS[: args.tasks]}
    out = Path(args.out).resolve()
    challenges, solutions = write_suite_tasks(tasks, out / "tasks")
    print(f"[arc24 demo] the submission notebook on {len(tasks)} ARC-AGI-1 evaluation tasks ({', '.join(tasks)}) "
          f"with the embedded SmolLM2-135M-Instruct and profile=new-lora; output in {out}/", flush=True)
    execute_submission_notebook(
        {"challenges": str(challenges), "solutions": str(solutions), "out_dir": str(out), "model": "embedded",
         "profile": "new-lora", "max_new_tokens": 200, "overwrite": True},  # as `arc24 bench` runs it
        out / "submission.executed.ipynb", progress=False)  # the run's own lines say how far it is
    print(f"[arc24 demo] executed notebook: {out / 'submission.executed.ipynb'}")
    print(health_table(out / "health.json"))
    submission = read_submission(out / "submission.json")
    report = score_submission(submission, tasks)
    solved = [t for t in tasks if report.per_task[t]["score"] == 1.0]
    for folder in ("solved", "missed"):  # no picture of an earlier demo stays in the wrong one
        shutil.rmtree(out / folder, ignore_errors=True)
    from arc24.config import ConfigError
    from arc24.solving.programs import attempt_sources

    for task_id, task in tasks.items():
        try:  # under each attempt: where it came from (the model's votes, or a program)
            notes = attempt_sources(out, task)[2]
        except ConfigError:  # no prediction of the task kept
            notes = None
        render_task(task, out / ("solved" if task_id in solved else "missed") / f"{task_id}.png",
                    attempts=submission.get(task_id), title=task_id, notes=notes)
    print(f"[arc24 demo] solved {len(solved)} of {len(tasks)} tasks ({', '.join(solved) or 'none'}); "
          f"pictures of each task with its two attempts in {out}/solved/ and {out}/missed/")
    return 0


def cmd_sweep(args) -> int:
    """The submission notebook on validation tasks for every setting of a grid; table and plots."""
    from arc24.config import ConfigError
    from arc24.sweeps.sweep import SUBMISSION_NOTEBOOK, SweepConfig, notebook_parameters, parse_fixed, parse_grid, sweep

    modes = [f"--{m}" for m in ("kaggle", "status", "collect") if getattr(args, m)]
    if len(modes) > 1:
        raise ConfigError(f"{' and '.join(modes)}: one at a time")
    if args.dry_run and not args.kaggle:
        raise ConfigError("--dry-run goes with --kaggle (it prints the pushes instead of running them)")
    if args.status:
        return _sweep_kaggle_status(args)
    if args.collect:
        return _sweep_kaggle_collect(args)
    notebook = args.notebook or str(SUBMISSION_NOTEBOOK)
    arc1 = Path(args.data) / "arc-agi-1"
    challenges = args.challenges or str(arc1 / "arc-agi_evaluation_challenges.json")
    solutions = args.solutions or (None if args.challenges else str(arc1 / "arc-agi_evaluation_solutions.json"))
    defaults = notebook_parameters(notebook)
    grid = parse_grid(args.grid, defaults)
    config = SweepConfig(out=args.out, challenges=challenges, solutions=solutions, grid=grid,
                         fixed=parse_fixed(args.set, defaults, grid), n_tasks=args.tasks, seed=args.seed,
                         task_ids=[t.strip() for t in (args.task_ids or "").split(",") if t.strip()],
                         notebook=notebook)
    if args.kaggle:
        return _sweep_kaggle_push(args, config)
    try:
        summary = sweep(config, progress=not args.no_progress)
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM; the message says how far the sweep got
        print(f"arc24 sweep: {exc or 'interrupted; start the same command again to continue'}", file=sys.stderr)
        return 130
    print(summary["table"])
    print(f"[arc24 sweep] {summary['finished']} finished runs in {summary['out']}/: {summary['results_md']}, "
          f"{summary['results_csv']}; plots: {', '.join(summary['plots']) or 'none'}")
    if summary["best"] and summary["best"] != summary["worst"]:
        print(f"[arc24 sweep] tasks that changed, as PNGs: arc24 compare {Path(summary['out']) / summary['best']} "
              f"{Path(summary['out']) / summary['worst']}")
    for failure in summary["failed"]:
        print(f"arc24 sweep: {failure['run']} failed: {failure['error']} (notebook {failure['notebook']}, "
              f"traceback in {failure['log']}); "
              "start the same command again to retry it", file=sys.stderr)
    return EXIT_PROBLEMS if summary["failed"] else 0


def _kaggle_settings(args):
    from arc24.sweeps.kaggle import KaggleSettings

    return KaggleSettings(kernel_metadata=args.kernel_metadata or KaggleSettings.kernel_metadata,
                          competition=args.competition or "",
                          sessions=args.sessions, wait=not args.no_wait, poll_seconds=args.poll_seconds)


def _sweep_kaggle_push(args, config) -> int:
    """`arc24 sweep --kaggle`: one Kaggle kernel per setting of the grid, pushed (docs/kaggle-sweeps.md)."""
    from arc24.sweeps.kaggle import kaggle_sweep

    try:
        summary = kaggle_sweep(config, _kaggle_settings(args), dry_run=args.dry_run)
    except KeyboardInterrupt as exc:
        print(f"arc24 sweep: {exc or 'interrupted; start the same command again to continue'}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if not args.dry_run:
        print(f"[arc24 sweep] pushed {len(summary['pushed'])} kernels now, {len(summary['todo'])} left; "
              f"then: arc24 sweep --status --out {args.out}   and, once they are complete: "
              f"arc24 sweep --collect --out {args.out}")
    return 0


def _sweep_kaggle_status(args) -> int:
    from arc24.sweeps.kaggle import kaggle_status
    from arc24.sweeps.report import markdown_table

    print(markdown_table(kaggle_status(args.out)))
    return 0


def _sweep_kaggle_collect(args) -> int:
    from arc24.sweeps.kaggle import kaggle_collect

    summary = kaggle_collect(args.out)
    print(summary["table"])
    print(f"[arc24 sweep] {summary['finished']} finished runs in {summary['out']}/: {summary['results_md']}, "
          f"{summary['results_csv']}; plots: {', '.join(summary['plots']) or 'none'}")
    if summary["pending"]:
        print(f"[arc24 sweep] {len(summary['pending'])} kernels still queued or running: collect again later")
    if summary["not_pushed"]:
        print(f"[arc24 sweep] {len(summary['not_pushed'])} runs not pushed yet: arc24 sweep --kaggle with the same "
              "settings pushes them")
    for failure in summary["failed"]:
        print(f"arc24 sweep: {failure['run']} failed on Kaggle ({failure['kernel']}): {failure['error']} "
              f"(log {failure['log']}); arc24 sweep --kaggle with the same settings pushes it again", file=sys.stderr)
    return EXIT_PROBLEMS if summary["failed"] else 0


def cmd_bench(args) -> int:
    """The solve pipeline on a named benchmark suite; bench.json, bench.md and PNGs in the run folder."""
    import json

    from arc24.evaluation.bench import bench, bench_grid

    if args.grid:
        sweep = bench_grid(args.suite, args.set, args.grid, args.data, out=args.out, n_tasks=args.tasks)
        print(sweep["table"])
        print(json.dumps({"out": sweep["out"], "runs": [{k: r[k] for k in ("run", "tasks", "score", "pass_n",
                                                                            "seconds_per_task")}
                                                         for r in sweep["runs"]]}))
        return 0
    result = bench(args.suite, args.set, args.data, out=args.out, n_tasks=args.tasks)
    print(result["table"])
    print(json.dumps(result["summary"]))
    return 0


def cmd_compare(args) -> int:
    from arc24.sweeps.report import compare_runs

    paths = compare_runs(args.run_a, args.run_b, args.out)
    for path in paths:
        print(path)
    print(f"[arc24 compare] {len(paths)} task{'' if len(paths) == 1 else 's'} changed between "
          f"A = {args.run_a} and B = {args.run_b}")
    return 0


# ---------------------------------------------------------------- the settings reference

SETTINGS_INTRO = {
    "solve": "Settings of `arc24 solve` (`--set NAME=VALUE`, repeatable, or a `--config` YAML file), also taken by "
             "`arc24 bench --set` and, with a nested setting's dot written as an underscore (`ttft.steps` is "
             "`ttft_steps`), by the submission notebook's parameters.",
    "train": "Settings of `arc24 train`: its YAML config, and `--set NAME=VALUE` (repeatable) over it.",
    "sweep": "Settings of `arc24 sweep --set NAME=VALUE` and `--grid NAME=V1,V2`: the submission notebook's "
             "parameters, the solve settings by their notebook names. challenges, solutions, task_ids and out_dir "
             "are the sweep's own (`--challenges`, `--solutions`, `--task-ids` or `--tasks`, `--out`).",
}


def settings_rows(command: str) -> list:
    """The settings reference of COMMAND (solve, train or sweep): a row per setting, from the code
    (arc24.config.describe_settings: types, defaults, limits and each field's comment)."""
    import dataclasses

    from arc24.config import describe_settings

    if command == "train":
        from arc24.training.config import TrainConfig, train_limits

        return describe_settings(TrainConfig, train_limits())
    from arc24.solving.config import SolveConfig, notebook_names, solve_limits

    rows = describe_settings(SolveConfig, solve_limits())
    if command != "sweep":
        return rows
    from arc24.sweeps.sweep import OWN_PARAMETERS

    flat = {dotted: name for name, dotted in notebook_names().items()}
    nested = sorted((d for d in flat if "." in d), key=len, reverse=True)

    def renamed(text: str) -> str:
        for dotted in nested:
            text = text.replace(dotted, flat[dotted])
        return text

    return [dataclasses.replace(r, name=flat[r.name], allowed=renamed(r.allowed), meaning=renamed(r.meaning))
            for r in rows if flat[r.name] not in OWN_PARAMETERS]


def settings_reference() -> str:
    """docs/settings.md: every setting of solve, train and sweep (tools/settings_reference.py writes it)."""
    from arc24.config import settings_markdown

    parts = ["# Settings reference", "",
             "Generated from the code by `python tools/settings_reference.py` (a test fails when it is out of date); "
             "the same tables print with `arc24 solve --help-settings`, `arc24 train --help-settings` and "
             "`arc24 sweep --help-settings`. *allowed* is what a setting may be by itself, checked before any "
             "consequence of the other settings; the meaning is the setting's comment in the code."]
    for command in ("solve", "train", "sweep"):
        parts += ["", f"## arc24 {command}", "", SETTINGS_INTRO[command], "", settings_markdown(settings_rows(command))]
    return "\n".join(parts) + "\n"


class _HelpSettings(argparse.Action):
    """--help-settings: print COMMAND's settings reference and exit (before any required argument is asked for)."""

    def __init__(self, option_strings, dest, command: str = "solve", **kwargs):
        super().__init__(option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, nargs=0, **kwargs)
        self.command = command

    def __call__(self, parser, namespace, values, option_string=None):
        from arc24.config import settings_text

        width = min(max(shutil.get_terminal_size().columns, 60), 120)
        intro = SETTINGS_INTRO[self.command].replace("`", "")
        import textwrap

        print("\n".join(textwrap.wrap(intro, width)) + "\n\n" + settings_text(settings_rows(self.command), width - 4))
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    from arc24.data.formats import DEFAULT_FORMAT
    from arc24.data.prompts import DEFAULT_TEMPLATE

    parser = argparse.ArgumentParser(
        prog="arc24",
        description="Turn a small open LLM into an ARC solver: check data, fine-tune, test-time fine-tune, vote.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("check-data", help="validate ARC task files and report every problem",
                       description="Validate a challenges file, an inline-outputs file (ConceptARC style) or a "
                                   "folder of task files. Prints one line per problem and a summary; exits 1 "
                                   "when there are problems.")
    p.add_argument("path", help="challenges file, inline-outputs file or folder of <task_id>.json files")
    p.add_argument("--solutions", help="Kaggle solutions file matching the challenges file")
    p.set_defaults(func=cmd_check_data)

    p = sub.add_parser("prompt", help="print a task's prompt as the model sees it",
                       description="Render one task with a versioned prompt template and grid format through "
                                   "the model's chat template, fitted to max_seq_len.")
    p.add_argument("path")
    p.add_argument("--solutions")
    p.add_argument("--task", help="task id (default: the first by id)")
    p.add_argument("--model", default="embedded", help="model folder or 'embedded' (default)")
    p.add_argument("--template", default=DEFAULT_TEMPLATE)
    p.add_argument("--format", default=DEFAULT_FORMAT, help="grid text format name")
    p.add_argument("--max-seq-len", type=int, default=8192)
    p.add_argument("--augment", action="store_true", help="apply a random reversible augmentation")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_prompt)

    p = sub.add_parser("train", help="fine-tune (LoRA or full) on mixed ARC datasets; resumes automatically",
                       description="Train from a YAML config (see configs/). Starting again with the same "
                                   "output_dir resumes from its newest complete checkpoint. For several GPUs: "
                                   "torchrun --nproc_per_node N -m arc24.cli train CONFIG.")
    p.add_argument("config", help="YAML file of TrainConfig settings")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a setting, e.g. --set lora.rank=64 --set max_steps=10 (repeatable)")
    p.add_argument("--help-settings", action=_HelpSettings, command="train",
                   help="print every setting with its type, default, allowed values and meaning, and exit")
    p.add_argument("--stop-at", type=int, metavar="STEP",
                   help="leave after this step with a checkpoint, as if interrupted (the schedule still "
                        "runs to max_steps; start again to continue)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("solve", help="test-time fine-tune, predict with augmentations, vote; write a submission",
                       description="The submission pipeline from the command line (the notebook runs the same). "
                                   "Settings are SolveConfig fields (src/arc24/solving/config.py), from --config YAML "
                                   "and --set overrides, e.g. --set ttft.steps=300 --set n_views=96 --set workers=2 "
                                   "--set task_timeout_minutes=20. Without a trained adapter, test-time fine-tuning "
                                   "needs --set ttft.lora=new (a new LoRA per task). The prompt (template, grid "
                                   "format, max_seq_len) comes from the model's prompt_contract.json.")
    p.add_argument("challenges", help="challenges file (or inline-outputs file, or folder of task files)")
    p.add_argument("--out", default="submission.json", help="submission path; health.json, predictions.jsonl "
                                                            "and summary.json go beside it")
    p.add_argument("--config", help="YAML file of SolveConfig settings")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--help-settings", action=_HelpSettings, command="solve",
                   help="print every setting with its type, default, allowed values and meaning, and exit")
    p.add_argument("--overwrite", action="store_true",
                   help="start over in the folder, removing the run there (by default a run continues its folder: "
                        "the tasks it finished are kept, and other prediction settings are refused)")
    p.set_defaults(func=cmd_solve)

    p = sub.add_parser("status", help="a solve run's state from its folder: finished, running or interrupted, ...",
                       description="Read a solve run's folder (also a bench run or a sweep run) and tell its state: "
                                   "finished, running or interrupted, or not started; tasks done of the total, "
                                   "placeholders, seconds per task and the main settings. Loads no model.")
    p.add_argument("run_dir", help="the run's folder (where solve_settings.json and health.json are)")
    p.set_defaults(func=cmd_status)

    from arc24.solving.voting import ENSEMBLES, SELECTIONS

    p = sub.add_parser("rescore", help="choose a finished run's attempts again by another selection (no model)",
                       description="Re-rank the candidates in a run's predictions.jsonl by each named selection "
                                   "(and, when the run searched programs, each ensemble rule, and each source "
                                   "alone) and write RUN_DIR/submission.NAME.json; with the run's solutions.json, "
                                   "print each one's score beside pass_n (some candidate right: the ceiling). "
                                   "Selections: " + "; ".join(f"{k}: {v}" for k, v in SELECTIONS.items()) + ". "
                                   "Ensembles: " + "; ".join(f"{k}: {v}" for k, v in ENSEMBLES.items()) + ".")
    p.add_argument("run_dir", help="a solve, bench or sweep run's folder")
    p.add_argument("--selection", action="append", choices=[*SELECTIONS, "all"], required=True,
                   help="a selection (repeatable), or all")
    p.add_argument("--ensemble", action="append", choices=[*ENSEMBLES, "all"],
                   help="an ensemble rule (repeatable), or all; default: the run's")
    p.add_argument("--search-programs", action="store_true",
                   help="first search programs again for the run's tasks with this arc24 (the model's answers "
                        "are kept): measures a changed DSL without the model")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    p.set_defaults(func=cmd_rescore)

    p = sub.add_parser("validate-submission", help="check a submission covers every task and test input")
    p.add_argument("submission")
    p.add_argument("--challenges", required=True)
    p.set_defaults(func=cmd_validate_submission)

    p = sub.add_parser("combine", help="ensemble two submissions (attempt_1 of each by default)")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--out", required=True)
    p.add_argument("--mode", default="first-attempts", choices=["first-attempts", "fill"])
    p.set_defaults(func=cmd_combine)

    p = sub.add_parser("score", help="the ARC score of a submission against the solutions")
    p.add_argument("submission")
    p.add_argument("--solutions", required=True, help="Kaggle solutions file, or tasks with test outputs")
    p.add_argument("--challenges", help="the challenges file, to cross-check a Kaggle solutions file")
    p.add_argument("--json", action="store_true", help="print JSON with per-task detail")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("show", help="draw a task (and a submission's attempts) as a PNG",
                       description="Render a task's train pairs, test inputs, the truth when known and the "
                                   "attempts of a submission, in the usual ARC colours.")
    p.add_argument("path")
    p.add_argument("--task", required=True)
    p.add_argument("--solutions")
    p.add_argument("--submission", help="a submission whose attempts to draw")
    p.add_argument("--run", help="a solve or bench run's folder: draw its attempts, and print each one's source "
                                 "(programs, model) and its program when it has one")
    p.add_argument("--out", help="PNG path (default: TASK.png)")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("demo", help="the main job on the embedded model and the shared data (make demo)")
    p.add_argument("--data", default=str(_default_data_dir()),
                   help="the shared ARC data folder (the sources of the real-small-v1 suite)")
    p.add_argument("--tasks", type=int, default=3, help="how many of the demo's evaluation tasks (bench.DEMO_TASKS)")
    p.add_argument("--out", default="runs/demo", help="where the submission, health, predictions and PNGs go")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "sweep", help="the submission notebook on validation tasks for every setting of a parameter grid",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run notebooks/submission.ipynb through papermill once per combination of --grid,\n"
                    "on the same validation tasks, then aggregate and plot.\n\n"
                    "Each run gets OUT/<name=value__...>/ with the executed notebook, submission.json,\n"
                    "predictions.jsonl, health.json, summary.json and, written last, metrics.json\n"
                    "(prediction metrics, ARC score, seconds, health counts). A run is finished when its\n"
                    "metrics.json exists: after Ctrl-C or a crash, start the same command again and the\n"
                    "finished runs are skipped. A failed run is reported in one line, the sweep goes on,\n"
                    "and the next start retries it. At the end, over every finished run in OUT:\n"
                    "results.md and results.csv (best vote_2 first), vote_2_heatmap.png, ttft_loss.png.\n"
                    "Exit 1 when a run failed, 130 when interrupted.",
        epilog="example:\n  arc24 sweep --out runs/sweep --tasks 10 --grid lora_rank=32,64,128 "
               "learning_rate=2e-5,4e-5,8e-5 \\\n      --set ttft_steps=12 n_views=8\n"
               "then: arc24 compare runs/sweep/RUN_A runs/sweep/RUN_B   (PNGs of the tasks that changed)\n\n"
               "on Kaggle's GPUs, one kernel per setting (docs/kaggle-sweeps.md):\n"
               "  arc24 sweep --kaggle --out runs/kaggle-sweep --tasks 10 --grid ttft_lora_rank=32,64 "
               "--set deadline_hours=2 [--dry-run]\n"
               "  arc24 sweep --status --out runs/kaggle-sweep\n"
               "  arc24 sweep --collect --out runs/kaggle-sweep")
    p.add_argument("--grid", nargs="+", action="extend", default=[], metavar="NAME=V1,V2",
                   help="a notebook parameter (see the parameters cell of notebooks/submission.py) and the values "
                        "to sweep, comma-separated; values are read as the type of the parameter's default")
    p.add_argument("--set", nargs="+", action="extend", default=[], metavar="NAME=VALUE",
                   help="a notebook parameter fixed for every run, e.g. --set ttft_steps=12 n_views=8")
    p.add_argument("--help-settings", action=_HelpSettings, command="sweep",
                   help="print every notebook parameter with its type, default, allowed values and meaning, and exit")
    p.add_argument("--challenges", help="challenges file (default: ARC-AGI-1 evaluation in --data)")
    p.add_argument("--solutions", help="its solutions file (needed unless the test outputs are inline)")
    p.add_argument("--data", default=str(_default_data_dir()), help="folder with arc-agi-1/, for the defaults")
    p.add_argument("--tasks", type=int, default=10, help="how many tasks, chosen by --seed (0: all; default 10)")
    p.add_argument("--task-ids", help="comma-separated task ids instead of --tasks")
    p.add_argument("--seed", type=int, default=0, help="which tasks --tasks picks (a larger N extends a smaller)")
    p.add_argument("--out", default="runs/sweep", help="the sweep's folder (default runs/sweep)")
    p.add_argument("--notebook", help=argparse.SUPPRESS)  # tests: another notebook with a parameters cell
    p.add_argument("--no-progress", action="store_true", help="no progress bars (the per-run lines stay)")
    k = p.add_argument_group("on Kaggle's GPUs (docs/kaggle-sweeps.md)")
    k.add_argument("--kaggle", action="store_true",
                   help="instead of running here, push one Kaggle kernel per setting (at most --sessions running at "
                        "once); OUT/kaggle.json records the pushes, and a kernel pushed before is not pushed again")
    k.add_argument("--dry-run", action="store_true", help="with --kaggle: check everything and print the pushes")
    k.add_argument("--status", action="store_true", help="the state of each kernel of the Kaggle sweep in --out")
    k.add_argument("--collect", action="store_true",
                   help="download each finished kernel's output into --out as a local sweep lays it out, then the "
                        "same results.md, results.csv and plots")
    k.add_argument("--kernel-metadata", metavar="FILE", help="the datasets and the owner of the kernels (default: the repo's "
                                        "kernel-metadata.json)")
    k.add_argument("--competition", metavar="SLUG",
                   help="the competition attached (default: the first of the kernel metadata's competition_sources)")
    k.add_argument("--sessions", type=int, default=2,
                   help="kernels running at once (default 2: Kaggle's GPU sessions at a time per account)")
    k.add_argument("--no-wait", action="store_true",
                   help="push what the free sessions take and stop, instead of waiting to push the rest")
    k.add_argument("--poll-seconds", type=float, default=60.0, help=argparse.SUPPRESS)  # tests: no waiting
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("bench", help="the solve pipeline on a benchmark suite: score, pass_n, vote_2, seconds, PNGs",
                       description="Solve a named suite of tasks with known outputs (one-rule-v1: 28 tasks of one "
                                   "simple rule each; real-small-v1: 40 real tasks with the smallest grids) with "
                                   "defaults for a CPU (the embedded model and profile=new-lora: a new LoRA per "
                                   "task, 40 steps, 8 views), then write bench.json, bench.md and a PNG per task "
                                   "in solved/ or missed/. The same command again continues the run and keeps the "
                                   "tasks it finished.")
    p.add_argument("suite", help="one-rule-v1 or real-small-v1 (src/arc24/evaluation/suites/)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a SolveConfig setting, e.g. --set ttft.steps=12 --set n_views=4 (repeatable)")
    p.add_argument("--help-settings", action=_HelpSettings, command="solve",
                   help="print every setting with its type, default, allowed values and meaning, and exit")
    p.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2",
                   help="a sweep: one run per combination of the values (repeatable), each in OUT/<the settings "
                        "it changes, or baseline>, then OUT/sweep.md and sweep.json compare every run in OUT")
    p.add_argument("--out", help="the run folder (default runs/bench/SUITE; with --grid runs/bench/SUITE-sweep)")
    p.add_argument("--data", default=str(_default_data_dir()), help="the shared data folder, for real-small-v1")
    p.add_argument("--tasks", type=int, metavar="N", help="only the first N tasks of the suite")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("compare", help="draw the tasks whose result changed between two sweep runs",
                       description="One PNG per task whose solved test outputs differ between two run folders "
                                   "(e.g. of arc24 sweep), the truth and both runs' attempts side by side.")
    p.add_argument("run_a", help="a run folder (with challenges.json, solutions.json, submission.json)")
    p.add_argument("run_b")
    p.add_argument("--out", help="folder for the PNGs (default: beside the runs, compare/A__vs__B)")
    p.set_defaults(func=cmd_compare)
    return parser


ERROR_LOG = "arc24-error.log"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # the command, to say how to continue it
    from arc24.config import ConfigError
    from arc24.data.tasks import DataError

    from arc24.files import sigterm_interrupts

    previous = sigterm_interrupts()
    try:
        return args.func(args)
    except (ConfigError, DataError, FileNotFoundError) as exc:  # the user's to fix: the message says how
        print(f"arc24 {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE if not isinstance(exc, DataError) else EXIT_PROBLEMS
    except KeyboardInterrupt:
        print(f"arc24 {args.command}: interrupted; start the same command again to continue", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - maybe a bug of ours: one line here, the traceback in a file
        # Out of memory can only come from a command that imported torch: `status` and the like do not
        memory = sys.modules.get("arc24.training.memory")
        if memory is not None and isinstance(exc, memory.OutOfMemory):
            print(f"arc24 {args.command}: {exc}", file=sys.stderr)
            return EXIT_OOM
        return _report_crash(args.command, exc)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _report_crash(command: str, exc: Exception) -> int:
    import traceback

    first = (str(exc).strip().splitlines() or [""])[0]
    log = Path(ERROR_LOG).resolve()
    with log.open("a", encoding="utf-8") as f:
        f.write(f"=== arc24 {command}: {' '.join(sys.argv[1:])}\n{traceback.format_exc()}\n")
    print(f"arc24 {command}: {type(exc).__name__}: {first}\n(the full traceback is in {log}; "
          "please send it with a bug report)", file=sys.stderr)
    return EXIT_USAGE if isinstance(exc, ValueError) else EXIT_PROBLEMS


if __name__ == "__main__":
    sys.exit(main())
