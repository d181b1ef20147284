"""The one door from the wiring into the domain: (record, state, when) -> new state and decisions.

Pure: no Kafka, no asyncio, no clock. The wiring passes the wall time the record reached the
engine (``ingested_at``) and stamps ``published_at`` itself when it publishes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cjo.offers import choose_channel, decision_id, destination, offer_id, render
from cjo.offers.specs import DEFAULT_OFFERS, OfferSpec
from cjo.state import Position, SubscriberState, apply_record
from cjo.triggers import Moment, detect_roaming_welcome

Record = Mapping[str, Any]
Detector = Callable[[Record, SubscriberState, SubscriberState], list[Moment]]

DETECTORS: tuple[Detector, ...] = (detect_roaming_welcome,)


@dataclass(slots=True)
class Result:
    state: SubscriberState | None  # None: a redelivered record, nothing to do
    decisions: list[dict[str, Any]] = field(default_factory=list)
    offers: list[dict[str, Any]] = field(default_factory=list)  # each has "channel" (SMS/...)


def new_state(imsi: str) -> SubscriberState:
    return SubscriberState(imsi=imsi)


def decide(
    stream: str, record: Record, state: SubscriberState, position: Position, ingested_at: int
) -> Result:
    after = apply_record(state, stream, record, position)
    if after is None:
        return Result(state=None)
    result = Result(state=after)
    for detect in DETECTORS:
        for moment in detect(record, state, after):
            if after.has_decided(moment.instance_key):
                continue
            after.mark_decided(moment.instance_key, moment.event_time)
            _decide_moment(moment, after, DEFAULT_OFFERS[moment.trigger_id], ingested_at, result)
    return result


def _decide_moment(
    moment: Moment, state: SubscriberState, spec: OfferSpec, ingested_at: int, result: Result
) -> None:
    oid = offer_id(state.imsi, moment.trigger_id, moment.instance)
    base: dict[str, Any] = {
        "offer_id": oid,
        "imsi": state.imsi,
        "trigger_id": moment.trigger_id,
        "offer_code": spec.offer_code,
        "score": 0.0,
        "trigger_event_id": moment.event_id,
        "trigger_time": moment.event_time,
        "ingested_at": ingested_at,
        "published_at": ingested_at,  # the wiring stamps the real publication time
        "valid_until": moment.event_time + spec.validity_ms,
        "reason": spec.reason,
    }
    channel = choose_channel(state, spec.channels)
    if channel is None:
        result.decisions.append(_decision(base, "SUPPRESSED", ["no_consent"]))
        return
    message, language = render(moment.trigger_id, state.language, moment.attrs)
    offer = {**base, "channel": channel.upper(), "destination": destination(state, channel),
             "message": message, "language": language}
    result.offers.append(offer)
    result.decisions.append(_decision(offer, "SENT", [f"channel:{channel}"]))


def _decision(base: Mapping[str, Any], outcome: str, reasons: list[str]) -> dict[str, Any]:
    return {**base, "decision_id": decision_id(base["offer_id"], outcome),
            "outcome": outcome, "reasons": reasons}
