"""Type conversion of plain JSON values to Avro records, compiled once per schema.

:func:`compile_type` turns a parsed schema into a tree of small closures, one per type, each
taking a JSON value and returning the value as the Avro writer wants it, or raising
:class:`~cjo.errors.InvalidRecord` with a path relative to its own value (see :mod:`.paths`).

The JSON form (docs/data-contract.md, "Recorded logs"): no union wrappers, nullable fields may be
omitted or null, ``timestamp-millis`` is an int of epoch milliseconds, ``date`` is ``"YYYY-MM-DD"``
or an int of days since 1970-01-01. Fields not in the schema are dropped.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Any

from cjo.errors import InvalidRecord

from .paths import show, within, wrong_type

Converter = Callable[[Any], Any]
Names = dict[str, Converter]

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_EPOCH = dt.date(1970, 1, 1)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE = "date ('YYYY-MM-DD' or int days since 1970-01-01)"


def compile_type(avro_type: Any, names: Names) -> Converter:
    """The converter for one (parsed fastavro) Avro type; ``names`` collects named types."""
    if isinstance(avro_type, list):
        return _union(avro_type, names)
    if isinstance(avro_type, str):
        return names[avro_type] if avro_type in names else _primitive(avro_type)
    kind = avro_type["type"]
    logical = avro_type.get("logicalType")
    if logical == "date" and kind == "int":
        return _date
    if kind == "record":
        names[avro_type["name"]] = converter = _record(avro_type, names)
    elif kind == "enum":
        names[avro_type["name"]] = converter = _enum(avro_type["name"], avro_type["symbols"])
    elif kind == "array":
        converter = _array(compile_type(avro_type["items"], names))
    elif kind == "map":
        converter = _map(compile_type(avro_type["values"], names))
    elif kind == "fixed":
        names[avro_type["name"]] = converter = _fixed(avro_type["size"])
    else:
        converter = _primitive(kind)
    return converter


def _primitive(kind: str) -> Converter:
    simple: dict[str, Converter] = {
        "null": _null,
        "boolean": _boolean,
        "string": _string,
        "bytes": _bytes,
        "float": _double,
        "double": _double,
    }
    if kind in simple:
        return simple[kind]
    if kind in ("int", "long"):
        return _integer(kind, *(_INT32 if kind == "int" else _INT64))
    raise ValueError(f"unsupported Avro type {kind!r}")


def _null(value: Any) -> None:
    if value is not None:
        raise wrong_type("null", value)


def _boolean(value: Any) -> bool:
    if value is True or value is False:
        return value
    raise wrong_type("boolean", value)


def _string(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise wrong_type("string", value)


def _bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):  # Avro's JSON encoding: one code point 0-255 per byte
        try:
            return value.encode("latin-1")
        except UnicodeEncodeError:
            reason = f"bytes as a string must be code points 0-255, got {show(value)}"
            raise InvalidRecord("", reason) from None
    raise wrong_type("bytes", value)


def _double(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise wrong_type("double", value)


def _integer(kind: str, low: int, high: int) -> Converter:
    def convert(value: Any) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise wrong_type(kind, value)
        if not low <= value <= high:
            raise InvalidRecord("", f"{kind} out of range: {value}")
        return int(value)

    return convert


def _date(value: Any) -> int:
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return (dt.date.fromisoformat(value) - _EPOCH).days
        except ValueError:
            raise InvalidRecord("", f"not a calendar date: {value!r}") from None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return (value - _EPOCH).days
    if isinstance(value, int) and not isinstance(value, bool) and _INT32[0] <= value <= _INT32[1]:
        return value
    raise wrong_type(_DATE, value)


def _enum(name: str, symbols: list[str]) -> Converter:
    allowed = frozenset(symbols)
    listed = ", ".join(symbols)
    short = name.rpartition(".")[2]

    def convert(value: Any) -> str:
        if isinstance(value, str) and value in allowed:
            return value
        if isinstance(value, str):
            raise InvalidRecord("", f"unknown {short} symbol {value!r}, expected one of {listed}")
        raise wrong_type(f"one of {listed}", value)

    return convert


def _array(item: Converter) -> Converter:
    def convert(value: Any) -> list[Any]:
        if not isinstance(value, list | tuple):
            raise wrong_type("array", value)
        out = []
        for index, element in enumerate(value):
            try:
                out.append(item(element))
            except InvalidRecord as error:
                raise within(f"[{index}]", error) from None
        return out

    return convert


def _map(item: Converter) -> Converter:
    def convert(value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise wrong_type("map", value)
        out = {}
        for key, element in value.items():
            if not isinstance(key, str):
                raise InvalidRecord("", f"map keys must be strings, got {show(key)}")
            try:
                out[key] = item(element)
            except InvalidRecord as error:
                raise within(key, error) from None
        return out

    return convert


def _fixed(size: int) -> Converter:
    def convert(value: Any) -> bytes:
        data = _bytes(value)
        if len(data) != size:
            raise InvalidRecord("", f"expected {size} bytes, got {len(data)}")
        return data

    return convert


def _union(branches: list[Any], names: Names) -> Converter:
    nullable = "null" in branches
    others = [compile_type(branch, names) for branch in branches if branch != "null"]
    if nullable and len(others) == 1:
        only = others[0]
        return lambda value: None if value is None else only(value)
    described = " or ".join(_describe(branch) for branch in branches)

    def convert(value: Any) -> Any:
        if value is None and nullable:
            return None
        for branch in others:
            try:
                return branch(value)
            except InvalidRecord:
                continue
        raise wrong_type(described, value)

    return convert


def _describe(avro_type: Any) -> str:
    if isinstance(avro_type, list):
        return "(" + " or ".join(_describe(branch) for branch in avro_type) + ")"
    if isinstance(avro_type, dict):
        return str(avro_type.get("name", avro_type["type"])).rpartition(".")[2]
    return str(avro_type).rpartition(".")[2]


def _record(record: Mapping[str, Any], names: Names) -> Converter:
    fields = [_field(spec, names) for spec in record["fields"]]
    expected = f"record {record['name'].rpartition('.')[2]} (an object)"

    def convert(value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise wrong_type(expected, value)
        out = {}
        for name, converter, default in fields:
            try:
                if name in value:
                    out[name] = converter(value[name])
                else:
                    out[name] = default()
            except InvalidRecord as error:
                raise within(name, error) from None
        return out

    return convert


def _field(spec: Mapping[str, Any], names: Names) -> tuple[str, Converter, Callable[[], Any]]:
    """(name, converter, what to use when the field is omitted)."""
    converter = compile_type(spec["type"], names)
    nullable = isinstance(spec["type"], list) and "null" in spec["type"]
    if "default" not in spec and not nullable:
        return spec["name"], converter, _required_missing
    value = converter(spec.get("default"))
    if isinstance(value, list | dict):
        return spec["name"], converter, lambda: copy.deepcopy(value)
    return spec["name"], converter, lambda: value


def _required_missing() -> Any:
    raise InvalidRecord("", "required field missing")
