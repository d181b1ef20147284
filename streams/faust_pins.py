"""Every faust-streaming internal cjo leans on, in one place (faust is pinned in pyproject.toml).

``tests/unit/test_faust_pins.py`` fails if faust changes under any of them. What cjo changes:

- **Input topics bypass faust's stream machinery.** ``BatchConsumer._drain_messages`` hands each
  fetch of the input topics to cjo whole (``BatchHandler.on_batch``) instead of one record at a
  time through the conductor, a ``Stream`` and an agent (faust's per-message path costs tens of
  microseconds: ``wait_first`` per message, ``Event`` objects, sensors, acks). Those records are
  never tracked as "unacknowledged" by faust, so a revocation or a stop never waits for them
  (faust's ``wait_empty`` was the rebalance deadlock), and their commits come from cjo's own
  record of what is processed and durable (``BatchHandler.committable``), through faust's
  commit path (which flushes the producer first and drops revoked partitions).
- **State is read and written per partition without an event context**: ``partition_db`` is the
  partition's RocksDB (rocksdict) database; ``send_changelog`` writes the table's changelog in
  whole record batches.
- **A gap is read again**: after a batch, a partition whose records the handler stopped taking
  at an offset gap is sought back to the offset it expects (``streams.gaps``).
- **Exact end offsets on the embedded broker** (``highwaters``; see ``exact_offsets``).
- **The fetch wait and size** (``fetch_max_wait_ms``, hard-coded by faust, and
  ``fetch_max_bytes``) are cjo's.
- **The state is restored by cjo's reader** (``FastRecovery``, ``FastRestoreTables``): after
  a rebalance, before faust's recovery compares each active changelog partition's persisted
  offset with its end, ``streams.restore`` reads what is missing into the partition's database
  in RocksDB write batches and records the offset as faust's store does; faust then finds
  nothing left to read (or only what the reader did not reach) and resumes the streams.
- **Exactly-once** (``CJO_PROCESSING_GUARANTEE=exactly_once``, ``streams.transactions``): the
  consumer reads ``read_committed``; its ``highwaters`` for the changelog recovery are the ends
  of the committed records (a commit marker fills the last offset); the transactional producers
  of newly assigned partitions are started (``on_assign``) before faust's own assignment
  handling; records and changelog batches go to a given (transactional) producer
  (``send_records_on``, ``send_changelog_on``) and the persisted changelog offset is moved once
  the transaction committed (``persist_offset``).
- **Fail-stop** (``install_failstop``): faust reports every error of its services (an agent's
  actor, an app task or timer, the fetcher that runs cjo's batches, the commit, the changelog
  recovery) through mode's ``Service.crash``; there, instead of restarting the agent or
  attempting a graceful stop, the worker halts (``streams.failstop``). A failed write in a
  changelog delivery callback, which asyncio would only log, halts it too.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from time import monotonic
from typing import Any, Protocol, cast

import mode
from aiokafka import TopicPartition
from faust.tables.manager import TableManager
from faust.tables.recovery import Recovery
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP
from mode.utils.times import want_seconds

from cjo import logs
from streams.publisher import Record
from streams.restore import Partition, Restored, Target

log = logs.get("cjo.consumer")
restore_log = logs.get("cjo.restore")

Halt = Callable[[BaseException, str], None]  # (error, where): does not return
_halt: Halt | None = None  # set by install_failstop


class BatchHandler(Protocol):
    """What takes the input topics' records off the consumer."""

    def wants(self, topic: str) -> bool: ...

    async def on_batch(self, batch: Mapping[TP, Sequence[Any]]) -> None:
        """Records (aiokafka ``ConsumerRecord``: topic, partition, offset, key, value,
        timestamp, headers) per topic-partition, in offset order."""
        ...

    def committable(self) -> Mapping[TP, int]:
        """Per topic-partition: the offset up to which every record is processed and durable."""
        ...

    def forget(self, partitions: set[int] | None = None) -> None:
        """Drop what is held for these partitions (None: all); they are read again."""
        ...

    def seeks(self) -> Mapping[TP, int]:
        """Partitions to fetch again from an offset (once; ``streams.gaps``)."""
        ...


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    """faust's consumer thread, with the fetch wait of the ``BatchConsumer`` it serves."""

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # faust hard-codes 1500 ms; the embedded broker answers a waiting fetch only when the
        # wait ends, new data or not (measured: p50 370 ms from produce to fetch at 1500,
        # 34 ms at 100). Apache Kafka answers at once on new data either way.
        batch_consumer = cast(BatchConsumer, self.consumer)
        consumer._fetch_max_wait_ms = batch_consumer.fetch_max_wait_ms
        # aiokafka asks for up to 50 MB a fetch; the embedded broker fills a response from one
        # partition at a time, so the event-time merge held whole topics while another topic
        # of the same partition waited for its turn (a few MB per fetch keeps that bounded)
        consumer._fetch_max_bytes = batch_consumer.fetch_max_bytes
        if batch_consumer.read_committed:
            # exactly-once: the changelog and the learning examples are written in
            # transactions; a zombie's aborted ones must not be restored or learned from.
            # faust's own switch (processing_guarantee) would also route its sends through its
            # transaction manager (docs/architecture.md, "Exactly-once")
            consumer._isolation_level = "read_committed"
        return consumer


