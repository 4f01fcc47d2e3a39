"""The tests' view of processes through Linux's /proc: a run's workers, and whether they are gone."""

import time
from pathlib import Path

HAS_PROC = Path("/proc/self/stat").exists()


def children(pid: int) -> list[int]:
    """The process ids whose parent is PID."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    """Whether PID runs (a zombie, dead but not yet reaped, counts as gone)."""
    try:
        return "Z" not in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1][:3]
    except OSError:
        return False


def wait_until_gone(pids: list[int], seconds: float, failure: str) -> None:
    """Fail with FAILURE unless every one of PIDS has ended within SECONDS."""
    deadline = time.monotonic() + seconds
    while any(alive(p) for p in pids):
        assert time.monotonic() < deadline, failure
        time.sleep(0.2)
