"""Decision-time features: a small, bounded, deterministic dict of floats per (moment, state).

Every call returns exactly the keys of ``FEATURE_NAMES`` (one-hot groups included, zeros and
all), each value in [-1, 1], so a model's width never grows with the data and a decision record
can store the features it was scored on. Only what is known when the moment is decided is used.

===================  =====================================================================
key                  meaning
===================  =====================================================================
``bias``             always 1.0: the intercept (crossed with an offer code: that offer's base rate)
``pay=<T>``          one-hot payment type: PREPAID, POSTPAID, HYBRID, UNKNOWN (anything else)
``age=<B>``          one-hot age band: UNDER_18 .. A65_PLUS, UNKNOWN (missing or anything else)
``seg=<S>``          one-hot segment of ``SEGMENTS``; any other value or none: ``seg=other``
``abroad``           1.0 while the subscriber is on a trip abroad
``balance``          prepaid balance, log1p(clip(balance, 0, 1000)) / log1p(1000); 0 if none
``has_balance``      1.0 when a balance is known (so a zero balance differs from no balance)
``bundle_used``      used fraction of the data bundle, (total - remaining) / total, in [0, 1]
``has_bundle``       1.0 when a bundle with a positive total is known
``hour_sin``         sin(2 pi h / 24), h the local hour (with minutes) of the moment's event time
``hour_cos``         cos(2 pi h / 24); local time is in ``state.timezone`` (unknown zone: UTC)
``trials``           number of trials on the profile, min(n, 5) / 5, in [0, 1]
``trials_active``    number of ACTIVE trials, min(n, 5) / 5, in [0, 1]
===================  =====================================================================
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cjo.state.model import SubscriberState
from cjo.triggers.moment import Moment

PAYMENT_TYPES: tuple[str, ...] = ("PREPAID", "POSTPAID", "HYBRID", "UNKNOWN")
AGE_BANDS: tuple[str, ...] = ("UNDER_18", "A18_24", "A25_34", "A35_44", "A45_54", "A55_64",
                              "A65_PLUS", "UNKNOWN")
SEGMENTS: tuple[str, ...] = ("youth", "family", "business", "value", "premium", "student",
                             "other")
BALANCE_CAP = 1000.0  # currency units; larger balances are all "rich"
TRIALS_CAP = 5

FEATURE_NAMES: tuple[str, ...] = (
    "bias",
    *(f"pay={p}" for p in PAYMENT_TYPES),
    *(f"age={a}" for a in AGE_BANDS),
    *(f"seg={s}" for s in SEGMENTS),
    "abroad", "balance", "has_balance", "bundle_used", "has_bundle", "hour_sin", "hour_cos",
    "trials", "trials_active",
)
_LOG_CAP = math.log1p(BALANCE_CAP)


@lru_cache(maxsize=256)
def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return UTC


def local_hour(event_time_ms: int, timezone: str) -> float:
    """The local hour of day (0 <= h < 24, with minutes) of an epoch-ms instant in ``timezone``."""
    local = datetime.fromtimestamp(event_time_ms / 1000, tz=_zone(timezone or "UTC"))
    return local.hour + local.minute / 60 + local.second / 3600


def _one_hot(prefix: str, value: str | None, known: tuple[str, ...], fallback: str,
             out: dict[str, float]) -> None:
    for name in known:
        out[f"{prefix}={name}"] = 0.0
    out[f"{prefix}={value if value in known else fallback}"] = 1.0


def features(moment: Moment, state: SubscriberState) -> dict[str, float]:
    """The decision-time features of ``moment`` for ``state`` (keys: ``FEATURE_NAMES``)."""
    out: dict[str, float] = {"bias": 1.0}
    _one_hot("pay", state.payment_type, PAYMENT_TYPES, "UNKNOWN", out)
    _one_hot("age", state.age_band, AGE_BANDS, "UNKNOWN", out)
    _one_hot("seg", state.segment, SEGMENTS, "other", out)
    out["abroad"] = 1.0 if state.trip is not None else 0.0

    balance = state.balance
    if balance is None or not math.isfinite(balance):
        out["balance"], out["has_balance"] = 0.0, 0.0
    else:
        out["balance"] = math.log1p(min(max(balance, 0.0), BALANCE_CAP)) / _LOG_CAP
        out["has_balance"] = 1.0

    bundle = state.bundle or {}
    total, remaining = bundle.get("total"), bundle.get("remaining")
    if isinstance(total, int | float) and total > 0 and isinstance(remaining, int | float):
        out["bundle_used"] = min(max((total - remaining) / total, 0.0), 1.0)
        out["has_bundle"] = 1.0
    else:
        out["bundle_used"], out["has_bundle"] = 0.0, 0.0

    angle = 2 * math.pi * local_hour(moment.event_time, state.timezone) / 24
    out["hour_sin"] = math.sin(angle)
    out["hour_cos"] = math.cos(angle)

    trials = state.trials or []
    active = sum(1 for t in trials if t.get("status") == "ACTIVE")
    out["trials"] = min(len(trials), TRIALS_CAP) / TRIALS_CAP
    out["trials_active"] = min(active, TRIALS_CAP) / TRIALS_CAP
    return out
