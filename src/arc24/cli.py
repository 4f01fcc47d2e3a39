"""The `arc24` command. Each subcommand is a thin layer over a module that does the work.

User mistakes (bad data, bad config, a missing file, running out of memory) end with a one-line
message and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_PROBLEMS = 1  # the command ran and found problems (bad data, failed checks)
EXIT_USAGE = 2  # the command could not run as asked (bad config, missing file)
EXIT_OOM = 3  # out of memory: the message says what to lower


def _default_data_dir() -> Path:
    return Path(__file__).resolve().parents[3] / "shared" / "data"


def cmd_check_data(args) -> int:
    from .data import check_data

    return check_data(args.path, args.solutions)


def cmd_prompt(args) -> int:
    """Print the prompt of one task as the model sees it (chat template applied)."""
    import numpy as np

    from .augment import random_augmentation
    from .data import load_tasks
    from .models import load_tokenizer
    from .prompts import fit_task

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
    from .config import load_config
    from .train_config import TrainConfig
    from .trainer import train

    config = load_config(TrainConfig, args.config, args.set)
    summary = train(config, stop_at=args.stop_at)
    print(f"[arc24 train] done: steps {summary['start_step']} -> {summary['end_step']}; "
          f"weights in {summary['final']}")
    return 0


def cmd_demo(args) -> int:
    """Until the submission kernel lands: check the data and show a sample prompt on the embedded model."""
    data = Path(args.data)
    files = [
        (data / "arc-agi-1/arc-agi_training_challenges.json", data / "arc-agi-1/arc-agi_training_solutions.json"),
        (data / "arc-agi-1/arc-agi_evaluation_challenges.json", data / "arc-agi-1/arc-agi_evaluation_solutions.json"),
        (data / "conceptarc/ConceptARC.json", None),
    ]
    status = 0
    from .data import check_data

    for challenges, solutions in files:
        print(f"== arc24 check-data {challenges}" + (f" --solutions {solutions}" if solutions else ""))
        status |= check_data(challenges, solutions)
    print("== arc24 prompt (embedded SmolLM2-135M-Instruct, one evaluation task, augmented)")
    ns = argparse.Namespace(path=files[1][0], solutions=files[1][1], task=None, augment=True, seed=0,
                            model="embedded", template="output-from-examples-v1", format="numbered-fence",
                            max_seq_len=8192)
    return status or cmd_prompt(ns)


def build_parser() -> argparse.ArgumentParser:
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
    p.add_argument("--template", default="output-from-examples-v1")
    p.add_argument("--format", default="numbered-fence", help="grid text format name")
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
    p.add_argument("--stop-at", type=int, metavar="STEP",
                   help="leave after this step with a checkpoint, as if interrupted (the schedule still "
                        "runs to max_steps; start again to continue)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("demo", help="the main job on the embedded model and the shared data (make demo)")
    p.add_argument("--data", default=str(_default_data_dir()), help="folder with arc-agi-1/ and conceptarc/")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .config import ConfigError
    from .data import DataError
    from .memory import OutOfMemory

    try:
        return args.func(args)
    except OutOfMemory as exc:
        print(f"arc24 {args.command}: {exc}", file=sys.stderr)
        return EXIT_OOM
    except (ConfigError, DataError, FileNotFoundError, ValueError) as exc:
        print(f"arc24 {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE if not isinstance(exc, DataError) else EXIT_PROBLEMS
    except KeyboardInterrupt:
        print(f"arc24 {args.command}: interrupted; a training run resumes from its last checkpoint "
              "when started again with the same output_dir", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
