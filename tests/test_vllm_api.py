"""The GPU path checked without a GPU: the vLLM backend's calls against the pinned vLLM's API
(src/arc24/solving/vllm_api.json, written by tools/vllm_api.py from that wheel's source), and
fp16 test-time fine-tuning for GPUs without bf16 (Kaggle's T4s)."""

from __future__ import annotations

import ast
import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from arc24.solving import inference
from arc24.solving.inference import (
    VLLM_API_FILE,
    VLLM_LORA_RANKS,
    VLLM_OUTPUT_FIELDS,
    VLLM_PIN,
    _from_vllm,
    vllm_calls,
    vllm_contract_problems,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def api() -> dict:
    return json.loads(VLLM_API_FILE.read_text(encoding="utf-8"))


def load_tool(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- the pin


def test_one_vllm_pin_everywhere(api):
    assert api["vllm"] == VLLM_PIN
    assert f"vllm=={VLLM_PIN}" in load_tool("kaggle_wheels").DEFAULT_PACKAGES
    assert api["wheel"].startswith(f"vllm-{VLLM_PIN}-")


# ---------------------------------------------------------------- the contract


def test_backend_calls_match_the_pinned_vllm(api):
    assert vllm_contract_problems(api) == []


def test_a_removed_argument_fails_the_contract(api):
    # swap_space left vLLM's EngineArgs in 0.18 (vllm-project/vllm#36216); 0.26 raises TypeError on it.
    calls = vllm_calls()
    calls["LLM"] = {**calls["LLM"], "swap_space": 0}
    assert vllm_contract_problems(api, calls) == [
        f"LLM(swap_space=...): not an argument of LLM or EngineArgs in vLLM {VLLM_PIN}"]
    calls = {"SamplingParams": {"use_beam_search": True}, "LLM.generate": {"prompt_token_ids": []}}
    assert len(vllm_contract_problems(api, calls)) == 2


def test_the_contract_catches_a_bad_rank_dtype_or_output_field(api):
    calls = vllm_calls()
    calls["LLM"] = {**calls["LLM"], "max_lora_rank": 24, "dtype": "bf16"}
    problems = vllm_contract_problems(api, calls)
    assert any("max_lora_rank=24" in p for p in problems) and any("dtype='bf16'" in p for p in problems)
    older = {**api, "Logprob": ["rank"]}
    assert vllm_contract_problems(older) == [f"Logprob.logprob: not a field in vLLM {VLLM_PIN}"]


def test_every_vllm_call_of_the_backend_is_in_the_contract():
    """The backend builds its arguments with the functions vllm_calls() uses, and calls nothing else.

    Parsed from inference.py: every call on self.llm / vllm.* / the stored vLLM classes inside
    VLLMBackend must be one vllm_calls() lists, and its keywords must come from those builders.
    """
    tree = ast.parse(Path(inference.__file__).read_text(encoding="utf-8"))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "VLLMBackend")
    names = {"vllm.LLM": "LLM", "self._SamplingParams": "SamplingParams", "self._LoRARequest": "LoRARequest",
             **{f"self.llm.{m}": f"LLM.{m}" for m in ("generate", "get_tokenizer", "sleep", "wake_up")}}
    seen = {}
    for node in ast.walk(cls):
        if isinstance(node, ast.Call):
            target = ast.unparse(node.func)
            if target.startswith(("vllm.", "self.llm.", "self._SamplingParams", "self._LoRARequest")):
                assert target in names, f"VLLMBackend calls {target}, which the contract does not check"
                seen.setdefault(names[target], []).append(node)
    assert set(seen) == set(vllm_calls())
    builders = {"LLM": "vllm_engine_kwargs", "SamplingParams": "vllm_sampling_kwargs",
                "LoRARequest": "vllm_lora_kwargs"}
    for call, nodes in seen.items():
        for node in nodes:
            if call in builders:  # everything passed comes from the builder the contract checks
                assert not node.args and [ast.unparse(k.value.func) for k in node.keywords] == [builders[call]]
            else:
                assert {k.arg for k in node.keywords} <= set(vllm_calls()[call])


def test_outputs_are_read_through_the_recorded_fields(api):
    # _from_vllm gets an object with only the fields the contract names, and still works.
    step = {5: SimpleNamespace(**{f: -0.5 if f == "logprob" else None for f in api["Logprob"]})}
    fields = dict(text="```\n1\n```\n", token_ids=[5], logprobs=[step], cumulative_logprob=-0.5)
    assert set(fields) == set(VLLM_OUTPUT_FIELDS["CompletionOutput"]) <= set(api["CompletionOutput"])
    assert _from_vllm(SimpleNamespace(**fields)).logprob_mean == pytest.approx(-0.5)


def test_lora_ranks_and_request_order(api):
    assert set(VLLM_LORA_RANKS) <= set(api["max_lora_rank"])
    assert api["LoRARequest"][:3] == ["lora_name", "lora_int_id", "lora_path"]
    assert inference.supported_lora_rank(24) == 32 and inference.supported_lora_rank(512) == 512


def test_snapshot_is_what_the_tool_writes(api, tmp_path):
    """Reading a (tiny, synthetic) wheel gives the snapshot's layout; the real wheel needs the network."""
    vllm_api = load_tool("vllm_api")
    files = {
        "vllm/entrypoints/llm.py": "class LLM:\n def __init__(self, model: str, *, seed: int = 0, **kwargs): ...\n"
                                   + "".join(f" def {m}(self, x=None, *, level=1): ...\n"
                                             for m in vllm_api.LLM_METHODS),
        "vllm/engine/arg_utils.py": "@dataclass\nclass EngineArgs:\n model: str\n dtype: ModelDType = 'auto'\n"
                                    " _hidden: int = 0\n kind: ClassVar[str] = 'x'\n",
        "vllm/config/lora.py": "MaxLoRARanks = Literal[8, 16]\nclass LoRAConfig:\n max_lora_rank: MaxLoRARanks = 8\n",
        "vllm/config/model.py": "ModelDType = Literal['auto', 'float16']\n",
        "vllm/sampling_params.py": "class SamplingParams(msgspec.Struct):\n n: int = 1\n",
        "vllm/lora/request.py": "class LoRARequest(msgspec.Struct):\n lora_name: str\n lora_int_id: int\n",
        "vllm/outputs.py": "@dataclass\nclass CompletionOutput:\n text: str\n",
        "vllm/logprobs.py": "@dataclass\nclass Logprob:\n logprob: float\n",
        "vllm-9.9.dist-info/METADATA": "Metadata-Version: 2.1\nName: vllm\nVersion: 9.9\nRequires-Python: >=3.10\n"
                                       "Requires-Dist: torch==2.10.0\nRequires-Dist: transformers>=4.56; python_version>'3'\n",
    }
    import zipfile

    wheel = tmp_path / "vllm-9.9-cp38-abi3-manylinux_2_31_x86_64.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    got = vllm_api.snapshot(wheel)
    assert set(got) == set(api)
    assert got["LLM"] == {"keywords": ["model", "seed"], "var_keyword": True}
    assert got["EngineArgs"] == ["model", "dtype"]
    assert got["LLM methods"]["sleep"] == {"keywords": ["x", "level"], "var_keyword": False}
    assert (got["max_lora_rank"], got["dtype"]) == ([8, 16], ["auto", "float16"])
    assert got["requires"] == {"python": ">=3.10", "torch": "==2.10.0", "transformers": ">=4.56"}


# ---------------------------------------------------------------- GPUs without bf16 (T4)


def test_a_gpu_without_bf16_gets_fp16_in_training_and_in_the_engine(monkeypatch, api):
    import torch

    from arc24.models import resolve_precision

    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)  # a T4 (compute 7.5)
    assert resolve_precision("auto", "cuda") == "fp16"
    assert inference.VLLM_DTYPES["fp16"] in api["dtype"]
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)  # an A100, H100, L4
    assert resolve_precision("auto", "cuda") == "bf16"
    assert set(inference.VLLM_DTYPES.values()) <= set(api["dtype"])


