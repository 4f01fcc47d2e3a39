"""Config objects from YAML: nested dataclasses, unknown keys are errors, `--set a.b=value` overrides.

Every job (train, solve, sweep) has one dataclass; this module turns YAML text and command-line
overrides into it, checking keys and types so that a typo is a clear error naming the key,
never a silently ignored setting.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

T = TypeVar("T")


class ConfigError(ValueError):
    """A bad config: the message names the file (when there is one) and the key."""


def _field_types(cls) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _is_dataclass_type(tp) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _convert(value: Any, tp: Any, key: str) -> Any:
    """Check `value` against the annotation `tp`, converting where YAML is looser than Python."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in args:
            if option is type(None):
                continue
            try:
                return _convert(value, option, key)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"{key}: unexpected value {value!r}")
    if typing.get_origin(tp) is typing.Literal:
        if value not in args:
            raise ConfigError(f"{key}: {value!r} is not one of {', '.join(map(repr, args))}")
        return value
    if _is_dataclass_type(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a mapping, got {value!r}")
        return from_dict(tp, value, prefix=f"{key}.")
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        item_tp = args[0] if args else Any
        items = [_convert(v, item_tp, f"{key}[{i}]") for i, v in enumerate(value)]
        return items if origin is list else tuple(items)
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a mapping, got {value!r}")
        key_tp, val_tp = args if args else (Any, Any)
        return {_convert(k, key_tp, key): _convert(v, val_tp, f"{key}.{k}") for k, v in value.items()}
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{key}: expected true or false, got {value!r}")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML reads 5e-5 (no dot) as a string
            try:
                return float(value)
            except ValueError:
                pass
        raise ConfigError(f"{key}: expected a number, got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ConfigError(f"{key}: expected an integer, got {value!r}")
    if tp is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        raise ConfigError(f"{key}: expected a string, got {value!r}")
    return value


def from_dict(cls: type[T], data: dict, prefix: str = "") -> T:
    """Build dataclass `cls` from a mapping; unknown keys and wrong types raise ConfigError."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{prefix or 'config'}: expected a mapping, got {data!r}")
    types_ = _field_types(cls)
    unknown = sorted(set(data) - set(types_))
    if unknown:
        known = ", ".join(sorted(types_))
        raise ConfigError(f"unknown key {prefix}{unknown[0]!s} (known keys here: {known})")
    kwargs = {name: _convert(value, types_[name], f"{prefix}{name}") for name, value in data.items()}
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a required field is missing
        raise ConfigError(f"{prefix or 'config'}: {exc}") from None
    except ConfigError as exc:  # the class's own check, naming its field: put it under its section
        raise ConfigError(f"{prefix}{exc}") from None


def to_dict(obj) -> dict:
    return dataclasses.asdict(obj)


def flatten(settings: dict, prefix: str = "") -> dict:
    """A nested settings dict as one level with dotted keys, as overrides name them (ttft.steps)."""
    flat = {}
    for key, value in settings.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """Apply `a.b=value` strings to a nested mapping; values are parsed as YAML scalars/lists."""
    data = dict(data)
    for item in overrides or []:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected key=value")
        dotted, raw = item.split("=", 1)
        value = yaml.safe_load(raw) if raw.strip() else ""
        node = data
        parts = dotted.strip().split(".")
        for part in parts[:-1]:
            child = node.get(part)
            child = dict(child) if isinstance(child, dict) else {}
            node[part] = child
            node = child
        node[parts[-1]] = value
    return data


def load_config(cls: type[T], path: str | Path | None, overrides: list[str] | None = None) -> T:
    """Read YAML `path` (or start from defaults when None), apply overrides, build `cls`."""
    data: dict = {}
    if path is not None:
        path = Path(path)
        try:
            text = path.read_text()
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise ConfigError(f"{path}: invalid YAML{where}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    data = apply_overrides(data, overrides or [])
    try:
        return from_dict(cls, data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}" if path is not None else str(exc)) from None


def save_config(obj, path: str | Path) -> None:
    Path(path).write_text(yaml.safe_dump(to_dict(obj), sort_keys=False))


def check_range(name: str, value, low, high=None, note: str = "") -> None:
    """A count or size setting NAME within [LOW, HIGH] (no upper bound when HIGH is None), else a
    ConfigError stating the allowed range, e.g. "n_views must be at least 1, got 0"."""
    import math

    bad = isinstance(value, float) and not math.isfinite(value)
    if bad or value < low or (high is not None and value > high):
        allowed = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ConfigError(f"{name} must be {allowed}{note}, got {value}")


# ---------------------------------------------------------------- each setting's own values, and its reference


@dataclasses.dataclass(frozen=True)
class Limit:
    """The values one setting may take by itself: checked before what settings mean together
    (`check_limits`), and listed in the settings reference (`describe_settings`)."""

    low: float | None = None
    high: float | str | None = None  # a number, or the dotted name of the setting that bounds it
    above: bool = False  # LOW itself is not allowed
    below: bool = False  # HIGH itself is not allowed
    note: str = ""  # what a special value means, e.g. "0: no limit"
    choices: tuple = ()  # instead of bounds: the values allowed

    def describe(self, high=None) -> str:
        """"at least 1", "between 0 and 6", "above 0", "one of a, b"; HIGH: the bounding setting's value."""
        if self.choices:
            return "one of " + ", ".join('""' if c == "" else str(c) for c in self.choices)
        high = self.high if high is None else high
        if self.above:
            if high is None:
                return f"a number above {self.low}"
            return f"above {self.low} and {'below' if self.below else 'at most'} {high}"
        if high is None:
            return f"at least {self.low}"
        return f"between {self.low} and {high}"

    def check(self, name: str, value, high=None) -> None:
        """A ConfigError naming NAME, what it may be and VALUE, when VALUE is outside; HIGH: the
        value of the setting named by self.high."""
        notes = [self.note] if self.note else []
        if isinstance(self.high, str):
            notes.insert(0, f"at most {self.high}")
        note = f" ({'; '.join(notes)})" if notes else ""
        if self.choices:
            if value not in self.choices:
                raise ConfigError(f"{name} must be {self.describe()}{note}, got {value!r}")
            return
        import math

        top = high if isinstance(self.high, str) else self.high
        bad = isinstance(value, float) and not math.isfinite(value)
        if self.low is not None and (value <= self.low if self.above else value < self.low):
            bad = True
        if top is not None and (value >= top if self.below else value > top):
            bad = True
        if bad:
            raise ConfigError(f"{name} must be {self.describe(top)}{note}, got {value}")


def dotted_value(obj, name: str):
    """The setting NAME ("ttft.steps") of the config object OBJ."""
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def _literal_choices(tp) -> tuple:
    if typing.get_origin(tp) is typing.Literal:
        return typing.get_args(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        for option in typing.get_args(tp):
            if typing.get_origin(option) is typing.Literal:
                return typing.get_args(option)
    return ()


def _leaf_fields(cls, prefix: str = "") -> list[tuple[str, Any, dataclasses.Field]]:
    """(dotted name, type, field) of every setting of CLS, a section's settings under its name."""
    found = []
    for name, tp in _field_types(cls).items():
        f = next(f for f in dataclasses.fields(cls) if f.name == name)
        if _is_dataclass_type(tp):
            found += _leaf_fields(tp, f"{prefix}{name}.")
        else:
            found.append((f"{prefix}{name}", tp, f))
    return found


def all_limits(cls, limits: dict[str, Limit]) -> dict[str, Limit]:
    """LIMITS, and for every setting of CLS typed as a Literal its values."""
    found = {name: Limit(choices=_literal_choices(tp)) for name, tp, _ in _leaf_fields(cls) if _literal_choices(tp)}
    return {**found, **limits}


def check_limits(obj, limits: dict[str, Limit]) -> None:
    """Each setting of OBJ within its own limit first, whatever the others say (an unknown value
    is named before any consequence of another setting); then the limits bounded by another
    setting. A setting that is None (unset) is not checked."""
    limits = all_limits(type(obj), limits)
    for relative in (False, True):
        for name, limit in limits.items():
            if isinstance(limit.high, str) != relative:
                continue
            value = dotted_value(obj, name)
            if value is not None:
                limit.check(name, value, dotted_value(obj, limit.high) if relative else None)


def field_comments(cls) -> dict[str, str]:
    """Each field's meaning, from the source of CLS (and of the dataclasses it extends): the
    comment block right above the field and the comment after it, as one line."""
    import ast
    import inspect
    import io
    import textwrap
    import tokenize

    meanings: dict[str, str] = {}
    for klass in reversed([k for k in cls.__mro__ if dataclasses.is_dataclass(k)]):
        source = textwrap.dedent(inspect.getsource(klass))
        lines = source.splitlines()
        comments: dict[int, str] = {}  # line number -> its comment's text
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                comments[token.start[0]] = token.string.lstrip("#").strip()
        body = ast.parse(source).body[0].body
        for node in body:
            if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
                continue
            above, line = [], node.lineno - 1
            while line >= 1 and lines[line - 1].strip().startswith("#"):
                above.insert(0, comments.get(line, ""))
                line -= 1
            after = [comments[n] for n in range(node.lineno, node.end_lineno + 1)
                     if n in comments and not lines[n - 1].strip().startswith("#")]
            text = " ".join(t for t in above + after if t and not t.startswith(("noqa", "type:", "fmt:")))
            meanings[node.target.id] = text
    return meanings


@dataclasses.dataclass(frozen=True)
class SettingDoc:
    """One row of a settings reference."""

    name: str
    type: str
    default: str
    allowed: str
    meaning: str


def _type_text(tp) -> str:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        kept = [a for a in args if a is not type(None)]
        text = " or ".join(_type_text(a) for a in kept)
        return f"{text} or unset" if type(None) in args else text
    if origin is typing.Literal:
        return _type_text(type(args[0]))
    if origin in (list, tuple):
        return f"list of {_type_text(args[0]) if args else 'values'}"
    if origin is dict:
        return f"mapping of {_type_text(args[0])} to {_type_text(args[1])}" if args else "mapping"
    return {int: "integer", float: "number", bool: "true/false", str: "text"}.get(tp, getattr(tp, "__name__", str(tp)))


def _default_text(f: dataclasses.Field) -> str:
    import json

    if f.default is not dataclasses.MISSING:
        value = f.default
    elif f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
    else:
        return "required"
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value if value else '""'
    if dataclasses.is_dataclass(value):
        value = dataclasses.asdict(value)
    return json.dumps(value) if isinstance(value, (list, dict, tuple)) else repr(value)


def describe_settings(cls, limits: dict[str, Limit] | None = None, prefix: str = "",
                      _expanded: dict | None = None) -> list[SettingDoc]:
    """A row per setting of the config dataclass CLS: dotted name, type, default, the values it
    may take (LIMITS and Literal types) and its meaning (the field's comment, `field_comments`).
    A list of dataclasses (e.g. datasets) gets a row per field of an entry, as NAME[].FIELD, once."""
    limits = all_limits(cls, limits or {}) if not prefix else (limits or {})
    expanded = {} if _expanded is None else _expanded  # entry class -> the list that listed its fields
    rows = []
    meanings = field_comments(cls)
    for name, tp in _field_types(cls).items():
        f = next(f for f in dataclasses.fields(cls) if f.name == name)
        dotted = f"{prefix}{name}"
        item = typing.get_args(tp)[0] if typing.get_origin(tp) is list and typing.get_args(tp) else None
        if _is_dataclass_type(tp):
            rows += describe_settings(tp, limits, f"{dotted}.", expanded)
            continue
        limit = limits.get(dotted) or (Limit(choices=_literal_choices(tp)) if _literal_choices(tp) else None)
        if _is_dataclass_type(item):
            listed = expanded.get(item)
            rows.append(SettingDoc(dotted, f"list of {item.__name__}", _default_text(f),
                                   f"entries as {listed}[]" if listed else "", meanings.get(name, "")))
            if not listed:
                expanded[item] = dotted
                rows += describe_settings(item, limits, f"{dotted}[].", expanded)
            continue
        allowed = limit.describe().removeprefix("a number ") + (f" ({limit.note})" if limit.note else "") \
            if limit else ""
        rows.append(SettingDoc(dotted, _type_text(tp), _default_text(f), allowed, meanings.get(name, "")))
    return rows


def settings_markdown(rows: list[SettingDoc]) -> str:
    """ROWS as a Markdown table."""
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| setting | type | default | allowed | meaning |", "|---|---|---|---|---|"]
    lines += [f"| `{r.name}` | {cell(r.type)} | `{cell(r.default)}` | {cell(r.allowed)} | {cell(r.meaning)} |"
              for r in rows]
    return "\n".join(lines)


def settings_text(rows: list[SettingDoc], width: int = 100) -> str:
    """ROWS for a terminal: NAME = DEFAULT (type; allowed), then the meaning, indented and wrapped."""
    import textwrap

    out = []
    for r in rows:
        what = "; ".join(t for t in (r.type, r.allowed) if t)
        out.append(f"{r.name} = {r.default}  ({what})")
        out += textwrap.wrap(r.meaning, width, initial_indent="    ", subsequent_indent="    ") or ["    ?"]
    return "\n".join(out)
