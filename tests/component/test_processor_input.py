"""Every input record is applied or dead-lettered, never lost nor half applied: a record whose
processing raises, a record off its key's partition, an event time far in the future."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from faust.types import TP

from cjo.adapters.kafka_admin import Record
from cjo.catalogue.validate import default_catalogue
from cjo.clock import HOUR_MS, MINUTE_MS, FixedClock
from cjo.codec import LogRecord, encode
from cjo.engine.offline import run_offline
from cjo.engine.ordering import STREAM_RANK, EventTimeMerger
from cjo.engine.runner import Knowledge, MemoryStore, PartitionRunner
from cjo.state import Position
from cjo.timers import Watermark
from cjo.triggers.kinds import KINDS
from streams.processor import Processor, TimePolicy
from tests.component.harness import Worker, by_partition, decision_key, fetches, simulated

YEAR_2100_MS = 4_102_444_800_000


@pytest.fixture(scope="module")
def log_records(tmp_path_factory: pytest.TempPathFactory) -> list[LogRecord]:
    return simulated(tmp_path_factory.mktemp("log"), subscribers=40, days=3, seed=5)


key = decision_key


def run(worker: Worker, held: dict[TP, list[Record]], size: int = 64) -> None:
    async def go() -> None:
        for fetch in fetches(held, size):
            await worker.processor.on_batch(fetch)

    asyncio.run(go())


def offline_store(records: list[LogRecord], topics: Any) -> dict[bytes, bytes]:
    """What one partition's store holds after ``records`` (the oracle's loop, keeping the store)."""
    merger: EventTimeMerger[tuple[LogRecord, int]] = EventTimeMerger(dict(STREAM_RANK))
    offsets: dict[str, int] = {}
    for rec in records:
        offsets[rec.stream] = offsets.get(rec.stream, -1) + 1
        merger.push(0, rec.stream, rec.event_time, 0, (rec, offsets[rec.stream]))
    store = MemoryStore()
    runner = PartitionRunner(store, 0, TimePolicy(live=False).watermark(), 1)
    knowledge = Knowledge(default_catalogue())
    for rec, offset in merger.release(0, lambda _topic: True, 0):
        store.apply(runner.on_record(rec.stream, rec.value, Position(topics[rec.stream], offset), 0,
                                     knowledge).effects.writes)
    return store.data


class Raising:
    """A trigger kind with a bug: raises on one record, otherwise the kind it wraps."""

    def __init__(self, kind: Any, event_id: str) -> None:
        self._kind, self._event_id = kind, event_id

    def __getattr__(self, name: str) -> Any:
        return getattr(self._kind, name)

    def on_event(self, trigger: Any, observation: Any, memory: Any, venues: Any) -> Any:
        if observation.record.get("event_id") == self._event_id:
            raise RuntimeError("boom in a trigger kind")
        return self._kind.on_event(trigger, observation, memory, venues)


def test_a_record_whose_processing_raises_is_dead_lettered_and_not_applied(
        tmp_path: Path, log_records: list[LogRecord], monkeypatch: pytest.MonkeyPatch) -> None:
    # the last charging record: the others keep their offsets, so the oracle without it must
    # store exactly what the worker stores (positions included)
    failing = [r for r in log_records if r.stream == "charging"][-1]
    for name, kind in list(KINDS.items()):
        monkeypatch.setitem(KINDS, name, Raising(kind, failing.value["event_id"]))
    catalogue = default_catalogue()  # its plans are made with the kinds above
    held = by_partition(log_records, Worker(tmp_path, catalogue, {}, 1).topics, 1)
    worker = Worker(tmp_path, catalogue, held, 1)
    run(worker, held)
    stored = {bytes(k): bytes(v) for k, v in worker.feed.dbs[0].items()}
    worker.feed.close()

    letters = worker.dlq.decoded()
    assert len(letters) == 1
    tp = TP(worker.topics["charging"], 0)
    assert (letters[0]["source_offset"], letters[0]["payload"]) == (
        len(held[tp]) - 1, held[tp][-1].value)
    assert letters[0]["error"] == "processing failed: RuntimeError: boom in a trigger kind"
    assert worker.processor.counts["failed"] == 1
    # nothing of the failing record is stored, and every other record is applied as without it
    remaining = [r for r in log_records if r is not failing]
    assert stored == offline_store(remaining, worker.topics)
    oracle = run_offline(remaining, catalogue, 1)
    assert sorted(map(key, worker.decisions.decoded())) == sorted(map(key, oracle.decisions))
    assert worker.processor.committable()[tp] == len(held[tp])


class TimerRaising:
    """A trigger kind with a bug in its timers: raises for one subscriber's, and keeps which
    subscribers' timers it saw."""

    def __init__(self, kind: Any, imsi: str | None) -> None:
        self._kind, self._imsi = kind, imsi
        self.seen: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._kind, name)

    def on_timer(self, trigger: Any, due: int, instance: str, state: Any, memory: Any,
                 venues: Any) -> Any:
        self.seen.append(state.imsi)
        if state.imsi == self._imsi:
            raise RuntimeError("boom in a timer")
        return self._kind.on_timer(trigger, due, instance, state, memory, venues)


