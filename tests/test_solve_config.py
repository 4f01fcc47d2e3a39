"""SolveConfig's own rules: profiles fill only what was left at its default; settings are checked up front."""

import pytest

from arc24.config import ConfigError, load_config
from arc24.solving.config import PROFILES, SolveConfig


def test_a_profile_fills_the_settings_left_at_their_defaults():
    config = load_config(SolveConfig, None, ["profile=new-lora", "n_views=4"]).with_profile()
    recipe = PROFILES["new-lora"]
    assert config.n_views == 4  # given explicitly: kept
    assert (config.ttft.lora, config.ttft.steps, config.ttft.learning_rate, config.ttft.lr_scheduler) == (
        recipe["ttft.lora"], recipe["ttft.steps"], recipe["ttft.learning_rate"], recipe["ttft.lr_scheduler"])
    assert SolveConfig().with_profile() == SolveConfig()  # no profile: nothing changes


def test_an_unknown_profile_names_the_known_ones():
    with pytest.raises(ConfigError, match="profile: unknown 'fast'; choose one of new-lora, continue-adapter"):
        SolveConfig(profile="fast").with_profile()


@pytest.mark.parametrize("overrides, message", [
    (["n_views=0", "ttft.lora=new"], "n_views must be at least 1, got 0"),
    (["ttft.lora=new", "ttft.lora_rank=0"], "ttft.lora_rank must be at least 1, got 0"),
    (["ttft.steps=-1", "adapter=x"], "ttft.steps must be at least 0, got -1"),
    (["ttft.warmup_steps=400", "adapter=x"], r"ttft.warmup_steps must be between 0 and 300 \(at most ttft.steps\)"),
    (["ttft.batch_size=0", "adapter=x"], "ttft.batch_size must be at least 1, got 0"),
    (["ttft.learning_rate=-1e-4", "adapter=x"], "ttft.learning_rate must be a number above 0, got -0.0001"),
    (["batch_size=0", "adapter=x"], "batch_size must be at least 1, got 0"),
    (["max_new_tokens=-5", "adapter=x"], r"max_new_tokens must be at least 0 \(0: enough for a 30x30 grid\), got -5"),
    (["workers=-1", "adapter=x"], r"workers must be at least 0 \(0: one per GPU, or per CPU core up to 4\), got -1"),
    (["seed=-1", "adapter=x"], "seed must be at least 0, got -1"),
    (["deadline_hours=0", "adapter=x"], "deadline_hours must be a number above 0, got 0"),
    (["deadline_hours=0.5", "adapter=x"], r"safety_margin_minutes must be between 0 and 30 \(less than deadline"),
    (["vllm_gpu_memory_utilization=1.5", "adapter=x"], "vllm_gpu_memory_utilization must be above 0 and at most 1"),
    ([], "ttft.lora=continue needs a trained adapter"),
])
def test_settings_are_checked_before_any_work(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(SolveConfig, None, overrides).with_profile().check()


@pytest.mark.parametrize("overrides, message", [
    (["max_steps=0"], "max_steps must be at least 1, got 0"),
    (["per_device_batch_size=32"], r"per_device_batch_size must be between 1 and 16 \(at most global_batch_size\)"),
    (["warmup_ratio=2"], "warmup_ratio must be between 0 and 1, got 2"),
    (["lora.rank=-1"], r"lora.rank must be at least 0 \(0: full fine-tuning\), got -1"),
    (["save_steps=0"], "save_steps must be at least 1, got 0"),
    (["learning_rate=0"], "learning_rate must be a number above 0, got 0"),
])
def test_training_counts_and_sizes_are_checked_with_their_range(overrides, message):
    from arc24.training.config import TrainConfig

    with pytest.raises(ConfigError, match=message):
        load_config(TrainConfig, None, ["output_dir=x"] + overrides).check()
    load_config(TrainConfig, None, ["output_dir=x"]).check()  # the defaults pass


def test_the_search_needs_the_grid_constraint_except_on_vllm():
    from arc24.config import ConfigError
    from arc24.solving.config import SolveConfig, TTFTSettings, check_backend

    config = SolveConfig(search_min_prob=0.1, constrained_decoding=False, ttft=TTFTSettings(lora="new"))
    config.check()  # backend auto: which backend runs is known on the machine only
    with pytest.raises(ConfigError, match="search_min_prob needs constrained_decoding=true on the transformers"):
        check_backend(config, "transformers")
    check_backend(config, "vllm")  # vLLM's beam search



# Each setting's own value is checked before any consequence of the others: the default config
# (ttft.lora=continue without an adapter) has a consequence to report, yet the bad value is named.
@pytest.mark.parametrize("override, message", [
    ("solvers=foo", "solvers must be one of both, programs, model, got 'foo'"),
    ("ensemble=foo", "ensemble must be one of .*, got 'foo'"),
    ("selection=foo", "selection must be one of vote, score, vote-score, score-vote, got 'foo'"),
    ("backend=foo", "backend must be one of auto, vllm, transformers, got 'foo'"),
    ("ttft.loss=foo", "ttft.loss must be one of auto, chunked, liger, plain, got 'foo'"),
    ("ttft.lr_scheduler=foo", "ttft.lr_scheduler must be one of linear, cosine, .*, got 'foo'"),
    ("programs.searches=foo", "programs.searches must be one of both, compiled, learners, got 'foo'"),
    ("template=foo", "template must be one of output-from-examples-v1 .*, got 'foo'"),
    ("grid_format=foo", "grid_format must be one of numbered-fence, .*, got 'foo'"),
    ("profile=foo", "profile: unknown 'foo'"),
    ("ttft.lora=foo", "ttft.lora: 'foo' is not one of 'continue', 'new'"),
    ("precision=fp8", "precision: 'fp8' is not one of"),
    ("n_views=0", "n_views must be at least 1, got 0"),
    ("ttft.learning_rate=0", "ttft.learning_rate must be a number above 0, got 0"),
    ("programs.compiled_share=1", "programs.compiled_share must be above 0 and below 1, got 1"),
    ("deadline_hours=-1", "deadline_hours must be a number above 0, got -1"),
])
def test_an_unknown_value_is_named_before_any_consequence_of_the_other_settings(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(SolveConfig, None, [override]).with_profile().check()


def test_a_consequence_is_reported_once_every_value_is_right():
    with pytest.raises(ConfigError, match="ttft.lora=continue needs a trained adapter"):
        load_config(SolveConfig, None, ["solvers=model", "selection=score"]).with_profile().check()
    with pytest.raises(ConfigError, match="selection=score ranks candidates by their score: set scoring_views"):
        load_config(SolveConfig, None, ["adapter=x", "selection=score"]).with_profile().check()
    with pytest.raises(ConfigError, match=r"ttft.warmup_steps must be between 0 and 10 \(at most ttft.steps\)"):
        load_config(SolveConfig, None, ["ttft.steps=10", "ttft.warmup_steps=20"]).with_profile().check()


def test_the_command_names_an_unknown_value_first(tmp_path, capsys):
    from arc24.cli import EXIT_USAGE, main

    out = tmp_path / "run" / "submission.json"
    assert main(["solve", str(tmp_path / "no-such-tasks.json"), "--out", str(out), "--set", "solvers=foo"]) == EXIT_USAGE
    assert capsys.readouterr().err.strip() == "arc24 solve: solvers must be one of both, programs, model, got 'foo'"
    assert not out.parent.exists()  # refused before any work


def test_training_settings_too_are_checked_each_by_itself_first():
    from arc24.training.config import TrainConfig

    # per_device_batch_size above global_batch_size, but global_batch_size is wrong by itself
    with pytest.raises(ConfigError, match="global_batch_size must be at least 1, got 0"):
        load_config(TrainConfig, None, ["output_dir=x", "global_batch_size=0", "per_device_batch_size=4"]).check()
    with pytest.raises(ConfigError, match="lr_scheduler must be one of linear, cosine, .*, got 'foo'"):
        load_config(TrainConfig, None, ["output_dir=x", "lr_scheduler=foo", "per_device_batch_size=40"]).check()


def test_the_compiled_searchs_views_are_checked_by_themselves_first():
    load_config(SolveConfig, None, ["adapter=x", "programs.compiled_views=transposed, plain"]).check()
    for bad in ("plain,upside-down", "plain,plain", ""):
        with pytest.raises(ConfigError, match=f"programs.compiled_views must be some of plain, normalised, transposed, "
                                              f"comma-separated, each once, got '{bad}'"):
            load_config(SolveConfig, None, [f"programs.compiled_views={bad}"]).check()  # no adapter: named first