class BatchConsumer(faust_aiokafka.Consumer):
    """faust's aiokafka consumer; the topics a ``BatchHandler`` wants go to it a fetch at a time."""

    handler: BatchHandler | None = None
    exact_highwaters: Any = None  # async (topics) -> {(topic, partition): end}, or None
    fetch_max_wait_ms: int = 100
    fetch_max_bytes: int = 4 * 1024 * 1024
    read_committed: bool = False  # exactly-once (see _ConsumerThread)
    # exactly-once: async (ends: {(topic, partition): last stable offset}) -> {(topic,
    # partition): the offset after the last record a read_committed reader sees below it}
    committed_ends: Any = None

    # exactly-once: async (assigned TPs) -> None, awaited before faust's own assignment
    # handling (its changelog recovery, then the seek to the committed offsets)
    on_assign: Any = None
    _input_stopped: bool = False  # a drain (streams.drain): no fetch is handed on any more
    _idle: asyncio.Event | None = None  # set while no fetch is being handed on

    def _idle_event(self) -> asyncio.Event:
        if self._idle is None:
            self._idle = asyncio.Event()
            self._idle.set()
        return self._idle

    def uncommitted(self) -> int:
        """The input partitions whose processed and durable offset is not committed yet."""
        if self.handler is None:
            return 0
        return sum(1 for tp, offset in self.handler.committable().items()
                   if self._committed_offset.get(tp) != offset)

    async def stop_input(self) -> None:
        """No fetch is handed on from now on; returns once the one in hand is done (its
        records processed and their writes sent): what is processed may then be committed."""
        self._input_stopped = True
        await self._idle_event().wait()

    def _new_consumer_thread(self) -> Any:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def on_partitions_assigned(self, assigned: set[TP], generation_id: int = 0) -> None:
        if self.on_assign is not None:
            await self.on_assign(assigned)
        await super().on_partitions_assigned(assigned, generation_id)

    async def _drain_messages(self, fetcher: Any) -> None:
        """Replaces faust's loop (``Consumer._drain_messages``); same stop and error handling."""
        try:
            while not (self._stopped.is_set() or fetcher._stopped.is_set()):
                if self._input_stopped:
                    await asyncio.sleep(0.1)  # drained: faust stops the consumer soon
                    continue
                records, active = await self._wait_next_records(1.0)
                if records is None or self.should_stop or self._input_stopped:
                    continue  # a drain: not taken, not committed (the next owner reads them)
                if not self.flow_active:
                    await self._seek_back()
                    continue
                idle = self._idle_event()
                idle.clear()
                try:
                    await self._deliver(records, active)
                finally:
                    idle.set()
                await asyncio.sleep(0)
        except self.consumer_stopped_errors:
            if self.transport.app.should_stop:
                log.info("consumer_stopped")
                return
            raise
        except asyncio.CancelledError:
            if self.transport.app.should_stop:
                return
            raise

    async def _seek_back(self) -> None:
        """What faust does with a fetch that returns while its flow is stopped (a rebalance)."""
        if self.handler is not None:
            self.handler.forget(None)
        try:
            await self.perform_seek()
        except Exception as exc:  # faust logs and goes on here too
            log.warning("seek_failed", error=repr(exc))

    async def _deliver(self, records: Mapping[TP, Sequence[Any]], active: Any) -> None:
        handler = self.handler
        ours: dict[TP, Sequence[Any]] = {}
        now = monotonic()
        for tp, batch in records.items():
            if active is not None and tp not in active and tp not in self._buffered_partitions:
                # paused while the fetch was awaited (faust pauses in place the very set it
                # fetched for): aiokafka's position is past these records, so they are read
                # again when it resumes, not skipped (faust drops them)
                if handler is not None and handler.wants(tp.topic) and tp in self.assignment():
                    await self.seek(tp, batch[0].offset)
                continue
            if handler is not None and handler.wants(tp.topic):
                ours[tp] = batch
                self._read_offset[tp] = batch[-1].offset
                # faust's livelock check reads when a stream last took a record of the TP
                self.app.monitor.stream_inbound_time[tp] = now
            else:
                await self._deliver_to_streams(tp, batch)
        if handler is not None:  # even with nothing new: what waits in its merge may go now
            await handler.on_batch(ours)
            await self._read_again(handler)

    async def _read_again(self, handler: BatchHandler) -> None:
        """Partitions whose records the handler stopped taking at a gap (``streams.gaps``) are
        fetched again from the offset it expects (aiokafka drops what it prefetched from the
        old position)."""
        assigned = self.assignment()
        for tp, offset in handler.seeks().items():
            if tp in assigned:  # else revoked meanwhile: its next owner reads it
                await self.seek(tp, offset)

    async def _deliver_to_streams(self, tp: TP, batch: Sequence[Any]) -> None:
        """faust's own per-message delivery (changelogs in recovery, other agents' topics).
        faust wraps every delivery in ``wait_first`` (four tasks, ~24 us a message) so that a
        rebalance can abandon one blocked in flow control; a delivery that starts while the
        flow is on cannot block there (flow control is the conductor's first wait), so only
        one that starts while it is suspended gets the wrapper."""
        callback = self.callback
        for record in batch:
            if not self.flow_active:
                return  # a rebalance began: faust seeks back and delivers these again
            r_offset = self._read_offset[tp]
            if r_offset is not None and record.offset < r_offset:
                continue
            message = self._to_message(tp, record)
            if self.suspend_flow.is_set() or not self.app.flow_control.is_active():
                await self.wait_first(callback(message), self.suspend_flow.wait())
            else:
                await callback(message)
            self._read_offset[tp] = record.offset

    async def _commit(self, offsets: Mapping[TP, int]) -> bool:
        """faust's commit. One the group refuses (this member was expelled: aiokafka's
        ``CommitFailedError`` "already rebalanced", which faust turns into False) is logged,
        and what the handler holds is dropped at once: those partitions are another member's
        now, and the rejoin that follows seeks back to the committed offsets."""
        done: bool = await super()._commit(offsets)
        if not done and offsets:
            log.warning("commit_refused", partitions=sorted(f"{tp.topic}[{tp.partition}]"
                                                            for tp in offsets))
            if self.handler is not None:
                self.handler.forget(None)
        return done

    def _filter_tps_with_pending_acks(self, topics: Any = None) -> Iterator[TP]:
        tps = set(super()._filter_tps_with_pending_acks(topics))
        if self.handler is not None:
            tps.update(tp for tp in self.handler.committable()
                       if topics is None or tp in topics or tp.topic in topics)
        return iter(tps)

    def _new_offset(self, tp: TP) -> int | None:
        if self.handler is not None and self.handler.wants(tp.topic):
            return self.handler.committable().get(tp)
        result: int | None = super()._new_offset(tp)
        return result

    async def highwaters(self, *partitions: TP) -> Mapping[TP, int]:
        """Read by faust's changelog recovery: it restores up to the record before each.
        Read committed, the last stable offset is past a transaction's commit marker, which no
        record fills: recovery would wait for it forever, so the end given is the one after
        the last record a read_committed reader gets."""
        if self.exact_highwaters is None:
            result: Mapping[TP, int] = await super().highwaters(*partitions)
            if self.committed_ends is not None:
                ends = await self.committed_ends(
                    {(tp.topic, tp.partition): end for tp, end in result.items()})
                return {tp: ends[(tp.topic, tp.partition)] for tp in result}
            return result
        ends = await self.exact_highwaters(sorted({tp.topic for tp in partitions}))
        return {tp: ends[(tp.topic, tp.partition)] for tp in partitions}


