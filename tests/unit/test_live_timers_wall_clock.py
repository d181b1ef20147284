"""Live mode: no timer fires before the wall clock reaches its due time, whatever a record says
(issue 21, point 2). A live stream is driven through one partition's runner with the wall clock
following the log and a tick before every record; one record from a clock-skewed producer, 23 h
ahead, must change nothing: every timer fires at or after its due time, and the offers are those
of the same stream without it (no offer early, none lost)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from cjo.catalogue.validate import default_catalogue
from cjo.clock import HOUR_MS, MINUTE_MS
from cjo.codec import LogRecord
from cjo.engine.ordering import STREAM_RANK
from cjo.engine.runner import Knowledge, MemoryStore, PartitionRunner
from cjo.state import Position
from cjo.timers import TIMER_PREFIX, Timer, Watermark
from tests.component.harness import simulated


def live_run(records: list[LogRecord], skewed: tuple[int, LogRecord] | None = None
             ) -> tuple[list[str], list[tuple[int, int]]]:
    """The offer ids sent, and (due, wall clock) of every timer fired; the wall clock is each
    record's event time, but ``skewed`` is (wall clock it arrives at, record)."""
    knowledge = Knowledge(default_catalogue())
    store = MemoryStore()
    runner = PartitionRunner(store, 0, Watermark(30_000, 15_000, live=True))
    offers: list[str] = []
    fired: list[tuple[int, int]] = []
    wall = records[0].event_time

    def took(effects: object, now: int) -> None:
        writes = effects.writes  # type: ignore[attr-defined]
        fired.extend((Timer.from_key(k).due, now) for k, v in writes.items()
                     if v is None and k.startswith(TIMER_PREFIX))
        offers.extend(o["offer_id"] for o in effects.offers)  # type: ignore[attr-defined]
        store.apply(writes)

    stream = [(r.event_time, r) for r in records] + ([skewed] if skewed else [])
    for i, (arrives, rec) in enumerate(sorted(stream, key=lambda a: (a[0],
                                                                     STREAM_RANK[a[1].stream]))):
        wall = max(wall, arrives)
        took(runner.on_tick(wall, True, knowledge).effects, wall)
        took(runner.on_record(rec.stream, rec.value, Position(rec.stream, i), wall,
                              knowledge).effects, wall)
    for minute in range(1, 24 * 60):  # the day after the log: every timer due then fires
        took(runner.on_tick(wall + minute * MINUTE_MS, True, knowledge).effects,
             wall + minute * MINUTE_MS)
    return sorted(offers), fired


def test_a_record_23_hours_ahead_fires_no_timer_early(tmp_path: Path) -> None:
    records = simulated(tmp_path, subscribers=30, days=2, seed=11)
    reference, fired = live_run(records)
    assert reference and fired, "the stream must send offers and fire timers"
    # a subscriber of its own (its state is the skewed record's business), received at the
    # middle of the stream, dated 23 h later
    source = next(r for r in records[len(records) // 2:] if r.stream == "charging")
    imsi = source.value["imsi"][:-4] + "9999"
    assert all(r.value["imsi"] != imsi for r in records)
    ahead = source.event_time + 23 * HOUR_MS
    skewed = replace(source, key=imsi.encode(), event_time=ahead, value={
        **source.value, "imsi": imsi, "event_id": "skewed", "event_time": ahead})
    offers, fired = live_run(records, (source.event_time, skewed))
    early = [(due, now) for due, now in fired if due > now]
    assert not early, f"{len(early)} timers fired before the wall clock reached them"
    assert offers == reference
