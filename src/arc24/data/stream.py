"""The training sample stream: sample `i` is a pure function of (seed, i, dataset mix, settings).

Every random choice for sample i (task, and for an RE-ARC example pool the examples that make
it, prompt task, problem augmentation, augmentation) comes from a generator seeded with
(seed, i, fingerprint), so generating sample 1,000,000 costs the same as sample 0, and a resumed
run continues at exactly the sample it would have seen without replaying the ones before.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field

import numpy as np

from arc24.config import ConfigError
from arc24.data.augment import random_augmentation
from arc24.data.formats import DEFAULT_FORMAT, get_format
from arc24.data.problem_augment import random_problem_augmentation
from arc24.data.prompts import DEFAULT_TEMPLATE, fit_task, get_template
from arc24.data.tasks import DatasetMix

# A sample whose task cannot fit max_seq_len even with one train pair is redrawn (from the same
# per-sample generator, so still deterministic); the skipped task is named in the sample.
MAX_REDRAWS = 20


class TooLong(RuntimeError):
    """No drawn task fits max_seq_len, even with a single train pair."""


@dataclass(frozen=True)
class StreamSettings:
    """How samples are made from the tasks. The training config's `data:` section extends it with the datasets."""

    # Share of each prompt task in the stream, by versioned prompt name.
    prompt_tasks: dict[str, float] = field(
        default_factory=lambda: {DEFAULT_TEMPLATE: 1.0, "input-from-inputs-v1": 0.0})
    grid_format: str = DEFAULT_FORMAT  # how grids are written in the prompt (data/formats.py)
    max_seq_len: int = 2048  # a sample's length in tokens at most; train pairs are dropped to fit
    problem_augmentation: float = 0.0  # probability of an extra input-only or output-only transform
    permute_background: bool = False  # colour changes may move colour 0 (the background) too
    swap_target: bool = True  # any pair with an output may be the target, not only the test pair
    learn_examples: bool = False  # also learn the shown examples' outputs (prompts.fit_task)
    dihedral: bool = True  # samples may be rotated and flipped (else colours and order only)

    def __post_init__(self):
        # Checked here, so a bad name fails when the config is read, not at sample 10,000.
        for name, weight in self.prompt_tasks.items():
            try:
                get_template(name)
            except ValueError as exc:
                raise ConfigError(f"prompt_tasks: {exc}") from None
            if weight < 0:
                raise ConfigError(f"prompt_tasks: {name}: weight must be >= 0, got {weight}")
        if not any(w > 0 for w in self.prompt_tasks.values()):
            raise ConfigError("prompt_tasks: at least one prompt task needs a weight above 0")
        try:
            get_format(self.grid_format)
        except ValueError as exc:
            raise ConfigError(f"grid_format: {exc}") from None
        if not 0.0 <= self.problem_augmentation <= 1.0:
            raise ConfigError(f"problem_augmentation: must be a probability, got {self.problem_augmentation}")


@dataclass(frozen=True)
class Sample:
    index: int
    task_id: str
    prompt_task: str
    augmentation: str  # a short description, for logs and debugging
    input_ids: list[int]
    labels: list[int]
    n_dropped: int  # train pairs dropped so that the prompt fits max_seq_len
    skipped_too_long: tuple[str, ...] = ()  # tasks drawn first but too long even with one pair


class SampleStream:
    def __init__(self, settings: StreamSettings, mix: DatasetMix, tokenizer, seed: int):
        self.settings = settings
        self.mix = mix
        self.tokenizer = tokenizer
        self.seed = seed
        names = sorted(n for n, w in settings.prompt_tasks.items() if w > 0)
        weights = np.array([settings.prompt_tasks[n] for n in names], dtype=float)
        self._prompt_names = names
        self._prompt_probs = weights / weights.sum()
        # Only StreamSettings' own fields: a subclass (the training config's data section) adds the
        # dataset lists, which name files; the mix fingerprint covers what was loaded from them.
        own = {f.name: getattr(settings, f.name) for f in dataclasses.fields(StreamSettings)}
        # Added later: left out at their old behaviour, so the runs before them keep their samples.
        for name, old in (("learn_examples", False), ("dihedral", True)):
            if own[name] == old:
                del own[name]
        blob = json.dumps({"mix": mix.fingerprint(), "settings": own}, sort_keys=True)
        self.fingerprint = hashlib.sha256(blob.encode()).hexdigest()[:16]
        self._entropy = int(self.fingerprint, 16)

    def rng(self, index: int) -> np.random.Generator:
        if index < 0:
            raise IndexError(f"sample index must be >= 0, got {index}")
        return np.random.default_rng([self.seed, index, self._entropy])

    def sample(self, index: int) -> Sample:
        rng = self.rng(index)
        s = self.settings
        skipped: list[str] = []
        for _ in range(MAX_REDRAWS):
            task = self.mix.pick(rng)
            prompt = self._prompt_names[int(rng.choice(len(self._prompt_names), p=self._prompt_probs))]
            notes = []
            problem = random_problem_augmentation(rng, task, s.problem_augmentation, None)
            if problem is not None:
                task, applied = problem.apply_task(task)
                if applied:
                    notes.append(problem.describe())
            augmentation = random_augmentation(
                rng, task, dihedral=s.dihedral, permute_background=s.permute_background, swap_target=s.swap_target)
            view = augmentation.apply_task(task)
            if view.test[0].output is None and get_template(prompt).kind == "output-from-examples":
                continue  # no known answer (only possible for a task with a single pair); draw again
            fitted = fit_task(self.tokenizer, view, prompt, s.grid_format, s.max_seq_len, for_training=True,
                              learn_examples=s.learn_examples)
            if fitted.too_long:
                skipped.append(task.id)
                continue
            notes.append(augmentation.describe())
            return Sample(index, task.id, prompt, " ".join(notes), fitted.input_ids, fitted.labels,
                          fitted.n_dropped, tuple(skipped))
        # TooLong is the task's own limit (test-time fine-tuning skips such a task); no known
        # answer in 20 draws is a problem with the data.
        raise (TooLong if skipped else RuntimeError)(
            f"sample {index}: {MAX_REDRAWS} draws in a row gave no usable task "
            f"(too long for max_seq_len={s.max_seq_len}: {', '.join(skipped) or 'none'}); "
            "raise max_seq_len or remove those tasks")


def length_report(stream: SampleStream, n: int, start: int = 0) -> dict:
    """Length statistics of samples [start, start+n): percentiles, share with pairs dropped, skipped tasks."""
    lengths, dropped, skipped = [], 0, []
    for i in range(start, start + n):
        sample = stream.sample(i)
        lengths.append(len(sample.input_ids))
        dropped += sample.n_dropped > 0
        skipped.extend(sample.skipped_too_long)
    arr = np.array(lengths)
    return {
        "samples": n,
        "max_seq_len": stream.settings.max_seq_len,
        "length_percentiles": {str(p): int(np.percentile(arr, p)) for p in (0, 10, 50, 90, 99, 100)},
        "mean_length": float(arr.mean()),
        "share_with_pairs_dropped": dropped / n,
        "too_long_draws": len(skipped),
        "too_long_tasks": sorted(set(skipped)),
    }
