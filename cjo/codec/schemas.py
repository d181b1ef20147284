"""Loading the Avro schemas (``schemas/*.avsc``, one record per file) and their fingerprints.

Two parsed forms are kept per record, both cached:

- :func:`schema` is the schema as written, ``logicalType`` annotations included (for docs, models);
- :func:`wire_schema` is the same schema with every ``logicalType`` removed. fastavro turns
  ``timestamp-millis`` into ``datetime`` and ``date`` into ``date`` on read; without the annotation
  it reads plain ``int`` — the form the engine uses. The bytes on the wire are the same, and so is
  the fingerprint: the Parsing Canonical Form drops ``logicalType``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from fastavro.schema import fingerprint as _fastavro_fingerprint
from fastavro.schema import parse_schema, to_parsing_canonical_form

_PACKAGED = Path(__file__).resolve().parents[1] / "_schemas"  # wheel: hatch force-include
_CHECKOUT = Path(__file__).resolve().parents[2] / "schemas"  # editable install / source tree


def schema_dir() -> Path:
    """The directory the ``.avsc`` files are read from."""
    return _PACKAGED if _PACKAGED.is_dir() else _CHECKOUT


@cache
def record_names() -> tuple[str, ...]:
    """Short names of every record with a schema file, sorted."""
    return tuple(sorted(path.stem for path in schema_dir().glob("*.avsc")))


@cache
def schema_json(name: str) -> dict[str, Any]:
    """The JSON of ``schemas/<name>.avsc`` exactly as written (do not mutate)."""
    path = schema_dir() / f"{name}.avsc"
    if name not in record_names():
        raise ValueError(f"no schema named {name!r}; known: {', '.join(record_names())}")
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if loaded.get("type") != "record" or loaded.get("name") != name:
        raise ValueError(f"{path} must hold the record {name!r}")
    return loaded


@cache
def schema(name: str) -> dict[str, Any]:
    """Parsed fastavro schema of ``schemas/<name>.avsc``, logical types included."""
    return _parsed_record(parse_schema(schema_json(name)))


@cache
def wire_schema(name: str) -> dict[str, Any]:
    """Parsed schema without ``logicalType``: reads and writes timestamps and dates as ``int``."""
    return _parsed_record(parse_schema(strip_logical_types(schema_json(name))))


@cache
def canonical_form(name: str) -> str:
    """The Parsing Canonical Form of the record's schema."""
    form: str = to_parsing_canonical_form(schema(name))
    return form


@cache
def fingerprint(name: str) -> bytes:
    """CRC-64-AVRO of the canonical form: the 8 little-endian bytes of the single-object header."""
    return fingerprint_of(canonical_form(name))


def fingerprint_of(canonical: str) -> bytes:
    """CRC-64-AVRO of a canonical form, little-endian (the byte order of fastavro's hex string)."""
    return bytes.fromhex(_fastavro_fingerprint(canonical, "CRC-64-AVRO"))


def _parsed_record(parsed: object) -> dict[str, Any]:
    if not isinstance(parsed, dict):
        raise TypeError(f"expected a parsed record schema, got {parsed!r}")
    return parsed


def strip_logical_types(node: Any) -> Any:
    """A deep copy of a schema's JSON without any ``logicalType`` key."""
    if isinstance(node, dict):
        return {k: strip_logical_types(v) for k, v in node.items() if k != "logicalType"}
    if isinstance(node, list):
        return [strip_logical_types(item) for item in node]
    return node
