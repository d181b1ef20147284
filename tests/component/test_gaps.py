"""Offset gaps through the real processor: records dropped before it are read again, never
skipped; offsets the broker holds no record at (compaction, transaction markers) are passed
once the broker says so twice; a broker that keeps answering otherwise stops the worker."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from faust.types import TP

from cjo.adapters.kafka_admin import Record
from cjo.catalogue.validate import default_catalogue
from cjo.engine.offline import run_offline
from streams.gaps import GapNotFilled
from tests.component.harness import Worker, by_partition, decision_key, simulated

PARTITIONS = 2
FETCH = 40


@pytest.fixture(scope="module")
def log_records(tmp_path_factory: pytest.TempPathFactory) -> list:
    return simulated(tmp_path_factory.mktemp("log"), subscribers=30, days=2, seed=5)


key = decision_key


class Consumer:
    """Fetches of up to ``FETCH`` records per partition from a position per partition, as
    aiokafka reads: from the first record at or after the position; ``seek`` moves it."""

    def __init__(self, held: dict[TP, list[Record]]) -> None:
        self.held = held
        self.position = {tp: 0 for tp in held}
        self.seeks = 0

    def fetch(self) -> dict[TP, list[Record]]:
        batch = {}
        for tp, records in self.held.items():
            ready = [r for r in records if r.offset >= self.position[tp]][:FETCH]
            if ready:
                batch[tp] = ready
                self.position[tp] = ready[-1].offset + 1
        return batch

    def seek(self, tp: TP, offset: int) -> None:
        self.position[tp] = offset
        self.seeks += 1

    def at_end(self) -> bool:
        return all(self.position[tp] > r[-1].offset for tp, r in self.held.items() if r)


async def consume(worker: Worker, consumer: Consumer,
                  before: Callable[[int, Consumer], None] = lambda n, c: None) -> None:
    """What ``streams.faust_pins.BatchConsumer`` does: a fetch to the processor, then the
    seeks its gap guard asks for."""
    n = 0
    while not consumer.at_end():
        before(n, consumer)
        await worker.processor.on_batch(consumer.fetch())
        for tp, offset in worker.processor.seeks().items():
            consumer.seek(tp, offset)
        n += 1
    for _ in range(3):  # what waits in the merge for the other topics' ends goes
        await worker.processor.on_batch({})


def run_through(tmp_path: Path, log_records: list, held: dict[TP, list[Record]],  # type: ignore[type-arg]
                before: Callable[[int, Consumer], None] = lambda n, c: None
                ) -> tuple[Worker, Consumer]:
    worker = Worker(tmp_path, default_catalogue(), held, PARTITIONS)
    worker.feed.ends = {tp: r[-1].offset + 1 for tp, r in held.items()}
    consumer = Consumer(held)
    try:
        asyncio.run(consume(worker, consumer, before))
    finally:
        worker.feed.close()
    return worker, consumer


def assert_as_the_oracle(worker: Worker, log_records: list) -> None:  # type: ignore[type-arg]
    oracle = run_offline(log_records, default_catalogue(), PARTITIONS)
    assert len(oracle.offers) >= 3
    assert Counter(map(key, worker.decisions.decoded())) == Counter(map(key, oracle.decisions))
    assert sorted(worker.offer_ids()) == sorted(o["offer_id"] for o in oracle.offers)


def test_records_dropped_before_the_processor_are_read_again(tmp_path: Path,
                                                             log_records: list) -> None:  # type: ignore[type-arg]
    topics = Worker(tmp_path, default_catalogue(), {}, PARTITIONS).topics
    held = by_partition(log_records, topics, PARTITIONS)
    victim = max(held, key=lambda tp: len(held[tp]))
    assert len(held[victim]) > 4 * FETCH

    def drop_a_fetch(n: int, consumer: Consumer) -> None:
        if n == 2:  # the consumer moves on past a fetch the processor never sees
            consumer.position[victim] += FETCH

    worker, consumer = run_through(tmp_path, log_records, held, drop_a_fetch)
    # every record decided once: none skipped (the dropped ones were read again), none twice
    counts = worker.processor.counts
    assert sum(counts[stream] for stream in topics.inputs()) == len(log_records)
    assert_as_the_oracle(worker, log_records)
    assert worker.processor.committable()[victim] == len(held[victim])
    assert consumer.seeks == 1


def test_offsets_without_records_are_passed_on_the_broker_s_word(
        tmp_path: Path, log_records: list) -> None:  # type: ignore[type-arg]
    """As after compaction or between transactions: every other offset holds no record (a
    fetch skips them, inside it and where it begins)."""
    topics = Worker(tmp_path, default_catalogue(), {}, PARTITIONS).topics
    held = {tp: [replace(r, offset=2 * r.offset + 1) for r in records]
            for tp, records in by_partition(log_records, topics, PARTITIONS).items()}
    worker, consumer = run_through(tmp_path, log_records, held)
    assert consumer.seeks > 0  # each fetch began on an empty offset: read twice more
    assert_as_the_oracle(worker, log_records)
    committable = worker.processor.committable()
    assert {tp: committable.get(tp) for tp in held} == {
        tp: r[-1].offset + 1 for tp, r in held.items()}


def test_a_broker_that_keeps_not_returning_them_stops_the_worker(
        tmp_path: Path, log_records: list) -> None:  # type: ignore[type-arg]
    topics = Worker(tmp_path, default_catalogue(), {}, PARTITIONS).topics
    held = by_partition(log_records, topics, PARTITIONS)
    victim = max(held, key=lambda tp: len(held[tp]))

    def wanders(n: int, consumer: Consumer) -> None:
        if n >= 2:  # every read of the partition lands elsewhere past where it was asked
            consumer.position[victim] += n

    with pytest.raises(GapNotFilled, match="were not returned by"):
        run_through(tmp_path, log_records, held, wanders)
