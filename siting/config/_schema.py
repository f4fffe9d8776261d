"""Turn a parsed TOML table into frozen dataclasses, collecting every problem at once.

The scenario's sections are plain frozen dataclasses whose type hints are the schema:
``str``, ``int``, ``float``, ``bool``, ``Path``, ``Literal[...]``, ``tuple[str, ...]``,
``X | None``, a nested dataclass, or ``dict[str, Dataclass]``. Field metadata may carry
``check`` (a predicate), ``need`` (what the predicate demands, for the message) and ``doc``.
Unknown keys are errors, with the closest known key suggested.
"""

from __future__ import annotations

import codecs
import dataclasses
import difflib
import math
import os
import types
import typing
from pathlib import Path
from typing import Any, Literal, TypeVar

T = TypeVar("T")

_TYPE_WORDS = {str: "a string", int: "a whole number", float: "a number", bool: "true or false",
               Path: "a file path (a string)"}


def spec(default: Any = dataclasses.MISSING, *, check: Any = None, need: str = "",
         doc: str = "") -> Any:
    """Declare a scenario field with an optional range check and a description."""
    meta = {"check": check, "need": need, "doc": doc}
    if isinstance(default, (list, dict, set)):
        raise TypeError("mutable default; use a tuple or a frozen dataclass")
    return dataclasses.field(default=default, metadata=meta)


def positive(value: float) -> bool:
    """Check a value is strictly positive."""
    return value > 0


def non_negative(value: float) -> bool:
    """Check a value is zero or more."""
    return value >= 0


def fraction(value: float) -> bool:
    """Check a value lies in [0, 1)."""
    return 0 <= value < 1


def known_encoding(value: str) -> bool:
    """Check a text encoding is 'auto' or one Python can decode."""
    if value == "auto":
        return True
    try:
        codecs.lookup(value)
    except LookupError:
        return False
    return True


def build(cls: type[T], table: Any, where: str, problems: list[str], *, base: Path) -> T | None:
    """Build ``cls`` from ``table``; append a message per problem; return None if any."""
    if not isinstance(table, dict):
        problems.append(f"[{where}] must be a table (a section), not {_show(table)}")
        return None
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)
              if f.init and not f.metadata.get("internal")}
    _unknown_keys(table, fields, where, problems)
    values: dict[str, Any] = {}
    before = len(problems)
    for name, fld in fields.items():
        key = f"{where}.{name}" if where else name
        if name not in table:
            if fld.default is dataclasses.MISSING and fld.default_factory is dataclasses.MISSING:
                hint = hints[name]
                add = (f"a [{key}] section" if dataclasses.is_dataclass(hint) else
                       f"a [{key}.<name>] section" if typing.get_origin(hint) is dict else
                       f"`{name} = ...`")
                doc = fld.metadata.get("doc")
                problems.append(f"'{key}' is required but missing: add {add}"
                                + (f" ({doc})" if doc else ""))
            continue
        value = _convert(hints[name], table[name], key, problems, base)
        if value is _BAD:
            continue
        check = fld.metadata.get("check")
        if check is not None and value is not None and not check(value):
            problems.append(f"'{key}' = {_show(table[name])} is out of range: it must be "
                            f"{fld.metadata.get('need') or 'valid'}")
            continue
        values[name] = value
    if len(problems) > before:
        return None
    try:
        return cls(**values)
    except ValueError as e:  # cross-field checks in __post_init__
        problems.append(f"[{where}]: {e}")
        return None


_BAD = object()


def _unknown_keys(table: dict[str, Any], fields: dict[str, Any], where: str,
                  problems: list[str]) -> None:
    for key in table:
        if key in fields:
            continue
        close = difflib.get_close_matches(key, list(fields), n=1, cutoff=0.6)
        hint = (f"did you mean '{close[0]}'?" if close
                else f"known keys: {', '.join(sorted(fields))}")
        place = f"[{where}]" if where else "the top level"
        problems.append(f"unknown key '{key}' in {place}: {hint}")


def _convert(hint: Any, value: Any, key: str, problems: list[str], base: Path) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return _convert(inner[0], value, key, problems, base) if len(inner) == 1 else value
    if origin is Literal:
        if value not in args:
            choices = ", ".join(repr(a) for a in args)
            problems.append(f"'{key}' = {_show(value)} is not allowed: use one of {choices}")
            return _BAD
        return value
    if origin is tuple:
        if not isinstance(value, list):
            problems.append(f"'{key}' must be a list, e.g. [\"a\", \"b\"], not {_show(value)}")
            return _BAD
        items = [_convert(args[0], v, f"{key}[{i}]", problems, base) for i, v in enumerate(value)]
        return _BAD if any(v is _BAD for v in items) else tuple(items)
    if origin is dict:
        if not isinstance(value, dict):
            problems.append(f"[{key}] must be a table of named sections, not {_show(value)}")
            return _BAD
        built = {k: _convert(args[1], v, f"{key}.{k}", problems, base) for k, v in value.items()}
        return _BAD if any(v is _BAD for v in built.values()) else built
    if dataclasses.is_dataclass(hint):
        made = build(hint, value, key, problems, base=base)
        return _BAD if made is None else made
    return _scalar(hint, value, key, problems, base)


def _scalar(hint: Any, value: Any, key: str, problems: list[str], base: Path) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        problems.append(f"'{key}' = {_show(value)} is not a finite number: give an ordinary "
                        "number (TOML's inf and nan mean no limit and no value, which no "
                        "setting takes)")
        return _BAD
    if hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if hint is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if hint is bool and isinstance(value, bool):
        return value
    if hint is str and isinstance(value, str):
        return value
    if hint is Path and isinstance(value, str) and value.strip():
        path = Path(value).expanduser()
        return path if path.is_absolute() else Path(os.path.normpath(base / path))
    if hint is Any:
        return value
    word = _TYPE_WORDS.get(hint, str(hint))
    problems.append(f"'{key}' = {_show(value)} has the wrong type: it must be {word}")
    return _BAD


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    return repr(value)
