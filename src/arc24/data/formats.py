"""Text formats for grids: how a grid is written into a prompt and read back from a model's answer.

Formats live in a registry (`FORMATS`) and are chosen by name, so a trained model records the
format it was trained with in its prompt contract (arc24.data.contract) and inference uses the same one.

Parsing is strict and never raises: a model answer that is not exactly a well-formed grid
gives a `Parsed` with `grid=None` and a human-readable `reason`, which the caller counts.
The only slack allowed is trailing whitespace (a final newline, spaces) at the end of the
text, because generation stops right after the grid and decoders often leave a newline
there. Leading text, text after the closing fence, "\\r\\n" line ends, blank lines inside
the grid and non-ASCII digits are all rejected: accepting them would hide a model that has
not learned the format. The caller is expected to decode with special tokens skipped, so an
end-of-turn marker is not part of the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from arc24.data.task import MAX_SIDE, Grid, as_grid, check_grid

DIGITS = frozenset("0123456789")
FENCE = "```"


@dataclass(frozen=True)
class Parsed:
    grid: Grid | None
    reason: str | None = None  # why parsing failed; None when it succeeded

    @property
    def ok(self) -> bool:
        return self.grid is not None


class _Reject(Exception):
    """Raised inside a parser to stop at the first problem; turned into a Parsed reason."""


def _digit_row(text: str, row_number: int) -> list[int]:
    if not text:
        raise _Reject(f"row {row_number} is empty")
    if not set(text) <= DIGITS:  # a set test, not str.isdigit, which accepts e.g. "²" and "٣"
        raise _Reject(f"row {row_number} has a character that is not a digit 0-9: {text!r}")
    return [ord(c) - ord("0") for c in text]


def _to_grid(rows: list[list[int]]) -> Grid:
    """Check the shape of parsed rows and build the grid."""
    if not rows:
        raise _Reject("no rows")
    width = len(rows[0])
    for i, row in enumerate(rows, start=1):
        if len(row) != width:
            raise _Reject(f"ragged rows: row 1 has {width} cells, row {i} has {len(row)}")
    if len(rows) > MAX_SIDE or width > MAX_SIDE:
        raise _Reject(f"grid is {len(rows)}x{width}, a side is larger than {MAX_SIDE}")
    return as_grid(rows)


def _fenced_body(text: str, opening: re.Pattern) -> tuple[re.Match, list[str]]:
    """Split fenced text into the opening line's match and the lines between the fences."""
    lines = text.split("\n")
    if not lines[0].startswith(FENCE):
        raise _Reject("missing opening fence")
    header = opening.fullmatch(lines[0])
    if header is None:
        raise _Reject(f"bad opening line: {lines[0]!r}")
    try:
        close = lines.index(FENCE, 1)
    except ValueError:
        raise _Reject("missing closing fence") from None  # typically a truncated generation
    if close != len(lines) - 1:
        raise _Reject("text after the closing fence")
    return header, lines[1:close]


class GridGrammar:
    """Which character may come next in an answer of one format, so decoding can only write grids.

    An automaton over characters: a state is a small hashable tuple, `step` gives the state after
    one more character or None when that character cannot come next, and `complete` says whether
    the text so far is a whole grid. Every text the grammar completes parses (a test checks it);
    the model still chooses the shape and every cell. Subclasses build their states from the
    helpers below.
    """

    alphabet: frozenset = frozenset()

    def start(self) -> tuple:
        raise NotImplementedError

    def step(self, state: tuple, ch: str) -> tuple | None:
        raise NotImplementedError

    def complete(self, state: tuple) -> bool:
        raise NotImplementedError

    def accepts_prefix(self, text: str) -> bool:
        state = self.start()
        for ch in text:
            state = self.step(state, ch)
            if state is None:
                return False
        return True

    @staticmethod
    def _side(digits: str, ch: str) -> str | None:
        """A grid side being written in decimal: no leading zero, at most MAX_SIDE."""
        if ch not in DIGITS or (not digits and ch == "0") or int(digits + ch) > MAX_SIDE:
            return None
        return digits + ch


class _FencedGrammar(GridGrammar):
    """Shared by the fenced formats: a fixed opening, the rows, then a closing fence and an
    optional newline (the end-of-turn token follows)."""

    opening = ""

    def start(self) -> tuple:
        return ("open", 0)

    def step(self, state: tuple, ch: str) -> tuple | None:
        kind = state[0]
        if kind == "open":
            i = state[1]
            if ch != self.opening[i]:
                return None
            return ("open", i + 1) if i + 1 < len(self.opening) else self._after_opening()
        if kind == "close":
            i = state[1]
            if i < len(FENCE):
                return ("close", i + 1) if ch == FENCE[i] else None
            return ("done",) if ch == "\n" else None
        if kind == "done":
            return None
        return self._body(state, ch)

    def complete(self, state: tuple) -> bool:
        return state in (("close", len(FENCE)), ("done",))

    def _after_opening(self) -> tuple:
        raise NotImplementedError

    def _body(self, state: tuple, ch: str) -> tuple | None:
        raise NotImplementedError


