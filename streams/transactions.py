"""Exactly-once (``CJO_PROCESSING_GUARANTEE=exactly_once``): one Kafka transaction per input
partition per step.

Each input partition the worker owns has its own transactional producer, with a transactional
id made of the app id and the partition number (``transactional_id``): the same on whichever
worker owns the partition. A new owner starts its producer when the partition is assigned, and
the broker then bumps the id's epoch and aborts whatever transaction the previous owner left
open: a previous owner that was only paused (a zombie) and comes back is fenced, each of its
writes refused (``ProducerFenced``), and it stops (``streams.failstop``).

A step's transaction for partition p holds: the offers, decisions, outcomes and learning
examples decided from p's records, the dead letters of p's records, the changelog records of
p's state, and p's input offsets (the input topics' and the tick topic's), committed for the
consumer group (``send_offsets_to_transaction``); then it commits. Only once it has committed
is the state written to the partition's RocksDB (and the changelog offset it holds recorded):
a transaction that aborts, or a worker that dies before committing, leaves the database as the
committed changelog has it. The consumer group's offsets for the input topics are committed
nowhere else (``streams.processor.Processor.committable`` gives faust none).

Why not faust's own ``processing_guarantee="exactly_once"``: its transaction manager keys a
producer on the partition a record is *sent to*, not the input partition it came from, commits
on faust's commit timer rather than after a step, and routes every faust send (ticks, the
learner's snapshots) through transactions; cjo's batch path writes neither through faust's
sends nor its timer (docs/architecture.md, "Exactly-once").
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from aiokafka import TopicPartition
from aiokafka.errors import ProducerFenced

from cjo import logs

log = logs.get("cjo.transactions")

# (producer) -> futures of the last offset written to the changelog, by batch
Writes = Callable[[Any], Awaitable[list[Any]]]


def transactional_id(app_id: str, partition: int) -> str:
    """Stable per input partition: a new owner's producer fences the previous owner's."""
    return f"{app_id}-cjo-partition-{partition}"


class Transactions:
    def __init__(self, app_id: str, group_id: str,
                 new_producer: Callable[[str], Any]) -> None:
        """``new_producer(transactional_id)``: an aiokafka producer, not started."""
        self._app_id = app_id
        self._group_id = group_id
        self._new_producer = new_producer
        self._producers: dict[int, Any] = {}
        self._starting: dict[int, asyncio.Task[Any]] = {}
        self._locks: dict[int, asyncio.Lock] = {}  # held through a transaction
        self.committed = 0  # transactions committed
        self.aborted = 0

    async def claim(self, partitions: Iterable[int]) -> None:
        """Partitions assigned: start their producers, which fences their previous owners
        (done before their records are read, so a zombie's transaction cannot commit between
        this worker reading the committed offsets and its first transaction)."""
        await asyncio.gather(*(self._producer(p) for p in partitions))

    async def release(self, partitions: Iterable[int] | None = None) -> None:
        """Partitions revoked (None: all): stop their producers (the next owner's fence any
        transaction left open)."""
        gone = list(self._producers if partitions is None else partitions)
        await asyncio.gather(*(self._release(p) for p in gone))

    async def _release(self, partition: int) -> None:
        async with self._lock(partition):  # a transaction under way ends first (aborted:
            await self._discard(partition)  # the partition is no longer ours)

    def _lock(self, partition: int) -> asyncio.Lock:
        return self._locks.setdefault(partition, asyncio.Lock())

    async def commit(self, partition: int, writes: Writes, offsets: Mapping[Any, int],
                     still_ours: Callable[[], bool]) -> list[int] | None:
        """One transaction: ``writes`` (sends on the producer), the input ``offsets``
        (topic-partition -> next offset) for the consumer group, commit. Aborted instead, and
        None returned, if the partition is no longer ours when it would commit. Returns the
        last changelog offset of each changelog batch written. Any error (``ProducerFenced``: a
        newer owner of the partition exists) discards the producer and raises."""
        async with self._lock(partition):
            return await self._commit(partition, writes, offsets, still_ours)

    async def _commit(self, partition: int, writes: Writes, offsets: Mapping[Any, int],
                      still_ours: Callable[[], bool]) -> list[int] | None:
        if not still_ours():
            return None
        producer = await self._producer(partition)
        try:
            await producer.begin_transaction()
            futures = await writes(producer)
            if offsets:
                await producer.send_offsets_to_transaction(
                    {TopicPartition(tp.topic, tp.partition): offset
                     for tp, offset in offsets.items()}, self._group_id)
            if not still_ours():
                await producer.abort_transaction()
                self.aborted += 1
                return None
            await producer.commit_transaction()
        except BaseException as err:  # cancelled (a rebalance), fenced, broker error
            if isinstance(err, ProducerFenced):
                log.error("producer_fenced", partition=partition,
                          transactional_id=transactional_id(self._app_id, partition))
            await asyncio.shield(self._discard(partition))
            raise
        self.committed += 1
        return [int(offset) for offset in await asyncio.gather(*futures)]

    async def _producer(self, partition: int) -> Any:
        producer = self._producers.get(partition)
        if producer is not None:
            return producer
        task = self._starting.get(partition)
        if task is None:
            task = self._starting[partition] = asyncio.ensure_future(self._start(partition))
        try:
            return await asyncio.shield(task)
        finally:
            self._starting.pop(partition, None)

    async def _start(self, partition: int) -> Any:
        tid = transactional_id(self._app_id, partition)
        producer = self._new_producer(tid)
        await producer.start()
        # the producer id (InitProducerId) is what fences the previous owner: wait for it
        await producer._txn_manager.wait_for_pid()
        self._producers[partition] = producer
        log.info("transactional_producer", partition=partition, transactional_id=tid)
        return producer

    async def _discard(self, partition: int) -> None:
        producer = self._producers.pop(partition, None)
        if producer is not None:
            try:
                await producer.stop()
            except Exception as exc:  # closing a broken producer: nothing more to lose
                log.warning("producer_stop_failed", partition=partition, error=repr(exc))


def by_partition(offsets: Mapping[Any, int], sent: Mapping[Any, int]
                 ) -> dict[int, dict[Any, int]]:
    """The offsets that moved since ``sent``, grouped by partition number."""
    grouped: dict[int, dict[Any, int]] = {}
    for tp, offset in offsets.items():
        if sent.get(tp) != offset:
            grouped.setdefault(tp.partition, {})[tp] = offset
    return grouped


def concat(parts: Sequence[Writes]) -> Writes:
    async def write(producer: Any) -> list[Any]:
        futures: list[Any] = []
        for part in parts:
            futures.extend(await part(producer))
        return futures

    return write
