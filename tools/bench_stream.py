"""Throughput of the training sample stream (augment + render + tokenize) on one CPU core.

Prints JSON: samples/s and tokens/s on the ARC-AGI-1 training set with the default (embedded
SmolLM2) tokenizer, at the start of the stream and a million samples in (which must cost the same).

    python tools/bench_stream.py [--samples 300] [--max-seq-len 8192]
"""

import argparse
import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ["RAYON_NUM_THREADS"] = "1"  # one core: the tokenizer must not fan out
os.environ["TOKENIZERS_PARALLELISM"] = "false"

from arc24.data.stream import SampleStream, StreamSettings  # noqa: E402
from arc24.data.tasks import DatasetMix, DatasetSpec  # noqa: E402
from arc24.models import load_tokenizer  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "arc-agi-1"


def measure(stream, start, n):
    tokens = 0
    tick = time.perf_counter()
    for i in range(start, start + n):
        tokens += len(stream.sample(i).input_ids)
    seconds = time.perf_counter() - tick
    return {"start_index": start, "samples": n, "seconds": round(seconds, 3),
            "samples_per_s": round(n / seconds, 1), "tokens_per_s": round(tokens / seconds)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--max-seq-len", type=int, default=8192)
    parser.add_argument("--data", default=str(DATA))
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    mix = DatasetMix([DatasetSpec(Path(args.data) / "arc-agi_training_challenges.json",
                                  Path(args.data) / "arc-agi_training_solutions.json")])
    settings = StreamSettings(prompt_tasks={"output-from-examples-v1": 0.75, "input-from-inputs-v1": 0.25},
                              problem_augmentation=0.5, max_seq_len=args.max_seq_len)
    stream = SampleStream(settings, mix, load_tokenizer("embedded"), seed=0)
    stream.sample(0)  # warm-up
    result = {
        "benchmark": "sample stream (augment + render + tokenize)",
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, 1 core",
        "tokenizer": "SmolLM2-135M-Instruct (embedded)",
        "max_seq_len": args.max_seq_len,
        "at_start": measure(stream, 0, args.samples),
        "at_1e6": measure(stream, 1_000_000, args.samples),
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
