"""A subscriber's state as a person reads it: why did she get nothing?

Her profile and consents, where she is, her counters and balances, and per trigger what it
remembers next to the parameters (thresholds) that read it, its cooldown; the contact policy's
caps with what she spent of each; the offers waiting for her response, the moments deferred by
quiet hours, and her durable timers. Times as UTC ISO 8601. Pure: ``GET /v1/subscribers/{imsi}``
and ``cjo state`` show it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from cjo.catalogue.catalogue import Catalogue
from cjo.catalogue.model import Cap
from cjo.policy.contact import window_label
from cjo.state.model import SubscriberState
from cjo.timers import Timer

_PROFILE = ("msisdn", "email", "app_user_id", "payment_type", "plan_id", "age_band", "segment",
            "language", "timezone", "contract_end", "trials")
_NETWORK = ("home_plmn", "serving_plmn", "trip", "trips", "location", "device_tac", "bundle",
            "balance", "currency")


def iso(ms: int | None) -> str | None:
    if ms is None or ms < 0:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds").replace(
        "+00:00", "Z")


def readable(state: SubscriberState, catalogue: Catalogue, now: int,
             timers: Sequence[Timer] = ()) -> dict[str, Any]:
    """Her state (see the module), as JSON-ready values."""
    return {
        "imsi": state.imsi,
        "events": state.events,
        "last_event_time": iso(state.last_event_time),
        "profile": {k: getattr(state, k) for k in _PROFILE},
        "consent": dict(state.consent),
        "network": {k: getattr(state, k) for k in _NETWORK},
        "triggers": _triggers(state, catalogue, now),
        "caps": _caps(state, catalogue, now),
        "contacts": [{"at": iso(c[0]), "trigger_id": c[1], "offer_code": c[2],
                      "channel": c[3], "marketing": bool(c[4])} for c in state.contacts],
        "awaiting_response": [{"offer_id": oid, **entry} for oid, entry in state.pending.items()],
        "deferred": [{"trigger_id": e["trigger"], "event_time": iso(e["event_time"])}
                     for e in state.deferred.values()],
        "timers": [{"due": iso(t.due), "trigger_id": t.trigger_id, "instance": t.instance}
                   for t in sorted(timers, key=lambda t: t.due)],
    }


def _triggers(state: SubscriberState, catalogue: Catalogue, now: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for trigger in catalogue.triggers:
        last = state.last_fired.get(trigger.id)
        cooling = last is not None and trigger.cooldown and now - last < trigger.cooldown
        out[trigger.id] = {
            "kind": trigger.kind, "enabled": trigger.enabled,
            "params": trigger.params.model_dump(mode="json"),
            "memory": state.memory.get(trigger.id, {}),
            "last_fired": iso(last),
            "cooldown_until": iso(last + trigger.cooldown) if cooling and last is not None
            else None,
        }
    return out


def _caps(state: SubscriberState, catalogue: Catalogue, now: int) -> list[dict[str, Any]]:
    policy = catalogue.policy
    marketing = [c for c in state.contacts if c[4]]
    rows = [_cap("all marketing", cap, marketing, now) for cap in policy.caps]
    for channel, caps in sorted(policy.channel_caps.items()):
        mine = [c for c in marketing if c[3] == channel]
        rows.extend(_cap(channel, cap, mine, now) for cap in caps)
    return rows


def _cap(scope: str, cap: Cap, contacts: Sequence[Sequence[Any]], now: int) -> dict[str, Any]:
    used = sum(1 for c in contacts if c[0] > now - cap.within)  # as the policy counts
    return {"scope": scope, "cap": f"{cap.count}/{window_label(cap.within)}", "used": used,
            "full": used >= cap.count}
