"""What every trigger kind is: pure detection over (observation, memory) and timers, and what it
declares about itself to the rest of cjo.

A kind is generic (transition, threshold, geofence, deadline, sequence, count); a catalogue
trigger is a kind plus parameters (its parameter model ``P``, in ``cjo.catalogue.model``). A kind
never sends, sleeps or reads a clock: it returns the moments it detected, the timers it wants (due
time in event-time ms, plus an instance string) and its new private memory for this subscriber (a
small JSON-able dict, stored in the subscriber's state under the trigger id; ``None`` means
unchanged).

Besides detecting, a kind declares what the rest of cjo needs to know of it, so no module outside
``cjo.triggers.kinds`` branches on a kind's name:

- ``reads``: whether a record of a stream can concern a trigger (``cjo.triggers.plan`` skips it
  otherwise);
- ``samples``: the attributes its moments carry, with sample values (template validation);
- ``validate``: its cross checks of a catalogue (``cjo.catalogue.validate``);
- ``sees_moments``: evaluated after the other triggers, seeing their moments of the same record;
- ``consent``: what a subscriber must have consented to before one of its moments is offered;
- ``examples``: scenarios in which it detects a moment (the contract suite runs on them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, Generic, Literal, NamedTuple, Protocol, TypeVar

from pydantic import BaseModel

from cjo.catalogue.model import Matcher, Trigger, Venue
from cjo.state.model import SubscriberState
from cjo.triggers.moment import Moment

Memory = dict[str, Any]
P = TypeVar("P", bound=BaseModel)
KeyPath = tuple[str | int, ...]  # under the trigger as written: ("params", "venues", 0)


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
    moments: Sequence[Moment] = ()  # moments of the triggers before (a kind that sees_moments)

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


class Example(NamedTuple):
    """A small scenario in which a trigger of the kind detects at least one moment: what the
    contract suite (``tests/unit/test_kind_contract.py``) runs its checks on. Records carry the
    fields the state update and the kind read, no more."""

    name: str  # the variant it shows: "network", "usage_bytes", "moment"
    params: Mapping[str, Any]  # the trigger's params, as a catalogue writes them
    records: tuple[tuple[str, Mapping[str, Any]], ...]  # (stream, record), in event-time order
    until: int = -1  # after the last record, the timers due by then fire
    venues: tuple[Mapping[str, Any], ...] = ()  # the catalogue's venues, as written
    others: tuple[Mapping[str, Any], ...] = ()  # other triggers it needs (an anchor), as written


def example_record(stream: str, at: int, **fields: Any) -> tuple[str, dict[str, Any]]:
    """A record of an :class:`Example`: its id and time (a profile: ``updated_at``), on the home
    network, and ``fields``."""
    if stream == "subscribers":
        return stream, {"updated_at": at, **fields}
    return stream, {"event_id": f"{stream}-{at}", "event_time": at, "home_plmn": "23415",
                    "serving_plmn": "23415", **fields}


class Checks(Protocol):
    """What a kind's catalogue validation may ask of the catalogue being validated
    (implemented by ``cjo.catalogue.validate``). Paths are under the trigger."""

    def refuse(self, path: KeyPath, reason: str) -> None:
        """Report a problem at ``path`` (its file, line and field are found from it)."""
        ...

    def matcher(self, path: KeyPath, matcher: Matcher) -> None:
        """Refuse an event that is no stream or derived fact, fields its records do not have,
        values they cannot take."""
        ...

    def reference(self, path: KeyPath, what: Literal["venue", "trigger"], ident: str) -> None:
        """Refuse an id that names no venue (trigger) of the catalogue; one the schema refused
        was reported already."""
        ...

    def venue_kinds(self) -> frozenset[str] | None:
        """The kinds of the catalogue's venues; None when a venue was refused (kinds unknown)."""
        ...


class Kind(Protocol[P]):
    """One trigger kind, generic over its parameter model ``P``. ``venues`` are the catalogue's,
    by id."""

    name: str  # the catalogue's ``kind``
    model: type[P]  # its parameter model (cjo.catalogue.model)
    sees_moments: bool  # evaluated last, it sees the moments of the same record (a deadline's)
    consent: tuple[str, ...]  # consents a moment of it needs, on top of the trigger's own
    retired: Mapping[str, str]  # placeholders it gave once -> what to write instead
    examples: tuple[Example, ...]  # scenarios with a moment, for the contract suite

    def reads(self, params: P, stream: str) -> bool:
        """Whether a record of ``stream`` can concern a trigger with ``params`` (a record it
        does not read would never give a moment, a timer or a memory change)."""
        ...

    def samples(self, params: P) -> dict[str, Any]:
        """The attributes a moment of a trigger with ``params`` carries, with sample values:
        what its templates may name besides the common ones (validation renders each template
        against them, so a template naming anything else is refused)."""
        ...

    def validate(self, trigger_id: str, params: P, check: Checks) -> None:
        """The catalogue checks the schema cannot make (venues exist, bounds in range)."""
        ...

    def on_event(self, trigger: Trigger, obs: Observation, memory: Memory,
                 venues: Mapping[str, Venue]) -> Detection: ...

    def on_timer(self, trigger: Trigger, due: int, instance: str, state: SubscriberState,
                 memory: Memory, venues: Mapping[str, Venue]) -> Detection:
        """A timer this kind asked for is due (the watermark passed ``due``). Cancellation is
        lazy: check ``state`` still calls for the moment (a converted trial does not)."""
        ...


class BaseKind(Generic[P]):
    """The declarations most kinds share: it reads the records of ``streams``, is evaluated in
    catalogue order, needs no consent of its own, has retired nothing, checks nothing beyond the
    schema and asks for no timers."""

    name: str
    model: type[P]
    streams: ClassVar[frozenset[str]] = frozenset()
    sees_moments = False
    consent: tuple[str, ...] = ()
    retired: Mapping[str, str] = MappingProxyType({})
    examples: tuple[Example, ...] = ()

    def params(self, trigger: Trigger) -> P:
        """``trigger``'s parameters, as this kind's model."""
        params = trigger.params
        assert isinstance(params, self.model)
        return params

    def reads(self, params: P, stream: str) -> bool:
        return stream in self.streams

    def validate(self, trigger_id: str, params: P, check: Checks) -> None:
        return

    def on_timer(self, trigger: Trigger, due: int, instance: str, state: SubscriberState,
                 memory: Memory, venues: Mapping[str, Venue]) -> Detection:
        return NOTHING
