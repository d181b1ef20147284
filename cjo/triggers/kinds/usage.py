"""threshold on ``usage_bytes``: her usage of an app or category this period crossed a size.

"More than 2 GB of video today": the bytes (uplink + downlink) of her usage records matching the
trigger's ``where`` are added up per period (UTC day, ISO week, calendar month, by each record's
event time) in the trigger's memory, ``{"at": <period>, "bytes": <sum>, "period": <fired>}``;
the subscriber state gains no field. The moment is the record that takes the sum from below
``above`` to ``above`` or more, once per period (instance: the period, as other thresholds).

A record of a newer period starts the sum again; a late record of a period already left is not
counted (that period is over); once the period has fired, records are not even added up (nothing
is written until the next period). A record redelivered after a crash never reaches a kind (the
state's applied offsets), so nothing is counted twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cjo.catalogue.model import ThresholdParams
from cjo.catalogue.where import accepts
from cjo.triggers.kinds.base import NOTHING, Detection
from cjo.triggers.moment import Moment
from cjo.triggers.periods import period_key

if TYPE_CHECKING:
    from cjo.triggers.kinds.base import Memory, Observation


def usage_crossing(trigger_id: str, params: ThresholdParams, obs: Observation,
                   memory: Memory) -> Detection:
    if obs.stream != "usage":
        return NOTHING
    record = obs.record
    if not accepts(params.usage.tests, record):
        return NOTHING
    at = obs.event_time
    key = period_key(params.period, at, None)
    fired = memory.get("period")
    if fired == key:
        return NOTHING  # told already this period
    counted_in = memory.get("at")
    if counted_in is not None and key < counted_in:
        return NOTHING  # a late record of a period already left
    before = memory.get("bytes", 0) if counted_in == key else 0
    after = before + int(record.get("bytes_uplink") or 0) + int(record.get("bytes_downlink") or 0)
    bound = params.above
    assert bound is not None
    found = Detection(memory={"at": key, "bytes": after, "period": fired})
    if before < bound <= after:
        found.memory = {"at": key, "bytes": after, "period": key}
        found.moments.append(Moment(
            trigger_id=trigger_id, instance=key, imsi=obs.after.imsi, event_id=obs.event_id,
            event_time=at, attrs=usage_attrs(after, bound, record)))
    return found


def usage_attrs(total: float, bound: float, record: Any) -> dict[str, Any]:
    """``$value`` the period's total, ``$bound`` the size crossed (both as ``2.1 GB``);
    ``$app_id``/``$app_category``: the app of the session that crossed it."""
    category = record.get("app_category")
    return {"measure": "usage_bytes", "value": format_size(total), "bound": format_size(bound),
            "app_id": str(record.get("app_id") or ""),
            "app_category": str(getattr(category, "name", category) or "")}


def format_size(octets: float) -> str:
    """Decimal units, one decimal at most: 2_049_000_000 -> ``2 GB``, 2_150_000_000 ->
    ``2.1 GB``, 500_000_000 -> ``500 MB`` (rounded down: a customer is never told more than she
    used)."""
    for unit, size in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if octets >= size:
            tenths = int(octets * 10 // size)
            return f"{tenths // 10}{'' if tenths % 10 == 0 else f'.{tenths % 10}'} {unit}"
    return f"{int(octets)} B"
