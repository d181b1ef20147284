"""The one door from the wiring into the domain: a record or a due timer -> state and effects.

Pure: no Kafka, no asyncio, no clock. ``decide`` and ``fire`` return the subscriber's new state
(None: nothing changed) and put what they produce into the caller's ``Effects``: the messages
and the timers to schedule (``cjo.engine.effects``); the caller stores the state. ``Context``
is what the decision is made with (``cjo.engine.settle``); the wiring stamps ``published_at``
itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from cjo.catalogue.catalogue import Catalogue
from cjo.catalogue.model import Trigger
from cjo.engine import feedback
from cjo.engine.effects import Effects
from cjo.engine.settle import DEFER_PREFIX, Context, deferred_moment, settle
from cjo.state import Position, SubscriberState, apply_record
from cjo.timers import Timer
from cjo.triggers.facts import facts
from cjo.triggers.kinds import KINDS
from cjo.triggers.kinds.base import Detection, Observation
from cjo.triggers.moment import Moment
from cjo.triggers.plan import grouped

__all__ = ["Context", "Effects", "decide", "fire", "new_state"]

Record = Mapping[str, Any]


def new_state(imsi: str) -> SubscriberState:
    return SubscriberState(imsi=imsi)


def decide(stream: str, record: Record, state: SubscriberState, position: Position,
           ctx: Context, effects: Effects) -> SubscriberState | None:
    """A record: the subscriber's state after it (None: applied already, nothing changed)."""
    after = apply_record(state, stream, record, position)
    if after is None:
        return None
    _forget_removed_triggers(after, ctx.catalogue)
    seen = facts(stream, record, state, after)
    if after.pending:  # offers waiting for a response or a conversion
        feedback.observe(stream, record, seen, after, ctx.catalogue, effects)
    detected: list[Moment] = []
    fresh: list[tuple[Trigger, Moment]] = []
    obs = Observation(stream, record, state, after, seen)
    venues = ctx.catalogue.venues
    memories = after.memory  # replaced by a copy of its own at the first change (never mutated)
    # per group of the plan (same kind and params): the memory its kind last ran on, how many
    # moments it saw, what it detected, and whether that is anything; reused by the group's other
    # triggers whose memory is equal, and that see as many moments (a kind's detection depends on
    # the params, the record, the moments of the triggers before and the memory only)
    ran: dict[int, tuple[dict[str, Any], int, Detection, bool]] = {}
    for trigger, on_event, sees_moments, group in grouped(ctx.catalogue, stream):
        memory = memories.get(trigger.id, _EMPTY)
        last = ran.get(group)
        if last is not None and last[0] == memory and (
                not sees_moments or last[1] == len(detected)):
            if not last[3]:
                continue
            detection = last[2]
            kept = detection.memory
            if kept is not None and not (detection.moments or detection.timers):
                if memories is state.memory:  # its new memory, and nothing else
                    memories = after.memory = dict(memories)
                memories[trigger.id] = kept
                continue
            detection = _renamed(detection, trigger.id)
        else:
            if sees_moments and len(obs.moments) != len(detected):
                obs = Observation(stream, record, state, after, obs.facts, tuple(detected))
            detection = on_event(trigger, obs, memory if memory is not _EMPTY else {}, venues)
            ran[group] = (memory, len(detected), detection, bool(
                detection.moments or detection.timers or detection.memory is not None))
        if detection.moments or detection.timers or detection.memory is not None:
            if detection.memory is not None and memories is state.memory:
                memories = after.memory = dict(memories)
            detected.extend(detection.moments)
            fresh.extend(_apply_detection(detection, trigger, after, effects, in_place=True))
    settle(fresh, after, ctx, effects)
    return after


_EMPTY: dict[str, Any] = {}  # a trigger without memory yet (handed to its kind as a new {})


def _renamed(detection: Detection, trigger_id: str) -> Detection:
    """``detection`` as the kind would have made it for ``trigger_id``: the same memory and
    timers, the same moments under that id."""
    if not detection.moments:
        return detection
    return Detection(moments=[replace(m, trigger_id=trigger_id, attrs=dict(m.attrs))
                              for m in detection.moments],
                     timers=detection.timers, memory=detection.memory)


def fire(timer: Timer, state: SubscriberState, ctx: Context,
         effects: Effects) -> SubscriberState | None:
    """A due timer: a response window closes, a deferred moment is decided again, or a trigger
    decides whether its moment still stands (lazy cancellation). The subscriber's state after
    it (None: nothing changed, and nothing went into ``effects``)."""
    after = state.copy()
    if timer.trigger_id == feedback.WINDOW:
        return after if feedback.close_window(after, timer.instance, timer.due, effects) else None
    trigger = ctx.catalogue.get(timer.trigger_id)
    if timer.instance.startswith(DEFER_PREFIX):
        moment = deferred_moment(after, timer.instance)
        if moment is not None and trigger is not None and trigger.enabled:
            settle([(trigger, moment)], after, ctx, effects)
        return after if moment is not None else None
    if trigger is None or not trigger.enabled:
        return None  # the trigger was removed or disabled since
    decided = len(effects.decisions)
    detection = KINDS[trigger.kind].on_timer(
        trigger, timer.due, timer.instance, after, after.memory.get(trigger.id, {}),
        ctx.catalogue.venues)
    settle(_apply_detection(detection, trigger, after, effects), after, ctx, effects)
    if len(effects.decisions) == decided and detection.memory is None and not detection.timers:
        return None
    return after


def _apply_detection(detection: Detection, trigger: Trigger, state: SubscriberState,
                     effects: Effects, in_place: bool = False) -> list[tuple[Trigger, Moment]]:
    """Keep what the kind detected: its memory in ``state`` (``in_place``: into the state's
    memory, a copy the caller made for this record), its timers in ``effects``; returns the
    moments to decide (those not decided before, now marked decided)."""
    if detection.memory is not None:
        if in_place:
            state.memory[trigger.id] = detection.memory
        else:
            state.memory = {**state.memory, trigger.id: detection.memory}
    for t in detection.timers:
        effects.schedule(Timer(t.due, state.imsi, trigger.id, t.instance))
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
