"""The program search: a grid DSL (`dsl.py`, `grids.py`, `learners.py`, ...) and a search over its
compositions (`search.py`) that answers ARC tasks on the CPU, beside the model."""

# Which searches answer a task (solver.py): both, or one alone. Here, where importing costs nothing
# (no numpy), for the settings' checks.
SEARCHES = ("both", "compiled", "learners")
# How the compiled search sees a task (solver.VIEWS): each view is searched in its share of the time.
VIEWS = ("plain", "normalised", "transposed")
