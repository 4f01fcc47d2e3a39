"""Loading and converting models prints nothing of its own: no progress bars from transformers
(every worker process of a run would draw them over the run's output), and not the FutureWarning
that peft's read of a deprecated transformers alias raises; other warnings still show."""

import warnings

import pytest

import arc24.models as models

BARS = ("Converting and de-quantizing", "Loading weights", "Writing model shards", "it/s]")


def test_load_model_draws_no_progress_bar(capfd, tiny_model_dir):
    from transformers.utils import logging as hf_logging

    capfd.readouterr()
    models.load_model(tiny_model_dir, device="cpu")
    err = capfd.readouterr().err
    assert not [bar for bar in BARS if bar in err], err
    assert hf_logging.set_tqdm_hook(None) is None  # the hook is put back after the load
    assert hf_logging.is_progress_bar_enabled()  # and bars elsewhere are not switched off


@pytest.mark.slow
def test_gguf_conversion_draws_no_progress_bar(capfd, tmp_path):
    from transformers import modeling_gguf_pytorch_utils

    original = modeling_gguf_pytorch_utils.tqdm
    capfd.readouterr()
    models._convert_gguf(models._embedded_gguf_dir(), models.EMBEDDED_GGUF, tmp_path)
    err = capfd.readouterr().err
    assert not [bar for bar in BARS if bar in err], err
    assert (tmp_path / "config.json").is_file()
    assert modeling_gguf_pytorch_utils.tqdm is original


def test_peft_alias_warning_is_ignored_and_others_show(tiny_model_dir):
    from peft import LoraConfig, get_peft_model

    def caught(action):
        with warnings.catch_warnings(record=True) as seen:
            action()
        return [str(w.message) for w in seen]

    model = models.load_model(tiny_model_dir, device="cpu")
    assert not caught(lambda: get_peft_model(model, LoraConfig(r=2, target_modules=["q_proj"])))
    assert not caught(lambda: model.is_gradient_checkpointing)
    # the same category from the same module with another message still shows, and so does
    # the same message from elsewhere
    other = caught(lambda: warnings.warn_explicit("`from_pretrained` is deprecated", FutureWarning,
                                                  "modeling_utils.py", 1, module="transformers.modeling_utils"))
    elsewhere = caught(lambda: warnings.warn_explicit("`is_gradient_checkpointing` is deprecated", FutureWarning,
                                                      "mine.py", 1, module="mine"))
    assert other == ["`from_pretrained` is deprecated"] and len(elsewhere) == 1


def test_peft_alias_warning_shows_without_the_filter(tiny_model_dir):
    """The warning that test_peft_alias_warning_is_ignored_and_others_show expects gone is real."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        model.is_gradient_checkpointing
    assert any("is_gradient_checkpointing" in str(w.message) for w in seen)


@pytest.mark.slow
def test_notebook_kernel_runs_encrypted_and_quiet(capfd, tmp_path):
    """The kernel that `make demo` and the sweep start talks over CurveZMQ, so ipykernel does not
    warn about plain-text TCP; the notebook still runs."""
    import nbformat

    from arc24.sweeps.sweep import execute_submission_notebook

    notebook = tmp_path / "tiny.ipynb"
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "language": "python",
                                                           "display_name": "Python 3"}})
    nb.cells = [nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("print(x + 1)")]
    nbformat.write(nb, notebook)
    capfd.readouterr()
    execute_submission_notebook({"x": 41}, tmp_path / "out.ipynb", progress=False, notebook=notebook)
    err = capfd.readouterr().err
    assert "without encryption" not in err, err
    assert nbformat.read(tmp_path / "out.ipynb", 4).cells[-1].outputs[0]["text"].strip() == "42"
