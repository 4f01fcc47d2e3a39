"""Where the read-only ARC data lies for the tests: ../shared/data beside the checkout."""

from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ARC1 = SHARED_DATA / "arc-agi-1"
CONCEPT = SHARED_DATA / "conceptarc" / "ConceptARC.json"
ARC2 = SHARED_DATA / "arc-agi-2"  # training/ and evaluation/, one file per task
REARC = SHARED_DATA / "re-arc" / "tasks"  # one JSON list of examples per ARC-AGI-1 training task
