"""The placeholders a message template may use, with the sample values validation renders.

Every moment carries the attributes of its kind (``Moment.attrs``); the decision adds the common
ones. A template naming anything not listed here for its trigger is refused at validation, so a
typo never reaches a subscriber. Templates use ``$name`` or ``${name}`` (``string.Template``).
"""

from __future__ import annotations

from typing import Any

from cjo.triggers.timefmt import days

COMMON: dict[str, Any] = {
    "offer_code": "TRAVEL_PASS_1GB_7D",
    "offer_value": "5.00",
    "valid_days": 7,
    "valid_until": "2026-01-08",
}

BY_KIND: dict[str, dict[str, Any]] = {
    # transition, attribute network / device
    # country/mcc: the network she is on; previous_*: the one she left (back home: the trip's)
    "transition.network": {"country": "France", "mcc": "208", "serving_plmn": "20801",
                           "previous_country": "the United Kingdom", "previous_mcc": "234"},
    "transition.device": {"tac": "35875109", "previous_tac": "86072104"},
    "threshold": {"measure": "bundle_used_pct", "value": "81", "bound": "80",
                  "bundle_id": "ADDON_5GB_30D", "currency": "GBP"},
    # threshold on usage_bytes: the period's total and the bound as sizes, and the app (and its
    # category) of the session that crossed it
    "threshold.usage_bytes": {"measure": "usage_bytes", "value": "2.1 GB", "bound": "2 GB",
                              "app_id": "youtube", "app_category": "VIDEO"},
    "geofence": {"venue": "Wembley Stadium", "venue_id": "wembley", "dwell_min": 10},
    # deadline, by anchor
    "deadline.trial_expiry": {"product_id": "gaming_pass_1d", "expires_at": "2026-01-02 18:00 UTC"},
    "deadline.contract_end": {"contract_end": "2026-03-01", "days_left": 60},
    "deadline.moment": {"trigger": "low_balance"},
    # sequence: step1_count .. stepN_count (each step's count) and window_days, by its params
    "sequence": {},
    "count": {"count": 3, "window": "1h"},
}


def attributes_key(kind: str, params: Any) -> str:
    """``BY_KIND`` key: the kind, refined by transition attribute, deadline anchor or
    (``usage_bytes``) threshold measure."""
    if kind == "transition":
        return f"transition.{params.attribute}"
    if kind == "deadline":
        return f"deadline.{params.anchor}"
    if kind == "threshold" and params.measure == "usage_bytes":
        return "threshold.usage_bytes"
    return kind


def sample_values(kind: str, params: Any) -> dict[str, Any]:
    values = {**COMMON, **BY_KIND[attributes_key(kind, params)]}
    if kind == "sequence":
        values.update(step_attrs(params))
    return values


def step_attrs(params: Any) -> dict[str, Any]:
    """A sequence's placeholders: ``step<i>_count`` (i from 1) per step and ``window_days``."""
    return {**{f"step{i}_count": step.count for i, step in enumerate(params.steps, 1)},
            "window_days": days(params.within)}


#: A placeholder a kind no longer gives, and what to write instead.
RETIRED: dict[tuple[str, str], str] = {
    ("sequence", "count"): "a sequence has one count per step: write $step1_count (the first "
                           "step's), $step2_count, ...",
}
