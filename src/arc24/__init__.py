"""arc24: turn a small open LLM into an ARC solver (fine-tune, test-time fine-tune, vote).

Importing the package must stay cheap and must work with only torch, transformers,
peft and numpy installed (it is shipped as a Kaggle dataset), so nothing heavy or
optional is imported here.
"""

__version__ = "0.1.0"
