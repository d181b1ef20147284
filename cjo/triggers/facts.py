"""Facts: what count and sequence steps match, derived from one record applied to a state.

Every record is a fact named by its stream (``charging``, ``location``, ``usage``,
``subscribers``, ``responses``) with the record as its fields, at its event time (``updated_at``
for a profile). Two facts are derived from the state change:

- ``trial_started`` (product_id, expires_at, status): a profile lists a trial whose
  (product_id, expires_at) the state did not hold before; a late profile that the state ignored
  starts nothing.
- ``topup`` (amount, balance): a charging record raised the known prepaid balance.
- ``bundle_purchased`` (bundle_id, total): a charging record shows a bundle she did not hold, or
  the same one with more remaining (bought again); a first sighting counts too.

Derived facts carry the record's event id and time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cjo.catalogue.model import Matcher
from cjo.catalogue.where import accepts
from cjo.state.model import SubscriberState
from cjo.triggers.kinds.base import Fact

TRIAL_STARTED = "trial_started"
TOPUP = "topup"
BUNDLE_PURCHASED = "bundle_purchased"
_DERIVED = {"subscribers": frozenset({TRIAL_STARTED}),
            "charging": frozenset({TOPUP, BUNDLE_PURCHASED})}


def names_of(stream: str) -> frozenset[str]:
    """The names of the facts a record of ``stream`` may give: its own and those derived."""
    return frozenset({stream}) | _DERIVED.get(stream, frozenset())


def facts(stream: str, record: Mapping[str, Any], before: SubscriberState,
          after: SubscriberState) -> list[Fact]:
    at = _event_time(record)
    event_id = str(record.get("event_id") or f"profile-{record.get('updated_at')}")
    found = [Fact(stream, at, event_id, record)]
    if stream == "subscribers":
        found += _trials_started(before, after, at, event_id)
    elif stream == "charging":
        found += _topup(before, after, at, event_id)
        found += _bundle_purchased(before, after, at, event_id)
    return found


def _event_time(record: Mapping[str, Any]) -> int:
    at = record.get("event_time", record.get("updated_at"))
    return int(at) if at is not None else -1


def _trials_started(before: SubscriberState, after: SubscriberState, at: int,
                    event_id: str) -> list[Fact]:
    known = {(t.get("product_id"), t.get("expires_at")) for t in before.trials}
    return [
        Fact(TRIAL_STARTED, at, event_id, {"product_id": t.get("product_id"),
                                           "expires_at": t.get("expires_at"),
                                           "status": t.get("status")})
        for t in after.trials
        if (t.get("product_id"), t.get("expires_at")) not in known
    ]


def _topup(before: SubscriberState, after: SubscriberState, at: int,
           event_id: str) -> list[Fact]:
    if before.balance is None or after.balance is None or after.balance <= before.balance:
        return []
    amount = round(after.balance - before.balance, 6)
    return [Fact(TOPUP, at, event_id, {"amount": amount, "balance": after.balance})]


def _bundle_purchased(before: SubscriberState, after: SubscriberState, at: int,
                      event_id: str) -> list[Fact]:
    """A bundle not held before (another id), or the same one bought again (more remaining)."""
    old, new = before.bundle, after.bundle
    if new is None or new is old or (old is not None and old["id"] == new["id"] and (
            (new.get("remaining") or 0) <= (old.get("remaining") or 0))):
        return []
    return [Fact(BUNDLE_PURCHASED, at, event_id, {"bundle_id": new["id"],
                                                  "total": new.get("total")})]


def matches(matcher: Matcher, fact: Fact) -> bool:
    """The fact has the matcher's name and every ``where`` field passes (cjo.catalogue.where)."""
    return fact.name == matcher.event and accepts(matcher.tests, fact.fields)
