"""One task at a time: test-time fine-tune, predict every test input under many views.

`TaskSolver` loads the model once and then solves tasks one after another; it is what a
worker process runs (workers.py), and what solve runs in its own process when asked to. The
vote and the files are the caller's: a solver returns a `TaskOutcome` and keeps nothing.

Which weights answer a task:
- "ttft": its own test-time fine-tuning went well;
- "fine-tuned": fine-tuning failed or was skipped, and the trained adapter answers (loudly, in
  the health report);
- "base": no adapter was given and the model alone answers; only with allow_base_model,
  because a run that quietly predicts with the base model scores far too low;
- "none": no weights may answer; the task gets placeholder attempts.

With the vLLM backend the test-time fine-tuned adapter is saved to a scratch folder and
served as a LoRA request by the engine living in the same process (training and the engine
share the GPU, the engine taking `vllm_gpu_memory_utilization` of it), then deleted.
"""

from __future__ import annotations

import shutil
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from arc24.config import ConfigError
from arc24.data.task import Task
from arc24.solving.config import Prompt, SolveConfig
from arc24.solving.records import TaskOutcome, TTFTResult
from arc24.solving.voting import grid_key


@dataclass(frozen=True)
class SolverSetup:
    """What every TaskSolver is built from, resolved once by the supervisor before any worker starts."""

    config: SolveConfig
    prompt: Prompt
    precision: str  # fp32, bf16 or fp16 (a GPU without bf16): the base weights (LoRA weights and optimizer stay fp32)
    backend: str  # transformers or vllm
    scratch: Path  # where vLLM's per-task adapters are saved


def task_seed(seed: int, task_id: str) -> int:
    """A per-task seed, so a task's outcome does not depend on which worker ran it, or after what."""
    return (seed * 1_000_003 + zlib.crc32(task_id.encode())) % 2**31