@pytest.mark.parametrize("precision", ["fp16", "fp32"])
def test_fp16_fine_tuning_uses_a_gradient_scaler_and_fp32_lora(tiny_model_dir, monkeypatch, precision):
    """The T4 path on the CPU: fp16 base weights, fp16 autocast, a scaler, fp32 LoRA weights
    (and fp32, the same loop with a pass-through scaler).

    The CPU computes fp16 slowly but correctly, and torch's CPU autocast and GradScaler run the
    same logic as on CUDA; only the speed and the kernels are the GPU's.
    """
    import numpy as np
    import torch

    from arc24.data.task import Pair, Task
    from arc24.models import load_model, load_tokenizer, weights_precision
    from arc24.solving.config import Prompt, TTFTSettings
    from arc24.solving.ttft import TaskFineTuner

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    model = load_model(tiny_model_dir, precision=precision, device="cpu")
    tokenizer = load_tokenizer(tiny_model_dir, padding_side="left")
    torch.manual_seed(0)
    tuner = TaskFineTuner(model, tokenizer, TTFTSettings(steps=4, learning_rate=1e-3, lora="new", lora_rank=4),
                          Prompt("output-from-examples-v1", "numbered-fence", 1024, "test"), seed=0)
    assert tuner.precision == weights_precision(tuner.model) == precision
    assert {p.dtype for p in tuner.params} == {torch.float32}
    grids = [np.array(g, np.int8) for g in ([[1, 2], [3, 4]], [[5, 6], [7, 8]], [[0, 1], [1, 0]])]
    task = Task("t", [Pair(g, g[:, ::-1].copy()) for g in grids], [Pair(grids[0])])
    updates = []
    update = torch.amp.GradScaler.update

    def counted_update(self, *args, **kwargs):
        updates.append(self.is_enabled())
        return update(self, *args, **kwargs)

    monkeypatch.setattr(torch.amp.GradScaler, "update", counted_update)
    try:
        result = tuner.fine_tune(task)
    finally:
        torch.set_num_threads(threads)
    assert result.status == "ok" and result.steps == 4, result.reason
    assert updates == [precision == "fp16"] * 4  # a live scaler on every fp16 step
    assert any(not torch.equal(p, s) for p, s in zip(tuner.params, tuner._start))  # the LoRA learned
    assert all(p.dtype == torch.float32 for p in tuner.params)


def test_bf16_and_fp32_fine_tuning_need_no_scaler():
    from arc24.models import grad_scaler

    assert not grad_scaler("fp32", "cpu").is_enabled()
    assert not grad_scaler("bf16", "cpu").is_enabled()
    assert grad_scaler("fp16", "cpu").is_enabled()


def test_solve_on_a_gpu_without_bf16_runs_fp16_and_says_so(monkeypatch):
    """A T4: solve's precision is fp16 (fine-tuning with a gradient scaler), not a silent fp32."""
    import torch

    from arc24.solving.config import SolveConfig, TTFTSettings
    from arc24.solving.solve import solve_precision

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    precision, note = solve_precision(SolveConfig(ttft=TTFTSettings(lora="new")))
    assert precision == "fp16" and "gradient scaler" in note
