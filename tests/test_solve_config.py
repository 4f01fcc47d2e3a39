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
    (["n_views=0", "ttft.lora=new"], "n_views: must be >= 1, got 0"),
    (["ttft.lora=new", "ttft.lora_rank=0"], "ttft.lora_rank: a new LoRA needs a rank >= 1"),
    (["ttft.steps=-1", "adapter=x"], "ttft.steps: must be >= 0"),
    ([], "ttft.lora=continue needs a trained adapter"),
])
def test_settings_are_checked_before_any_work(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(SolveConfig, None, overrides).with_profile().check()
