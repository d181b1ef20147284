"""Semantic checks that the Avro types cannot express, compiled once per schema.

The rules go by field name (``imsi``, ``home_plmn``, counters, ``lat``/``lon``) and by logical type
(every ``timestamp-millis``), wherever the field sits: ``trials[].expires_at`` is checked too.
:func:`compile_checks` returns ``None`` for a type with nothing to check, so a record's checker
only visits the fields that matter. Checks run on converted values (``normalise``) and on decoded
wire records (``decode``) alike; ``None`` (an absent nullable field) is never checked.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from cjo.errors import InvalidRecord

from .paths import within

Check = Callable[[Any], None]

# exclusive: 9999-01-01T00:00Z. Python's dates end with 9999, and the domain adds durations (a
# timer's delay, an offer's validity, a time zone) to event times: a year is left for them. The
# JSON form is exact too (below 2**53 a double keeps every millisecond).
MAX_TIMESTAMP_MS = 253_370_764_800_000
NON_NEGATIVE = frozenset(
    {
        "used_total_octets",
        "bundle_total_octets",
        "bundle_remaining_octets",
        "bytes_uplink",
        "bytes_downlink",
        "duration_ms",
        "throughput_kbps",
    }
)


def _digits(value: str, low: int, high: int) -> bool:
    return low <= len(value) <= high and value.isascii() and value.isdigit()


def check_imsi(value: str) -> None:
    if not _digits(value, 5, 15):
        raise InvalidRecord("", f"an IMSI is 5 to 15 digits, got {value!r}")


def check_plmn(value: str) -> None:
    if not _digits(value, 5, 6):
        raise InvalidRecord("", f"a PLMN is 5 or 6 digits (MCC+MNC), got {value!r}")


def check_timestamp(value: int) -> None:
    if not 0 <= value < MAX_TIMESTAMP_MS:
        raise InvalidRecord("", "epoch milliseconds must be >= 0 and before year 9999 "
                                f"(< {MAX_TIMESTAMP_MS}), got {value}")


def check_non_negative(value: float) -> None:
    if not (value >= 0 and math.isfinite(value)):
        raise InvalidRecord("", f"must be >= 0 and finite, got {value}")


def check_finite(value: float) -> None:
    """Every float and double: NaN and the infinities mean nothing in an event (and the JSON
    form of a recorded log cannot even carry them)."""
    if not math.isfinite(value):
        raise InvalidRecord("", f"must be a finite number, got {value}")


def _within_degrees(limit: float) -> Check:
    def check(value: float) -> None:
        if not -limit <= value <= limit:  # also refuses NaN
            raise InvalidRecord("", f"must be within [-{limit:g}, {limit:g}] degrees, got {value}")

    return check


FLOATS = frozenset({"float", "double"})
BY_FIELD_NAME: dict[str, Check] = {
    "imsi": check_imsi,
    "home_plmn": check_plmn,
    "serving_plmn": check_plmn,
    "lat": _within_degrees(90),
    "lon": _within_degrees(180),
    **dict.fromkeys(NON_NEGATIVE, check_non_negative),
}


def compile_checks(
    avro_type: Any, field_name: str = "", names: dict[str, Check | None] | None = None
) -> Check | None:
    """The check for a value of ``avro_type`` held in a field called ``field_name``, if any."""
    names = {} if names is None else names
    if isinstance(avro_type, list):
        branches = [compile_checks(b, field_name, names) for b in avro_type if b != "null"]
        inner = [check for check in branches if check is not None]
        return _skip_none(inner[0]) if len(inner) == 1 else None
    if isinstance(avro_type, str):
        return names[avro_type] if avro_type in names else _by_name(avro_type, field_name)
    kind = avro_type["type"]
    if kind == "record":
        names[avro_type["name"]] = check = _record_checks(avro_type["fields"], names)
        return check
    if kind == "array":
        items = compile_checks(avro_type["items"], "", names)
        return None if items is None else _each(items)
    if avro_type.get("logicalType") == "timestamp-millis":
        return check_timestamp
    return None if kind in ("enum", "fixed", "map") else BY_FIELD_NAME.get(field_name)


def _by_name(primitive: str, field_name: str) -> Check | None:
    return BY_FIELD_NAME.get(field_name, check_finite if primitive in FLOATS else None)


def _skip_none(check: Check) -> Check:
    def checked(value: Any) -> None:
        if value is not None:
            check(value)

    return checked


def _each(check: Check) -> Check:
    def checked(values: list[Any]) -> None:
        for index, value in enumerate(values):
            try:
                check(value)
            except InvalidRecord as error:
                raise within(f"[{index}]", error) from None

    return checked


def _record_checks(fields: list[Mapping[str, Any]], names: dict[str, Check | None]) -> Check | None:
    checks = [(f["name"], compile_checks(f["type"], f["name"], names)) for f in fields]
    active = [(name, check) for name, check in checks if check is not None]
    if not active:
        return None

    def checked(record: Mapping[str, Any]) -> None:
        for name, check in active:
            try:
                check(record[name])
            except InvalidRecord as error:
                raise within(name, error) from None

    return checked
