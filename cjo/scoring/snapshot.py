"""The wire format of a scorer snapshot: data only, versioned, and signed with a shared key.

::

    cjo.scorer/2\\n                  header: format name and version
    <64 hex digits>\\n               HMAC-SHA256 of header + body, keyed with CJO_MODELS_KEY
    <body>                          JSON (see cjo.scoring.scorer for its fields)

A learner publishes snapshots, workers load them from a Kafka topic, so a snapshot is untrusted
input: :func:`unseal` checks the size, the header and the keyed digest before it parses anything,
and the body is plain JSON (numbers, strings, lists, objects): loading one never runs code. A
snapshot made with another key, truncated, altered or in another format raises
``SnapshotError`` and nothing of it is used. The earlier format (version 1) was a pickle; it is
refused like any other foreign bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from typing import Any

import orjson

from cjo.errors import CjoError

NAME = b"cjo.scorer/"
VERSION = 2
HEADER = NAME + str(VERSION).encode() + b"\n"
DIGEST_HEX = 64  # hex digits of an HMAC-SHA256
MAX_BYTES = 8 * 1024 * 1024  # far above a real scorer (a few KiB per trigger), far below harm


class SnapshotError(CjoError):
    """Bytes that are not a scorer snapshot this version can load with this key."""


def _digest(key: bytes, header: bytes, body: bytes) -> bytes:
    return hmac.new(key, header + body, hashlib.sha256).hexdigest().encode()


def seal(document: Any, key: bytes) -> bytes:
    """The snapshot of a JSON-able ``document`` (finite floats only), signed with ``key``."""
    body = orjson.dumps(document)
    return HEADER + _digest(key, HEADER, body) + b"\n" + body


def unseal(data: bytes, key: bytes) -> Any:
    """The document of a snapshot; ``SnapshotError`` unless it is one, signed with ``key``."""
    data = bytes(data)
    if len(data) > MAX_BYTES:
        raise SnapshotError(f"scorer snapshot of {len(data)} bytes refused: at most {MAX_BYTES}")
    if not data.startswith(NAME):
        raise SnapshotError(f"not a scorer snapshot: expected the header {HEADER!r}, "
                            f"got {data[:len(HEADER)]!r}")
    header = data[: data.find(b"\n", 0, 32) + 1]
    if header != HEADER:
        found = header or data[:32]
        raise SnapshotError(f"unsupported scorer snapshot format {found!r}: this version reads "
                            f"{HEADER!r} only (upgrade the worker or republish the model)")
    signed = data[len(HEADER): len(HEADER) + DIGEST_HEX]
    body = data[len(HEADER) + DIGEST_HEX + 1:]
    if data[len(HEADER) + DIGEST_HEX: len(HEADER) + DIGEST_HEX + 1] != b"\n":
        raise SnapshotError("truncated or malformed scorer snapshot: no digest line after the "
                            "header")
    if not hmac.compare_digest(signed, _digest(key, HEADER, body)):
        raise SnapshotError("scorer snapshot digest does not match: altered, truncated, or "
                            "signed with another CJO_MODELS_KEY")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:  # signed but not JSON: a learner defect
        raise SnapshotError(f"scorer snapshot body is not JSON: {exc}") from None


# --- reading a document's fields, every problem a SnapshotError naming its place ------------


def obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SnapshotError(f"scorer snapshot: {where} must be an object")
    return value


def field(document: dict[str, Any], name: str, where: str) -> Any:
    if name not in document:
        raise SnapshotError(f"scorer snapshot: {where}.{name} is missing")
    return document[name]


def number(value: Any, where: str) -> float:
    """A finite JSON number (an int stays an int: what was dumped is what is read)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or (
            isinstance(value, float) and not math.isfinite(value)):
        raise SnapshotError(f"scorer snapshot: {where} must be a finite number")
    return value


def count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SnapshotError(f"scorer snapshot: {where} must be a non-negative integer")
    return value


def numbers(value: Any, where: str) -> dict[str, float]:
    """An object of finite numbers, in its order (river sums weights in insertion order)."""
    return {str(k): number(v, f"{where}[{k!r}]") for k, v in obj(value, where).items()}
