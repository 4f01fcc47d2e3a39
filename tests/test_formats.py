import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from arc24.data.formats import DEFAULT_FORMAT, FORMATS, GridFormat, Parsed, get_format

GRID = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.int8)

grids = st.tuples(st.integers(1, 30), st.integers(1, 30)).flatmap(
    lambda shape: arrays(np.int8, shape, elements=st.integers(0, 9))
)
# Rows of digits as strings, all of one width: the raw material for well-formed texts
# written independently of render().
digit_rows = st.tuples(st.integers(1, 30), st.integers(1, 30)).flatmap(
    lambda hw: st.lists(
        st.text("0123456789", min_size=hw[1], max_size=hw[1]), min_size=hw[0], max_size=hw[0]
    )
)


def well_formed_text(name: str, rows: list[str]) -> str:
    if name == "numbered-fence":
        body = [f"{i} {row}" for i, row in enumerate(rows, start=1)]
        return "\n".join([f"```grid shape: {len(rows)}x{len(rows[0])}", *body, "```"])
    if name == "plain-fence":
        return "\n".join(["```", *rows, "```"])
    if name == "spaced":
        return "\n".join(" ".join(row) for row in rows)
    raise AssertionError(f"add a well-formed text writer for the new format {name}")


def test_registry():
    assert DEFAULT_FORMAT == "numbered-fence"
    assert len(FORMATS) >= 3
    for name, fmt in FORMATS.items():
        assert isinstance(fmt, GridFormat) and fmt.name == name
        assert get_format(name) is fmt
    with pytest.raises(ValueError, match="numbered-fence.*plain-fence.*spaced"):
        get_format("nope")


def test_default_format_matches_reference_layout():
    assert get_format("numbered-fence").render(GRID) == "```grid shape: 3x3\n1 100\n2 010\n3 001\n```"
    assert get_format("plain-fence").render(GRID) == "```\n100\n010\n001\n```"
    assert get_format("spaced").render(GRID) == "1 0 0\n0 1 0\n0 0 1"


def test_shape_header_is_rows_by_cols():
    text = get_format("numbered-fence").render(np.zeros((2, 5), np.int8))
    assert text.startswith("```grid shape: 2x5\n")


@pytest.mark.parametrize("name", sorted(FORMATS))
@settings(max_examples=60, deadline=None)
@given(grid=grids)
def test_grid_text_grid_round_trip(name, grid):
    fmt = get_format(name)
    parsed = fmt.parse(fmt.render(grid))
    assert parsed.ok, parsed.reason
    assert parsed.grid.dtype == np.int8
    np.testing.assert_array_equal(parsed.grid, grid)


@pytest.mark.parametrize("name", sorted(FORMATS))
@settings(max_examples=60, deadline=None)
@given(rows=digit_rows)
def test_text_grid_text_round_trip(name, rows):
    fmt = get_format(name)
    text = well_formed_text(name, rows)
    parsed = fmt.parse(text)
    assert parsed.ok, parsed.reason
    assert parsed.grid.shape == (len(rows), len(rows[0]))
    assert fmt.render(parsed.grid) == text


@pytest.mark.parametrize("name", sorted(FORMATS))
@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(), st.text("0123456789 \n`gridshape:x"), st.binary().map(lambda b: b.decode("latin-1"))))
def test_parse_never_raises(name, text):
    parsed = get_format(name).parse(text)
    assert isinstance(parsed, Parsed)
    assert parsed.ok != (parsed.reason is not None)
    if parsed.ok:
        assert parsed.grid.ndim == 2 and 1 <= min(parsed.grid.shape) and max(parsed.grid.shape) <= 30


@pytest.mark.parametrize("name", sorted(FORMATS))
@settings(max_examples=100, deadline=None)
@given(grid=grids, cut=st.integers(0, 10_000))
def test_truncated_text_never_raises(name, grid, cut):
    fmt = get_format(name)
    text = fmt.render(grid)
    parsed = fmt.parse(text[: cut % (len(text) + 1)])
    assert isinstance(parsed, Parsed)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_tolerates_trailing_whitespace_only(name):
    fmt = get_format(name)
    text = fmt.render(GRID)
    for tail in ("\n", " \n", "\n\n"):
        assert fmt.parse(text + tail).ok
    assert not fmt.parse(text + "\nmore").ok
    assert not fmt.parse("Sure!\n" + text).ok
    assert not fmt.parse(text.replace("\n", "\r\n")).ok


