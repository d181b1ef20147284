"""The one door from the wiring into the domain: a record or a due timer -> state and decisions.

Pure: no Kafka, no asyncio, no clock. ``Context`` carries the catalogue, the time the engine acts
at, the scoring models and the do-not-contact list (see ``cjo.engine.settle``); the wiring stamps
``published_at`` itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cjo.catalogue.catalogue import Catalogue
from cjo.catalogue.model import Trigger
from cjo.engine import feedback
from cjo.engine.settle import DEFER_PREFIX, Context, Result, deferred_moment, settle
from cjo.state import Position, SubscriberState, apply_record
from cjo.timers import Timer
from cjo.triggers.facts import facts
from cjo.triggers.kinds import KINDS
from cjo.triggers.kinds.base import Detection, Observation
from cjo.triggers.moment import Moment
from cjo.triggers.plan import plan

__all__ = ["Context", "Result", "decide", "fire", "new_state"]

Record = Mapping[str, Any]


def new_state(imsi: str) -> SubscriberState:
    return SubscriberState(imsi=imsi)


def decide(stream: str, record: Record, state: SubscriberState, position: Position,
           ctx: Context) -> Result:
    after = apply_record(state, stream, record, position)
    if after is None:
        return Result(state=None)
    result = Result(state=after)
    _forget_removed_triggers(after, ctx.catalogue)
    seen = facts(stream, record, state, after)
    if after.pending:  # offers waiting for a response or a conversion
        result.examples.extend(feedback.observe(stream, record, seen, after, ctx.catalogue))
    detected: list[Moment] = []
    fresh: list[tuple[Trigger, Moment]] = []
    obs = Observation(stream, record, state, after, seen)
    venues = ctx.catalogue.venues
    for trigger, on_event, sees_moments in plan(ctx.catalogue, stream):
        if sees_moments:
            obs = Observation(stream, record, state, after, obs.facts, tuple(detected))
        detection = on_event(trigger, obs, after.memory.get(trigger.id, {}), venues)
        if detection.moments or detection.timers or detection.memory is not None:
            detected.extend(detection.moments)
            fresh.extend(_take(detection, trigger, after, result))
    settle(fresh, after, ctx, result)
    return result


def fire(timer: Timer, state: SubscriberState, ctx: Context) -> Result:
    """A due timer: a response window closes, a deferred moment is decided again, or a trigger
    decides whether its moment still stands (lazy cancellation)."""
    after = state.copy()
    result = Result(state=after)
    if timer.trigger_id == feedback.WINDOW:
        outcome, example = feedback.close_window(after, timer.instance, timer.due)
        result.outcomes.extend([outcome] if outcome else [])
        result.examples.extend([example] if example else [])
        result.state = after if outcome else None
        return result
    trigger = ctx.catalogue.get(timer.trigger_id)
    if timer.instance.startswith(DEFER_PREFIX):
        moment = deferred_moment(after, timer.instance)
        if moment is not None and trigger is not None and trigger.enabled:
            settle([(trigger, moment)], after, ctx, result)
        result.state = after if moment is not None else None
        return result
    if trigger is None or not trigger.enabled:
        return Result(state=None)  # the trigger was removed or disabled since
    detection = KINDS[trigger.kind].on_timer(
        trigger, timer.due, timer.instance, after, after.memory.get(trigger.id, {}),
        ctx.catalogue.venues)
    settle(_take(detection, trigger, after, result), after, ctx, result)
    if not result.decisions and detection.memory is None and not detection.timers:
        result.state = None
    return result


def _take(detection: Detection, trigger: Trigger, state: SubscriberState,
          result: Result) -> list[tuple[Trigger, Moment]]:
    """Store the kind's memory and timers; the moments not decided before, marked decided."""
    if detection.memory is not None:
        state.memory = {**state.memory, trigger.id: detection.memory}
    result.timers.extend(Timer(t.due, state.imsi, trigger.id, t.instance)
                         for t in detection.timers)
    fresh = []
    for moment in detection.moments:
        if trigger.once_per_instance and state.has_decided(moment.instance_key):
            continue
        state.mark_decided(moment.instance_key, moment.event_time)
        fresh.append((trigger, moment))
    return fresh


def _forget_removed_triggers(state: SubscriberState, catalogue: Catalogue) -> None:
    if not state.memory.keys() <= catalogue.ids:
        state.memory = {t: m for t, m in state.memory.items() if t in catalogue.ids}