class Transport(faust_aiokafka.Transport):
    Consumer = BatchConsumer


def install_transport(app: Any) -> BatchConsumer:
    """Give ``app`` the batch consumer (before it starts); returns the consumer."""
    app.transport = Transport(app.conf.broker_consumer, app)
    consumer: BatchConsumer = app.consumer
    assert isinstance(consumer, BatchConsumer)
    return consumer


def install_failstop(halt: Halt) -> None:
    """From now on, in this process, a crash of any faust service (mode's ``Service.crash``)
    calls ``halt(error, service)``, which must not return. Not the cancellation faust itself
    uses to restart the fetcher or an agent's actor on a rebalance: that still goes to faust."""
    global _halt  # noqa: PLW0603 - one process, one way to stop it
    _halt = halt
    crash = mode.Service.crash
    if getattr(crash, "failstop", False):
        return

    async def fail_stop(self: mode.Service, reason: BaseException) -> None:
        if isinstance(reason, asyncio.CancelledError) or _halt is None:
            await crash(self, reason)
            return
        _halt(reason, self.label)

    fail_stop.failstop = True  # type: ignore[attr-defined]
    mode.Service.crash = fail_stop  # type: ignore[method-assign]


def partition_db(table: Any, partition: int) -> Any:
    """The rocksdict database (raw mode) of one partition of a RocksDB-backed table."""
    return table._data._db_for_partition(partition)


