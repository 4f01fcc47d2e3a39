"""The sample stream is a pure function of (seed, index, datasets, settings)."""

import shutil
import time

import pytest
from data_paths import REARC

from arc24.data.prompts import IGNORE_INDEX
from arc24.data.stream import SampleStream, StreamSettings, TooLong, length_report
from arc24.data.tasks import DatasetMix, DatasetSpec, load_dataset


@pytest.fixture(scope="module")
def mix(small_tasks_file):
    challenges, solutions = small_tasks_file
    return DatasetMix([DatasetSpec(challenges, solutions)])


SETTINGS = dict(prompt_tasks={"output-from-examples-v1": 1.0, "input-from-inputs-v1": 1.0},
                problem_augmentation=0.5, max_seq_len=1024)


def make(mix, tokenizer, seed=0, **kw):
    return SampleStream(StreamSettings(**{**SETTINGS, **kw}), mix, tokenizer, seed)


def test_sample_is_a_pure_function_of_index(mix, smollm_tokenizer):
    a = make(mix, smollm_tokenizer)
    b = make(mix, smollm_tokenizer)
    # Out of order and repeated: nothing depends on what was generated before.
    for i in (5, 0, 1_000_000, 5, 3):
        assert a.sample(i) == b.sample(i)
    assert len({tuple(a.sample(i).input_ids) for i in range(10)}) > 5


def test_seed_and_settings_change_the_stream(mix, smollm_tokenizer):
    base = make(mix, smollm_tokenizer)
    other_seed = make(mix, smollm_tokenizer, seed=1)
    other_settings = make(mix, smollm_tokenizer, problem_augmentation=0.0)
    assert base.fingerprint == other_seed.fingerprint != other_settings.fingerprint  # the seed is not a setting
    assert [base.sample(i).input_ids for i in range(4)] != [other_seed.sample(i).input_ids for i in range(4)]
    assert [base.sample(i).input_ids for i in range(4)] != [other_settings.sample(i).input_ids for i in range(4)]


def test_the_training_data_section_is_the_same_stream(mix, smollm_tokenizer, small_tasks_file):
    # The config's data section adds the dataset lists; they name files, which the stream must not
    # depend on (the mix fingerprint covers what was loaded).
    from arc24.data.tasks import DatasetSpec
    from arc24.training.config import DataSettings

    challenges, solutions = small_tasks_file
    data = DataSettings(**SETTINGS, datasets=[DatasetSpec(str(challenges), str(solutions))])
    plain, training = make(mix, smollm_tokenizer), SampleStream(data, mix, smollm_tokenizer, 0)
    assert training.fingerprint == plain.fingerprint
    assert training.sample(7) == plain.sample(7)


def test_far_index_costs_the_same_as_the_first(mix, smollm_tokenizer):
    stream = make(mix, smollm_tokenizer)

    def cost(start):
        t = time.perf_counter()
        for i in range(start, start + 20):
            stream.sample(i)
        return time.perf_counter() - t

    cost(0)  # warm up
    near, far = cost(0), cost(10**9)
    assert far < 3 * near + 0.05  # no replay: far samples are not generated from the near ones


def test_both_prompt_tasks_and_labels_only_on_answer(mix, smollm_tokenizer):
    stream = make(mix, smollm_tokenizer)
    samples = [stream.sample(i) for i in range(40)]
    assert {s.prompt_task for s in samples} == {"output-from-examples-v1", "input-from-inputs-v1"}
    for s in samples:
        learned = [t for t in s.labels if t != IGNORE_INDEX]
        assert 0 < len(learned) < len(s.input_ids)
        text = smollm_tokenizer.decode(learned)
        assert text.startswith("```grid shape:") and text.endswith("<|im_end|>")


def test_too_long_tasks_are_named_not_dropped_silently(mix, smollm_tokenizer):
    stream = make(mix, smollm_tokenizer, max_seq_len=60)
    with pytest.raises(TooLong, match="too long for max_seq_len=60"):
        for i in range(50):
            stream.sample(i)
    report = length_report(make(mix, smollm_tokenizer, max_seq_len=300), 30)
    assert report["samples"] == 30 and report["length_percentiles"]["100"] <= 300
    assert report["too_long_draws"] == 0 or report["too_long_tasks"]


def test_unknown_prompt_task_is_an_error_at_once(mix, smollm_tokenizer):
    with pytest.raises(ValueError, match="unknown prompt template"):
        make(mix, smollm_tokenizer, prompt_tasks={"output-from-examples-v9": 1.0})


@pytest.fixture(scope="module")
def re_arc_mix(tmp_path_factory, small_tasks_file):
    """The small ARC-AGI-1 tasks and the 6 RE-ARC tasks with the smallest files (short prompts), and those pools."""
    folder = tmp_path_factory.mktemp("re-arc")
    for file in sorted(REARC.glob("*.json"), key=lambda f: (f.stat().st_size, f.name))[:6]:
        shutil.copy(file, folder)
    challenges, solutions = small_tasks_file
    mix = DatasetMix([DatasetSpec(str(challenges), str(solutions), name="arc"),
                      DatasetSpec(str(folder), name="re-arc", weight=3)])
    return mix, load_dataset(folder)


def test_re_arc_sample_is_a_pure_function_of_index(re_arc_mix, smollm_tokenizer):
    mix, _ = re_arc_mix
    direct = make(mix, smollm_tokenizer).sample(1000)
    resumed = make(mix, smollm_tokenizer)
    for i in range(20):
        resumed.sample(i)
    assert resumed.sample(1000) == direct  # what a run resumed at 1000 sees is what a straight run saw
    assert resumed.sample(1000) != resumed.sample(1001)


def test_re_arc_samples_draw_distinct_examples_of_one_task(re_arc_mix, smollm_tokenizer):
    mix, pools = re_arc_mix
    stream = make(mix, smollm_tokenizer)
    indexes = {task_id: {_key(e): i for i, e in enumerate(pool.examples)} for task_id, pool in pools.items()}
    draws = set()
    for i in range(80):
        name, task = mix.pick_named(stream.rng(i))  # the first draw of sample i
        if name != "re-arc":
            continue
        sample = stream.sample(i)
        if not sample.skipped_too_long:
            assert sample.task_id == task.id
        used = [indexes[task.id][_key(p)] for p in task.train + task.test]  # all from the same task
        assert len(set(used)) == len(used) and len(task.test) == 1
        assert mix.pick_named(stream.rng(i))[1].to_json() == task.to_json()
        draws.add((task.id, tuple(used)))
    # Different indices draw different tasks and examples.
    assert len(draws) > 40 and len({task_id for task_id, _ in draws}) == len(pools)


def _key(pair) -> tuple:
    return tuple((g.shape, g.tobytes()) for g in (pair.input, pair.output))
