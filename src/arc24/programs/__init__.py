"""The program search: a grid DSL (`dsl.py`, `grids.py`, `learners.py`, ...) and a search over its
compositions (`search.py`) that answers ARC tasks on the CPU, beside the model."""