async def send_records(app: Any, records: Sequence[Record]) -> list[Any]:
    """Publish records as whole record batches, one or more per topic-partition, straight to the
    aiokafka producer (a record without a partition goes where its key hashes, as with
    ``Topic.send``); returns a future of each batch's delivery. faust's path is a
    ``Topic.send`` per record: serialisers, sensors and a future per message, tens of
    microseconds each."""
    return await send_records_on(app.producer._ensure_producer(), records)


async def send_records_on(producer: Any, records: Sequence[Record]) -> list[Any]:
    """``send_records`` on a given aiokafka producer (exactly-once: a transactional one)."""
    groups: dict[tuple[str, int], list[tuple[bytes | None, bytes | None]]] = {}
    known: set[str] = set()
    for topic, key, value, chosen in records:
        partition = chosen
        if partition is None:
            if topic not in known:
                await producer.client._wait_on_metadata(topic)
                known.add(topic)
            partition = producer._partition(topic, None, key, value, key, value)
        groups.setdefault((topic, partition), []).append((key, value))
    deliveries: list[Any] = []
    for (topic, partition), items in groups.items():
        deliveries.extend(f for f, _ in await _send_batches(producer, topic, partition, items))
    return deliveries


async def send_changelog(app: Any, table: Any, partition: int,
                         items: Sequence[tuple[bytes, bytes | None]]) -> list[Any]:
    """Write keys to the table's changelog partition as whole record batches (see
    ``send_records``; faust's own writes also pass through its producer buffer, which drains one
    message at a time and which its commit waits to see empty). On delivery the store records
    the batch's last changelog offset, as faust's ``_on_changelog_sent`` does for each write
    (not once the partition is revoked or the worker is stopping)."""
    producer = app.producer._ensure_producer()
    topic = table.changelog_topic.get_topic_name()
    store = table.data
    sent = await _send_batches(producer, topic, partition, items)
    for delivery, count in sent:
        def persisted(done: asyncio.Future[Any], count: int = count) -> None:
            if partition not in store._dbs:
                # revoked or stopping: faust let go of the database (``revoke_partitions``,
                # ``stop``) without closing it, and reopening it here fails on its lock; the
                # next owner's recovery reads these few changelog records again
                return
            if not done.cancelled() and done.exception() is None:
                try:
                    store.set_persisted_offset(TP(topic, partition),
                                               done.result().offset + count - 1)
                except Exception as exc:  # a state write failed: asyncio would only log it
                    if _halt is None:
                        raise
                    _halt(exc, "changelog delivery")

        delivery.add_done_callback(persisted)
    return [delivery for delivery, _ in sent]