@pytest.mark.parametrize("name", sorted(FORMATS))
@pytest.mark.parametrize("text", ["", "   ", "\n\n"])
def test_empty(name, text):
    assert get_format(name).parse(text).reason == "empty text"


@pytest.mark.parametrize(
    "text, reason",
    [
        ("1 100\n2 010\n```", "missing opening fence"),
        ("```grid\n1 100\n```", "bad opening line"),
        ("```grid shape: 03x3\n1 100\n```", "bad opening line"),
        ("```grid shape: 3x3\n1 100\n2 010\n3 001", "missing closing fence"),
        ("```grid shape: 1x3\n1 100\n```\ntrailing words", "text after the closing fence"),
        ("```grid shape: 0x3\n```", "bad opening line"),
        ("```grid shape: 31x1\n1 1\n```", "outside 1-30"),
        ("```grid shape: 1x1\n```", "no rows"),
        ("```grid shape: 2x3\n1 100\n2 01\n```", "ragged rows"),
        ("```grid shape: 2x3\n1 100\n```", "disagrees with the rows"),
        ("```grid shape: 1x4\n1 100\n```", "disagrees with the rows"),
        ("```grid shape: 2x3\n1 100\n3 010\n```", "out of sequence: expected 2, got 3"),
        ("```grid shape: 2x3\n2 100\n1 010\n```", "out of sequence: expected 1, got 2"),
        ("```grid shape: 1x3\n01 100\n```", "out of sequence"),
        ("```grid shape: 1x3\n100\n```", "does not start with a row number"),
        ("```grid shape: 1x3\n1 1a0\n```", "not a digit"),
        ("```grid shape: 1x3\n1 1²0\n```", "not a digit"),
        ("```grid shape: 1x3\n1 1 0 0\n```", "not a digit"),
        ("```grid shape: 1x3\n1 \n```", "row 1 is empty"),
        ("```grid shape: 2x3\n1 100\n\n2 010\n```", "does not start with a row number"),
    ],
)
def test_numbered_fence_failures(text, reason):
    parsed = get_format("numbered-fence").parse(text)
    assert not parsed.ok
    assert reason in parsed.reason


def test_numbered_fence_side_over_30_from_rows():
    rows = "\n".join(f"{i} 0" for i in range(1, 32))
    parsed = get_format("numbered-fence").parse(f"```grid shape: 30x1\n{rows}\n```")
    assert "larger than 30" in parsed.reason


@pytest.mark.parametrize(
    "text, reason",
    [
        ("100\n```", "missing opening fence"),
        ("```grid\n100\n```", "bad opening line"),
        ("```\n100\n010", "missing closing fence"),
        ("```\n100\n```\n```", "text after the closing fence"),
        ("```\n```", "no rows"),
        ("```\n100\n01\n```", "ragged rows"),
        ("```\n1 0\n```", "not a digit"),
        ("```\n100\n\n010\n```", "row 2 is empty"),
        ("```\n" + "0" * 31 + "\n```", "larger than 30"),
    ],
)
def test_plain_fence_failures(text, reason):
    parsed = get_format("plain-fence").parse(text)
    assert not parsed.ok
    assert reason in parsed.reason


@pytest.mark.parametrize(
    "text, reason",
    [
        ("```\n1 0\n```", "unexpected fence"),
        ("1 0 0\n0 1", "ragged rows"),
        ("1  0", "single digits separated by single spaces"),
        ("10 0", "single digits separated by single spaces"),
        ("1 0\n\n0 1", "row 2 is not single digits"),
        ("1 x", "not a digit"),
        (" ".join("0" * 31), "larger than 30"),
        ("\n".join(["0"] * 31), "larger than 30"),
    ],
)
def test_spaced_failures(text, reason):
    parsed = get_format("spaced").parse(text)
    assert not parsed.ok
    assert reason in parsed.reason