class _NumberedFenceGrammar(_FencedGrammar):
    opening = f"{FENCE}grid shape: "
    alphabet = frozenset(opening) | DIGITS | frozenset("x\n")

    def _after_opening(self) -> tuple:
        return ("height", "")

    def _body(self, state: tuple, ch: str) -> tuple | None:
        kind = state[0]
        if kind == "height":
            if ch == "x" and state[1]:
                return ("width", "", int(state[1]))
            digits = self._side(state[1], ch)
            return None if digits is None else ("height", digits)
        if kind == "width":
            if ch == "\n" and state[1]:
                return ("number", 1, 0, state[2], int(state[1]))
            digits = self._side(state[1], ch)
            return None if digits is None else ("width", digits, state[2])
        if kind == "number":  # the row number and its space, written out in full
            _, row, i, h, w = state
            label = f"{row} "
            if ch != label[i]:
                return None
            return ("number", row, i + 1, h, w) if i + 1 < len(label) else ("cells", row, 0, h, w)
        _, row, k, h, w = state  # "cells": k cells of this row written
        if ch in DIGITS and k < w:
            return ("cells", row, k + 1, h, w)
        if ch == "\n" and k == w:
            return ("close", 0) if row == h else ("number", row + 1, 0, h, w)
        return None


class _PlainFenceGrammar(_FencedGrammar):
    """The first row sets the width; a row may follow a finished row until MAX_SIDE rows."""

    opening = FENCE + "\n"
    alphabet = frozenset(opening) | DIGITS

    def _after_opening(self) -> tuple:
        return ("cells", 1, 0, 0)

    def _body(self, state: tuple, ch: str) -> tuple | None:
        kind, row, k, w = state  # w == 0: the first row, width not known yet
        if kind == "cells":
            if ch in DIGITS and k < (w or MAX_SIDE):
                return ("cells", row, k + 1, w)
            if ch == "\n" and k and (k == w or not w):
                return ("row end", row, 0, k)
            return None
        if ch in DIGITS and row < MAX_SIDE:  # "row end"
            return ("cells", row + 1, 1, w)
        return ("close", 1) if ch == FENCE[0] else None


class _SpacedGrammar(GridGrammar):
    alphabet = DIGITS | frozenset(" \n")

    def start(self) -> tuple:
        return ("cell", 1, 0, 0)

    def step(self, state: tuple, ch: str) -> tuple | None:
        kind, row, k, w = state  # k cells of this row written; w == 0 until the first row ends
        if kind == "cell":  # a digit must come
            return ("digit", row, k + 1, w) if ch in DIGITS else None
        if kind == "digit":  # after a digit: a space, or the row's end
            if ch == " " and k < (w or MAX_SIDE):
                return ("cell", row, k, w)
            if ch == "\n" and (k == w or not w):
                return ("row end", row, 0, w or k)
            return None
        if ch in DIGITS and row < MAX_SIDE:  # "row end"
            return ("digit", row + 1, 1, w)
        return None

    def complete(self, state: tuple) -> bool:
        kind, row, k, w = state
        return kind == "row end" or (kind == "digit" and (k == w or (not w and row == 1)))


class GridFormat:
    """A named way to write a grid as text. Subclasses implement `render` and `_parse`."""

    name: str = ""
    grammar: GridGrammar = GridGrammar()

    def render(self, grid: Grid) -> str:
        """The grid as text, without a trailing newline. ValueError for an invalid grid."""
        raise NotImplementedError

    def parse(self, text: str) -> Parsed:
        """The grid written in `text`, or a reason why it is not one. Never raises."""
        if not isinstance(text, str):
            return Parsed(None, f"expected a string, got {type(text).__name__}")
        text = text.rstrip()  # the only tolerance: trailing whitespace
        if not text:
            return Parsed(None, "empty text")
        try:
            return Parsed(self._parse(text))
        except _Reject as exc:
            return Parsed(None, str(exc))

    def _parse(self, text: str) -> Grid:
        """Parse non-empty text without trailing whitespace; raise _Reject on the first problem."""
        raise NotImplementedError

    def regex(self) -> str:
        """A regular expression of this format's answers, for engines that constrain decoding with
        one (vLLM's structured outputs). Rows of one width, as many as MAX_SIDE; what a regular
        expression of this size cannot tie together (a header's height to the rows) the parser
        still checks. The closing fence's newline is optional, as in the grammar."""
        return "|".join(self._regex_of_width(w) for w in range(1, MAX_SIDE + 1))

    def _regex_of_width(self, w: int) -> str:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<GridFormat {self.name}>"