def changelog_topic(table: Any) -> str:
    return str(table.changelog_topic.get_topic_name())


async def send_changelog_on(producer: Any, table: Any, partition: int,
                            items: Sequence[tuple[bytes, bytes | None]]) -> list[Any]:
    """The changelog records of ``items`` on a given producer (exactly-once: a transactional
    one), whole record batches; futures of the offset of each batch's last record. The store's
    persisted offset is not touched (``persist_offset``, once the transaction commits)."""
    sent = await _send_batches(producer, changelog_topic(table), partition, items)
    return [_last_offset(delivery, count) for delivery, count in sent]


def _last_offset(delivery: asyncio.Future[Any], count: int) -> asyncio.Future[int]:
    return asyncio.ensure_future(_offset_after(delivery, count))


async def _offset_after(delivery: asyncio.Future[Any], count: int) -> int:
    return int((await delivery).offset) + count - 1


def persist_offset(table: Any, partition: int, offset: int) -> None:
    """The changelog offset up to which the partition's database holds the state (faust's
    recovery reads the changelog from there), if faust still holds the partition's database."""
    store = table.data
    if partition in store._dbs:
        store.set_persisted_offset(TP(changelog_topic(table), partition), offset)


def transactional_producer(app: Any, transactional_id: str) -> Any:
    """An aiokafka producer with faust's producer settings (servers, security, compression,
    linger, batch size) and a transactional id (so idempotent, acks=all); not started."""
    return app.producer._new_producer(transactional_id=transactional_id)


async def _send_batches(producer: Any, topic: str, partition: int,
                        items: Sequence[tuple[bytes | None, bytes | None]]
                        ) -> list[tuple[Any, int]]:
    """(future of delivery, records in the batch), for as many batches as the items need."""
    sent: list[tuple[Any, int]] = []
    batch, count = producer.create_batch(), 0
    for key, value in items:
        if batch.append(key=key, value=value, timestamp=None) is None:
            sent.append((await producer.send_batch(batch, topic, partition=partition), count))
            batch, count = producer.create_batch(), 0
            if batch.append(key=key, value=value, timestamp=None) is None:
                raise ValueError(f"a record of {len(value or b'')} bytes does not fit in a "
                                 f"producer batch")
        count += 1
    if count:
        sent.append((await producer.send_batch(batch, topic, partition=partition), count))
    return sent


def fetched_at(consumer: Any, tp: TP) -> int | None:
    """The wall time (ms) of the last fetch response that carried the partition's end offset
    (aiokafka's partition state, read as faust's own livelock check reads it)."""
    thread_consumer = consumer._thread._consumer
    if thread_consumer is None:
        return None
    subscription = thread_consumer._subscription.subscription
    assignment = None if subscription is None else subscription.assignment
    if assignment is None:
        return None
    state = assignment.state_value(TopicPartition(tp.topic, tp.partition))
    return None if state is None else state.timestamp


# --- the state restored by cjo's reader (streams.restore) before faust's recovery ---

Reader = Callable[[Mapping[Partition, Target], threading.Event, float], Restored]
RESTORE_SHARE = 0.75  # of faust's broker_request_timeout, the wait its recovery step allows


