"""(to be written)"""

PRIMITIVES: list = []
LEARNERS: list = []
