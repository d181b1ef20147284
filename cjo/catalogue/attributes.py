"""The placeholders a message template may use, with the sample values validation renders.

Every moment carries the attributes of its kind (``Moment.attrs``, declared with sample values by
``Kind.samples``); the decision adds the common ones. A template naming anything else is refused
at validation, so a typo never reaches a subscriber. Templates use ``$name`` or ``${name}``
(``string.Template``).
"""

from __future__ import annotations

from typing import Any

from cjo.triggers.kinds import KINDS

COMMON: dict[str, Any] = {
    "offer_code": "TRAVEL_PASS_1GB_7D",
    "offer_value": "5.00",
    "valid_days": 7,
    "valid_until": "2026-01-08",
}


def sample_values(kind: str, params: Any) -> dict[str, Any]:
    """Every placeholder a template of a ``kind`` trigger with ``params`` may name, with a sample
    value: the common ones and its kind's."""
    return {**COMMON, **KINDS[kind].samples(params)}
