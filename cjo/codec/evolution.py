"""Schema evolution: which changes to ``schemas/*.avsc`` a release may make, and older/newer
writer schemas the decoder reads.

A change is compatible when records written with either version decode with the other (Avro
"full" compatibility): the workers of both releases run side by side during a rolling upgrade,
and recorded topics outlive releases. The verdict per field comes from Apache avro's own
``ReaderWriterCompatibilityChecker``, asked in both directions; cjo adds one rule of its own:
an enum symbol may never be removed (Avro would read it as the enum default, ``UNKNOWN``,
silently turning a meaningful value into none).

fastavro has no static checker (it only fails while reading a record), hence Apache avro here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import avro.schema
from avro.compatibility import (
    ReaderWriterCompatibilityChecker,
    SchemaCompatibilityType,
    SchemaIncompatibilityType,
)
from fastavro.schema import SchemaParseException, parse_schema

from cjo.errors import ConfigError

from .schemas import schema_dir
from .wire import previous_schema_dir, register_writer_schema

PREVIOUS_RELEASE = "0.1.0"  # what schemas/previous/ holds (its README says so too)


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    """One incompatible change: the record, the field (``-`` for the whole record), why."""

    schema: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.schema}.{self.field}: {self.reason}"


def check_release(current: Path | None = None, previous: Path | None = None) -> list[Problem]:
    """``check_dirs`` of ``schemas/`` (or ``current``) against the previous release's."""
    return check_dirs(previous or previous_schema_dir(), current or schema_dir())


def check_dirs(previous: Path, current: Path) -> list[Problem]:
    """Every incompatible change from the ``.avsc`` files of ``previous`` to ``current``'s."""
    old, new = _load_dir(previous), _load_dir(current)
    problems = [Problem(name, "-", "schema removed") for name in sorted(set(old) - set(new))]
    for name in sorted(set(old) & set(new)):
        problems.extend(check_schemas(name, old[name], new[name]))
    return sorted(problems)


def check_schemas(name: str, old: dict[str, Any], new: dict[str, Any]) -> list[Problem]:
    """Every incompatible change from one record schema (its JSON) to another."""
    if old.get("name") != new.get("name") or old.get("namespace") != new.get("namespace"):
        return [Problem(name, "-", "record renamed (full name changed)")]
    old_fields = {f["name"]: f for f in _expanded(old)["fields"]}
    new_fields = {f["name"]: f for f in _expanded(new)["fields"]}
    problems: list[Problem] = []
    for field in old_fields.keys() - new_fields.keys():
        if "default" not in old_fields[field]:
            problems.append(Problem(name, field, "field removed without default (the previous "
                                    "release cannot read new records)"))
    for field in new_fields.keys() - old_fields.keys():
        if "default" not in new_fields[field]:
            problems.append(Problem(name, field, "field added without default (previous "
                                    "records cannot be read)"))
    for field in old_fields.keys() & new_fields.keys():
        before, after = old_fields[field], new_fields[field]
        if "default" in before and "default" not in after:
            problems.append(Problem(name, field, "default removed"))
        problems.extend(Problem(name, field, r) for r in _type_problems(before, after))
        problems.extend(Problem(name, field, r) for r in _enum_problems(before, after))
    return sorted(problems)


def register_writer_schemas(paths: Iterable[Path]) -> list[str]:
    """Let the decoder read records written with the schemas of ``paths`` (``.avsc`` files, or
    directories of them): a newer producer's versions of our records. Returns the record names.

    Raises :class:`~cjo.errors.ConfigError` naming the file and what is wrong with it.
    """
    names = []
    for path in _avsc(paths):
        try:
            names.append(register_writer_schema(path.read_text(encoding="utf-8")))
        except (ValueError, SchemaParseException) as error:  # JSONDecodeError is a ValueError
            raise ConfigError(f"CJO_WRITER_SCHEMAS: {path}: {error}") from error
    return names


def _avsc(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(path.glob("*.avsc"))
        elif path.is_file():
            yield path
        else:
            raise ConfigError(f"CJO_WRITER_SCHEMAS: {path} is neither an .avsc file nor a "
                              "directory")


def _load_dir(directory: Path) -> dict[str, dict[str, Any]]:
    if not directory.is_dir():
        raise ValueError(f"schema directory {directory} does not exist")
    loaded = {}
    for path in sorted(directory.glob("*.avsc")):
        try:
            loaded[path.stem] = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise ValueError(f"{path} is not JSON: {error}") from error
    return loaded


def _expanded(record: dict[str, Any]) -> dict[str, Any]:
    """The record with every named type written out where it is used (fields stand alone)."""
    expanded = parse_schema(record, expand=True, _write_hint=False)
    if not isinstance(expanded, dict):
        raise ValueError(f"expected a record schema, got {expanded!r}")
    return expanded


def _type_problems(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Apache avro's verdict on one field's type, in both directions."""
    old = _single_field_record(before)
    new = _single_field_record(after)
    checker = ReaderWriterCompatibilityChecker()  # type: ignore[no-untyped-call]
    reasons = []
    for reader, writer, direction in ((new, old, "previous records cannot be read"),
                                      (old, new, "the previous release cannot read new records")):
        result = checker.get_compatibility(reader, writer)
        if result.compatibility is SchemaCompatibilityType.incompatible:
            kinds = ", ".join(sorted({_KINDS.get(k, k.value) for k in result.incompatibilities}))
            details = "; ".join(sorted(result.messages))
            reasons.append(f"{kinds} ({details}): {direction}")
    return reasons


_KINDS = {
    SchemaIncompatibilityType.type_mismatch: "type changed",
    SchemaIncompatibilityType.missing_enum_symbols: "enum symbol unknown to the reader, which "
                                                    "has no default",
    SchemaIncompatibilityType.missing_union_branch: "union branch missing",
    SchemaIncompatibilityType.name_mismatch: "named type renamed",
    SchemaIncompatibilityType.fixed_size_mismatch: "fixed size changed",
    SchemaIncompatibilityType.reader_field_missing_default_value: "nested field without default",
}


def _single_field_record(field: dict[str, Any]) -> avro.schema.Schema:
    wrapper = {"type": "record", "name": "cjo.evolution.Field",
               "fields": [{"name": field["name"], "type": field["type"]}]}
    return avro.schema.parse(json.dumps(wrapper))


def _enum_problems(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """cjo's rules beyond Avro's: no enum symbol removed, no enum default dropped (a later
    symbol would then fail the previous release's readers)."""
    old, new = _enums(before["type"]), _enums(after["type"])
    reasons = []
    for name, enum in sorted(old.items()):
        if name not in new:
            continue
        reasons += [f"enum symbol {symbol} removed from {name}"
                    for symbol in enum["symbols"] if symbol not in new[name]["symbols"]]
        if "default" in enum and "default" not in new[name]:
            reasons.append(f"enum default removed from {name}")
    return reasons


def _enums(node: Any) -> dict[str, dict[str, Any]]:
    """Full name -> definition of every enum within an (expanded) type."""
    found: dict[str, dict[str, Any]] = {}
    if isinstance(node, list):
        for item in node:
            found.update(_enums(item))
    elif isinstance(node, dict):
        if node.get("type") == "enum":
            found[str(node["name"])] = node
        for value in node.values():
            if isinstance(value, dict | list):
                found.update(_enums(value))
    return found