class NumberedFence(GridFormat):
    """A fenced block with a shape header and numbered rows (the reference solution's format):

        ```grid shape: 3x3
        1 100
        2 010
        3 001
        ```

    The shape ("rows x cols") and the row numbers let the model keep track of where it is
    in a large grid; the parser checks both against the rows actually written.
    """

    name = "numbered-fence"
    grammar = _NumberedFenceGrammar()
    _opening = re.compile(r"```grid shape: ([1-9][0-9]*)x([1-9][0-9]*)")  # no leading zeros

    def render(self, grid: Grid) -> str:
        grid = check_grid(grid)
        h, w = grid.shape
        rows = [f"{i} {''.join(str(int(v)) for v in row)}" for i, row in enumerate(grid, start=1)]
        return "\n".join([f"{FENCE}grid shape: {h}x{w}", *rows, FENCE])

    def _regex_of_width(self, w: int) -> str:
        # Rows numbered from 1 without a gap: each next row nests inside the previous one's group.
        rows = ""
        for number in range(MAX_SIDE, 0, -1):
            rows = f"{number} [0-9]{{{w}}}\n" + (f"(?:{rows})?" if rows else "")
        return f"(?:{FENCE}grid shape: (?:[1-9]|[12][0-9]|30)x{w}\n{rows}{FENCE}\n?)"

    def _parse(self, text: str) -> Grid:
        header, lines = _fenced_body(text, self._opening)
        h, w = int(header.group(1)), int(header.group(2))
        if not (1 <= h <= MAX_SIDE and 1 <= w <= MAX_SIDE):
            raise _Reject(f"header shape {h}x{w} is outside 1-{MAX_SIDE}")
        rows = []
        for expected, line in enumerate(lines, start=1):
            number, sep, digits = line.partition(" ")
            if not sep or not number or not set(number) <= DIGITS:
                raise _Reject(f"row {expected} does not start with a row number and a space: {line!r}")
            if number != str(expected):  # strict: "01" is not row 1
                raise _Reject(f"row numbers out of sequence: expected {expected}, got {number}")
            rows.append(_digit_row(digits, expected))
        grid = _to_grid(rows)
        if grid.shape != (h, w):
            raise _Reject(f"header shape {h}x{w} disagrees with the rows ({grid.shape[0]}x{grid.shape[1]})")
        return grid


class PlainFence(GridFormat):
    """A fenced block of digit rows with no header and no row numbers:

        ```
        100
        010
        ```
    """

    name = "plain-fence"
    grammar = _PlainFenceGrammar()
    _opening = re.compile(re.escape(FENCE))

    def render(self, grid: Grid) -> str:
        grid = check_grid(grid)
        rows = ["".join(str(int(v)) for v in row) for row in grid]
        return "\n".join([FENCE, *rows, FENCE])

    def _regex_of_width(self, w: int) -> str:
        return f"(?:{FENCE}\n(?:[0-9]{{{w}}}\n){{1,{MAX_SIDE}}}{FENCE}\n?)"

    def _parse(self, text: str) -> Grid:
        _, lines = _fenced_body(text, self._opening)
        return _to_grid([_digit_row(line, i) for i, line in enumerate(lines, start=1)])


class Spaced(GridFormat):
    """No fence: one row per line, cells separated by single spaces ("1 0 0")."""

    name = "spaced"
    grammar = _SpacedGrammar()

    def render(self, grid: Grid) -> str:
        grid = check_grid(grid)
        return "\n".join(" ".join(str(int(v)) for v in row) for row in grid)

    def _regex_of_width(self, w: int) -> str:
        row = "[0-9]" + " [0-9]" * (w - 1)
        return f"(?:{row}(?:\n{row}){{0,{MAX_SIDE - 1}}}\n?)"

    def _parse(self, text: str) -> Grid:
        rows = []
        for i, line in enumerate(text.split("\n"), start=1):
            if line.startswith(FENCE):
                raise _Reject("unexpected fence in a format without fences")
            cells = line.split(" ")
            if any(len(cell) != 1 for cell in cells):
                # Catches blank lines, double spaces and multi-digit cells alike.
                raise _Reject(f"row {i} is not single digits separated by single spaces: {line!r}")
            rows.append(_digit_row("".join(cells), i))
        return _to_grid(rows)


DEFAULT_FORMAT = NumberedFence.name

FORMATS: dict[str, GridFormat] = {fmt.name: fmt for fmt in (NumberedFence(), PlainFence(), Spaced())}


def get_format(name: str) -> GridFormat:
    try:
        return FORMATS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown grid format {name!r}; known formats: {', '.join(FORMATS)}") from None
