"""Input records through the domain, a fetch at a time.

Each batch (what one fetch returned for the input topics and the tick topic) is decoded and
merged by event time per partition (``cjo.engine.ordering``); what the merge releases is decided in
steps of up to ``STEP_RECORDS`` (or ``STEP_SECONDS``: between two steps the event loop serves the
web server) by each partition's ``cjo.engine.runner.PartitionRunner`` over a
``BatchStore`` (a subscriber touched many times in a step is read and written once). The
messages of a step's effects (``cjo.engine.effects``) are published (awaited), and only then
its writes stored: an offer is never lost to a crash between the two, it is re-sent with the
same id instead. ``OffsetTracker`` says which offsets may be committed (processed, and their
writes delivered).

An input record is applied or dead-lettered, never dropped: undecodable or off the contract, on
another partition than its key's, dated more than ``max_future_ms`` ahead (all before the merge,
so none moves the watermark), or raising while it is decided (nothing of it stored; a timer that
raises is dropped and dead-lettered alike). See README.md, "Producer contract".

Nothing is held that faust waits for: a revocation drops what waits in the merge and what is not
yet durable (the next owner reads it again from the committed offset, and state updates skip
what they already applied), and a batch caught mid-way by a revocation stores nothing.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from time import thread_time
from typing import Any, Protocol

from faust.types import TP

from cjo import codec, logs, partitioning
from cjo.catalogue.catalogue import Catalogue
from cjo.clock import Clock, WallClock
from cjo.engine.effects import Effects
from cjo.engine.ordering import STREAM_RANK, EventTimeMerger, Status
from cjo.engine.runner import Knowledge, PartitionRunner, PartitionStep
from cjo.errors import InvalidRecord
from cjo.settings import Settings, Topics
from cjo.state import Position
from cjo.timers import Watermark
from streams.batch_store import BatchStore
from streams.gaps import GapGuard
from streams.metrics import Tally
from streams.offsets import OffsetTracker
from streams.publisher import DeadLetter, Publisher
from streams.transactions import Transactions, Writes, by_partition

log = logs.get("cjo.processor")

REPORT_EVERY_MS = 10_000
STEP_RECORDS = 1_000  # records decided before they are published and stored
# ... or fewer, once a step has taken this much of the worker's CPU (not wall time: on a busy
# host steps would shrink, and cost throughput): the event loop then serves what waits (the web
# server's requests: an inbound answer waits for one step at most, not for a whole fetch)
STEP_SECONDS = 0.025
_CLOCK_EVERY = 32  # records between two looks at the time


class Feed(Protocol):
    """What the processor needs from the consumer and the state table."""

    def highwater(self, topic: str, partition: int) -> tuple[int | None, int]:
        """The partition's end offset as of the last fetch, and that fetch's wall time (ms)."""
        ...
    async def position(self, topic: str, partition: int) -> int | None: ...
    def partition_db(self, partition: int) -> Any: ...
    async def send_changelog(self, partition: int,
                             items: Sequence[tuple[bytes, bytes | None]]) -> list[Any]:
        """Write keys to the state's changelog; futures of their delivery."""
        ...


class TransactionalFeed(Protocol):
    """Exactly-once: what the processor needs besides the ``Feed``."""

    transactions: Transactions

    async def send_records_on(self, producer: Any, records: Sequence[Any]) -> list[Any]: ...
    async def send_changelog_on(self, producer: Any, partition: int,
                                items: Sequence[tuple[bytes, bytes | None]]) -> list[Any]:
        """Futures of the last changelog offset of each batch written."""
        ...
    def persist_offset(self, partition: int, offset: int) -> None: ...


@dataclass(slots=True)
class Taken:
    """A decoded input record waiting in the event-time merge."""

    tp: TP
    offset: int
    stream: str
    record: dict[str, Any]
    ingested_at: int
    key: bytes | None  # the original key and bytes, for a dead letter if processing fails
    raw: bytes


