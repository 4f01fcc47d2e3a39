"""Snapshot the part of vLLM's API that arc24 calls, read from a vLLM wheel's source (never imported).

    python tools/vllm_api.py                      # the pinned vLLM: pip download --no-deps, then read
    python tools/vllm_api.py vllm-0.19.1-*.whl    # a wheel already downloaded
    python tools/vllm_api.py --version 0.20.2 --out /tmp/vllm_api.json   # look at another release

vLLM cannot be installed on the CPU machines where arc24 is developed, and it changes its
engine arguments between releases (swap_space: an engine argument up to 0.17, ignored from
0.18, a TypeError from 0.26). So the wheel that tools/kaggle_wheels.py bundles is read here
with `ast`, and the names arc24 relies on are written to src/arc24/solving/vllm_api.json:
LLM.__init__'s keyword arguments and those of EngineArgs (LLM passes its **kwargs on to
it), the LLM methods the backend calls, SamplingParams' fields, LoRARequest's fields in
order, CompletionOutput's and Logprob's fields, BeamSearchParams' fields and those of
BeamSearchSequence and BeamSearchOutput (what LLM.beam_search takes and returns), and the
accepted max_lora_rank and dtype values. tests/test_vllm_api.py checks every call VLLMBackend makes against that file.

Bumping vLLM: change VLLM_PIN in src/arc24/solving/inference.py and the default in
tools/kaggle_wheels.py, run this tool, read `git diff src/arc24/solving/vllm_api.json`, fix
what the test reports.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from email.parser import Parser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / "src" / "arc24" / "solving" / "vllm_api.json"
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

    def module(self, path: str) -> ast.Module:
        return ast.parse(self.zip.read(path).decode("utf-8"), filename=path)


def find_class(tree: ast.Module, name: str) -> ast.ClassDef:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return node
    raise LookupError(f"class {name} not found")


def find_method(cls: ast.ClassDef, name: str) -> ast.FunctionDef:
    for node in cls.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return node
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
    llm = find_class(src.module("vllm/entrypoints/llm.py"), "LLM")
    engine_args = find_class(src.module("vllm/engine/arg_utils.py"), "EngineArgs")
    lora_config_module = src.module("vllm/config/lora.py")
    rank_alias = field_annotation(find_class(lora_config_module, "LoRAConfig"), "max_lora_rank")
    dtype_alias = field_annotation(engine_args, "dtype")
    outputs = src.module("vllm/outputs.py")
    logprobs = src.module("vllm/logprobs.py")
    sampling = src.module("vllm/sampling_params.py")
    beam_search = src.module("vllm/beam_search.py")
    meta = src.metadata
    return {
        "vllm": meta["Version"],
        "wheel": wheel.name,
        "requires": {"python": meta.get("Requires-Python", ""), "torch": requirement(meta, "torch"),
                     "transformers": requirement(meta, "transformers")},
        "LLM": parameters(find_method(llm, "__init__")),
        "EngineArgs": class_fields(engine_args),
        "LLM methods": {name: parameters(find_method(llm, name)) for name in LLM_METHODS},
        "SamplingParams": class_fields(find_class(sampling, "SamplingParams")),
        "LoRARequest": class_fields(find_class(src.module("vllm/lora/request.py"), "LoRARequest")),
        "CompletionOutput": class_fields(find_class(outputs, "CompletionOutput")),
        "Logprob": class_fields(find_class(logprobs, "Logprob")),
        "BeamSearchParams": class_fields(find_class(sampling, "BeamSearchParams")),
        "BeamSearchSequence": class_fields(find_class(beam_search, "BeamSearchSequence")),
        "BeamSearchOutput": class_fields(find_class(beam_search, "BeamSearchOutput")),
        "max_lora_rank": literal_values(lora_config_module, rank_alias),
        "dtype": literal_values(src.module("vllm/config/model.py"), dtype_alias),
    }


def download(version: str, folder: Path) -> Path:
    """pip download --no-deps vllm==VERSION into FOLDER; the wheel's path."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", f"vllm=={version}",
               "-d", str(folder)]
    print(" ".join(command), flush=True)
    subprocess.run(command, check=True)
    return next(folder.glob(f"vllm-{version}-*.whl"))


def main(argv: list[str] | None = None) -> int:
    from arc24.solving.inference import VLLM_PIN, vllm_contract_problems

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("wheel", nargs="?", type=Path, help="a vLLM wheel (default: download the pinned one)")
    parser.add_argument("--version", default=VLLM_PIN, help=f"the vLLM to download (default: the pin, {VLLM_PIN})")
    parser.add_argument("--out", type=Path, default=SNAPSHOT, help="where the snapshot goes (default: %(default)s)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download(args.version, Path(tmp))
        api = snapshot(wheel)
    args.out.write_text(json.dumps(api, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: vLLM {api['vllm']}")
    if api["vllm"] != VLLM_PIN:
        print(f"note: arc24 pins vLLM {VLLM_PIN} (inference.VLLM_PIN); this snapshot is of {api['vllm']}")
    problems = vllm_contract_problems(api)
    for problem in problems:
        print(f"VLLMBackend: {problem}")
    print("VLLMBackend's calls all match this snapshot" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