@pytest.mark.parametrize("name", sorted(FORMATS))
@pytest.mark.parametrize(
    "bad", [np.zeros((0, 3)), np.zeros((31, 1)), np.array([[10]]), np.array([[-1]]), np.zeros(3), np.array([[0.5]])]
)
def test_render_rejects_invalid_grids(name, bad):
    with pytest.raises(ValueError):
        get_format(name).render(bad)


def test_parsed_is_frozen():
    parsed = Parsed(GRID)
    assert parsed.ok and parsed.reason is None
    with pytest.raises(AttributeError):
        parsed.reason = "x"


# ---------------------------------------------------------------- the decoding grammar


def _walk(grammar, text: str):
    state = grammar.start()
    for ch in text:
        state = grammar.step(state, ch)
        if state is None:
            return None
    return state


@pytest.mark.parametrize("name", sorted(FORMATS))
@settings(max_examples=60, deadline=None)
@given(grid=grids)
def test_grammar_accepts_every_rendered_grid(name, grid):
    fmt = get_format(name)
    text = fmt.render(grid)
    state = _walk(fmt.grammar, text)
    assert state is not None and fmt.grammar.complete(state)
    assert set(text) <= fmt.grammar.alphabet


@pytest.mark.parametrize("name", sorted(FORMATS))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
@pytest.mark.slow
def test_whatever_the_grammar_completes_parses(name, data):
    """A random walk through the grammar (as a model constrained by it would write) that stops at
    some complete state always gives a grid the parser accepts."""
    fmt = get_format(name)
    grammar, state, text = fmt.grammar, fmt.grammar.start(), ""
    for _ in range(2000):
        if grammar.complete(state) and data.draw(st.booleans()):
            break
        choices = sorted(ch for ch in grammar.alphabet if grammar.step(state, ch) is not None)
        if not choices:
            break
        # Rows and sides: mostly short, so walks end well before 30x30.
        ch = data.draw(st.sampled_from(choices))
        text += ch
        state = grammar.step(state, ch)
    if grammar.complete(state):
        assert fmt.parse(text).ok, (text, fmt.parse(text).reason)


@pytest.mark.parametrize("name, text", [
    ("numbered-fence", "```grid shape: 2x2\n1 010"),  # a third cell in a 2-wide row
    ("numbered-fence", "```grid shape: 2x2\n1 01\n3"),  # rows numbered out of order
    ("numbered-fence", "```grid shape: 31"),  # a side over 30
    ("numbered-fence", "```grid shape: 0"),  # a leading zero
    ("numbered-fence", "```grid shape: 1x1\n1 0\n```\n1"),  # text after the grid
    ("plain-fence", "```\n01\n012"),  # ragged
    ("spaced", "0 1\n0 1 2"),  # ragged
    ("spaced", "0  1"),  # a double space
])
def test_grammar_rejects_what_the_parser_rejects(name, text):
    assert not get_format(name).grammar.accepts_prefix(text)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_the_format_regex_takes_every_grid_and_no_ragged_one(name):
    """The regular expression vLLM decodes under: every rendered grid, with or without the closing
    newline; no grid whose rows differ in width (the width is what a greedy small model loses)."""
    import re

    fmt = FORMATS[name]
    pattern = re.compile(fmt.regex())
    rng = np.random.default_rng(1)
    for h, w in [(1, 1), (2, 5), (30, 30), (30, 1), (1, 30), (11, 7)]:
        text = fmt.render(rng.integers(0, 10, (h, w)).astype(np.int8))
        assert pattern.fullmatch(text) and pattern.fullmatch(text + "\n")
        if h == 1:  # one wider row is a grid too
            continue
        lines = text.split("\n")
        row = 1 if name != "spaced" else 0
        ragged = "\n".join(lines[:row] + [lines[row] + ("7" if name != "spaced" else " 7")] + lines[row + 1:])
        assert not pattern.fullmatch(ragged)
    if name == "numbered-fence":
        assert not pattern.fullmatch("```grid shape: 2x2\n1 12\n3 45\n```")  # a row number skipped
