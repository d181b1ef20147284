"""Recorded event logs, one JSON object a line: ``{"topic": ..., "key": ..., "value": {...}}``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from cjo.errors import InvalidRecord
from cjo.stream_registry import INPUTS

from .keys import checked_key
from .normalise import normalise
from .paths import show, within

RECORD_OF_STREAM: dict[str, str] = {s.name: s.record for s in INPUTS}  # input stream -> record
EVENT_TIME_FIELD: dict[str, str] = {s.record: s.event_time for s in INPUTS}


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One input record read from a recorded log."""

    stream: str  # logical stream: "charging", "location", ...
    key: bytes  # the Kafka key: the subscriber's IMSI
    record_name: str  # "ChargingEvent", ...
    value: dict[str, Any]  # the complete record, ready for encode()
    event_time: int  # epoch milliseconds


def parse_log_line(line: bytes | str) -> LogRecord:
    """One recorded-log line -> :class:`LogRecord`.

    Raises :class:`~cjo.errors.InvalidRecord` for a line that is not a JSON object (field ``""``),
    a missing or unknown ``topic``, a ``value`` that does not fit its schema (field
    ``"value.<path>"``) or a ``key`` other than the value's ``imsi`` (``codec.keys``). A missing
    key defaults to the ``imsi``.
    """
    try:
        document = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        raise InvalidRecord("", f"not JSON: {error}") from None
    if not isinstance(document, dict):
        raise InvalidRecord("", f"a log line must be a JSON object, got {show(document)}")
    stream = _stream(document)
    record_name = RECORD_OF_STREAM[stream]
    if "value" not in document:
        raise InvalidRecord("value", "required field missing")
    try:
        value = normalise(record_name, document["value"])
    except InvalidRecord as error:
        raise within("value", error) from None
    return LogRecord(
        stream=stream,
        key=_key(document, value),
        record_name=record_name,
        value=value,
        event_time=event_time_of(record_name, value),
    )


def _stream(document: Mapping[str, Any]) -> str:
    known = ", ".join(RECORD_OF_STREAM)
    if "topic" not in document:
        raise InvalidRecord("topic", f"required field missing; one of {known}")
    stream = document["topic"]
    if not isinstance(stream, str) or stream not in RECORD_OF_STREAM:
        raise InvalidRecord("topic", f"unknown stream {show(stream)}; expected one of {known}")
    return stream


def _key(document: Mapping[str, Any], value: Mapping[str, Any]) -> bytes:
    imsi: str = value["imsi"]
    key = document.get("key")
    return imsi.encode() if key is None else checked_key(key, imsi)


def event_time_of(record_name: str, record: Mapping[str, Any]) -> int:
    """The event time of an input record: its stream's ``event_time`` field (a profile's
    ``updated_at``, see ``cjo.stream_registry``)."""
    return int(record[EVENT_TIME_FIELD[record_name]])
