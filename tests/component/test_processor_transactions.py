"""Exactly-once in the processor (``streams.transactions``, broker stand-ins): each partition's
step is one transaction holding that partition's offers, changelog records and input offsets;
faust is given no offset to commit; a partition's state is stored only once its transaction
committed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from faust.types import TP

from cjo import codec, partitioning
from cjo.catalogue.validate import default_catalogue
from cjo.engine.offline import run_offline
from streams.processor import Processor, TimePolicy
from streams.transactions import Writes
from tests.component.harness import Worker, by_partition, decision_key, fetches, simulated

PARTITIONS = 4


@pytest.fixture(scope="module")
def log_records(tmp_path_factory: pytest.TempPathFactory) -> list:  # type: ignore[type-arg]
    return simulated(tmp_path_factory.mktemp("log"), subscribers=60, days=3, seed=11)


@dataclass
class Producer:
    records: list[Any] = field(default_factory=list)
    changelog: list[tuple[bytes, bytes | None]] = field(default_factory=list)


@dataclass
class Transaction:
    partition: int
    producer: Producer
    offsets: dict[TP, int]


class Transactions:
    """Commits every transaction, except the ``fail_at``-th, which raises (as a fenced one)."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.committed: list[Transaction] = []
        self.fail_at = fail_at
        self.calls = 0

    async def commit(self, partition: int, writes: Writes, offsets: Mapping[TP, int],
                     still_ours: Callable[[], bool]) -> list[int] | None:
        self.calls += 1
        producer = Producer()
        futures = await writes(producer)
        if self.calls == self.fail_at:
            raise RuntimeError("injected: fenced")
        self.committed.append(Transaction(partition, producer, dict(offsets)))
        return [int(await f) for f in futures]


class Eos:
    def __init__(self, transactions: Transactions) -> None:
        self.transactions = transactions
        self.persisted: dict[int, int] = {}
        self._next: dict[int, int] = {}

    async def send_records_on(self, producer: Producer, records: Sequence[Any]) -> list[Any]:
        producer.records.extend(records)
        return []

    async def send_changelog_on(self, producer: Producer, partition: int,
                                items: Sequence[tuple[bytes, bytes | None]]) -> list[Any]:
        producer.changelog.extend(items)
        self._next[partition] = self._next.get(partition, 0) + len(items)
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        future.set_result(self._next[partition] - 1)
        return [future]

    def persist_offset(self, partition: int, offset: int) -> None:
        self.persisted[partition] = offset


def exactly_once_worker(tmp_path: Path, held: dict[TP, list[Any]], eos: Eos) -> Worker:
    worker = Worker(tmp_path, default_catalogue(), held, PARTITIONS)
    worker.processor = Processor(worker.topics, worker.processor._publisher, worker.feed,
                                 default_catalogue(), time=TimePolicy(live=False),
                                 partitions=PARTITIONS, exactly_once=eos)  # type: ignore[arg-type]
    return worker


def test_a_transaction_per_partition_holds_its_offers_state_and_offsets(
        tmp_path: Path, log_records: list) -> None:  # type: ignore[type-arg]
    oracle = run_offline(log_records, default_catalogue(), PARTITIONS)
    topics = Worker(tmp_path, default_catalogue(), {}, PARTITIONS).topics
    held = by_partition(log_records, topics, PARTITIONS)
    eos = Eos(Transactions())
    worker = exactly_once_worker(tmp_path, held, eos)

    async def run() -> None:
        for fetch in fetches(held, 200):
            await worker.processor.on_batch(fetch)

    asyncio.run(run())
    worker.feed.close()
    assert worker.processor.committable() == {}  # faust commits none of the input offsets
    # nothing published outside a transaction
    assert [t for t, sent in worker.broker.topics.items() if sent.values] == []
    offers, decisions, committed = [], [], {}
    offer_topics = set(topics.offers().values())
    for txn in eos.transactions.committed:
        assert {tp.partition for tp in txn.offsets} <= {txn.partition}
        committed.update(txn.offsets)
        for topic, key, value, _ in txn.producer.records:
            if topic in offer_topics or topic == topics["decisions"]:
                assert key is not None and value is not None
                assert partitioning.partition_of(key, PARTITIONS) == txn.partition
                (offers if topic in offer_topics else decisions).append(codec.decode(value)[1])
    assert sorted(map(decision_key, decisions)) == sorted(map(decision_key, oracle.decisions))
    assert sorted(o["offer_id"] for o in offers) == sorted(o["offer_id"] for o in oracle.offers)
    assert {tp: committed.get(tp) for tp in held} == {tp: len(r) for tp, r in held.items()}
    assert set(eos.persisted) == set(range(PARTITIONS))


def test_a_transaction_that_fails_stores_nothing_of_its_partition(
        tmp_path: Path, log_records: list) -> None:  # type: ignore[type-arg]
    topics = Worker(tmp_path, default_catalogue(), {}, PARTITIONS).topics
    held = by_partition(log_records, topics, PARTITIONS)
    eos = Eos(Transactions(fail_at=1))
    worker = exactly_once_worker(tmp_path, held, eos)

    async def run() -> None:
        for fetch in fetches(held, 200):
            await worker.processor.on_batch(fetch)

    with pytest.raises(RuntimeError, match="injected"):
        asyncio.run(run())
    failed = 0  # the first transaction, on the lowest partition the step touched
    untouched = [p for p in range(PARTITIONS)
                 if p not in {t.partition for t in eos.transactions.committed}]
    assert failed in untouched
    assert list(worker.feed.partition_db(failed).keys()) == []
    assert failed not in eos.persisted
    worker.feed.close()
