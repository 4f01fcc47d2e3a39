# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # arc24 submission kernel
#
# For every task: search programs that fit its train pairs on the CPU cores, test-time fine-tune
# the trained adapter on that task alone, predict each test input under many augmented views,
# reverse the augmentations, choose two attempts from the programs' and the model's answers, and
# write `submission.json` after every task. Runs on Kaggle (offline) and locally through papermill
# (`make demo`, validation sweeps); the parameters cell below is what papermill sets.

# %% tags=["parameters"]
# Every setting of arc24 solve (SolveConfig in src/arc24/solving/config.py); a nested setting is
# written with its section's name and an underscore (ttft.steps is ttft_steps). Empty text: unset.
profile = ""  # "new-lora" or "continue-adapter": its values for the settings left at their defaults
solvers = "both"  # both: the program search and the model; "programs" (loads no model) or "model" alone
programs_seconds = 10.0  # the program search's budget per task
programs_max_depth = 3  # primitives composed before the last, learned step
programs_max_states = 400000  # distinct states each search keeps per task (its memory bound, about 1 KB each)
programs_searches = "both"  # which searches run: both, "compiled" (C++, built on first use) or "learners" (Python)
programs_compiled_depth = 3  # the compiled search: functions composed before the output adapters
programs_compiled_share = 0.5  # of programs_seconds, for the compiled search when both run
programs_compiled_views = "plain,normalised"  # how the compiled search sees the task: plain, normalised, transposed
programs_partial_fits = True  # answers that reproduce some train pairs too, after those that reproduce all
programs_workers = 0  # 0: the CPU cores the model's workers leave (before the model on a machine without a GPU)
programs_skip_model = False  # a task a program fits is not fine-tuned or predicted by the model
ensemble = "first-and-fits"  # first-and-fits (the programs' first answer and the fits that generalise), programs-first, first-each, model-first, score (needs scoring_views)
challenges = ""  # empty: the competition's test challenges under /kaggle/input
solutions = ""  # validation runs: score against these at the end
out_dir = "."
model = "embedded"  # a model folder, or the embedded SmolLM2-135M-Instruct
adapter = ""  # the trained LoRA adapter folder
task_ids = ""  # comma-separated subset (validation runs); empty: all tasks
# The prompt; empty/0: what the model was trained with (its prompt_contract.json), else the defaults
template = ""
grid_format = ""
max_seq_len = 0
# Test-time fine-tuning. ttft_lora: "continue" fine-tunes the trained adapter (needs adapter);
# "new" fine-tunes a new LoRA of rank ttft_lora_rank per task (on the adapter merged, if any).
ttft_steps = 300
ttft_learning_rate = 8e-5
ttft_lr_scheduler = "linear"
ttft_warmup_steps = 0
ttft_batch_size = 1
ttft_lora = "continue"
ttft_lora_rank = 16
ttft_lora_alpha = 0  # 0: equal to the rank
ttft_rslora = False  # scale by alpha / sqrt(rank)
ttft_loss = "auto"
ttft_learn_examples = False  # learn the shown examples' outputs too
ttft_max_seconds = 0.0  # 0: no limit per task
ttft_memory_limit_gb = 0.0  # 0: none
# Prediction
n_views = 96
dihedral = True  # views and fine-tuning samples may rotate and flip the task
backend = "auto"  # auto: vLLM when installed with a GPU, else transformers
precision = "auto"  # auto: bf16 where the GPU or CPU computes it natively; fp16 on other GPUs; else fp32
batch_size = 16
max_new_tokens = 0  # 0: enough for a 30x30 grid
constrained_decoding = True  # only tokens that continue a grid (transformers backend)
selection = "vote"  # how the two attempts are chosen: vote, score, vote-score, score-vote
scoring_views = 0  # score each candidate under this many views (0: no scoring)
search_min_prob = 0.0  # above 0: every answer at least this likely per view, not only the greedy one
# The run
deadline_hours = 12.0
safety_margin_minutes = 45.0
allow_base_model = False
verify_manifest = False
seed = 0
workers = 0  # 0: one worker process per GPU; on a CPU one per core (one thread each), at most 4
in_process = False  # debugging: no worker processes (a hung task then hangs the run)
task_timeout_minutes = 0.0  # 0: 3x a task's planned share of the run; past it the task is abandoned
vllm_gpu_memory_utilization = 0.45
scratch_dir = ""  # empty: out_dir/scratch
overwrite = False  # False: continue the run in out_dir (its finished tasks are kept); True: start over

# %%
import sys
from pathlib import Path

# The package comes from an attached Kaggle dataset there, and from src/ in a checkout.
# (Kaggle has mounted datasets as /kaggle/input/SLUG and as /kaggle/input/datasets/OWNER/SLUG.)
for candidate in [Path("/kaggle/input/arc24/src"), *sorted(Path("/kaggle/input").glob("datasets/*/arc24/src")),
                  Path.cwd() / "src", Path.cwd().parent / "src"]:
    if (candidate / "arc24").is_dir():
        sys.path.insert(0, str(candidate))
        break
import arc24

print("arc24", arc24.__version__, "from", Path(arc24.__file__).parent)


# %%
from arc24.solving.config import from_notebook, notebook_names

# The parameters above, by the names SolveConfig gives them.
config = from_notebook({name: globals()[name] for name in notebook_names()})
if not config.challenges:
    found = sorted(Path("/kaggle/input").glob("*/arc-agi_test_challenges.json"))
    if not found:
        raise FileNotFoundError("no challenges given and none found under /kaggle/input")
    config.challenges = str(found[0])
    # The competition's run: the CPU cores search programs for hours beside the GPUs
    from arc24.solving.programs import for_the_competition

    config.programs = for_the_competition(config.programs)

from arc24.data.tasks import check_data

assert check_data(config.challenges, config.solutions) == 0, "the input tasks have problems (listed above)"

# %%
from arc24.solving.records import health_table
from arc24.solving.solve import solve

summary = solve(config)
print(summary)

# %% [markdown]
# ## Health report: which weights produced each task's predictions, and how fine-tuning went

# %%
print(health_table(summary["health"]))

# %%
from arc24.solving.submission import validate_submission_main

assert validate_submission_main(summary["submission"], summary["challenges"]) == 0

# %%
if summary["solutions"]:
    from arc24.evaluation.scoring import score_main

    score_main(summary["submission"], summary["solutions"])
