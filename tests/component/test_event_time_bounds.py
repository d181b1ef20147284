"""One record dated near today cannot bend a replayed log (issue 21, point 1): in replay mode a
record's event time is bounded by the log's own front (its neighbours), the wall clock only a cap.
Each case is compared, offer by offer and decision by decision, with the in-process reference
run on the log without the record: same counts, no offer early, none lost."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from pathlib import Path

import pytest
from faust.types import TP

from cjo.adapters.kafka_admin import Record
from cjo.catalogue.validate import default_catalogue
from cjo.clock import HOUR_MS, WallClock
from cjo.codec import LogRecord
from cjo.engine.offline import run_offline
from tests.component.harness import Worker, by_partition, decision_key, fetches, simulated

PARTITIONS = 4


@pytest.fixture(scope="module")
def log_records(tmp_path_factory: pytest.TempPathFactory) -> list[LogRecord]:
    """Two days of 30 subscribers from 2026-01-01: a January log, replayed in December."""
    return simulated(tmp_path_factory.mktemp("log"), subscribers=30, days=2, seed=11)


def near_today(log_records: list[LogRecord], index: int) -> list[LogRecord]:
    """Valid copies of the log's ``index``-th and next charging records, dated now + 23 h (the
    issue's record: also beyond the wall-clock cap) and now - 1 h (only the log bounds it)."""
    sources = [r for r in log_records if r.stream == "charging"][index:index + 2]
    now = WallClock().now_ms()
    return [replace(source, value={**source.value, "event_id": "near-today",
                                   "event_time": when}, event_time=when)
            for source, when in zip(sources, (now + 23 * HOUR_MS, now - HOUR_MS), strict=True)]


def replay(worker: Worker, held: dict[TP, list[Record]], start: dict[TP, int] | None = None,
           tick: bool = False) -> None:
    async def go() -> None:
        for fetch in fetches(held, 64, start):
            await worker.processor.on_batch(fetch)
        if tick:  # a tick per partition: the watermarks are kept in the store
            ticks = worker.topics["ticks"]
            await worker.processor.on_batch({
                TP(ticks, p): [Record(ticks, p, 0, b"tick", b"", 0)]
                for p in range(PARTITIONS)})

    asyncio.run(go())


def assert_as_the_reference(worker: Worker, log_records: list[LogRecord], pairs: int) -> None:
    """``pairs`` of records dated near today were added to ``log_records``: each pair is
    dead-lettered, one beyond the wall-clock cap, one by the log's bound."""
    oracle = run_offline(log_records, default_catalogue(), PARTITIONS)
    letters = worker.dlq.decoded()
    assert sorted(re.findall("CJO_[A-Z_]+", d["error"])[0] for d in letters) == sorted(
        ["CJO_MAX_FUTURE_MS", "CJO_REPLAY_MAX_JUMP_MS"] * pairs), letters
    assert all(b"near-today" in d["payload"] for d in letters)
    assert sorted(map(decision_key, worker.decisions.decoded())) == sorted(
        map(decision_key, oracle.decisions))
    assert sorted(worker.offer_ids()) == sorted(o["offer_id"] for o in oracle.offers)
    newest = max(r.event_time for r in log_records)
    assert all(r.watermark.max_seen <= newest for r in worker.processor._runners.values())


def test_replay_one_record_dated_near_today_moves_no_watermark(
        tmp_path: Path, log_records: list[LogRecord]) -> None:
    """The first records of their topic-partitions (and of the log), and two anywhere later.
    Today's bound (the later of the wall clock and the partition's newest event time, plus a
    day) took those dated now - 1 h, and moved their partitions 11 months on."""
    first, later = near_today(log_records, 0), near_today(log_records, len(log_records) // 4)
    middle = len(log_records) // 2
    topics = Worker(tmp_path, default_catalogue(), {}, PARTITIONS).topics
    held = by_partition([*first, *log_records[:middle], *later, *log_records[middle:]], topics,
                        PARTITIONS)
    worker = Worker(tmp_path, default_catalogue(), held, PARTITIONS)
    replay(worker, held)
    worker.feed.close()
    assert_as_the_reference(worker, log_records, pairs=2)


def test_replay_a_backlog_after_an_outage_is_bounded_by_the_log(
        tmp_path: Path, log_records: list[LogRecord]) -> None:
    """A worker replays the first day, stops; the backlog that piled up meanwhile holds the
    record dated near today, first of what the restarted worker reads."""
    catalogue = default_catalogue()
    topics = Worker(tmp_path, catalogue, {}, PARTITIONS).topics
    day_one = [r for r in log_records if r.event_time < log_records[0].event_time + 24 * HOUR_MS]
    rest = log_records[len(day_one):]
    first = by_partition(day_one, topics, PARTITIONS)
    before = Worker(tmp_path, catalogue, first, PARTITIONS)
    replay(before, first, tick=True)
    before.feed.close()

    held = by_partition([*day_one, *near_today(rest, 0), *rest], topics, PARTITIONS)
    after = Worker(tmp_path, catalogue, held, PARTITIONS)
    start = {tp: len(first.get(tp, [])) for tp in held}
    after.feed.position_of = dict(start)
    replay(after, held, start)
    after.feed.close()
    for sent, also in ((after.decisions, before.decisions), (after.dlq, before.dlq)):
        sent.values[:0] = also.values
    for channel, sent in after.offers.items():
        sent.values[:0] = before.offers[channel].values
    assert_as_the_reference(after, log_records, pairs=1)
