"""The settings of `arc24 solve` and of the submission notebook: one object, `SolveConfig`.

The notebook's parameters are these fields, flattened: a nested field is written with its
section's name and an underscore (`ttft.steps` is the notebook's `ttft_steps`). `from_notebook`
does that mapping, so every setting can be set by papermill and swept by `arc24 sweep`; a test
fails when the notebook and this module drift apart.

This module imports no torch: the supervisor process of `solve` only hands out tasks and
writes files, and loads nothing it does not need.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass, field
from typing import Literal

from arc24.config import ConfigError, Limit, check_limits, from_dict
from arc24.programs import SEARCHES, VIEWS, ProgramSettings

LORA_CHOICES = ("continue", "new")


@dataclass
class TTFTSettings:
    """Test-time fine-tuning of one task (leave-one-out over its train pairs)."""

    steps: int = 300  # optimizer steps per task (fewer when the run is behind schedule)
    learning_rate: float = 8e-5  # the peak learning rate of the LoRA's weights
    lr_scheduler: str = "linear"  # how the learning rate changes over the steps (transformers' schedulers)
    warmup_steps: int = 0  # steps of rising learning rate at the start
    batch_size: int = 1  # samples (held-out train pairs, augmented) per step
    # "continue": fine-tune the trained adapter (`adapter`); "new": a new LoRA of lora_rank per
    # task, on the base model merged with the trained adapter when there is one.
    lora: Literal["continue", "new"] = "continue"
    lora_rank: int = 16  # the rank of a new LoRA (ttft.lora=new)
    lora_alpha: int = 0  # the LoRA's scale numerator; 0: equal to lora_rank
    # rsLoRA: scale the update by alpha / sqrt(rank) instead of alpha / rank, so a higher rank
    # is not a smaller step (a new LoRA only).
    rslora: bool = False
    loss: str = "auto"  # the loss's implementation (training/loss.py); auto: liger on CUDA if installed, else chunked
    # Learn the shown examples' outputs too, not only the held-out pair's: more to learn from per
    # step (prompts.fit_task).
    learn_examples: bool = False
    max_seconds: float = 0.0  # 0: no limit; otherwise stop fine-tuning a task after this long
    memory_limit_gb: float = 0.0  # 0: none; a cap to make out-of-memory happen for real in tests


SOLVERS = ("both", "programs", "model")

# Named recipes for test-time fine-tuning and prediction, chosen by benchmark (README, "Profiles").
# A profile fills in the settings left at their defaults; a setting given explicitly wins.
PROFILES: dict[str, dict[str, object]] = {
    # A new LoRA per task on a base model without ARC training (the embedded SmolLM2 on a CPU).
    # Its attempts are voted: over every suite together (ours and two hidden sets), scoring under
    # views solved one task fewer than the vote, for 4-12% more time (README, "Choosing the defaults").
    "new-lora": {"ttft.lora": "new", "ttft.lora_rank": 16, "ttft.steps": 40, "ttft.learning_rate": 2e-3,
                 "ttft.lr_scheduler": "constant", "n_views": 8},
    # Continuing a trained adapter: the 2024 reference recipe.
    "continue-adapter": {"ttft.lora": "continue", "ttft.steps": 300, "ttft.learning_rate": 8e-5,
                         "ttft.lr_scheduler": "linear", "n_views": 96},
}


@dataclass
class SolveConfig:
    profile: str = ""  # a name in PROFILES: its values for the settings left at their defaults
    # Who answers: the program search and the model (both), or one of them; "programs" loads no model.
    solvers: str = "both"
    programs: ProgramSettings = field(default_factory=ProgramSettings)
    # How the programs' and the model's candidates become two attempts (voting.ENSEMBLES).
    ensemble: str = "first-and-fits"
    challenges: str = ""  # empty: the competition's test challenges under /kaggle/input (notebook only)
    solutions: str | None = None  # validation runs: score at the end
    out_dir: str = "."  # the run's folder: submission.json, predictions.jsonl, health.json, summary.json
    model: str = "embedded"  # a model folder, or "embedded" for the packaged SmolLM2-135M-Instruct
    adapter: str | None = None  # the trained LoRA adapter
    task_ids: list[str] = field(default_factory=list)  # only these tasks of the challenges; empty: all
    # The prompt: empty/0 means what the model was trained with (its prompt_contract.json), and
    # the defaults for a model without one. A value that disagrees with the contract is an error.
    template: str | None = None
    grid_format: str | None = None  # how grids are written in the prompt (data/formats.py); empty: the model's
    max_seq_len: int = 0  # the prompt's length in tokens at most (train pairs are dropped to fit); 0: the model's
    ttft: TTFTSettings = field(default_factory=TTFTSettings)
    n_views: int = 96  # augmented views predicted per test input (96: 8 dihedral transforms x 12 colour/order variants)
    # Views and test-time fine-tuning samples may rotate and flip the task; false: colours and
    # train order only (a small model learns one orientation of a rule in fewer steps).
    dihedral: bool = True
    backend: str = "auto"  # auto: vLLM when installed with a GPU, else transformers
    # The base weights' dtype: auto is bf16 where the GPU or CPU computes it natively, fp16 on GPUs
    # without bf16 (T4: fine-tuned under autocast with a gradient scaler, ttft.py), else fp32 (said
    # in the run's output). LoRA weights and optimizer state stay fp32. fp16 needs a GPU.
    precision: Literal["auto", "bf16", "fp16", "fp32"] = "auto"
    batch_size: int = 16  # views predicted together (the transformers backend)
    max_new_tokens: int = 0  # an answer's length in tokens at most; 0: enough for a 30x30 grid
    # Decode only tokens that continue a grid of the format (transformers_backend.GridConstraint), so every
    # answer parses; the transformers backend only (vLLM's answers are free, said in the summary).
    constrained_decoding: bool = True
    # Choosing the two attempts (voting.SELECTIONS). scoring_views: score every distinct candidate
    # by its likelihood as the answer under this many views (likelihood.py); 0: no scoring.
    selection: str = "vote"
    scoring_views: int = 0  # the first views of the prediction's; at most n_views are used
    # Above 0: per view, every answer at least this likely (search.py; up to 8), not only the
    # greedy one. Transformers backend with constrained_decoding only.
    search_min_prob: float = 0.0
    deadline_hours: float = 12.0  # the whole run's time; behind schedule, the tasks left get fewer steps and views
    safety_margin_minutes: float = 45.0  # the run stops this long before deadline_hours are up
    allow_base_model: bool = False  # predictions from weights without any fine-tuning need this
    verify_manifest: bool = False  # check the model folder against its packaging manifest first
    seed: int = 0  # of the augmentations and the fine-tuning samples (each task's from it and its id)
    workers: int = 0  # 0: one per GPU; on CPU one per core, one thread each, at most 4 (workers.py)
    in_process: bool = False  # debugging: solve in this process; a hung task then hangs the run
    task_timeout_minutes: float = 0.0  # 0: 3x a task's planned share of the run; then it is abandoned
    vllm_gpu_memory_utilization: float = 0.45  # the engine shares the GPU with test-time fine-tuning
    scratch_dir: str = ""  # test-time fine-tuned adapters for vLLM; empty: OUT_DIR/scratch
    # A run continues its OUT_DIR: the tasks finished there are kept (refused when the settings that
    # change predictions differ). overwrite: start over, removing the old run's records.
    overwrite: bool = False

    def with_profile(self) -> SolveConfig:
        """A copy with the profile's values in the settings still at their defaults."""
        if not self.profile:
            return self
        if self.profile not in PROFILES:
            raise ConfigError(f"profile: unknown {self.profile!r}; choose one of {', '.join(PROFILES)}")
        data, defaults = dataclasses.asdict(self), dataclasses.asdict(SolveConfig())
        for dotted, value in PROFILES[self.profile].items():
            section, _, name = dotted.rpartition(".")
            node, default = (data[section], defaults[section][name]) if section else (data, defaults[name])
            if node[name] == default:
                node[name] = value
        return from_dict(SolveConfig, data)

    def check(self) -> None:
        """Settings problems that need no file or model, raised before any work starts; each
        message names the setting, its allowed range and the value given. Each setting's own value
        first (`solve_limits`), so an unknown value is named before any consequence of the others."""
        check_limits(self, solve_limits())
        views = self.programs.views
        if not all(v in VIEWS for v in views) or len(set(views)) != len(views):
            raise ConfigError(f"programs.compiled_views must be some of {', '.join(VIEWS)}, comma-separated, each once, "
                              f"got {self.programs.compiled_views!r}")
        # What the settings mean together, once each is right by itself
        if self.ttft.lora == "continue" and not self.adapter and self.solvers != "programs":
            raise ConfigError("ttft.lora=continue needs a trained adapter (adapter=FOLDER); without one, set "
                              "ttft.lora=new for a new LoRA of rank ttft.lora_rank on the base model "
                              "(or profile=new-lora, its tuned recipe)")
        if self.ensemble == "score" and not self.scoring_views:
            raise ConfigError("ensemble=score ranks every candidate by the model's score: set scoring_views (e.g. 8), "
                              "or another ensemble")
        if self.selection != "vote" and not self.scoring_views:
            raise ConfigError(f"selection={self.selection} ranks candidates by their score: set scoring_views "
                              f"(e.g. 8), or selection=vote")
        if self.safety_margin_minutes >= self.deadline_hours * 60:
            raise ConfigError(f"safety_margin_minutes must be between 0 and {self.deadline_hours * 60:g} "
                              f"(less than deadline_hours={self.deadline_hours:g}), got {self.safety_margin_minutes:g}")


