# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # arc24 submission kernel
#
# For every task: test-time fine-tune the trained adapter on that task alone, predict each test
# input under many augmented views, reverse the augmentations, vote two attempts, and write
# `submission.json` after every task. Runs on Kaggle (offline) and locally through papermill
# (`make demo`, validation sweeps); the parameters cell below is what papermill sets.

# %% tags=["parameters"]
challenges = ""  # empty: the competition's test challenges under /kaggle/input
solutions = ""  # validation runs: score against these at the end
model = "embedded"  # a model folder, or the embedded SmolLM2-135M-Instruct
adapter = ""  # the trained LoRA adapter folder; empty: a new LoRA per task on the base model
task_ids = ""  # comma-separated subset (validation runs); empty: all tasks
ttft_steps = 300
learning_rate = 8e-5
lora_rank = 0  # 0: continue the trained adapter; r > 0: a new LoRA of rank r per task
n_views = 96
max_seq_len = 8192
max_new_tokens = 0  # 0: enough for a 30x30 grid
batch_size = 16
backend = "auto"  # auto: vLLM when installed with a GPU, else transformers
workers = 0  # 0: one worker process per GPU (1 on CPU)
task_timeout_minutes = 0.0  # 0: 3x a task's planned share of the run; past it the task is abandoned
allow_base_model = False
verify_manifest = False
output_dir = "."
resume = False  # keep the tasks an interrupted run in output_dir finished (same settings only)

# %%
import sys
from pathlib import Path

# The package comes from an attached Kaggle dataset there, and from src/ in a checkout.
for candidate in [Path("/kaggle/input/arc24/src"), Path.cwd() / "src", Path.cwd().parent / "src"]:
    if (candidate / "arc24").is_dir():
        sys.path.insert(0, str(candidate))
        break
import arc24

print("arc24", arc24.__version__, "from", Path(arc24.__file__).parent)


# %%
def find_challenges() -> Path:
    if challenges:
        return Path(challenges)
    found = sorted(Path("/kaggle/input").glob("*/arc-agi_test_challenges.json"))
    if not found:
        raise FileNotFoundError("no challenges given and none found under /kaggle/input")
    return found[0]


from arc24.data.tasks import check_data

challenges_path = find_challenges()
assert check_data(challenges_path, solutions or None) == 0, "the input tasks have problems (listed above)"

# %%
from arc24.solving.solve import SolveConfig, health_table, solve
from arc24.solving.ttft import TTFTSettings

config = SolveConfig(
    challenges=str(challenges_path), solutions=solutions or None, out_dir=output_dir, model=model,
    adapter=adapter or None, task_ids=[t.strip() for t in task_ids.split(",") if t.strip()],
    ttft=TTFTSettings(steps=ttft_steps, learning_rate=learning_rate, new_lora_rank=lora_rank,
                      max_seq_len=max_seq_len),
    n_views=n_views, backend=backend, batch_size=batch_size, max_new_tokens=max_new_tokens,
    allow_base_model=allow_base_model, verify_manifest=verify_manifest, workers=workers,
    task_timeout_minutes=task_timeout_minutes, resume=resume)
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
