"""The settings reference, made from the code so that it cannot drift: every setting of solve, train
and sweep with its type, default, allowed values and a line of meaning (the field's comment);
`--help-settings` prints it, docs/settings.md holds it, and a setting without its line fails here."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from arc24.cli import main, settings_reference, settings_rows
from arc24.config import Limit, check_limits, describe_settings, dotted_value, field_comments
from arc24.solving.config import SolveConfig, notebook_names, solve_limits
from arc24.training.config import TrainConfig, train_limits

REPO = Path(__file__).resolve().parents[1]
TOOL = REPO / "tools" / "settings_reference.py"


@pytest.mark.parametrize("command", ["solve", "train", "sweep"])
def test_every_setting_has_its_type_default_and_line_of_meaning(command):
    rows = settings_rows(command)
    assert len(rows) > 20
    missing = [r.name for r in rows if not r.meaning.strip()]
    assert not missing, f"settings without a comment in the code (their line in the reference): {missing}"
    assert all(r.type and r.default for r in rows)
    assert len({r.name for r in rows}) == len(rows)


def test_the_solve_reference_lists_every_setting_with_its_limits():
    rows = {r.name: r for r in settings_rows("solve")}
    flat = set(notebook_names().values())
    assert set(rows) == flat  # every setting, nested ones by their dotted name, and nothing else
    steps = rows["ttft.steps"]
    assert (steps.type, steps.default, steps.allowed) == ("integer", "300", "at least 0")
    assert rows["ttft.warmup_steps"].allowed == "between 0 and ttft.steps"
    assert rows["solvers"].allowed == "one of both, programs, model"
    assert rows["precision"].allowed == "one of auto, bf16, fp16, fp32"  # from its Literal type
    assert rows["vllm_gpu_memory_utilization"].allowed == "above 0 and at most 1 (a share of the GPU)"
    assert rows["adapter"].type == "text or unset" and rows["adapter"].default == "unset"
    assert "fine-tune the trained adapter" in rows["ttft.lora"].meaning  # the comment block above the field
    assert rows["n_views"].meaning.startswith("augmented views predicted per test input")  # the comment after it


def test_the_sweep_reference_uses_the_notebooks_names_and_leaves_out_its_own():
    rows = {r.name: r for r in settings_rows("sweep")}
    assert "ttft_steps" in rows and "ttft.steps" not in rows
    assert rows["ttft_warmup_steps"].allowed == "between 0 and ttft_steps"
    assert not {"challenges", "solutions", "task_ids", "out_dir"} & set(rows)


def test_the_train_reference_lists_the_datasets_fields_once():
    rows = {r.name: r for r in settings_rows("train")}
    assert rows["output_dir"].default == "required"
    assert rows["per_device_batch_size"].allowed == "between 1 and global_batch_size"
    assert "data.datasets[].path" in rows and "data.datasets[].weight" in rows
    assert rows["data.eval_datasets"].allowed == "entries as data.datasets[]"
    assert not any(name.startswith("data.eval_datasets[]") for name in rows)
    assert rows["lr_scheduler"].allowed.startswith("one of linear, cosine")


def test_every_limit_names_a_setting():
    for cls, limits in ((SolveConfig, solve_limits()), (TrainConfig, train_limits())):
        config = cls() if cls is SolveConfig else cls(output_dir="x")
        for name, limit in limits.items():
            dotted_value(config, name)  # AttributeError when a limit names no setting
            if isinstance(limit.high, str):
                dotted_value(config, limit.high)


def test_the_learning_rate_schedules_offered_are_the_ones_transformers_makes():
    import torch
    from transformers import get_scheduler

    from arc24.models import LOSS_IMPLS, LR_SCHEDULERS
    from arc24.training.loss import IMPLS

    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    for name in LR_SCHEDULERS:
        scheduler = get_scheduler(name, optimizer, num_warmup_steps=1, num_training_steps=10)
        optimizer.step()
        scheduler.step()
    assert IMPLS == LOSS_IMPLS


def test_a_setting_without_a_comment_has_no_meaning_and_is_caught(tmp_path, monkeypatch):
    # The check above can fail: a field without a comment gets an empty line of meaning.
    (tmp_path / "made_up_settings.py").write_text(
        "from dataclasses import dataclass, field\n\n\n"
        "@dataclass\nclass Inner:\n    depth: int = 3  # how deep\n\n\n"
        "@dataclass\nclass Made:\n"
        "    # The first line of a block,\n    # and its second.\n    blocked: int = 1\n"
        "    trailing: str = 'x'  # after the field\n"
        "    bare: float = 0.5\n"
        "    inner: Inner = field(default_factory=Inner)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = importlib.util.spec_from_file_location("made_up_settings", tmp_path / "made_up_settings.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["made_up_settings"] = module
    spec.loader.exec_module(module)
    assert field_comments(module.Made) == {"blocked": "The first line of a block, and its second.",
                                           "trailing": "after the field", "bare": "", "inner": ""}
    rows = {r.name: r for r in describe_settings(module.Made, {"bare": Limit(0, 1)})}
    assert list(rows) == ["blocked", "trailing", "bare", "inner.depth"]
    assert rows["bare"].meaning == "" and rows["bare"].allowed == "between 0 and 1"
    assert rows["inner.depth"].meaning == "how deep"


def test_docs_settings_md_is_up_to_date_with_the_code():
    assert (REPO / "docs" / "settings.md").read_text() == settings_reference(), \
        "docs/settings.md is out of date: run python tools/settings_reference.py"


def test_the_tool_writes_the_reference_and_checks_it(tmp_path):
    out = tmp_path / "settings.md"
    run = [sys.executable, str(TOOL), "--out", str(out)]
    assert subprocess.run(run + ["--check"], capture_output=True).returncode == 1  # not there yet
    assert subprocess.run(run, capture_output=True).returncode == 0
    assert out.read_text() == settings_reference()
    assert subprocess.run(run + ["--check"], capture_output=True).returncode == 0
    out.write_text(out.read_text().replace("| `ttft.steps` | integer | `300` |", "| `ttft.steps` | integer | `30` |"))
    stale = subprocess.run(run + ["--check"], capture_output=True, text=True)
    assert stale.returncode == 1 and "out of date" in stale.stderr


@pytest.mark.parametrize("command, expected, absent", [
    (["solve", "--help-settings"], "ttft.steps = 300  (integer; at least 0)", "ttft_steps ="),
    (["bench", "--help-settings"], "n_views = 96  (integer; at least 1)", "ttft_steps ="),
    (["train", "--help-settings"], "lora.rank = 32  (integer; at least 0 (0: full fine-tuning))", "ttft"),
    (["sweep", "--help-settings"], "ttft_steps = 300  (integer; at least 0)", "challenges ="),
])
def test_help_settings_prints_the_table_without_the_commands_arguments(command, expected, absent, capsys):
    with pytest.raises(SystemExit) as done:
        main(command)  # solve and train need a positional argument otherwise
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert expected in out and absent not in out
    names = [line.split(" = ")[0] for line in out.splitlines() if " = " in line and not line.startswith(" ")]
    rows = settings_rows(command[0] if command[0] != "bench" else "solve")
    assert names == [r.name for r in rows]
    assert "    ?" not in out.splitlines()  # every setting has its line


def test_check_limits_names_a_value_of_its_own_before_one_bounded_by_another():
    from arc24.config import ConfigError

    config = SolveConfig()
    config.ttft.steps, config.ttft.warmup_steps = -1, 5  # warmup is above steps, but steps is wrong itself
    with pytest.raises(ConfigError, match="ttft.steps must be at least 0, got -1"):
        check_limits(config, solve_limits())
    config.ttft.steps = 3
    with pytest.raises(ConfigError, match=r"ttft.warmup_steps must be between 0 and 3 \(at most ttft.steps\), got 5"):
        check_limits(config, solve_limits())
