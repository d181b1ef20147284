"""What became of each offer: the learning loop's bookkeeping in the subscriber's state.

A SENT or HOLDOUT decision opens a response window (``policy.response_window``, 72 h of event
time by default): the offer waits in ``state.pending`` with the features and model version it
was decided with, and a durable timer (trigger ``WINDOW``) closes it. Meanwhile:
- a positive response (CLICKED, ACCEPTED) or a DECLINED on ``cjo.offers.responses`` labels it at
  once (one learning example per offer);
- the offer's ``conversion`` event (a catalogue matcher, observable for held-out subscribers
  too) marks it converted.
When the window closes, an offer never labelled is an implicit negative, and an ``Outcome``
record (treated or holdout, responded, converted) goes to ``cjo.outcomes`` for the uplift report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cjo.catalogue.catalogue import Catalogue
from cjo.engine.effects import Effects
from cjo.state.model import SubscriberState
from cjo.timers import Timer
from cjo.triggers.facts import matches
from cjo.triggers.kinds.base import Fact

WINDOW = "_window"  # the timer trigger id that closes a response window
POSITIVE = frozenset({"CLICKED", "ACCEPTED"})
NEGATIVE = frozenset({"DECLINED"})


def open_window(state: SubscriberState, decision: Mapping[str, Any], group: str,
                features: Mapping[str, float], model_version: int | None,
                window_ms: int) -> Timer:
    offer_id = decision["offer_id"]
    at = int(decision["trigger_time"])
    state.pending = {**state.pending, offer_id: {
        "trigger": decision["trigger_id"], "code": decision["offer_code"], "group": group,
        "at": at, "features": dict(features), "version": model_version,
        "responded": False, "converted": False, "learned": False}}
    return Timer(at + window_ms, state.imsi, WINDOW, offer_id)


def observe(stream: str, record: Mapping[str, Any], facts: Sequence[Fact],
            state: SubscriberState, catalogue: Catalogue, effects: Effects) -> None:
    """Responses and conversions among a record's facts; the learning examples due go into
    ``effects``."""
    if not state.pending:
        return
    pending = dict(state.pending)
    if stream == "responses" and record.get("offer_id") in pending:
        entry = dict(pending[record["offer_id"]])
        status = str(record.get("status"))
        if status in POSITIVE and entry["group"] == "TREATED":
            entry["responded"] = True
        if (status in POSITIVE or status in NEGATIVE) and not entry["learned"] and (
                entry["group"] == "TREATED"):
            entry["learned"] = True
            effects.examples.append(_example(state.imsi, record["offer_id"], entry,
                                             status in POSITIVE, int(record["event_time"])))
        pending[record["offer_id"]] = entry
    for offer_id, entry in list(pending.items()):
        conversion = _conversion(catalogue, entry)
        if conversion is not None and not entry["converted"] and any(
                f.at >= entry["at"] and matches(conversion, f) for f in facts):
            pending[offer_id] = {**entry, "converted": True}
    state.pending = pending


def close_window(state: SubscriberState, offer_id: str, at: int, effects: Effects) -> bool:
    """The window of ``offer_id`` closes at ``at``: its Outcome into ``effects``, and an implicit
    negative example if it was never labelled. False: nothing waits under that id."""
    entry = state.pending.get(offer_id)
    if entry is None:
        return False
    state.pending = {k: v for k, v in state.pending.items() if k != offer_id}
    effects.outcomes.append({
        "offer_id": offer_id, "imsi": state.imsi, "trigger_id": entry["trigger"],
        "offer_code": entry["code"], "group": entry["group"], "responded": entry["responded"],
        "converted": entry["converted"], "decided_at": entry["at"], "closed_at": at})
    if entry["group"] == "TREATED" and not entry["learned"]:
        effects.examples.append(_example(state.imsi, offer_id, entry, False, at))
    return True


def _conversion(catalogue: Catalogue, entry: Mapping[str, Any]) -> Any:
    trigger = catalogue.get(entry["trigger"])
    if trigger is None:
        return None
    return next((o.conversion for o in trigger.offers if o.code == entry["code"]), None)


def _example(imsi: str, offer_id: str, entry: Mapping[str, Any], label: bool,
             at: int) -> dict[str, Any]:
    return {"model_id": entry["trigger"], "offer_id": offer_id, "imsi": imsi,
            "offer_code": entry["code"], "features": entry["features"], "label": label,
            "model_version": entry["version"], "at": at}
