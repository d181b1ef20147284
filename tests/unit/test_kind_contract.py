"""The contract every trigger kind keeps, checked on every kind of the registry and every example
it declares (``Kind.examples``), as the engine drives it (cjo.engine.decide: state update with
redelivery check, plan, memory and timers kept in the state, due timers fired).

Per example: it detects at least one moment (so the checks below are not vacuous); a kind changes
none of its inputs (observation, state, memory, parameters); its memory round-trips through JSON;
the same records give the same detections; every moment carries exactly the attributes the kind
declares (``Kind.samples``); every timer is due at or after the time that asked for it, within
``MAX_AHEAD``, with a non-empty instance a timer key can hold; records delivered twice give no
new moment; a timer instance it never asked for gives nothing; a record of a stream it does not
read (``Kind.reads``: the plan skips it) would have given nothing either.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, get_args

import pytest

from cjo.catalogue.attributes import sample_values
from cjo.catalogue.catalogue import Catalogue
from cjo.catalogue.model import Trigger, TriggerBase
from cjo.catalogue.validate import load_catalogue
from cjo.codec import RECORD_OF_STREAM
from cjo.state import Position, SubscriberState, apply_record
from cjo.timers import Timer
from cjo.triggers.facts import facts
from cjo.triggers.kinds import KINDS
from cjo.triggers.kinds.base import Detection, Example, Kind, Observation
from cjo.triggers.moment import Moment
from cjo.triggers.plan import evaluation_order, plan
from tests.unit.factories import IMSI, charging, location, profile, usage

TRIGGER_ID = "under_test"
MAX_AHEAD = 10 * 366 * 86_400_000  # a timer further ahead is a unit slip (seconds, µs), no plan
UNKNOWN = "no-such-instance"

CASES = [pytest.param(kind, example, id=f"{kind.name}-{example.name}")
         for kind in KINDS.values() for example in kind.examples]


def test_every_kind_is_registered_by_its_name_with_its_model_and_an_example() -> None:
    members = get_args(get_args(Trigger)[0])  # Annotated[A | B | ..., discriminator]
    models = {m.model_fields["kind"].annotation.__args__[0]:  # Literal["count"] -> "count"
              m.model_fields["params"].annotation for m in members if issubclass(m, TriggerBase)}
    assert models == {name: kind.model for name, kind in KINDS.items()}
    assert all(kind.name == name and kind.examples for name, kind in KINDS.items())


class Call(NamedTuple):
    """One call of a kind as the driver made it: at the record's event time or the timer's due."""

    trigger_id: str
    at: int
    detection: Detection


@dataclass
class Run:
    catalogue: Catalogue
    state: SubscriberState = field(default_factory=lambda: SubscriberState(imsi=IMSI))
    timers: set[tuple[int, str, str]] = field(default_factory=set)  # (due, trigger, instance)
    calls: list[Call] = field(default_factory=list)

    @property
    def moments(self) -> list[Moment]:
        return [m for call in self.calls for m in call.detection.moments]

    def deliver(self, stream: str, record: Mapping[str, Any], offset: int) -> None:
        """As ``decide``: the state update (which refuses an offset applied before), then each
        planned trigger in order, a kind that ``sees_moments`` with the moments before it."""
        at = int(record.get("event_time", record.get("updated_at", 0)))
        self.fire(at)
        after = apply_record(self.state, stream, record, Position(stream, offset))
        if after is None:
            return
        obs = Observation(stream, record, self.state, after,
                          facts(stream, record, self.state, after))
        detected: list[Moment] = []
        planned = plan(self.catalogue, stream)
        for trigger, on_event, sees_moments in planned:
            if sees_moments:
                obs = obs._replace(moments=tuple(detected))
            found = unchanging(on_event, trigger, obs, after.memory.get(trigger.id, {}),
                               venues=self.catalogue.venues)
            detected.extend(found.moments)
            self.take(trigger, at, found, after)
        for trigger in evaluation_order(self.catalogue):
            if all(step.trigger is not trigger for step in planned):
                skipped = KINDS[trigger.kind].on_event(
                    trigger, obs._replace(moments=tuple(detected)),
                    after.memory.get(trigger.id, {}), self.catalogue.venues)
                assert skipped == Detection(), f"{trigger.id} does not read {stream}, yet"
        self.state = after

    def fire(self, upto: int) -> None:
        """As ``fire``: the due timers in due order, each on a copy of the state."""
        for due, trigger_id, instance in sorted(t for t in self.timers if t[0] <= upto):
            self.timers.discard((due, trigger_id, instance))
            trigger = self.catalogue.get(trigger_id)
            assert trigger is not None
            after = self.state.copy()
            found = self.on_timer(trigger, due, instance, after)
            self.take(trigger, due, found, after)
            self.state = after

    def on_timer(self, trigger: Any, due: int, instance: str,
                 state: SubscriberState) -> Detection:
        return unchanging(KINDS[trigger.kind].on_timer, trigger, due, instance, state,
                          state.memory.get(trigger.id, {}), venues=self.catalogue.venues)

    def take(self, trigger: Any, at: int, found: Detection, state: SubscriberState) -> None:
        self.calls.append(Call(trigger.id, at, found))
        if found.memory is not None:
            state.memory = {**state.memory, trigger.id: found.memory}
        self.timers.update((t.due, trigger.id, t.instance) for t in found.timers)


def unchanging(kind_call: Callable[..., Detection], trigger: Any, *inputs: Any,
               venues: Mapping[str, Any]) -> Detection:
    """``kind_call(trigger, *inputs, venues)``, checking it left the trigger's parameters and
    the inputs (observation, state, memory) as they were."""
    before = copy.deepcopy((trigger.model_dump(), inputs))
    found = kind_call(trigger, *inputs, venues)
    assert (trigger.model_dump(), inputs) == before, "a kind changed its input"
    return found


def catalogue_of(kind: Kind[Any], example: Example) -> Catalogue:
    """The example's trigger (every declared placeholder in its template), the triggers it
    needs and its venues, validated as a catalogue file."""
    params = kind.model.model_validate(example.params)
    text = " ".join(f"${name}" for name in sample_values(kind.name, params))
    offers = [{"code": "X", "templates": {"en": text}}]
    triggers = [*example.others, {"id": TRIGGER_ID, "kind": kind.name, "params": example.params}]
    document = {"venues": list(example.venues),
                "triggers": [{**t, "offers": offers if t["id"] == TRIGGER_ID else [
                    {"code": "Y", "templates": {"en": "hello"}}]} for t in triggers]}
    return load_catalogue([("example.yaml", json.dumps(document))])


def run(kind: Kind[Any], example: Example, times: int = 1) -> Run:
    """The example's records (``times`` over: a redelivery, with the same offsets), then the
    timers due by its ``until``."""
    driven = Run(catalogue_of(kind, example))
    offsets: dict[str, int] = {}
    numbered = []
    for stream, record in example.records:
        numbered.append((stream, record, offsets.setdefault(stream, 0)))
        offsets[stream] += 1
    for stream, record, offset in numbered * times:
        driven.deliver(stream, record, offset)
    driven.fire(example.until)
    return driven


@pytest.mark.parametrize(("kind", "example"), CASES)
def test_the_example_detects_a_moment_of_its_trigger(kind: Kind[Any], example: Example) -> None:
    assert [m for m in run(kind, example).moments if m.trigger_id == TRIGGER_ID]


@pytest.mark.parametrize(("kind", "example"), CASES)
def test_memory_is_json(kind: Kind[Any], example: Example) -> None:
    """(A transition keeps none: the state holds what it compares.)"""
    for call in run(kind, example).calls:
        memory = call.detection.memory
        assert memory is None or json.loads(json.dumps(memory, allow_nan=False)) == memory


@pytest.mark.parametrize(("kind", "example"), CASES)
def test_the_same_records_give_the_same_detections(kind: Kind[Any], example: Example) -> None:
    first, second = run(kind, example), run(kind, example)
    assert first.calls == second.calls
    assert first.state == second.state


@pytest.mark.parametrize(("kind", "example"), CASES)
def test_moments_carry_the_declared_attributes(kind: Kind[Any], example: Example) -> None:
    driven = run(kind, example)
    for moment in driven.moments:
        trigger = driven.catalogue.get(moment.trigger_id)
        assert trigger is not None and moment.imsi == IMSI
        declared = KINDS[trigger.kind].samples(trigger.params)
        assert moment.attrs.keys() == declared.keys()


@pytest.mark.parametrize(("kind", "example"), CASES)
def test_timers_are_due_after_the_time_asking_within_bounds(kind: Kind[Any],
                                                           example: Example) -> None:
    for call in run(kind, example).calls:
        for timer in call.detection.timers:
            assert isinstance(timer.instance, str) and timer.instance
            assert call.at <= timer.due <= call.at + MAX_AHEAD
            Timer(timer.due, IMSI, call.trigger_id, timer.instance).key()  # storable


@pytest.mark.parametrize(("kind", "example"), CASES)
def test_records_delivered_twice_give_no_new_moment(kind: Kind[Any], example: Example) -> None:
    assert run(kind, example, times=2).moments == run(kind, example).moments


@pytest.mark.parametrize(("kind", "example"), CASES)
def test_a_timer_never_asked_for_gives_nothing(kind: Kind[Any], example: Example) -> None:
    driven = run(kind, example)
    trigger = driven.catalogue.get(TRIGGER_ID)
    due = max(driven.state.last_event_time, example.until) + 1
    found = driven.on_timer(trigger, due, UNKNOWN, driven.state.copy())
    assert (found.moments, found.timers) == ([], [])


PROBES: dict[str, Callable[[int], dict[str, Any]]] = {
    "charging": lambda at: charging("23415", at, balance=1.0, bundle_id="B",
                                    bundle_total_octets=10, bundle_remaining_octets=1),
    "location": lambda at: location("20801", at, lat=51.556, lon=-0.2796,
                                    imeisv="358751090000009"),
    "usage": lambda at: {**usage(at), "dropped": True, "app_category": "GAMING"},
    "subscribers": lambda at: profile(at=at, contract_end=30_000, trials=[
        {"product_id": "gaming_2d", "expires_at": at + 86_400_000, "status": "ACTIVE"}]),
    "responses": lambda at: {"event_id": f"r-{at}", "event_time": at, "offer_id": "o",
                             "imsi": IMSI, "channel": "SMS", "status": "DELIVERED",
                             "provider_message_id": None},
}


@pytest.mark.parametrize(("kind", "example"), CASES)
def test_a_record_of_a_stream_it_does_not_read_gives_nothing(kind: Kind[Any],
                                                             example: Example) -> None:
    """After the example, one busy record of each stream (checked inside ``deliver``)."""
    driven = run(kind, example)
    at = max(driven.state.last_event_time, example.until) + 1
    assert set(PROBES) == set(RECORD_OF_STREAM)
    for offset, (stream, probe) in enumerate(PROBES.items(), start=1_000):
        driven.deliver(stream, probe(at + offset), offset)

