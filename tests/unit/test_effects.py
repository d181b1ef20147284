"""A step's effects: merged in order, and a timer that raises leaves none of its own."""

from __future__ import annotations

from typing import Any

import pytest

from cjo.catalogue.validate import default_catalogue
from cjo.engine.effects import SCHEDULED, Effects
from cjo.engine.runner import Knowledge, MemoryStore, PartitionRunner
from cjo.state import Position, SubscriberState
from cjo.timers import Timer, Watermark
from tests.scenarios.default_triggers import HOUR, T0, imsi, loc


def test_absorbed_effects_come_after_and_their_writes_win() -> None:
    first = Effects(decisions=[{"n": 1}], writes={b"a": b"1", b"b": b"1"})
    later = Effects(offers=[{"n": 2}], decisions=[{"n": 2}], outcomes=[{"n": 2}],
                    examples=[{"n": 2}], writes={b"b": None, b"c": b"2"})
    first.absorb(later)
    assert first.decisions == [{"n": 1}, {"n": 2}]
    assert first.offers == first.outcomes == first.examples == [{"n": 2}]
    assert first.writes == {b"a": b"1", b"b": None, b"c": b"2"}


def test_a_timer_and_a_state_are_written_as_the_store_keeps_them() -> None:
    effects = Effects()
    timer = Timer(T0, imsi(1), "roaming_welcome", "trip-1")
    state = SubscriberState(imsi=imsi(1), events=3)
    effects.schedule(timer)
    effects.write_state(state)
    assert effects.writes == {timer.key(): SCHEDULED, imsi(1).encode(): state.to_bytes()}


def test_a_timer_that_raises_leaves_nothing_of_its_effects(
        monkeypatch: pytest.MonkeyPatch) -> None:
    due = Timer(T0, imsi(2), "roaming_welcome", "trip-1")
    store = MemoryStore()
    store.apply({due.key(): SCHEDULED})
    again = Timer(T0 + HOUR, imsi(2), "roaming_welcome", "trip-1")

    def half_done(timer: Timer, state: Any, ctx: Any, effects: Effects) -> None:
        effects.decisions.append({"half": "made"})
        effects.schedule(again)
        raise RuntimeError("a bug")

    monkeypatch.setattr("cjo.engine.runner.fire", half_done)
    runner = PartitionRunner(store, 0, Watermark(0, 0, live=False))
    record = loc(1, T0 + HOUR)["value"]
    step = runner.on_record("location", record, Position("location", 0), 0,
                            Knowledge(default_catalogue()))
    assert step.fired == 1 and [t for t, _ in step.failed_timers] == [due]
    assert step.effects.writes[due.key()] is None  # dropped: it does not fire again
    assert again.key() not in step.effects.writes
    assert {"half": "made"} not in step.effects.decisions
    assert imsi(1).encode() in step.effects.writes  # the record is decided all the same
