"""Avro single-object encoding: ``C3 01`` + 8-byte little-endian CRC-64-AVRO fingerprint + body.

The fingerprint names the record, so :func:`decode` needs no schema registry: it keeps a
fingerprint -> schema dict of every ``schemas/*.avsc``, plus the writer schemas registered with
:func:`register_writer_schema` (other versions of our records, read into ours by Avro schema
resolution: a symbol our enum lacks becomes its default, ``UNKNOWN``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from fastavro import schemaless_reader, schemaless_writer
from fastavro.schema import parse_schema, to_parsing_canonical_form

from cjo.errors import DecodeError

from .checks import Check
from .normalise import checker, normalise
from .schemas import (
    fingerprint,
    fingerprint_of,
    record_names,
    schema,
    schema_dir,
    strip_logical_types,
    wire_schema,
)

MAGIC = b"\xc3\x01"
HEADER_SIZE = len(MAGIC) + 8


@dataclass(frozen=True, slots=True)
class _Reading:
    """How to read a body with a given fingerprint."""

    name: str  # our record's short name
    writer: dict[str, Any]  # the schema the bytes were written with (logical types stripped)
    reader: dict[str, Any] | None  # ours, when it differs from the writer's
    check: Check  # our record's semantic checks


@cache
def _readings() -> dict[bytes, _Reading]:
    """Our schemas, then the previous release's (``schemas/previous/``) as writer schemas."""
    readings = {fingerprint(n): _Reading(n, wire_schema(n), None, checker(n))
                for n in record_names()}
    for path in sorted(previous_schema_dir().glob("*.avsc")):
        if path.stem in record_names():  # a record dropped since is none of ours any more
            _add_writer(readings, path.read_text(encoding="utf-8"))
    return readings


def previous_schema_dir() -> Path:
    """The previous release's ``.avsc`` files, read by every decoder (``schemas/previous/``)."""
    return schema_dir() / "previous"


@cache
def header(name: str) -> bytes:
    """The 10 header bytes of every ``name`` record."""
    return MAGIC + fingerprint(name)


def encode(name: str, record: Mapping[str, Any]) -> bytes:
    """``record`` (plain values, JSON form accepted) -> single-object encoded bytes.

    The record goes through :func:`~cjo.codec.normalise.normalise` first, so anything that does not
    fit the contract raises :class:`~cjo.errors.InvalidRecord` naming the field, and omitted
    fields with a default get it.
    """
    return encode_complete(name, normalise(name, record))


def encode_complete(name: str, complete: Mapping[str, Any]) -> bytes:
    """Like :func:`encode` for a record that :func:`normalise` already returned (no second pass)."""
    stream = BytesIO()
    stream.write(header(name))
    schemaless_writer(stream, wire_schema(name), complete)
    return stream.getvalue()


def decode(data: bytes, expected: str | None = None) -> tuple[str, dict[str, Any]]:
    """Single-object encoded bytes -> (record name, record), timestamps and dates as ints.

    Raises :class:`~cjo.errors.DecodeError` for bytes that are not a record we know (short or
    wrong header, unknown fingerprint, a body that does not decode or has bytes left over, a
    record other than ``expected``), and :class:`~cjo.errors.InvalidRecord` naming the field when
    the record decodes but breaks the contract (an IMSI that is not digits, ...).
    """
    if type(data) is not bytes:
        data = bytes(data)
    if len(data) < HEADER_SIZE or data[:2] != MAGIC:
        raise DecodeError("", f"not Avro single-object encoded (starts {data[:HEADER_SIZE].hex()})")
    reading = _readings().get(data[2:HEADER_SIZE])
    if reading is None:
        raise DecodeError("", f"unknown schema fingerprint {data[2:HEADER_SIZE].hex()} (written "
                          "with a schema this release does not know: a newer producer's? list "
                          "its .avsc in CJO_WRITER_SCHEMAS)")
    if expected is not None and reading.name != expected:
        raise DecodeError("", f"expected {expected}, got {reading.name}")
    stream = BytesIO(data)
    stream.seek(HEADER_SIZE)
    try:
        record: dict[str, Any] = schemaless_reader(  # type: ignore[assignment]
            stream, reading.writer, reading.reader
        )
    except Exception as error:  # fastavro: EOFError, IndexError, UnicodeDecodeError, ...
        reason = f"{reading.name} body does not decode ({type(error).__name__}: {error})"
        raise DecodeError("", reason) from error
    if stream.tell() != len(data):
        raise DecodeError("", f"{len(data) - stream.tell()} bytes left after the {reading.name}")
    reading.check(record)
    return reading.name, record


def register_writer_schema(writer_schema: Mapping[str, Any] | str) -> str:
    """Let :func:`decode` read records written with another version of one of our schemas.

    ``writer_schema`` (its JSON, as text or parsed) must be a record we know by its full name
    (``cjo.v1.ChargingEvent``); its bytes are then resolved into our version. Returns the short
    record name.
    """
    return _add_writer(_readings(), writer_schema)


def _add_writer(readings: dict[bytes, _Reading], writer_schema: Mapping[str, Any] | str) -> str:
    raw = json.loads(writer_schema) if isinstance(writer_schema, str) else dict(writer_schema)
    parsed = parse_schema(strip_logical_types(raw))
    if not isinstance(parsed, dict):
        raise ValueError(f"writer schema must be a record, got {parsed!r}")
    full = str(parsed.get("name", ""))
    name = full.rpartition(".")[2]
    if name not in record_names() or full != schema(name)["name"]:
        known = ", ".join(schema(n)["name"] for n in record_names())
        raise ValueError(f"writer schema {full!r} is none of our records: {known}")
    key = fingerprint_of(to_parsing_canonical_form(parsed))
    if key not in readings:
        readings[key] = _Reading(name, parsed, wire_schema(name), checker(name))
    return name