def test_a_timer_whose_firing_raises_is_dead_lettered_and_the_stream_goes_on(
        tmp_path: Path, log_records: list[LogRecord], monkeypatch: pytest.MonkeyPatch) -> None:
    def run_with(imsi: str | None, workdir: Path) -> tuple[Worker, list[str]]:
        wrappers = {name: TimerRaising(kind, imsi) for name, kind in KINDS.items()}
        with monkeypatch.context() as patch:
            for name, wrapper in wrappers.items():
                patch.setitem(KINDS, name, wrapper)
            catalogue = default_catalogue()
            held = by_partition(log_records, Worker(workdir, catalogue, {}, 1).topics, 1)
            worker = Worker(workdir, catalogue, held, 1)
            run(worker, held, size=1_000)
            worker.feed.close()
        return worker, [i for w in wrappers.values() for i in w.seen]

    clean, seen = run_with(None, tmp_path / "clean")
    assert seen, "the log must fire some trigger timers"
    imsi = seen[0]
    worker, _ = run_with(imsi, tmp_path / "buggy")

    letters = worker.dlq.decoded()
    assert letters and all(d["source_topic"] == "timers" and d["key"] == imsi.encode()
                           and d["error"] == "timer failed: RuntimeError: boom in a timer"
                           for d in letters)
    counts = worker.processor.counts
    assert counts["timers_failed"] == len(letters) == seen.count(imsi)
    assert counts["failed"] == 0 and counts["dead_letters"] == 0  # every record applied
    # every other subscriber is decided as without the bug
    def others(w: Worker) -> list[tuple[Any, ...]]:
        return sorted(key(d) for d in w.decisions.decoded() if d["imsi"] != imsi)
    assert others(worker) == others(clean)


def test_a_record_off_its_partition_is_dead_lettered(tmp_path: Path,
                                                     log_records: list[LogRecord]) -> None:
    catalogue = default_catalogue()
    topics = Worker(tmp_path, catalogue, {}, 4).topics
    held = by_partition(log_records, topics, 4)
    # the profiles of one subscriber written by a producer with another partitioner
    imsi = log_records[0].value["imsi"]
    moved = [r for r in log_records if r.stream == "subscribers" and r.value["imsi"] == imsi]
    assert moved
    home = next(tp.partition for tp, recs in held.items() for r in recs
                if r.key == imsi.encode())
    wrong = TP(topics["subscribers"], (home + 1) % 4)
    for tp in held:
        if tp.topic == topics["subscribers"]:
            held[tp] = [r for r in held[tp] if r.key != imsi.encode()]
            held[tp] = [replace(r, offset=i) for i, r in enumerate(held[tp])]
    held[wrong] += [Record(wrong.topic, wrong.partition, len(held[wrong]) + i, imsi.encode(),
                           encode(r.record_name, r.value), r.event_time)
                    for i, r in enumerate(moved)]
    worker = Worker(tmp_path, catalogue, held, 4)
    run(worker, held)
    wrong_db = worker.feed.dbs[wrong.partition]
    applied_there = wrong_db.get(imsi.encode())
    worker.feed.close()

    letters = worker.dlq.decoded()
    assert [(d["source_partition"], d["key"]) for d in letters] == [
        (wrong.partition, imsi.encode())] * len(moved)
    assert all(f"hashes to partition {home} of 4, not {wrong.partition}" in d["error"]
               and "murmur2_random" in d["error"] for d in letters)
    assert worker.processor.counts["wrong_partition"] == len(moved)
    assert applied_there is None, "nothing is decided on a record off its partition"
    oracle = run_offline([r for r in log_records if not any(r is m for m in moved)],
                         catalogue, 4)
    assert sorted(map(key, worker.decisions.decoded())) == sorted(map(key, oracle.decisions))


def future_record(log_records: list[LogRecord], event_time: int) -> LogRecord:
    """A copy of a charging record of the log, dated ``event_time``."""
    source = next(r for r in log_records if r.stream == "charging")
    value = {**source.value, "event_id": "from-the-future"}
    value["event_time"] = event_time
    return replace(source, value=value, event_time=event_time)


def test_replay_an_event_time_far_ahead_is_dead_lettered(tmp_path: Path,
                                                         log_records: list[LogRecord]) -> None:
    catalogue = default_catalogue()
    middle = len(log_records) // 2
    future = future_record(log_records, YEAR_2100_MS)
    assert future.event_time == YEAR_2100_MS
    records = [*log_records[:middle], future, *log_records[middle:]]
    held = by_partition(records, Worker(tmp_path, catalogue, {}, 1).topics, 1)
    worker = Worker(tmp_path, catalogue, held, 1)
    run(worker, held)
    worker.feed.close()

    letters = worker.dlq.decoded()
    assert len(letters) == 1 and "CJO_MAX_FUTURE_MS" in letters[0]["error"]
    assert worker.processor.counts["future"] == 1
    newest = max(r.event_time for r in log_records)
    assert worker.processor._runners[0].watermark.max_seen == newest  # never moved to 2100
    oracle = run_offline(log_records, catalogue, 1)
    assert sorted(map(key, worker.decisions.decoded())) == sorted(map(key, oracle.decisions))


