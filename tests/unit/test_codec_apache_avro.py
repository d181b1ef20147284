"""cjo.codec checked against independent implementations.

- the body is read (and written) by the Apache ``avro`` package, from the ``.avsc`` text;
- the header fingerprint is recomputed with a CRC-64-AVRO written here from the Avro spec, and
  compared with Apache avro's own fingerprint.

Apache avro (1.12) keeps ``{"type": "long"}`` for a logical type in its canonical form where the
spec (strip ``logicalType``, then write primitives by name) and Java give ``"long"``; its
fingerprints are taken of the schema without ``logicalType``, which by the spec is the same schema.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import avro.io
import avro.schema
import pytest
from hypothesis import given, settings

from cjo.codec import decode, encode, fingerprint, record_names
from cjo.codec.schemas import canonical_form, schema_dir, strip_logical_types

from .test_codec import SAMPLES, charging_events

APACHE_READABLE = sorted(record_names())

# --- CRC-64-AVRO, from the Avro specification ("Schema Fingerprints") -------------------------

EMPTY = 0xC15D213AA4D7A795


def _table() -> list[int]:
    table = []
    for byte in range(256):
        fp = byte
        for _ in range(8):
            fp = (fp >> 1) ^ (EMPTY & -(fp & 1))
        table.append(fp)
    return table


TABLE = _table()


def crc64_avro(data: bytes) -> int:
    fp = EMPTY
    for byte in data:
        fp = (fp >> 8) ^ TABLE[(fp ^ byte) & 0xFF]
    return fp


@pytest.mark.parametrize(
    ("canonical", "little_endian_hex"),
    # vectors of Apache avro's test suite (lang/py/avro/test/test_schema.py)
    [
        ('"int"', "8f5c393f1ad57572"),
        ('"long"', "b71df49344e154d0"),
        ('"double"', "7e95ab32c035758e"),
    ],
)
def test_our_crc64_matches_the_published_vectors(canonical: str, little_endian_hex: str) -> None:
    assert crc64_avro(canonical.encode()).to_bytes(8, "little").hex() == little_endian_hex


@pytest.mark.parametrize("name", sorted(record_names()))
def test_header_fingerprint_is_crc64_of_the_canonical_form_little_endian(name: str) -> None:
    header = encode(name, SAMPLES[name])[:10]
    expected = crc64_avro(canonical_form(name).encode("utf-8")).to_bytes(8, "little")
    assert header == b"\xc3\x01" + expected


# --- Apache avro -------------------------------------------------------------------------------


def apache_schema(name: str, *, logical_types: bool = True) -> avro.schema.Schema:
    text = (Path(schema_dir()) / f"{name}.avsc").read_text(encoding="utf-8")
    if not logical_types:
        text = json.dumps(strip_logical_types(json.loads(text)))
    return avro.schema.parse(text)


@pytest.mark.parametrize("name", APACHE_READABLE)
def test_apache_fingerprint_agrees(name: str) -> None:
    assert apache_schema(name, logical_types=False).fingerprint("CRC-64-AVRO") == fingerprint(name)


@pytest.mark.parametrize("name", APACHE_READABLE)
def test_apache_canonical_form_agrees_up_to_logical_types(name: str) -> None:
    apache = json.loads(apache_schema(name).canonical_form)
    assert json.dumps(_primitive_names(apache), separators=(",", ":")) == canonical_form(name)


def _primitive_names(node: Any) -> Any:
    """``{"type": "long"}`` -> ``"long"`` throughout (the spec's [PRIMITIVES] rule)."""
    if isinstance(node, dict):
        if set(node) == {"type"} and isinstance(node["type"], str):
            return node["type"]
        return {key: _primitive_names(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_primitive_names(item) for item in node]
    return node


def apache_read(name: str, data: bytes) -> dict[str, Any]:
    """The body (after the 10-byte header) as Apache avro reads it, logical types made plain."""
    stream = io.BytesIO(data[10:])
    record = avro.io.DatumReader(apache_schema(name)).read(avro.io.BinaryDecoder(stream))
    assert stream.tell() == len(data) - 10, "Apache avro left bytes unread"
    plain: dict[str, Any] = _plain(record)
    return plain


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return (value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(milliseconds=1)
    if isinstance(value, dt.date):
        return (value - dt.date(1970, 1, 1)).days
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


@pytest.mark.parametrize("name", APACHE_READABLE)
def test_apache_avro_reads_what_we_write(name: str) -> None:
    assert apache_read(name, encode(name, SAMPLES[name])) == SAMPLES[name]


@settings(max_examples=100, deadline=None)
@given(charging_events())  # up to the codec's bound, which a datetime holds
def test_apache_avro_reads_any_charging_event_we_write(record: dict[str, Any]) -> None:
    assert apache_read("ChargingEvent", encode("ChargingEvent", record)) == record


@pytest.mark.parametrize("name", APACHE_READABLE)
def test_we_read_what_apache_avro_writes(name: str) -> None:
    stream = io.BytesIO()
    writer = avro.io.DatumWriter(apache_schema(name, logical_types=False))
    writer.write(SAMPLES[name], avro.io.BinaryEncoder(stream))
    data = b"\xc3\x01" + apache_schema(name, logical_types=False).fingerprint() + stream.getvalue()
    assert decode(data, name) == (name, SAMPLES[name])


def test_every_schema_is_valid_avro_for_apache() -> None:
    names = record_names()
    assert names
    for name in names:
        assert apache_schema(name).name == name  # parse raises on a schema that is not Avro