@dataclass(slots=True)
class Step:
    """What a run of records decided, published and stored together."""

    # per record or tick, in order; their writes are in the partitions' BatchStores already
    effects: list[Effects] = field(default_factory=list)
    partitions: list[int] = field(default_factory=list)  # the partition of each effects
    done: list[tuple[TP, int]] = field(default_factory=list)  # the records it processed
    records: int = 0
    failed: list[DeadLetter] = field(default_factory=list)  # records whose processing raised
    cut: bool = False  # ended at STEP_RECORDS or STEP_SECONDS: the merge may hold more


@dataclass(frozen=True, slots=True)
class TimePolicy:
    """How event time advances (see ``cjo.timers.Watermark``)."""

    live: bool = True
    allowed_lateness_ms: int = Settings.model_fields["allowed_lateness_ms"].default
    idle_grace_ms: int = Settings.model_fields["idle_grace_ms"].default
    max_future_ms: int = Settings.model_fields["max_future_ms"].default

    def watermark(self) -> Watermark:
        return Watermark(self.allowed_lateness_ms, self.idle_grace_ms, live=self.live)


class Processor:
    def __init__(self, topics: Topics, publisher: Publisher, feed: Feed, catalogue: Catalogue,
                 max_idle_ms: int = 5_000, clock: Clock | None = None,
                 time: TimePolicy | None = None, partitions: int = 1,
                 exactly_once: TransactionalFeed | None = None,
                 merge_settle_ms: int = Settings.model_fields["merge_settle_ms"].default) -> None:
        self.knowledge = Knowledge(catalogue)  # swapped whole by the control feeds
        self._partitions = partitions
        self._time = time or TimePolicy()
        self._topics = topics
        self._inputs = topics.inputs()
        self._ticks = topics["ticks"]
        self._wanted = {*self._inputs.values(), self._ticks}
        self._stream_of = {t: s for s, t in self._inputs.items()}
        self._publisher = publisher
        self._feed = feed
        self._clock = clock or WallClock()
        self._merger: EventTimeMerger[Taken] = EventTimeMerger(
            {t: STREAM_RANK[s] for s, t in self._inputs.items()}, max_idle_ms=max_idle_ms,
            settle_ms=merge_settle_ms)
        self._tracker = OffsetTracker()
        self._runners: dict[int, PartitionRunner] = {}
        self._stores: dict[int, BatchStore] = {}
        self._next_offset: dict[TP, int] = {}  # per input TP: the next offset to take
        self._newest: dict[int, int] = {}  # per partition: the newest event time taken
        self.gaps = GapGuard()  # offset gaps: taken only on the broker's word
        self._epoch = 0  # moves on every revocation: a batch that saw it move stores nothing
        self._eos = exactly_once  # None: at-least-once
        self._revoked: Counter[int] = Counter()  # exactly-once: revocations per partition
        self._held: dict[int, list[DeadLetter]] = {}  # exactly-once: for the next transaction
        self._offsets_sent: dict[TP, int] = {}  # exactly-once: last committed, per input TP
        self._last_report_ms = 0
        self.counts: Counter[str] = Counter()
        self.tally = Tally()  # decisions, offers and latencies, for GET /metrics

    # -- what the consumer asks (streams.faust_pins.BatchHandler) --

    def wants(self, topic: str) -> bool:
        return topic in self._wanted

    def committable(self) -> Mapping[TP, int]:
        if self._eos is not None:
            return {}  # committed in the steps' transactions, never by faust
        return self._tracker.committable()  # type: ignore[return-value]  # keys are TPs

    def seeks(self) -> Mapping[TP, int]:
        return self.gaps.seeks()

    async def on_batch(self, batch: Mapping[TP, Sequence[Any]]) -> None:
        now = self._clock.now_ms()
        epoch = self._epoch
        dead: list[DeadLetter] = []
        dead_keys: list[tuple[TP, int]] = []
        ticked: set[int] = set()
        for tp, records in batch.items():
            if tp.topic == self._ticks:
                ticked.add(tp.partition)
                for record in records:
                    self._tracker.take(tp, record.offset)
            else:
                self._merge_fetched(tp, records, now, dead, dead_keys)
        await self._refresh_positions({tp.partition for tp in batch})
        if dead and self._eos is not None:  # published with the partition's next step
            for letter in dead:
                self._held.setdefault(letter.partition, []).append(letter)
            self._tracker.processed(dead_keys, ())
        elif dead:
            await self._publisher.dead_letters(dead)
            self._tracker.processed(dead_keys, ())
        # a partition with records waiting in the merge may release them now (a fresher end of
        # another topic came with this fetch, or waited long enough), whether or not this
        # fetch brought it anything
        partitions = sorted({tp.partition for tp in batch} | self._merger.waiting())
        if not partitions:
            return
        while epoch == self._epoch:  # else revoked meanwhile (see ``forget``)
            step = self._decide(partitions, now)
            last = not step.cut
            if last:
                self._tick(ticked, batch, now, step)
            if not await self._settle(step, epoch) or last:
                break
            await asyncio.sleep(0)  # what waits on the loop goes first (a step may await none)
        self._report(now)

    async def _settle(self, step: Step, epoch: int) -> bool:
        """Publish what a step decided (awaited), then store its writes and send them to the
        changelog; False if the partitions were revoked meanwhile (nothing is stored then:
        the next owner decides these records again)."""
        if self._eos is not None:
            return await self._settle_exactly_once(step, epoch)
        # a publish the broker refuses raises out of the batch: not the record's fault
        await self._publisher.publish(step.effects)
        await self._publisher.dead_letters(step.failed)
        if epoch != self._epoch:
            return False
        self._log_offers(step.effects)
        writes: list[Any] = []
        for partition, store in self._stores.items():
            if store.writes:
                writes.extend(await self._feed.send_changelog(partition, store.flush()))
        self._tracker.processed(step.done, writes)
        self._tracker.advance()
        return True

    async def _settle_exactly_once(self, step: Step, epoch: int) -> bool:
        """One transaction per partition the step touched (``streams.transactions``), all at
        once; each partition's state is stored once its transaction committed. False if a
        partition was revoked meanwhile (its transaction aborted, nothing of it stored)."""
        self._tracker.processed(step.done, ())
        moved = by_partition(self._tracker.advance(), self._offsets_sent)
        effects: dict[int, list[Effects]] = {}
        for partition, done in zip(step.partitions, step.effects, strict=True):
            effects.setdefault(partition, []).append(done)
        letters, self._held = self._held, {}
        for letter in step.failed:
            letters.setdefault(letter.partition, []).append(letter)
        touched = {*effects, *letters, *moved, *(p for p, s in self._stores.items() if s.writes)}
        committed = await asyncio.gather(*(
            self._commit(p, effects.get(p, []), letters.get(p, []), moved.get(p, {}))
            for p in sorted(touched)))
        return all(committed) and epoch == self._epoch

    async def _commit(self, partition: int, effects: list[Effects],
                      letters: list[DeadLetter], offsets: dict[TP, int]) -> bool:
        assert self._eos is not None
        eos = self._eos
        store = self._stores.get(partition)
        changes = store.changes() if store is not None else []
        records = [*self._publisher.records(effects),
                   *self._publisher.dead_letter_records(letters)]
        revoked = self._revoked[partition]

        async def write(producer: Any) -> list[Any]:
            if records:
                await eos.send_records_on(producer, records)
            return await eos.send_changelog_on(producer, partition, changes) if changes else []

        writes: Writes = write
        last = await eos.transactions.commit(partition, writes, offsets,
                                             lambda: self._revoked[partition] == revoked)
        if last is None:
            return False
        self._offsets_sent.update(offsets)
        self._log_offers(effects)
        if store is not None and self._stores.get(partition) is store:
            store.store(changes)
            if last:
                eos.persist_offset(partition, max(last))
        return True

    def forget(self, partitions: set[int] | None = None) -> None:
        """Partitions were revoked (None: all, the consumer went back to the committed offsets):
        what waits here is read again by their next owner."""
        self._epoch += 1
        gone = set(self._runners) | {tp.partition for tp in self._next_offset}
        gone = gone | set(self._held) | set(self._revoked)
        gone = gone if partitions is None else gone & partitions
        for partition in gone:
            self._revoked[partition] += 1
        self._held = {p: h for p, h in self._held.items() if p not in gone}
        self._offsets_sent = {tp: o for tp, o in self._offsets_sent.items()
                              if tp.partition not in gone}
        dropped = sum(len(self._merger.drop(p)) for p in gone)
        dropped += self._tracker.forget(
            [tp for tp in self._tracker.topic_partitions() if tp.partition not in gone])
        self._next_offset = {tp: o for tp, o in self._next_offset.items()
                             if tp.partition not in gone}
        self._runners = {p: r for p, r in self._runners.items() if p not in gone}
        self._newest = {p: t for p, t in self._newest.items() if p not in gone}
        self._stores = {p: s for p, s in self._stores.items() if p not in gone}
        log.info("partitions_revoked", partitions=sorted(gone), dropped=dropped)

    # -- one batch --

    def _merge_fetched(self, tp: TP, records: Sequence[Any], now: int, dead: list[DeadLetter],
                       dead_keys: list[tuple[TP, int]]) -> None:
        """The fetched records of one input topic-partition into the event-time merge, each
        decoded and checked (the refused into ``dead``); those taken already are skipped, and
        from a gap not accepted (``streams.gaps``) on, the records are read again."""
        stream = self._stream_of[tp.topic]
        schema = codec.RECORD_OF_STREAM[stream]
        expected = self._next_offset.get(tp)
        for record in records:
            offset = record.offset
            if expected is not None and offset < expected:
                continue  # fetched again (a seek): taken already
            if expected is not None and offset > expected and not self.gaps.accept(
                    tp, expected, offset, first_of_fetch=record is records[0]):
                break  # not taken: read again from ``expected`` (``streams.gaps``)
            expected = offset + 1
            self._tracker.take(tp, offset)
            try:
                value = self._decode(schema, record.key, record.value)
                self._check_partition(tp.partition, record.key)
                event_time = codec.event_time_of(schema, value)
                self._check_event_time(tp.partition, event_time, now)
            except InvalidRecord as err:
                self.counts["dead_letters"] += 1
                # the reason may quote the key or an IMSI: it goes to the DLQ, not to the log
                log.warning("dead_letter", topic=tp.topic, partition=tp.partition,
                            offset=offset, field=err.field or "(record)")
                dead.append(DeadLetter(tp.topic, tp.partition, offset, record.key,
                                       record.value or b"", str(err)))
                dead_keys.append((tp, offset))
                continue
            self._merger.push(tp.partition, tp.topic, event_time, now,
                              Taken(tp, offset, stream, value, now, record.key,
                                    record.value or b""))
        if expected is not None:
            self._next_offset[tp] = expected

    def _decide(self, partitions: Sequence[int], now: int) -> Step:
        """Up to ``STEP_RECORDS`` records the merge releases (fewer past ``STEP_SECONDS``),
        through each partition's runner
        (a step is published and stored before the next: the loop stays responsive and a
        catch-up commits as it goes)."""
        step = Step()
        knowledge = self.knowledge
        deadline = thread_time() + STEP_SECONDS
        for partition in partitions:
            runner = self._runner(partition)
            store = self._stores[partition]
            for taken in self._merger.release(partition, self._caught_up(partition), now):
                try:
                    done = runner.on_record(taken.stream, taken.record,
                                            Position(taken.tp.topic, taken.offset),
                                            taken.ingested_at, knowledge)
                except Exception as err:  # a bug or a corrupt state: see _failed
                    step.failed.append(self._failed(taken, err))
                else:
                    self.counts[taken.stream] += 1
                    if not done.effects.writes:
                        self.counts["redelivered"] += 1
                    self._add(step, partition, done, store)
                step.done.append((taken.tp, taken.offset))
                step.records += 1
                if step.records >= STEP_RECORDS or (
                        step.records % _CLOCK_EVERY == 0 and thread_time() > deadline):
                    step.cut = True
                    return step
        return step

    def _failed(self, taken: Taken, err: Exception) -> DeadLetter:
        """A record whose processing raised: dead-lettered with the exception, and nothing of
        it applied (the runner's output is dropped whole and its watermark put back), so the
        subscriber's state is as it was before the record and the stream goes on."""
        self.counts["failed"] += 1
        tp = taken.tp
        log.error("record_failed", topic=tp.topic, partition=tp.partition, offset=taken.offset,
                  subscriber=logs.hash_id(taken.record["imsi"]), error=type(err).__name__)
        return DeadLetter(tp.topic, tp.partition, taken.offset, taken.key, taken.raw,
                          f"processing failed: {type(err).__name__}: {err}")

    def _failed_timers(self, partition: int, done: PartitionStep) -> list[DeadLetter]:
        """Timers whose firing raised: dropped (their subscriber's state as it was), and
        dead-lettered with the exception, the timer's key as payload (source topic ``timers``)."""
        letters = []
        for timer, err in done.failed_timers:
            self.counts["timers_failed"] += 1
            log.error("timer_failed", partition=partition, trigger=timer.trigger_id,
                      subscriber=logs.hash_id(timer.imsi), error=type(err).__name__)
            letters.append(DeadLetter("timers", partition, -1, timer.imsi.encode(), timer.key(),
                                      f"timer failed: {type(err).__name__}: {err}"))
        return letters

    def _check_partition(self, partition: int, key: bytes | None) -> None:
        """A record must be where Kafka's default partitioner puts its key (murmur2), beside the
        subscriber's other records and state; elsewhere it would be decided on a partial state."""
        assert key is not None  # _decode refused a record without one
        expected = partitioning.partition_of(key, self._partitions)
        if expected != partition:
            self.counts["wrong_partition"] += 1
            raise InvalidRecord("key", (
                f"hashes to partition {expected} of {self._partitions}, not {partition}: "
                "produce keyed by IMSI with Kafka's murmur2 partitioner (Java/aiokafka "
                "default; confluent-kafka: partitioner=murmur2_random)"))

    def _check_event_time(self, partition: int, event_time: int, now: int) -> None:
        """An event time more than ``max_future_ms`` ahead is refused before it can move the
        watermark: ahead of the wall clock (live mode); in replay mode ahead of the later of the
        wall clock and the partition's newest event time (a recorded log with quiet days
        replays whole; a partition's first record is bounded by the wall clock alone)."""
        newest = max(self._newest.get(partition, -1),
                     self._runner(partition).watermark.max_seen)
        if self._time.live or now >= newest:
            ahead_of, reference = "the wall clock", now
        else:
            ahead_of, reference = "the partition's newest event time", newest
        bound = self._time.max_future_ms
        if event_time > reference + bound:
            self.counts["future"] += 1
            raise InvalidRecord("", f"event time {event_time} is more than CJO_MAX_FUTURE_MS "
                                    f"({bound}) ahead of {ahead_of} ({reference})")
        self._newest[partition] = max(newest, event_time)

    def _tick(self, ticked: set[int], batch: Mapping[TP, Sequence[Any]], now: int,
              step: Step) -> None:
        """Ticks: idle partitions advance on wall time (live mode), due timers fire."""
        for partition in ticked:
            runner = self._runner(partition)
            done = runner.on_tick(now, self._idle(partition), self.knowledge)
            self._add(step, partition, done, self._stores[partition])
            tick_tp = TP(self._ticks, partition)
            step.done.extend((tick_tp, r.offset) for r in batch.get(tick_tp, ()))

    def _add(self, step: Step, partition: int, done: PartitionStep, store: BatchStore) -> None:
        """A record's or a tick's work into the step: its writes into the partition's store, its
        effects to publish, its failed timers to dead-letter."""
        store.apply(done.effects.writes)
        step.effects.append(done.effects)
        step.partitions.append(partition)
        if done.failed_timers:
            step.failed.extend(self._failed_timers(partition, done))
        self.counts["timers_fired"] += done.fired

    def _log_offers(self, steps: list[Effects]) -> None:
        now = self._clock.now_ms()
        for effects in steps:
            self.tally.decided(effects.decisions, effects.offers, now)
            for offer in effects.offers:
                log.info("offer", subscriber=logs.hash_id(offer["imsi"]),
                         trigger=offer["trigger_id"], channel=offer["channel"],
                         offer_id=offer["offer_id"])
            self.counts["offers"] += len(effects.offers)

    def _decode(self, schema: str, key: bytes | None, value: bytes | None) -> dict[str, Any]:
        if not value:
            raise InvalidRecord("", "empty message value")
        _, record = codec.decode(value, schema)
        codec.checked_key(key, record["imsi"])
        return record

    # -- partitions --

    def _runner(self, partition: int) -> PartitionRunner:
        runner = self._runners.get(partition)
        if runner is None:
            store = self._stores[partition] = BatchStore(self._feed.partition_db(partition))
            runner = PartitionRunner(store, partition, self._time.watermark(), self._partitions)
            self._runners[partition] = runner
        return runner

    async def _refresh_positions(self, partitions: set[int]) -> None:
        """An input partition nothing was read from since its assignment: where it stands (an
        empty topic must not hold the event-time merge back for ``max_idle_ms``)."""
        for partition in partitions:
            for topic in self._inputs.values():
                tp = TP(topic, partition)
                if tp not in self._next_offset:
                    position = await self._feed.position(topic, partition)
                    if position is not None:
                        self._next_offset[tp] = position

    def _caught_up(self, partition: int) -> Status:
        """Per input topic of the partition: lagging (False), unknown (None), or read to its end
        as of the wall time of the fetch that said so (``cjo.engine.ordering.Status``). Worked
        out once: neither changes while a batch is decided."""
        statuses: dict[str, bool | int | None] = {}
        for topic in self._inputs.values():
            end, as_of = self._feed.highwater(topic, partition)
            nxt = self._next_offset.get(TP(topic, partition))
            if end is None or nxt is None:
                statuses[topic] = None
            else:
                statuses[topic] = as_of if nxt >= end else False
        return statuses.get

    def _idle(self, partition: int) -> bool:
        """Nothing waits in the merge and every input topic of the partition is read to its end."""
        caught_up = self._caught_up(partition)
        return not self._merger.buffered(partition) and all(
            caught_up(t) not in (None, False) for t in self._inputs.values())

    def _report(self, now: int) -> None:
        if now // REPORT_EVERY_MS != self._last_report_ms // REPORT_EVERY_MS:
            self._last_report_ms = now
            log.info("progress", lag=self.lag(), buffered=self._merger.buffered(),
                     forced=self._merger.forced, awaiting_delivery=self._tracker.pending(),
                     **self.counts)

    def lag(self) -> int:
        """Input records on the broker not yet taken here (as of the last fetch), all partitions."""
        behind = 0
        for tp, nxt in self._next_offset.items():
            end, _ = self._feed.highwater(tp.topic, tp.partition)
            if end is not None:
                behind += max(0, end - nxt)
        return behind

    def owned(self) -> dict[int, tuple[Any, int]]:
        """Per partition decided here since its assignment: its database and watermark."""
        return {p: (self._feed.partition_db(p), r.watermark.value())
                for p, r in self._runners.items()}

    @property
    def catalogue(self) -> Catalogue:
        return self.knowledge.catalogue

    @catalogue.setter
    def catalogue(self, new: Catalogue) -> None:
        self.knowledge = replace(self.knowledge, catalogue=new)