BACKENDS = ("auto", "vllm", "transformers")  # backends.py chooses among them


def solve_limits() -> dict[str, Limit]:
    """Each setting's own allowed values (a Literal-typed one's are its type's): checked by
    SolveConfig.check before what settings mean together, and listed by `arc24 solve --help-settings`."""
    from arc24.data.formats import FORMATS
    from arc24.data.prompts import OUTPUT_FROM_EXAMPLES, PROMPT_VERSIONS
    from arc24.models import LOSS_IMPLS, LR_SCHEDULERS
    from arc24.solving.voting import ENSEMBLES, SELECTIONS  # torch-free, as this module

    return {
        "profile": Limit(choices=("", *PROFILES), note="empty: none"),
        "solvers": Limit(choices=SOLVERS), "ensemble": Limit(choices=tuple(ENSEMBLES)),
        "selection": Limit(choices=tuple(SELECTIONS)), "backend": Limit(choices=BACKENDS),
        "programs.seconds": Limit(0, note="0: fit the deadline"), "programs.searches": Limit(choices=SEARCHES),
        "programs.max_depth": Limit(0, 6), "programs.max_states": Limit(1),
        "programs.compiled_depth": Limit(1, 4), "programs.compiled_share": Limit(0, 1, above=True, below=True),
        "programs.workers": Limit(0, note="0: the cores the model leaves"),
        "template": Limit(choices=tuple(n for n, t in PROMPT_VERSIONS.items() if t.kind == OUTPUT_FROM_EXAMPLES),
                          note="unset: the model's"),
        "grid_format": Limit(choices=tuple(FORMATS), note="unset: the model's"),
        "max_seq_len": Limit(0, note="0: what the model was trained with"),
        "ttft.steps": Limit(0), "ttft.learning_rate": Limit(0, above=True),
        "ttft.lr_scheduler": Limit(choices=LR_SCHEDULERS), "ttft.warmup_steps": Limit(0, "ttft.steps"),
        "ttft.batch_size": Limit(1), "ttft.lora_rank": Limit(1), "ttft.lora_alpha": Limit(0, note="0: the rank"),
        "ttft.loss": Limit(choices=LOSS_IMPLS), "ttft.max_seconds": Limit(0, note="0: no limit"),
        "ttft.memory_limit_gb": Limit(0, note="0: none"),
        "n_views": Limit(1), "batch_size": Limit(1), "max_new_tokens": Limit(0, note="0: enough for a 30x30 grid"),
        "scoring_views": Limit(0, note="0: candidates are not scored"),
        "search_min_prob": Limit(0, 1, note="0: greedy answers only"),
        "deadline_hours": Limit(0, above=True),
        "safety_margin_minutes": Limit(0, note="and less than deadline_hours x 60"),
        "seed": Limit(0), "workers": Limit(0, note="0: one per GPU, or per CPU core up to 4"),
        "task_timeout_minutes": Limit(0, note="0: 3x a task's planned share"),
        "vllm_gpu_memory_utilization": Limit(0, 1, above=True, note="a share of the GPU"),
    }


