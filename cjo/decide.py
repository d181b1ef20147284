"""The one door from the wiring into the domain: a record or a due timer -> state and decisions.

Pure: no Kafka, no asyncio, no clock. ``Context.now`` is the time the engine acts at (wall time
live, event time in a replay; see ``cjo.runner``) and ``ingested_at`` the wall time the input
reached the engine; the wiring stamps ``published_at`` itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cjo.catalogue.attributes import COMMON
from cjo.catalogue.catalogue import Catalogue
from cjo.catalogue.model import Trigger
from cjo.clock import DAY_MS
from cjo.offers import choose_channel, decision_id, destination, offer_id, render
from cjo.policy import blocking_reasons
from cjo.policy.eligibility import format_duration, rough_duration
from cjo.state import Position, SubscriberState, apply_record
from cjo.timers import Timer
from cjo.triggers.facts import facts
from cjo.triggers.kinds import KINDS
from cjo.triggers.kinds.base import Detection, Observation
from cjo.triggers.moment import Moment

Record = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Context:
    catalogue: Catalogue
    # When the engine acts (epoch ms): what max_delay is measured against. None (replays): the
    # newest event time of the subscriber's own records, so lateness in a replay does not
    # depend on the replay's speed or on who else shares the partition.
    now: int | None
    ingested_at: int  # wall time the input (or the tick) reached the engine


@dataclass(slots=True)
class Result:
    state: SubscriberState | None  # None: nothing changed (a redelivered record, a stale timer)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    offers: list[dict[str, Any]] = field(default_factory=list)  # each has "channel" (SMS/...)
    timers: list[Timer] = field(default_factory=list)  # to schedule


def new_state(imsi: str) -> SubscriberState:
    return SubscriberState(imsi=imsi)


def decide(stream: str, record: Record, state: SubscriberState, position: Position,
           ctx: Context) -> Result:
    after = apply_record(state, stream, record, position)
    if after is None:
        return Result(state=None)
    result = Result(state=after)
    _forget_removed_triggers(after, ctx.catalogue)
    moments: list[Moment] = []
    obs = Observation(stream, record, state, after, facts(stream, record, state, after))
    for trigger in ctx.catalogue.evaluation_order:
        if trigger.kind == "deadline":
            obs = Observation(stream, record, state, after, obs.facts, tuple(moments))
        detection = KINDS[trigger.kind].on_event(
            trigger, obs, after.memory.get(trigger.id, {}), ctx.catalogue.venues)
        moments.extend(_take(detection, trigger, after, ctx, result))
    return result


def fire(timer: Timer, state: SubscriberState, ctx: Context) -> Result:
    """A due timer: its trigger decides whether the moment still stands (lazy cancellation)."""
    trigger = ctx.catalogue.get(timer.trigger_id)
    if trigger is None or not trigger.enabled:
        return Result(state=None)  # the trigger was removed or disabled since
    after = state.copy()
    result = Result(state=after)
    detection = KINDS[trigger.kind].on_timer(
        trigger, timer.due, timer.instance, after, after.memory.get(trigger.id, {}),
        ctx.catalogue.venues)
    _take(detection, trigger, after, ctx, result)
    if not result.decisions and detection.memory is None and not detection.timers:
        result.state = None
    return result


def _take(detection: Detection, trigger: Trigger, state: SubscriberState, ctx: Context,
          result: Result) -> list[Moment]:
    if detection.memory is not None:
        state.memory = {**state.memory, trigger.id: detection.memory}
    result.timers.extend(Timer(t.due, state.imsi, trigger.id, t.instance)
                         for t in detection.timers)
    for moment in detection.moments:
        if trigger.once_per_instance and state.has_decided(moment.instance_key):
            continue
        state.mark_decided(moment.instance_key, moment.event_time)
        _decide_moment(trigger, moment, state, ctx, result)
    return detection.moments


def _forget_removed_triggers(state: SubscriberState, catalogue: Catalogue) -> None:
    if any(catalogue.get(t) is None for t in state.memory):
        state.memory = {t: m for t, m in state.memory.items() if catalogue.get(t) is not None}


def _decide_moment(trigger: Trigger, moment: Moment, state: SubscriberState, ctx: Context,
                   result: Result) -> None:
    spec = trigger.offers[0]  # issue 4: arbitration and the bandit choose among the offers
    oid = offer_id(state.imsi, trigger.id, moment.instance)
    valid_until = moment.event_time + spec.validity
    base: dict[str, Any] = {
        "offer_id": oid, "imsi": state.imsi, "trigger_id": trigger.id,
        "offer_code": spec.code, "score": 0.0,
        "trigger_event_id": moment.event_id, "trigger_time": moment.event_time,
        "ingested_at": ctx.ingested_at,
        "published_at": ctx.ingested_at,  # the wiring stamps the real publication time
        "valid_until": valid_until, "reason": spec.reason or trigger.description or trigger.id,
    }
    reasons = blocking_reasons(trigger, moment, state)
    if reasons:
        result.decisions.append(_decision(base, "SUPPRESSED", reasons))
        return
    late = (state.last_event_time if ctx.now is None else ctx.now) - moment.event_time
    if late > trigger.max_delay:
        result.decisions.append(_decision(base, "EXPIRED", [
            f"late:{rough_duration(late)}>{format_duration(trigger.max_delay)}"]))
        return
    channel = choose_channel(state, spec.channels)
    if channel is None:
        result.decisions.append(_decision(base, "SUPPRESSED", ["no_consent"]))
        return
    values = {**COMMON, **moment.attrs, "offer_code": spec.code,
              "offer_value": f"{spec.value:.2f}", "valid_days": spec.validity // DAY_MS,
              "valid_until": datetime.fromtimestamp(valid_until / 1000, UTC).strftime("%Y-%m-%d")}
    message, language = render(spec.templates, state.language, values)
    offer = {**base, "channel": channel.upper(), "destination": destination(state, channel),
             "message": message, "language": language}
    state.last_fired = {**state.last_fired, trigger.id: moment.event_time}
    result.offers.append(offer)
    result.decisions.append(_decision(offer, "SENT", [f"channel:{channel}"]))


def _decision(base: Mapping[str, Any], outcome: str, reasons: list[str]) -> dict[str, Any]:
    return {**base, "decision_id": decision_id(base["offer_id"], outcome),
            "outcome": outcome, "reasons": reasons}