def test_replay_a_partition_s_first_record_far_ahead_is_dead_lettered(
        tmp_path: Path, log_records: list[LogRecord]) -> None:
    """Nothing else of its partition read yet: bounded by the wall clock (taken, it would set
    the partition's watermark to 2100 for good)."""
    catalogue = default_catalogue()
    held = by_partition([future_record(log_records, YEAR_2100_MS)],
                        Worker(tmp_path, catalogue, {}, 1).topics, 1)
    worker = Worker(tmp_path, catalogue, held, 1)
    run(worker, held)
    worker.feed.close()

    assert worker.processor.counts["future"] == 1
    assert "ahead of the wall clock" in worker.dlq.decoded()[0]["error"]
    assert worker.processor._runners[0].watermark.max_seen < YEAR_2100_MS


def test_live_an_event_time_beyond_the_wall_clock_is_dead_lettered(
        tmp_path: Path, log_records: list[LogRecord]) -> None:
    catalogue = default_catalogue()
    """The default tolerance is minutes of clock skew, not a day: 2 min ahead is taken,
    23 h ahead (under the former default of a day) is refused."""
    now = max(r.event_time for r in log_records)
    records = [future_record(log_records, now + 2 * MINUTE_MS),
               future_record(log_records, now + 23 * HOUR_MS)]
    held = by_partition(records, Worker(tmp_path, catalogue, {}, 1).topics, 1)
    worker = Worker(tmp_path, catalogue, held, 1)
    worker.processor = Processor(worker.topics, worker.processor._publisher, worker.feed,
                                 catalogue, clock=FixedClock(now), time=TimePolicy(live=True))
    run(worker, held)
    worker.feed.close()

    letters = worker.dlq.decoded()
    assert [d["source_offset"] for d in letters] == [1]
    assert "ahead of the wall clock" in letters[0]["error"]
    assert worker.processor._runners[0].watermark.max_seen == now + 2 * MINUTE_MS


def test_the_runner_puts_its_watermark_back_when_a_record_fails(
        log_records: list[LogRecord], monkeypatch: pytest.MonkeyPatch) -> None:
    failing = future_record(log_records, YEAR_2100_MS)
    for name, kind in list(KINDS.items()):
        monkeypatch.setitem(KINDS, name, Raising(kind, "from-the-future"))
    runner = PartitionRunner(MemoryStore(), 0, Watermark(0, 0, live=False), 1)
    knowledge = Knowledge(default_catalogue())
    first = log_records[0]
    runner.on_record(first.stream, first.value, Position(first.stream, 0), 0, knowledge)
    with pytest.raises(RuntimeError):
        runner.on_record(failing.stream, failing.value, Position(failing.stream, 1), 0, knowledge)
    assert runner.watermark.value() == first.event_time


def test_every_dead_letter_log_line_says_why_masked_where_personal(
        tmp_path: Path, log_records: list[LogRecord], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A record dated 2100 and one keyed by another subscriber: each ``dead_letter`` line names
    its field and carries its reason; the key's reason masks both IMSIs, the date's shows it."""
    import json

    from cjo import logs

    catalogue = default_catalogue()
    future = future_record(log_records, YEAR_2100_MS)
    source = next(r for r in log_records if r.stream == "usage")
    other = "234159999999999"
    records = [*log_records[:50], future, source]
    held = by_partition(records, Worker(tmp_path, catalogue, {}, 1).topics, 1)
    usage = next(tp for tp in held if tp.topic.endswith("usage"))
    held[usage][-1] = replace(held[usage][-1], key=other.encode())  # keyed by another
    worker = Worker(tmp_path, catalogue, held, 1)
    logs.configure("INFO", "json", "test-salt")
    monkeypatch.setattr("streams.processor.log", logs.get("cjo.processor"))  # on this stderr
    try:
        run(worker, held)
        hashes = logs.hash_id(other), logs.hash_id(source.value["imsi"])
    finally:
        worker.feed.close()
        logs.configure()
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()
             if '"dead_letter"' in line]
    by_field = {line["field"]: line["reason"] for line in lines}
    assert set(by_field) == {"event_time", "key"}, lines
    assert by_field["event_time"].startswith(
        f"2100-01-01 00:00:00 UTC ({YEAR_2100_MS}) is more than CJO_MAX_FUTURE_MS")
    assert other not in by_field["key"] and source.value["imsi"] not in by_field["key"]
    assert by_field["key"].endswith(
        f"<masked:{hashes[0]}> does not match imsi <masked:{hashes[1]}>")
    assert len(worker.dlq.decoded()) == 2
