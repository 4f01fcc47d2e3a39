"""Every config in configs/ loads, names data that is there, and holds its eval tasks out of training."""

from pathlib import Path

import pytest

from arc24.config import load_config
from arc24.data.tasks import DatasetMix, load_dataset
from arc24.training.config import TrainConfig

REPO = Path(__file__).resolve().parents[1]
CONFIGS = sorted((REPO / "configs").glob("*.yaml"))


@pytest.fixture(params=CONFIGS, ids=[p.name for p in CONFIGS])
def config(request, monkeypatch):
    monkeypatch.chdir(REPO)  # the configs' paths are relative to the repo root
    return load_config(TrainConfig, request.param)


def test_config_loads_and_its_data_is_there(config):
    specs = config.data.datasets + config.data.eval_datasets
    assert config.data.datasets
    for spec in specs:
        for path in [spec.path, spec.solutions, *spec.exclude]:
            assert path is None or Path(path).exists(), path
    assert len({s.name for s in specs}) == len(specs)


@pytest.mark.slow
def test_eval_tasks_are_not_trained_on(config):
    mix = DatasetMix(config.data.datasets)  # also: every dataset loads without a problem
    if not config.data.eval_datasets:
        pytest.skip("no held-out datasets")
    held_out = {task_id for spec in config.data.eval_datasets for task_id in load_dataset(spec.path, spec.solutions)}
    trained = {name: held_out.intersection(ids) for name, ids in zip(mix.names, mix._ids)}
    assert trained == {name: set() for name in mix.names}
