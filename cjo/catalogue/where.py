"""A matcher's ``where``: the record fields a count or sequence step (or a conversion) compares.

Each field maps to a value (equal to it), a list (equal to one of them) or a condition::

    where: {app_category: VIDEO}                      # equality
    where: {app_category: [VIDEO, MUSIC]}             # one of them
    where: {app_category: {in: [VIDEO, MUSIC]}}       # the same
    where: {app_category: {not_in: [WEB, OTHER]}}     # none of them
    where: {bytes_downlink: {gte: 1000000, lt: 5000000}}   # a range (numbers only)

A condition's parts must all hold. Enum values compare as their names; booleans only equal
booleans (``true`` is not ``1``); numbers compare by value (``1 == 1.0``); a field the record
lacks, or holds as null, never matches (not even ``not_in``).

Each matcher's ``where`` is compiled once (``compile_where``) into a tuple of per-field tests, so
a record costs one call per field, whatever the form.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Scalar = str | int | float | bool
Test = Callable[[Any], bool]
OPERATORS = ("gt", "gte", "lt", "lte", "in", "not_in")


class Condition(BaseModel):
    """``{gte: 10, lt: 20}``, ``{in: [a, b]}``, ``{not_in: [a]}``: every part must hold."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    gt: float | None = None
    gte: float | None = None
    lt: float | None = None
    lte: float | None = None
    in_: list[Scalar] | None = Field(None, alias="in", min_length=1)
    not_in: list[Scalar] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _sensible(self) -> Condition:
        bounds = [self.gt, self.gte, self.lt, self.lte]
        if all(b is None for b in bounds) and self.in_ is None and self.not_in is None:
            raise ValueError(f"give at least one of: {', '.join(OPERATORS)}")
        if self.gt is not None and self.gte is not None:
            raise ValueError("give gt or gte, not both")
        if self.lt is not None and self.lte is not None:
            raise ValueError("give lt or lte, not both")
        low = self.gt if self.gt is not None else self.gte
        high = self.lt if self.lt is not None else self.lte
        if low is not None and high is not None and (
                low > high or (low == high and (self.gt is not None or self.lt is not None))):
            raise ValueError(f"the range is empty: nothing is above {low:g} and below {high:g}")
        return self

    @property
    def is_range(self) -> bool:
        return any(b is not None for b in (self.gt, self.gte, self.lt, self.lte))

    def values(self) -> list[Scalar]:
        """The values of ``in`` and ``not_in`` (checked against the field's type)."""
        return [*(self.in_ or []), *(self.not_in or [])]


def where_value(value: Any) -> Any:
    """Pydantic before-validator of a ``where`` value: a mapping becomes a :class:`Condition`,
    with a one-line reason when it is not one."""
    if not isinstance(value, dict):
        return value
    unknown = [str(k) for k in value if k not in OPERATORS]
    if unknown:
        raise ValueError(f"unknown operator {unknown[0]!r} (known: {', '.join(OPERATORS)})")
    try:
        return Condition.model_validate(value)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"][:1])
        wanted = _EXPECTED.get(first["type"])
        message = (f"expected {wanted}, got {_show(first.get('input'))}" if wanted
                   else str(first["msg"]).removeprefix("Value error, "))
        raise ValueError(f"{where}: {message}" if where else message) from None


_EXPECTED = {"float_parsing": "a number", "float_type": "a number", "list_type": "a list",
             "too_short": "at least one value", "string_type": "text, a number or true/false",
             "int_type": "text, a number or true/false", "bool_type": "text, a number or "
             "true/false"}


def _show(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "an empty list" if not value else "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "nothing" if value is None else repr(value)


WhereValue = Scalar | list[Scalar] | Condition


def compile_where(where: Mapping[str, WhereValue]) -> tuple[tuple[str, Test], ...]:
    """One ``(field, test)`` per ``where`` entry; a record matches when every field it names is
    present and passes its test."""
    return tuple((name, _compile(wanted)) for name, wanted in where.items())


def compile_attribute_where(where: Mapping[str, WhereValue]) -> tuple[tuple[str, Test], ...]:
    """Like :func:`compile_where`, for a profile's attributes, which are text: a condition on
    numbers (a range, or number values) reads the text as a number (one that is not never
    matches), one on true/false as ``true``/``false``."""
    return tuple((name, _reading(wanted, _compile(wanted))) for name, wanted in where.items())


def _reading(wanted: WhereValue, test: Test) -> Test:
    values = (wanted.values() if isinstance(wanted, Condition)
              else wanted if isinstance(wanted, list) else [wanted])
    is_range = isinstance(wanted, Condition) and wanted.is_range
    read: Callable[[Any], Any] = str
    if values and not is_range and all(isinstance(v, bool) for v in values):
        read = _boolean
    elif is_range or (values and all(isinstance(v, int | float) and not isinstance(v, bool)
                                     for v in values)):
        read = _number

    def reading(actual: Any) -> bool:
        value = read(actual)
        return value is not None and test(value)

    return reading


def _boolean(text: Any) -> bool | None:
    return {"true": True, "false": False}.get(str(text).lower())


def _number(text: Any) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def accepts(tests: tuple[tuple[str, Test], ...], fields: Mapping[str, Any]) -> bool:
    for name, test in tests:
        actual = fields.get(name)
        if actual is None or not test(actual):
            return False
    return True


def _compile(wanted: WhereValue) -> Test:
    if isinstance(wanted, Condition):
        return _condition(wanted)
    if isinstance(wanted, list):
        return _one_of(wanted)
    return lambda actual: equal(wanted, actual)


def _one_of(options: list[Scalar]) -> Test:
    if len(options) == 1:
        only = options[0]
        return lambda actual: equal(only, actual)
    return lambda actual: any(equal(option, actual) for option in options)


def _condition(cond: Condition) -> Test:
    tests: list[Test] = []
    if cond.is_range:
        tests.append(_range(cond))
    if cond.in_ is not None:
        tests.append(_one_of(cond.in_))
    if cond.not_in is not None:
        excluded = _one_of(cond.not_in)
        tests.append(lambda actual: not excluded(actual))
    if len(tests) == 1:
        return tests[0]
    return lambda actual: all(test(actual) for test in tests)


def _range(cond: Condition) -> Test:
    low = cond.gt if cond.gt is not None else cond.gte
    high = cond.lt if cond.lt is not None else cond.lte
    low_open, high_open = cond.gt is not None, cond.lt is not None

    def test(actual: Any) -> bool:
        if isinstance(actual, bool) or not isinstance(actual, int | float):
            return False
        if low is not None and (actual <= low if low_open else actual < low):
            return False
        return high is None or (actual < high if high_open else actual <= high)

    return test


def equal(wanted: Scalar, actual: Any) -> bool:
    if isinstance(actual, enum.Enum):
        actual = actual.name
    if isinstance(wanted, bool) or isinstance(actual, bool):
        return type(wanted) is type(actual) and wanted == actual
    if isinstance(wanted, str) or isinstance(actual, str):
        return isinstance(wanted, str) and isinstance(actual, str) and wanted == actual
    if isinstance(actual, int | float):
        return wanted == actual
    return False
