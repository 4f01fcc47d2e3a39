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
# Runs on Kaggle (offline) and locally through papermill. This version checks the input tasks and
# shows the prompt the model will see; the test-time fine-tuning and voting pipeline plugs in here.

# %% tags=["parameters"]
challenges = ""  # empty: the competition's test challenges under /kaggle/input
solutions = ""  # optional: score against these when given
model = "embedded"  # a model folder, or the embedded SmolLM2-135M-Instruct
task_ids = ""  # comma-separated subset (validation runs); empty: all tasks
output_dir = "."

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


from arc24.data import check_data, load_tasks, select_tasks

challenges_path = find_challenges()
assert check_data(challenges_path, solutions or None) == 0, "the input tasks have problems (listed above)"
tasks = load_tasks(challenges_path, solutions or None)
if task_ids:
    tasks = select_tasks(tasks, [t.strip() for t in task_ids.split(",") if t.strip()])
print(f"{len(tasks)} tasks")

# %%
from arc24.models import load_tokenizer
from arc24.prompts import fit_task

tokenizer = load_tokenizer(model)
first = tasks[sorted(tasks)[0]]
fitted = fit_task(tokenizer, first, "output-from-examples-v1", "numbered-fence", 8192, for_training=False)
print(tokenizer.decode(fitted.input_ids))
