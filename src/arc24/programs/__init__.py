"""The program search: a grid DSL (`dsl.py`, `grids.py`, `learners.py`, ...) and a search over its
compositions (`search.py`) that answers ARC tasks on the CPU, beside the model."""

from dataclasses import dataclass

# Which searches answer a task (solver.py): both, or one alone. Here, where importing costs nothing
# (no numpy), for the settings and their checks.
SEARCHES = ("both", "compiled", "learners")
# How the compiled search sees a task (solver.VIEWS): each view is searched in its share of the time.
VIEWS = ("plain", "normalised", "transposed")


@dataclass
class ProgramSettings:
    """One task's program search: its budget and which searches run (solver.py), and how `arc24 solve`
    runs it on the CPU cores beside the model (solving/programs.py)."""

    # CPU seconds per task, both searches; each stops and answers with what it has. 0: the share of the
    # run's deadline its process has for each task, 10 s to 10 min (the competition's run on Kaggle)
    seconds: float = 10.0
    # Which searches run (arc24.programs.solver): "both", "compiled" (the vocabulary over images and
    # lists, outputs stacked from pieces; C++ built on first use) or "learners" (Python, learned last steps)
    searches: str = "both"
    max_depth: int = 3  # the learner search: primitives composed, before the last learned step
    max_states: int = 400_000  # distinct states each search keeps per task: its memory bound (about 1 KB each)
    compiled_depth: int = 3  # the compiled search: functions composed before the output adapters
    compiled_share: float = 0.5  # of the seconds, for the compiled search when both run
    # How the compiled search sees the task, comma-separated, each view in its share of the time: plain
    # (background as 0), normalised (colours renumbered by their role), transposed; a view the same as
    # another is searched once
    compiled_views: str = "plain,normalised"
    partial_fits: bool = True  # answers that reproduce some train pairs, after every answer that reproduces all
    # Processes searching; 0: every core the model's workers leave (at least 1). On a machine
    # without a GPU the model's workers use every core, so the search runs before them, not beside.
    workers: int = 0
    # A task whose program fits every train pair is not fine-tuned or predicted by the model.
    skip_model: bool = False

    @property
    def views(self) -> tuple[str, ...]:
        return tuple(v.strip() for v in self.compiled_views.split(","))
