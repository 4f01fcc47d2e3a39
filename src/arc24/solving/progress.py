"""What a run shows a person as it goes: a line per task as each stage starts and ends.

`make demo`, the sweeps and Kaggle run the submission notebook through a kernel, whose cell output
nobody sees until the end; these lines go to the kernel process's own stderr, which the terminal
that started papermill shows as they come (and ipykernel copies into the executed notebook).
"""

from __future__ import annotations

import sys
import time


def progress_stream():
    """Where a run's progress lines go: stderr; in a notebook's kernel (papermill: make demo, the
    sweeps; Kaggle) the process's own stderr, which the terminal that started papermill shows and
    ipykernel copies into the notebook too, where sys.stderr would reach the notebook only."""
    if "ipykernel" in sys.modules and sys.__stderr__ is not None:
        return sys.__stderr__
    return sys.stderr


def clock(seconds: float) -> str:
    """Elapsed time as 0:07, 12:34 or 1:02:03."""
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def duration(seconds: float) -> str:
    """An estimate, as rounded as it is sure: 40 s, 3 min, 1 h 05 min."""
    if seconds < 90:
        return f"{max(seconds, 0):.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"


class StageLines:
    """A line per task as each of its stages starts and ends, for a person watching a terminal or a
    papermill run: the program search with its budget, fine-tuning with its steps and last loss,
    the views predicted; each with the run's elapsed time, and the end of a task with an estimate
    of the time left. Never a line per step: the bar (in a terminal) shows those."""

    def __init__(self, stream, task_ids, start: float):
        self.stream, self.start = stream, start
        self.index = {task_id: i + 1 for i, task_id in enumerate(task_ids)}
        self.total = len(self.index)

    def line(self, task_id: str | None, text: str) -> None:
        """TEXT about TASK_ID (None: about the run), after the run's elapsed time."""
        from tqdm import tqdm

        about = f"{task_id} ({self.index.get(task_id, '?')} of {self.total}) " if task_id is not None else ""
        message = f"[arc24 {clock(time.monotonic() - self.start)}] {about}{text}"
        try:  # tqdm.write keeps a bar on the same stream below the lines
            tqdm.write(message, file=self.stream)
            self.stream.flush()
        except (OSError, ValueError, AttributeError):  # progress is for a person: it never fails a run
            pass
