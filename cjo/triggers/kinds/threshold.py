"""threshold: a measure crossed a bound, at most once per period.

Measures, read from the state: ``bundle_used_pct`` = 100 * (total - remaining) / total,
``bundle_remaining_pct``, ``balance``, and ``bundle_pace_pct`` = used fraction / elapsed fraction
of the calendar month (UTC, at the bundle's update time) * 100, unknown until ``min_cycle_elapsed``
of the month has passed. A measure is unknown without a bundle, without totals, or with a zero
total. ``usage_bytes`` is not read from the state but summed from usage records in the trigger's
memory (``cjo.triggers.kinds.usage``).

A crossing: before the record the measure was on the other side of the bound (or unknown) and
after it is on the bound or past it (``below``: <=, ``above``: >=). The instance is the period of
the crossing (``d-2026-01-02``, ``w-2026-W01``, ``m-2026-01``, ``b-<bundle_id>-<total>``), and the
memory keeps the last period that fired, so a second crossing in the same period (a new bundle,
say) stays silent even where the decider keeps no once-per-instance marker.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from cjo.catalogue.model import USAGE, ThresholdParams, Trigger, Venue
from cjo.state.model import SubscriberState
from cjo.triggers.kinds.base import NOTHING, BaseKind, Detection, Example, example_record
from cjo.triggers.kinds.usage import usage_crossing
from cjo.triggers.moment import Moment
from cjo.triggers.periods import period_key
from cjo.triggers.timefmt import DAY_MS, utc

if TYPE_CHECKING:
    from cjo.triggers.kinds.base import Checks, Memory, Observation

#: Highest bound of a threshold on a percentage measure.
PCT_MAX = {"bundle_used_pct": 100.0, "bundle_remaining_pct": 100.0, "bundle_pace_pct": 1000.0}

_SAMPLES = {"measure": "bundle_used_pct", "value": "81", "bound": "80",
            "bundle_id": "ADDON_5GB_30D", "currency": "GBP"}
# usage_bytes: the period's total and the bound as sizes, and the app (and its category) of the
# session that crossed it
_USAGE_SAMPLES = {"measure": "usage_bytes", "value": "2.1 GB", "bound": "2 GB",
                  "app_id": "youtube", "app_category": "VIDEO"}


def _used(at: int, category: str, octets: int) -> tuple[str, dict[str, Any]]:
    return example_record("usage", at, app_id="youtube", app_category=category, bytes_uplink=0,
                          bytes_downlink=octets)


def _bundle(at: int, remaining: int) -> tuple[str, dict[str, Any]]:
    return example_record("charging", at, bundle_id="B", bundle_total_octets=100,
                          bundle_remaining_octets=remaining)


class Threshold(BaseKind[ThresholdParams]):
    name = "threshold"
    model = ThresholdParams
    streams = frozenset({"charging"})
    examples: tuple[Example, ...] = (
        Example("bundle_used_pct", {"measure": "bundle_used_pct", "above": 80}, (
            _bundle(DAY_MS, 50), _bundle(DAY_MS + 1, 10))),
        Example("balance", {"measure": "balance", "below": 2, "period": "day"}, (
            example_record("charging", DAY_MS, balance=5.0, currency="GBP"),
            example_record("charging", DAY_MS + 1, balance=1.5, currency="GBP"))),
        Example("usage_bytes", {"measure": "usage_bytes", "above": "2GB", "period": "day",
                                "where": {"app_category": "VIDEO"}}, (
            _used(DAY_MS, "VIDEO", 1_500_000_000), _used(DAY_MS + 1, "GAMING", 3_000_000_000),
            _used(DAY_MS + 2, "VIDEO", 600_000_000))),
    )

    def reads(self, params: ThresholdParams, stream: str) -> bool:
        if params.measure == USAGE:
            return stream == "usage"  # summed from usage records (cjo.triggers.kinds.usage)
        return stream in self.streams

    def samples(self, params: ThresholdParams) -> dict[str, Any]:
        return dict(_USAGE_SAMPLES if params.measure == USAGE else _SAMPLES)

    def validate(self, trigger_id: str, params: ThresholdParams, check: Checks) -> None:
        if params.where:
            check.matcher(("params",), params.usage)
        top = PCT_MAX.get(params.measure)
        for name, bound in (("below", params.below), ("above", params.above)):
            if top is not None and bound is not None and not 0 <= bound <= top:
                check.refuse(("params", name), f"{params.measure} is a percentage: expected "
                                               f"0..{top:g}, got {bound:g}")

    def on_event(self, trigger: Trigger, obs: Observation, memory: Memory,
                 venues: Mapping[str, Venue]) -> Detection:
        params = trigger.params
        assert isinstance(params, ThresholdParams)
        if params.measure == USAGE:
            return usage_crossing(trigger.id, params, obs, memory)
        if _source(params, obs.before) is _source(params, obs.after):
            return NOTHING  # what it measures is unchanged: no crossing
        old, new = measure(params, obs.before), measure(params, obs.after)
        if new is None or not crossed(params, old, new):
            return NOTHING
        at = measured_at(params, obs.after)
        key = period_key(params.period, at, obs.after.bundle)
        if memory.get("period") == key:
            return NOTHING
        moment = Moment(trigger_id=trigger.id, instance=key, imsi=obs.after.imsi,
                        event_id=obs.event_id, event_time=at,
                        attrs=_attrs(params, new, obs.after))
        return Detection(moments=[moment], memory={"period": key})


def _source(params: ThresholdParams, state: SubscriberState) -> object:
    """The state value a measure is computed from (and only from)."""
    return state.balance if params.measure == "balance" else state.bundle


def measure(params: ThresholdParams, state: SubscriberState) -> float | None:
    if params.measure == "balance":
        return state.balance
    bundle = state.bundle
    if bundle is None or not bundle.get("total") or bundle.get("remaining") is None:
        return None
    total, remaining = float(bundle["total"]), float(bundle["remaining"])
    if params.measure == "bundle_remaining_pct":
        return 100 * remaining / total
    used = 100 * (total - remaining) / total
    if params.measure == "bundle_used_pct":
        return used
    return _pace(used, int(bundle["at"]), params.min_cycle_elapsed)


def _pace(used_pct: float, at: int, min_elapsed: int) -> float | None:
    start, month_ms = _month(at // DAY_MS)
    elapsed = at - start
    if elapsed < max(min_elapsed, 1):
        return None
    return used_pct / (elapsed / month_ms)


@lru_cache(maxsize=64)
def _month(day: int) -> tuple[int, int]:
    """The start (epoch ms) and the length (ms) of the UTC calendar month of ``day`` (days since
    1970-01-01): computed once per day seen, not per record."""
    moment = utc(day * DAY_MS)
    start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return int(start.timestamp() * 1000), calendar.monthrange(moment.year, moment.month)[1] * DAY_MS


def crossed(params: ThresholdParams, old: float | None, new: float) -> bool:
    if params.below is not None:
        return new <= params.below and (old is None or old > params.below)
    assert params.above is not None
    return new >= params.above and (old is None or old < params.above)


def measured_at(params: ThresholdParams, state: SubscriberState) -> int:
    if params.measure == "balance" or state.bundle is None:
        return state.balance_at
    return int(state.bundle["at"])


def _attrs(params: ThresholdParams, value: float, state: SubscriberState) -> dict[str, Any]:
    bound = params.below if params.below is not None else params.above
    shown = f"{value:.2f}" if params.measure == "balance" else f"{value:.0f}"
    return {"measure": params.measure, "value": shown, "bound": f"{bound:g}",
            "bundle_id": (state.bundle or {}).get("id") or "", "currency": state.currency or ""}
