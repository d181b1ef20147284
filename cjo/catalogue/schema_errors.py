"""What a pydantic validation error means, in words a marketer can act on.

``explain`` turns one error of ``CatalogueFile.model_validate`` into the key path it
concerns (the discriminator tag pydantic inserts dropped) and a plain reason: what was
expected, what arrived, the known field names and the closest one for a typo.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable
from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from cjo.catalogue.model import (
    CatalogueFile,
    Trigger,
)
from cjo.catalogue.source import Path as KeyPath
from cjo.catalogue.where import Condition

_PLAIN: dict[str, str] = {
    "float_parsing": "a number", "float_type": "a number",
    "int_parsing": "a whole number", "int_type": "a whole number",
    "int_from_float": "a whole number",
    "bool_parsing": "true or false", "bool_type": "true or false",
    "string_type": "text", "list_type": "a list", "tuple_type": "a list",
    "dict_type": "a mapping (name: value lines)", "model_type": "a mapping (name: value lines)",
    "model_attributes_type": "a mapping (name: value lines)",
}

_PATTERNS = {"^[a-z0-9_]+$": "lower-case letters, digits and _ only",
             "^[A-Z0-9_]+$": "upper-case letters, digits and _ only",
             "^([01]?[0-9]|2[0-3]):[0-5][0-9]$": "a time of day such as 21:00"}


def explain(error: ErrorDetails) -> tuple[KeyPath, str]:
    """The path of an error (union tags dropped) and a plain reason."""
    path, at, parent, union = _resolve(error["loc"])
    kind = error["type"]
    value = error.get("input")
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    if union:
        return path, f"expected {_describe(at)}, got {show(value)}"
    if kind in _PLAIN:
        return path, f"expected {_PLAIN[kind]}, got {show(value)}"
    if kind == "union_tag_invalid":
        kinds = _plain_list(str(ctx.get("expected_tags", "")))
        tag = ctx.get("tag")
        close = difflib.get_close_matches(str(tag), trigger_kinds(), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return (*path, "kind"), f"expected one of: {kinds}, got {show(tag)}{hint}"
    return path, _special_reason(kind, path, parent, value, ctx) or _generic_reason(error)


def _special_reason(kind: str, path: KeyPath, parent: Any, value: Any,
                    ctx: dict[str, Any]) -> str:
    name = str(path[-1]) if path else "?"
    reasons = {
        "extra_forbidden": lambda: f"unknown field {name!r}{suggest(name, _known_fields(parent))}",
        "missing": lambda: f"missing required field {name!r}",
        "union_tag_not_found":
            lambda: f"missing required field 'kind' (one of: {', '.join(trigger_kinds())})",
        "literal_error": lambda: (f"expected one of: {_plain_list(str(ctx.get('expected', '')))}"
                                  f", got {show(value)}"),
        "string_pattern_mismatch": lambda: (
            f"expected {_PATTERNS.get(str(ctx.get('pattern')), ctx.get('pattern'))}, "
            f"got {show(value)}"),
        "too_short": lambda: f"expected at least {_items(ctx.get('min_length'))}, "
                             f"got {ctx.get('actual_length')}",
        "too_long": lambda: f"expected at most {_items(ctx.get('max_length'))}, "
                            f"got {ctx.get('actual_length')}",
    }
    explain = reasons.get(kind)
    return explain() if explain is not None else ""


def _generic_reason(error: ErrorDetails) -> str:
    message = str(error["msg"])
    if error["type"] == "value_error":
        return message.removeprefix("Value error, ")
    if message.startswith("Input should be "):
        wanted = message.removeprefix("Input should be ")
        return f"expected {wanted}, got {show(error.get('input'))}"
    return message


def _items(count: Any) -> str:
    return f"{count} item" if count == 1 else f"{count} items"


def _resolve(loc: tuple[int | str, ...]) -> tuple[KeyPath, Any, Any, bool]:
    """Walk the model along ``loc``: (path without union tags, type at the end, the model holding
    the last field, whether the walk stopped at a plain union whose member pydantic named)."""
    tp: Any = CatalogueFile
    parent: Any = None
    path: list[str | int] = []
    for part in loc:
        if part == "[key]":  # a mapping key refused (a channel name): report it at its entry
            continue
        tp = _unwrap(tp)
        members = _union_members(tp)
        if members and isinstance(part, str):
            tagged = _tag_map(members)
            if part in tagged:
                tp = tagged[part]
                continue
            return tuple(path), tp, parent, True
        path.append(part)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            parent = tp
            info = _model_field(tp, str(part))
            tp = info.annotation if info is not None else None
        elif typing.get_origin(tp) in (list, tuple) and isinstance(part, int):
            args = typing.get_args(tp)
            tp = args[min(part, len(args) - 1)] if args else None
        elif typing.get_origin(tp) is dict:
            tp = typing.get_args(tp)[1]
        else:
            tp = None
    return tuple(path), _unwrap(tp), parent, False


def _unwrap(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    members = _union_members(tp)
    if members and type(None) in members:
        rest = [m for m in members if m is not type(None)]
        if len(rest) == 1:
            return _unwrap(rest[0])
    return tp


def _union_members(tp: Any) -> tuple[Any, ...]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return typing.get_args(tp)
    return ()


def _tag_map(members: tuple[Any, ...]) -> dict[str, Any]:
    tags: dict[str, Any] = {}
    for member in members:
        if isinstance(member, type) and issubclass(member, BaseModel):
            info = member.model_fields.get("kind")
            if info is not None and typing.get_origin(info.annotation) is typing.Literal:
                for tag in typing.get_args(info.annotation):
                    tags[str(tag)] = member
    return tags


def _model_field(model: type[BaseModel], key: str) -> Any:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info
    return None


def _known_fields(model: Any) -> list[str]:
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return []
    return sorted(info.alias or name for name, info in model.model_fields.items())


@cache
def trigger_kinds() -> tuple[str, ...]:
    return tuple(_tag_map(_union_members(_unwrap(Trigger))))


def _describe(tp: Any) -> str:
    words = {str: "text", int: "a number", float: "a number", bool: "true/false",
             Condition: "a condition such as {gte: 10, lt: 20}, {in: [...]} or {not_in: [...]}"}
    out: list[str] = []
    for member in _union_members(tp) or (tp,):
        word = words.get(member, "a list of them" if typing.get_origin(member) is list
                         else str(member))
        if word not in out:
            out.append(word)
    return ", ".join(out[:-1]) + f" or {out[-1]}" if len(out) > 1 else out[0]


def _plain_list(expected: str) -> str:
    """``"'enter' or 'leave'"`` -> ``"enter, leave"``."""
    return ", ".join(part.strip().strip("'") for part in re.split(r",| or ", expected)
                     if part.strip())


def show(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def suggest(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for a near miss, else the known names."""
    options = sorted(known)
    close = difflib.get_close_matches(name, options, n=1)
    if close:
        return f" (did you mean {close[0]!r}? known: {', '.join(options)})"
    return f" (known: {', '.join(options)})" if options else ""


