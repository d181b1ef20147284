"""``normalise``: a plain JSON value -> a complete record, checked against the data contract."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from .checks import Check, compile_checks
from .convert import Converter, compile_type
from .schemas import schema


@cache
def converter(name: str) -> Converter:
    """Compiled type conversion for the record ``name``."""
    return compile_type(schema(name), {})


@cache
def checker(name: str) -> Check:
    """Compiled semantic checks for the record ``name`` (a no-op when it has none)."""
    return compile_checks(schema(name)) or _nothing


def _nothing(_record: Any) -> None:
    return None


def normalise(name: str, value: Mapping[str, Any]) -> dict[str, Any]:
    """A plain JSON value (as in a recorded log) -> the complete record ``encode`` takes.

    Omitted fields get their default (nullable ones ``None``); a missing required field, a wrong
    type, an enum symbol the schema does not list or a value the contract refuses (an IMSI that
    is not 5-15 digits, a PLMN that is not 5-6 digits, a negative counter, a timestamp outside
    ``[0, checks.MAX_TIMESTAMP_MS)`` (year 9999), a latitude beyond +-90 ...) raises
    :class:`~cjo.errors.InvalidRecord` naming the field (``"consent.sms"``,
    ``"trials[0].expires_at"``). Dates become int days since 1970-01-01, timestamps stay int
    epoch milliseconds. Fields the schema lacks are dropped.
    """
    record: dict[str, Any] = converter(name)(value)
    checker(name)(record)
    return record


def check(name: str, record: Mapping[str, Any]) -> None:
    """The semantic checks of :func:`normalise` alone, for records that are already well typed."""
    checker(name)(record)