class TaskSolver:
    """Holds the model; `solve_task` fine-tunes it on a task, predicts, and restores it."""

    def __init__(self, setup: SolverSetup):
        import torch

        from arc24.data.contract import tokenizer_fingerprint
        from arc24.models import load_model, load_tokenizer
        from arc24.solving.inference import max_answer_tokens
        from arc24.solving.transformers_backend import TransformersBackend
        from arc24.solving.ttft import TaskFineTuner

        config, prompt, backend_name = setup.config, setup.prompt, setup.backend
        self.config, self.prompt = config, prompt
        self.scratch = Path(setup.scratch)
        self.backend_name = backend_name
        self.precision = setup.precision  # the engine serves in the precision the task was fine-tuned in
        self.tokenizer = load_tokenizer(config.model, padding_side="left")
        if prompt.tokenizer and tokenizer_fingerprint(self.tokenizer) != prompt.tokenizer:
            raise ConfigError(f"the tokenizer of {config.model} is not the one the model was trained with "
                             f"({prompt.source} records another vocabulary); use the model it was trained on")
        model = load_model(config.model, precision=setup.precision)  # on the GPU when there is one
        self.fallback = "base"
        if config.adapter:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, config.adapter, is_trainable=True)
            self.fallback = "fine-tuned"
        self.engine_model = config.model  # the weights an inference engine serves the LoRAs on
        if backend_name == "vllm" and config.adapter and config.ttft.lora == "new":
            # A new LoRA goes on the merged fine-tuned weights (TaskFineTuner would merge them
            # itself); the engine must load those merged weights from a folder.
            model = model.merge_and_unload()
            self.engine_model = self.scratch / "merged-model"
            model.save_pretrained(self.engine_model)
            self.tokenizer.save_pretrained(self.engine_model)
        torch.manual_seed(config.seed)  # a new LoRA's initial weights: the same in every worker
        self.tuner = TaskFineTuner(model, self.tokenizer, config.ttft, prompt, seed=config.seed, dihedral=config.dihedral)
        self.max_new = config.max_new_tokens or max_answer_tokens(self.tokenizer, prompt.grid_format)
        self.max_prompt = prompt.max_seq_len - self.max_new
        if backend_name == "vllm":
            self.backend = self._vllm_backend()
        else:
            self.backend = TransformersBackend(self.tuner.model, self.tokenizer, batch_size=config.batch_size,
                                               grid_format=prompt.grid_format if config.constrained_decoding else None)

    def _vllm_backend(self):
        from arc24.data.formats import get_format
        from arc24.solving.vllm_backend import VLLMBackend

        c = self.config
        self._fallback_lora = c.adapter if c.ttft.lora == "continue" else None
        grid_regex = get_format(self.prompt.grid_format).regex() if c.constrained_decoding else None
        return VLLMBackend(self.engine_model, max_model_len=self.prompt.max_seq_len,
                           gpu_memory_utilization=c.vllm_gpu_memory_utilization, enable_lora=True,
                           max_lora_rank=self.tuner.rank, seed=c.seed, precision=self.precision,
                           grid_regex=grid_regex)

    def solve_task(self, task: Task, steps: int, n_views: int, on_ttft_done=None,
                   candidates: list | None = None) -> TaskOutcome:
        """Fine-tune on TASK for STEPS steps, predict N_VIEWS views of each test input, restore.

        on_ttft_done(result), when given, is called between fine-tuning and predicting, so a
        supervisor knows which phase a task that never finishes was stuck in. CANDIDATES (per
        test input, grids from elsewhere: the program search) are scored beside the model's own
        when the run scores candidates, into outcome.candidate_scores.
        """
        self.candidates = candidates or []
        import torch

        from arc24.solving.inference import build_requests, predict

        c = self.config
        torch.manual_seed(task_seed(c.seed, task.id))
        try:
            result = self.tuner.fine_tune(task, steps=steps)
            if on_ttft_done:
                on_ttft_done(result)
            weights = self._weights(result)
            outcome = TaskOutcome(task.id, result, weights, n_views=n_views)
            if weights == "none":
                return outcome
            requests, outcome.too_long = build_requests(
                self.tokenizer, {task.id: task}, n_views, c.seed, self.prompt.template, self.prompt.grid_format,
                max_prompt_len=self.max_prompt, dihedral=c.dihedral)
            began = time.perf_counter()
            if c.scoring_views and self.backend_name == "transformers" and not c.search_min_prob:
                # Predicting and scoring share the scoring views' prompt computation.
                outcome.predictions = self._predict_and_score(requests, outcome)
            else:
                with self._adapter_served(task.id, weights):
                    if c.search_min_prob:
                        if self.backend_name == "vllm":  # beam search: no threshold search there
                            from arc24.solving.vllm_backend import predict_by_beam_search as predict_by_search
                        else:
                            from arc24.solving.search import predict_by_search

                        outcome.predictions = predict_by_search(self.backend, requests, self.prompt.grid_format,
                                                                self.max_new, c.search_min_prob)
                    else:
                        outcome.predictions = predict(self.backend, requests, self.tokenizer,
                                                      self.prompt.grid_format, self.max_new, progress=False)
                outcome.predict_seconds = time.perf_counter() - began
                if c.scoring_views:
                    self._score(task, outcome.predictions, outcome)
                    outcome.score_seconds = time.perf_counter() - began - outcome.predict_seconds
            for p in outcome.predictions:
                p.weights = weights
            return outcome
        finally:
            self.tuner.reset()

    def _predict_and_score(self, requests: list, outcome: TaskOutcome) -> list:
        """Predict every view; score each test input's candidates on the prompt caches of its first
        scoring_views views, kept from their generation (transformers backend)."""
        from arc24.data.formats import get_format
        from arc24.solving.inference import predict, to_prediction
        from arc24.solving.likelihood import answer_ids
        from arc24.solving.voting import rank_predictions

        fmt = self.prompt.grid_format
        batch = max(self.config.batch_size, 1)
        predictions, predict_seconds, score_seconds = [], 0.0, 0.0
        for test_index in sorted({r.test_index for r in requests}):
            began = time.perf_counter()
            mine = [r for r in requests if r.test_index == test_index]
            scored = mine[: self.config.scoring_views]
            # The other views first, so that no prompt cache is held while they are predicted.
            rest = predict(self.backend, mine[len(scored):], self.tokenizer, fmt, self.max_new, progress=False)
            found, rows = [], []  # rows: (the prompt cache, its row) of each scored view
            for start in range(0, len(scored), batch):
                chunk = scored[start: start + batch]
                generations, cache = self.backend.generate_keeping_prompts([r.prompt_ids for r in chunk], self.max_new)
                found += [to_prediction(r, g, get_format(fmt)) for r, g in zip(chunk, generations)]
                rows += [(cache, row) for row in range(len(chunk))]
            found += rest
            predict_seconds += time.perf_counter() - began
            began = time.perf_counter()
            grids = _with_candidates([cand.grid for cand in rank_predictions(found)], self._candidates(test_index))
            per_grid: list[list[float]] = [[] for _ in grids]
            for (cache, row), request in zip(rows, scored):
                answers = [answer_ids(self.tokenizer, request.augmentation.apply_grid(g), fmt) for g in grids]
                for i, value in enumerate(cache.answer_logprobs(row, answers) if answers else []):
                    per_grid[i].append(value)
            _set_scores(found, grids, per_grid)
            self._keep_candidate_scores(outcome, test_index, grids, per_grid)
            predictions += found
            score_seconds += time.perf_counter() - began
        outcome.predict_seconds, outcome.score_seconds = predict_seconds, score_seconds
        return predictions

    def _candidates(self, test_index: int) -> list:
        return self.candidates[test_index] if test_index < len(self.candidates) else []

    def _keep_candidate_scores(self, outcome: TaskOutcome, test_index: int, grids: list, per_grid: list) -> None:
        """The scores of the candidates given from elsewhere, in their order, into the outcome."""
        mean = {grid_key(g): sum(v) / len(v) for g, v in zip(grids, per_grid) if v}
        while len(outcome.candidate_scores) <= test_index:
            outcome.candidate_scores.append([])
        outcome.candidate_scores[test_index] = [mean.get(grid_key(g)) for g in self._candidates(test_index)]

    def _score(self, task: Task, predictions: list, outcome: TaskOutcome) -> None:
        """Each distinct candidate's mean answer log-probability under the scoring views, set on its predictions.

        The fine-tuned model held for training scores, whatever the backend that predicted.
        """
        from arc24.data.augment import inference_augmentations
        from arc24.solving.likelihood import score_candidates
        from arc24.solving.voting import rank_predictions

        views = inference_augmentations(min(self.config.scoring_views, self.config.n_views), self.config.seed, task,
                                        self.config.dihedral)
        for test_index in range(len(task.test)):
            mine = [p for p in predictions if p.test_index == test_index]
            grids = _with_candidates([c.grid for c in rank_predictions(mine)], self._candidates(test_index))
            if not grids:
                continue
            per_grid = score_candidates(self.tuner.model, self.tokenizer, task, test_index, grids, views,
                                        self.prompt.template, self.prompt.grid_format, self.max_prompt)
            _set_scores(mine, grids, per_grid)
            self._keep_candidate_scores(outcome, test_index, grids, per_grid)

    def _weights(self, result: TTFTResult) -> str:
        if result.status == "ok":
            return "ttft"
        if self.fallback == "base" and not self.config.allow_base_model:
            return "none"
        return self.fallback

    def _adapter_served(self, task_id: str, weights: str):
        """For vLLM: save the task's adapter and serve it for the duration of the block."""
        import contextlib

        if self.backend_name != "vllm":
            return contextlib.nullcontext()
        return _ServedAdapter(self, task_id, weights)


def _with_candidates(grids: list, candidates: list) -> list:
    """GRIDS, then each of CANDIDATES not among them."""
    seen = {grid_key(g) for g in grids}
    return grids + [g for g in candidates if grid_key(g) not in seen and not seen.add(grid_key(g))]


def _set_scores(predictions: list, grids: list, per_grid: list[list[float]]) -> None:
    """Each prediction's score: the mean over the scoring views of its grid's answer log-probability."""
    by_key = {grid_key(g): sum(v) / len(v) for g, v in zip(grids, per_grid) if v}
    for p in predictions:
        if p.grid is not None:
            p.score = by_key.get(grid_key(p.grid))


class _ServedAdapter:
    def __init__(self, solver: TaskSolver, task_id: str, weights: str):
        self.solver, self.weights = solver, weights
        self.path = solver.scratch / "adapters" / task_id

    def __enter__(self):
        if self.weights == "ttft":
            self.solver.tuner.model.save_pretrained(self.path)
            self.solver.backend.set_adapter(self.path)
        else:
            self.solver.backend.set_adapter(self.solver._fallback_lora)

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)  # adapters add up to gigabytes over 100 tasks
        return False