def offset_entry(store: Any, offset: int) -> tuple[bytes, bytes]:
    """The key and value faust's RocksDB store writes for a partition's persisted changelog
    offset (``Store.set_persisted_offset``; read back by ``Store.persisted_offset``)."""
    return store.offset_key, str(offset).encode()


class FastRecovery(Recovery):
    """faust's recovery service; its active changelog partitions are brought to the end offsets
    it has just measured by cjo's reader first (``streams.restore``), so its own per-event
    restore has nothing left to read.

    The hook is ``_build_offsets`` for the actives: faust calls it after measuring their end
    offsets (``active_highwaters``: end less one) and before comparing them with the offsets
    the stores recorded (``active_offsets``, here ``destination``), which the reader raises to
    what it wrote. Only the partitions this generation assigned as active are there (not the
    standbys). faust runs the step inside ``_wait``: a new rebalance cancels it (the reader then
    stops after its current write batch, each database consistent at its recorded offset), and
    so does its timeout (``broker_request_timeout``), which would stop faust's recovery for good:
    the reader stops at ``RESTORE_SHARE`` of it and leaves the rest to faust's own restore."""

    async def _build_offsets(self, consumer: Any, tps: set[TP], destination: Any,
                             title: str) -> None:
        reader = getattr(self.tables, "reader", None)
        if title == "active" and reader is not None:
            await self._restore_actives(reader, tps, destination)
        await super()._build_offsets(consumer, tps, destination, title)

    async def _restore_actives(self, reader: Reader, tps: set[TP], destination: Any) -> None:
        targets: dict[Partition, Target] = {}
        for tp in tps:
            table = self.tp_to_table.get(tp)
            last = self.active_highwaters.get(tp)
            if table is None or last is None or last < 0:
                continue  # not a table's changelog, or an empty one
            recorded = destination.get(tp)
            if recorded is not None and recorded >= last:
                continue  # up to date (faust checks the impossible "beyond the end" itself)
            store = cast(Any, table).data
            try:
                db = store._db_for_partition(tp.partition)
            except Exception as exc:  # e.g. still locked: faust's own restore deals with it
                restore_log.warning("state_restore_skipped", partition=tp.partition,
                                    error=repr(exc))
                continue
            targets[(tp.topic, tp.partition)] = Target(
                db, None if recorded is None else recorded + 1, last, partial(offset_entry, store))
        if not targets:
            return
        stop = threading.Event()
        deadline = monotonic() + RESTORE_SHARE * want_seconds(
            self.app.conf.broker_request_timeout)
        restore_log.info("state_restore_started", partitions=len(targets),
                         offsets=sum(t.last + 1 - (t.start or 0) for t in targets.values()))
        try:
            done = await asyncio.to_thread(reader, targets, stop, deadline)
        except asyncio.CancelledError:
            stop.set()  # a rebalance began: the reader stops after its current write batch
            raise
        except Exception as exc:  # faust's own restore reads on from the recorded offsets
            restore_log.warning("state_restore_failed", error=repr(exc))
            return
        for (topic, partition), offset in done.reached.items():
            destination[TP(topic, partition)] = offset
        restore_log.info("state_restored", partitions=len(done.reached), records=done.records,
                         seconds=round(done.seconds, 3), records_per_s=round(done.rate),
                         cpu_seconds=round(done.cpu_seconds, 3),
                         complete=done.complete)


class FastRestoreTables(TableManager):
    """faust's table manager with ``FastRecovery`` as its recovery service (``faust.App``'s
    ``TableManager`` setting); ``reader`` None: faust's own restore only."""

    reader: Reader | None = None

    @property
    def recovery(self) -> Recovery:
        if self._recovery is None:
            self._recovery = FastRecovery(self.app, self, beacon=self.beacon, loop=self.loop)
        return self._recovery


def install_reader(app: Any, reader: Reader | None) -> None:
    """The reader the app's recovery runs first (the app made with ``FastRestoreTables``)."""
    tables = app.tables
    assert isinstance(tables, FastRestoreTables)
    tables.reader = reader
