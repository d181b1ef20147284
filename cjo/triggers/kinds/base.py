"""What every trigger kind implements: pure functions over (observation, memory) and timers.

A kind is generic (transition, threshold, geofence, deadline, sequence, count); a catalogue
trigger is a kind plus parameters. A kind never sends, sleeps or reads a clock: it returns the
moments it detected, the timers it wants (due time in event-time ms, plus an instance string) and
its new private memory for this subscriber (a small JSON-able dict, stored in the subscriber's
state under the trigger id; ``None`` means unchanged).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from cjo.catalogue.attributes import sample_values
from cjo.catalogue.model import Trigger, Venue
from cjo.state.model import SubscriberState
from cjo.triggers.moment import Moment

Memory = dict[str, Any]


class Fact(NamedTuple):
    """Something that happened, as count/sequence steps match it.

    ``name`` is the input stream (charging, location, usage, subscribers, responses) with the
    record as ``fields``, or a derived fact: ``trial_started`` (product_id, expires_at) when a
    profile shows a trial not seen before, ``topup`` (amount, balance) when a prepaid balance rose.
    """

    name: str
    at: int  # event time, epoch ms
    event_id: str
    fields: Mapping[str, Any]


class Observation(NamedTuple):
    """One input record applied to one subscriber's state (a named tuple, like ``Fact``: made
    for every record, and a tuple is made several times faster than a frozen dataclass)."""

    stream: str
    record: Mapping[str, Any]
    before: SubscriberState
    after: SubscriberState
    facts: Sequence[Fact]
    moments: Sequence[Moment] = ()  # moments of other triggers from this record (deadline: moment)

    @property
    def event_id(self) -> str:
        return str(self.record.get("event_id") or f"profile-{self.record.get('updated_at')}")

    @property
    def event_time(self) -> int:
        at = self.record.get("event_time", self.record.get("updated_at"))
        return int(at) if at is not None else -1


@dataclass(frozen=True, slots=True)
class TimerRequest:
    due: int  # event time, epoch ms
    instance: str  # what the timer is for; handed back to on_timer


@dataclass(slots=True)
class Detection:
    moments: list[Moment] = field(default_factory=list)
    timers: list[TimerRequest] = field(default_factory=list)
    memory: Memory | None = None  # None: unchanged


NOTHING = Detection()  # shared: a detection a kind returns is read, never changed


class Kind(Protocol):
    """One trigger kind. ``venues`` are the catalogue's, by id."""

    name: str

    def attributes(self, trigger: Trigger, venues: Mapping[str, Venue]) -> dict[str, Any]:
        """Sample values of every placeholder this kind gives templates (validation renders
        each template against them, so a template naming anything else is refused)."""
        ...

    def on_event(self, trigger: Trigger, obs: Observation, memory: Memory,
                 venues: Mapping[str, Venue]) -> Detection: ...

    def on_timer(self, trigger: Trigger, due: int, instance: str, state: SubscriberState,
                 memory: Memory, venues: Mapping[str, Venue]) -> Detection:
        """A timer this kind asked for is due (the watermark passed ``due``). Cancellation is
        lazy: check ``state`` still calls for the moment (a converted trial does not)."""
        ...


class EventKind:
    """A kind that detects on records only: the sample attributes of its kind, and no timers."""

    def attributes(self, trigger: Trigger, venues: Mapping[str, Venue]) -> dict[str, Any]:
        return sample_values(trigger.kind, trigger.params)

    def on_timer(self, trigger: Trigger, due: int, instance: str, state: SubscriberState,
                 memory: Memory, venues: Mapping[str, Venue]) -> Detection:
        return Detection()
