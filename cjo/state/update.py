"""How one input record changes a subscriber's state: pure functions, no clock, no I/O.

``apply_record`` returns a new state value (the old one is left as it was, so triggers can compare
before and after) or ``None`` when the record was already applied (a redelivery after a crash or a
rebalance: at-least-once delivery must not double-count).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cjo.state.consent import apply_consent_response, apply_profile_consent
from cjo.state.model import SubscriberState
from cjo.stream_registry import STREAMS

Record = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Position:
    """Where a record came from; ``offset < 0`` means unknown (no redelivery check)."""

    topic: str
    offset: int = -1


def apply_record(
    state: SubscriberState, stream: str, record: Record, position: Position
) -> SubscriberState | None:
    if 0 <= position.offset <= state.applied.get(position.topic, -1):
        return None
    new = state.copy()
    if position.offset >= 0:
        new.applied = {**state.applied, position.topic: position.offset}
    _APPLY[stream](new, record)
    return new


def _event_time(new: SubscriberState, record: Record) -> int:
    at = int(record["event_time"])
    new.last_event_time = max(new.last_event_time, at)
    new.events += 1
    return at


def _apply_serving(
    new: SubscriberState, home_plmn: str | None, serving: str | None, at: int
) -> None:
    """Track the serving network and trips; older (late) events do not move the position back."""
    if home_plmn:
        new.home_plmn = home_plmn
    if not serving or at < new.serving_at:
        return
    new.serving_plmn, new.serving_at = serving, at
    home_mcc = new.home_mcc
    if home_mcc is None or serving[:3] == home_mcc:
        new.trip = None
    elif new.trip is None:
        new.trip = {"mcc": serving[:3], "plmn": serving, "started_at": at}
        new.trips += 1
    elif new.trip["plmn"] != serving:
        new.trip = {**new.trip, "mcc": serving[:3], "plmn": serving}


def _apply_charging(new: SubscriberState, r: Record) -> None:
    at = _event_time(new, r)
    new.msisdn = r.get("msisdn") or new.msisdn
    _apply_serving(new, r["home_plmn"], r["serving_plmn"], at)
    if r.get("balance") is not None and at >= new.balance_at:
        new.balance, new.currency, new.balance_at = float(r["balance"]), r.get("currency"), at
    if r.get("bundle_id") is not None and (new.bundle is None or at >= new.bundle["at"]):
        new.bundle = {
            "id": r["bundle_id"],
            "total": r.get("bundle_total_octets"),
            "remaining": r.get("bundle_remaining_octets"),
            "at": at,
        }


def _apply_location(new: SubscriberState, r: Record) -> None:
    at = _event_time(new, r)
    new.msisdn = r.get("msisdn") or new.msisdn
    _apply_serving(new, r["home_plmn"], r["serving_plmn"], at)
    has_position = r.get("lat") is not None and r.get("lon") is not None
    if has_position and (new.location is None or at >= new.location["at"]):
        new.location = {"lat": r["lat"], "lon": r["lon"], "cell_id": r.get("cell_id"),
                        "tac": r.get("tac"), "at": at}
    imeisv = r.get("imeisv")
    if imeisv and len(imeisv) >= 8:
        new.device_tac = imeisv[:8]


def _apply_usage(new: SubscriberState, r: Record) -> None:
    at = _event_time(new, r)
    _apply_serving(new, None, r.get("serving_plmn"), at)


def _apply_profile(new: SubscriberState, r: Record) -> None:
    at = int(r["updated_at"])
    if at < new.profile_at:
        return  # an older profile arriving late never overwrites a newer one
    new.profile_at = at
    for name in ("msisdn", "email", "app_user_id", "payment_type", "plan_id", "age_band",
                 "segment", "contract_end"):
        setattr(new, name, r.get(name))
    new.language = r.get("language") or "en"
    new.timezone = r.get("timezone") or "UTC"
    apply_profile_consent(new, r)  # an opt-out stays binding (cjo.state.consent)
    new.trials = [dict(t) for t in r.get("trials") or ()]
    new.attributes = dict(r.get("attributes") or {})
    if r.get("home_plmn"):
        new.home_plmn = r["home_plmn"]


def _apply_response(new: SubscriberState, r: Record) -> None:
    _event_time(new, r)
    apply_consent_response(new, r)  # OPTED_OUT / OPTED_IN (cjo.state.consent)


# One update per input stream of cjo.stream_registry (which cannot name these functions: it
# imports nothing of cjo), checked here once, at import.
_APPLY: dict[str, Callable[[SubscriberState, Record], None]] = {
    "charging": _apply_charging,
    "location": _apply_location,
    "usage": _apply_usage,
    "subscribers": _apply_profile,
    "responses": _apply_response,
}
if set(_APPLY) != set(STREAMS):
    raise ImportError(f"cjo.state.update: an update per input stream is needed: {STREAMS} "
                      f"(cjo.stream_registry), not {tuple(_APPLY)}")