# ---------------------------------------------------------------- the notebook's parameters


def _flat_fields() -> dict[str, tuple[str, object]]:
    """Notebook parameter name -> (SolveConfig dotted field name, its type), for every setting."""
    flat = {}
    hints = typing.get_type_hints(SolveConfig)
    for f in dataclasses.fields(SolveConfig):
        tp = hints[f.name]
        if dataclasses.is_dataclass(tp):
            inner = typing.get_type_hints(tp)
            flat.update({f"{f.name}_{g.name}": (f"{f.name}.{g.name}", inner[g.name]) for g in dataclasses.fields(tp)})
        else:
            flat[f.name] = (f.name, tp)
    return flat


def notebook_names() -> dict[str, str]:
    """Notebook parameter name -> SolveConfig dotted field name, for every setting."""
    return {name: dotted for name, (dotted, _) in _flat_fields().items()}


def notebook_defaults() -> dict[str, object]:
    """The notebook's parameter values that give SolveConfig's defaults (None is written as "")."""
    config = dataclasses.asdict(SolveConfig())
    values = {}
    for name, dotted in notebook_names().items():
        value = config
        for part in dotted.split("."):
            value = value[part]
        values[name] = "" if value is None else (",".join(value) if isinstance(value, list) else value)
    return values


def from_notebook(parameters: dict) -> SolveConfig:
    """SolveConfig from the notebook's flat parameters: "" for an optional setting means None, and
    a list is comma-separated text. Unknown names and wrong types are ConfigErrors naming the parameter."""
    fields = _flat_fields()
    unknown = sorted(set(parameters) - set(fields))
    if unknown:
        raise ConfigError(f"unknown notebook parameter {unknown[0]} (known: {', '.join(sorted(fields))})")
    data: dict = {}
    for name, value in parameters.items():
        dotted, tp = fields[name]
        if typing.get_origin(tp) is list and isinstance(value, str):
            value = [t.strip() for t in value.split(",") if t.strip()]
        elif value == "" and type(None) in typing.get_args(tp):
            value = None
        node = data
        *path, last = dotted.split(".")
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    try:
        return from_dict(SolveConfig, data)
    except ConfigError as exc:
        # from_dict names the dotted key; the notebook's user knows the flat name
        message = str(exc)
        for name, (dotted, _) in fields.items():
            if "." in dotted:
                message = message.replace(dotted, name)
        raise ConfigError(message) from None


