"""A catalogue's profile attributes (``attributes`` sections, docs/profile-attributes.md): what
a condition of ``eligibility.where`` may say of each declared attribute."""

from __future__ import annotations

from typing import Any

from cjo.catalogue.model import AttributeDef
from cjo.catalogue.schema_errors import show
from cjo.catalogue.where import Condition


def attribute_problem(attribute: AttributeDef, expected: Any) -> str:
    """Why a condition cannot apply to a profile attribute, or ''."""
    is_range = isinstance(expected, Condition) and expected.is_range
    values = (expected.values() if isinstance(expected, Condition)
              else expected if isinstance(expected, list) else [expected])
    if attribute.type == "number":
        bad = [v for v in values if isinstance(v, bool) or not isinstance(v, int | float)]
        return f"{attribute.name} is a number: expected numbers, got {show(bad[0])}" if bad else ""
    if is_range:
        return (f"a range (gt, gte, lt, lte) needs a number attribute; {attribute.name} is text "
                "(declare it with type: number)")
    if attribute.values is not None:
        shown = [v if isinstance(v, str) else format(v, "g") for v in values]
        bad = [v for v in shown if v not in attribute.values]
        if bad:
            return f"expected one of: {', '.join(attribute.values)}, got {show(bad[0])}"
    return ""
