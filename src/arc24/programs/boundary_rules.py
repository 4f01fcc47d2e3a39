"""(being written) learners for ARC tasks the search misses."""

from __future__ import annotations

PRIMITIVES: list = []
LEARNERS: list = []
