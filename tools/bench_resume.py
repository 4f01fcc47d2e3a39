"""Cost of resuming: seconds from start to the first optimizer step, resuming at step 10 vs 40,000.

A tiny random Qwen2 (SmolLM2 tokenizer) trains 10 steps on CPU and checkpoints. The checkpoint is
then copied and relabelled as step 40,000 of the same run: the two resumes differ only in their
position in the sample stream, which is exactly what a generator that replays earlier samples
makes expensive. Target: within 10% of each other. Prints JSON.

    python tools/bench_resume.py [--repeats 3]
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from arc24.config import load_config  # noqa: E402
from arc24.models import build_tiny_model, load_tokenizer  # noqa: E402
from arc24.training.config import TrainConfig  # noqa: E402
from arc24.training.trainer import train  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "arc-agi-1"


def config(out: Path, model: Path, max_steps: int) -> TrainConfig:
    overrides = [
        f"output_dir={out}", f"model={model}", "lora.rank=8", f"max_steps={max_steps}",
        "global_batch_size=2", "save_steps=10", "length_stats_samples=0", "report_to=[]",
        f"data.datasets=[{{path: {DATA / 'arc-agi_training_challenges.json'}, "
        f"solutions: {DATA / 'arc-agi_training_solutions.json'}}}]",
        "data.max_seq_len=1024",
    ]
    return load_config(TrainConfig, None, overrides)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="arc24-bench-resume-"))
    model = build_tiny_model(work / "model", load_tokenizer("embedded"))
    total = 50_000
    seed_run = work / "seed-run"
    train(config(seed_run, model, total), progress=False, stop_at=10)
    times = {"10": [], "40000": []}
    for _ in range(args.repeats):
        for at in (10, 40_000):
            out = work / f"resume-{at}"
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir()
            shutil.copy(seed_run / "run.json", out / "run.json")
            ckpt = out / f"checkpoint-{at}"
            shutil.copytree(seed_run / "checkpoint-10", ckpt)
            state = json.loads((ckpt / "state.json").read_text())
            (ckpt / "state.json").write_text(json.dumps({**state, "step": at}))
            summary = train(config(out, model, total), progress=False, stop_at=at + 1)
            assert summary["start_step"] == at
            times[str(at)].append(summary["seconds_to_first_step"])
    med = {k: statistics.median(v) for k, v in times.items()}
    print(json.dumps({
        "benchmark": "seconds from start to first optimizer step when resuming",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, CPU",
        "model": "tiny random Qwen2 (2 layers, hidden 64), SmolLM2 tokenizer",
        "median_seconds": {f"resume_at_{k}": round(v, 3) for k, v in med.items()},
        "all_seconds": {k: [round(x, 3) for x in v] for k, v in times.items()},
        "ratio_40000_over_10": round(med["40000"] / med["10"], 3),
    }, indent=1))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