# ---------------------------------------------------------------- the prompt contract


@dataclass(frozen=True)
class Prompt:
    """The prompt a run uses: the model's contract, checked against the settings."""

    template: str
    grid_format: str
    max_seq_len: int
    source: str  # the contract file it came from, or "defaults (no prompt contract)"
    tokenizer: str | None = None  # the fingerprint the contract recorded; None without a contract

    def describe(self) -> str:
        return f"{self.template} / {self.grid_format} / {self.max_seq_len} tokens, from {self.source}"


DEFAULT_MAX_SEQ_LEN = 8192


def resolve_prompt(config: SolveConfig) -> Prompt:
    """The prompt for CONFIG: what the adapter (or the model) was trained with, per its prompt_contract.json.

    Template and grid format set explicitly must equal the contract's; max_seq_len may be lower
    (train pairs are dropped to fit), never higher than what the model was trained at. A folder
    without a contract (a plain base model) uses the settings, else the defaults.
    """
    from arc24.data.contract import CONTRACT_FILE, read_contract
    from arc24.data.formats import DEFAULT_FORMAT
    from arc24.data.prompts import DEFAULT_TEMPLATE
    from arc24.models import EMBEDDED_ALIASES

    folders = [config.adapter] if config.adapter else []
    if config.model not in EMBEDDED_ALIASES:
        folders.append(config.model)
    for folder in folders:
        contract = read_contract(folder)
        if contract is None:
            continue
        source = f"{folder}/{CONTRACT_FILE}"
        trained = {"template": contract.answer_template, "grid_format": contract.grid_format}
        if trained["template"] is None:
            raise ConfigError(f"{source}: the model was trained without an output-from-examples prompt "
                              f"({', '.join(contract.prompt_tasks)}), so it cannot be asked for outputs")
        for name, value in trained.items():
            asked = getattr(config, name)
            if asked and asked != value:
                raise ConfigError(f"{name}: {asked!r} was set, but the model was trained with {value!r} ({source}); "
                                  f"leave {name} empty to use the model's")
        if config.max_seq_len > contract.max_seq_len:
            raise ConfigError(f"max_seq_len: {config.max_seq_len} was set, but the model was trained at "
                              f"{contract.max_seq_len} tokens ({source}); use at most that")
        return Prompt(trained["template"], trained["grid_format"], config.max_seq_len or contract.max_seq_len,
                      source, contract.tokenizer)
    return Prompt(config.template or DEFAULT_TEMPLATE, config.grid_format or DEFAULT_FORMAT,
                  config.max_seq_len or DEFAULT_MAX_SEQ_LEN, "defaults (no prompt contract)")


def check_backend(config: SolveConfig, backend_name: str) -> None:
    """The settings that depend on the backend a run resolved to (backend auto picks one per machine)."""
    if backend_name == "transformers" and config.search_min_prob and not config.constrained_decoding:
        # vLLM's beam search is free whatever this says; the transformers search follows grid tokens only
        raise ConfigError("search_min_prob needs constrained_decoding=true on the transformers backend "
                          "(the search follows grid tokens only)")
