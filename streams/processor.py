"""Input records through the domain: decode, merge by event time, decide, publish, store state.

Records are acknowledged (so their offsets may be committed) only once processed; a record still
waiting in the event-time merge is not, so a crash redelivers it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Any, Protocol

from cjo import codec, logs
from cjo.catalogue.catalogue import Catalogue
from cjo.clock import Clock, WallClock
from cjo.errors import InvalidRecord
from cjo.ordering import STREAM_RANK, EventTimeMerger, Status
from cjo.runner import Output, PartitionRunner, Shared
from cjo.settings import Settings, Topics
from cjo.state import Position
from cjo.timers import Watermark
from streams.durable import AckWhenDurable
from streams.publisher import Publisher
from streams.table_store import TableStore

log = logs.get("cjo.processor")

REAL_GAP_MS = 10_000
REWIND_RETRY_MS = 2_000
STUCK_COMMIT_MS = 5_000


class Feed(Protocol):
    """What the processor needs from the consumer that feeds it."""

    def highwater(self, topic: str, partition: int) -> int | None: ...
    async def position(self, topic: str, partition: int) -> int | None: ...
    async def ack(self, event: Any) -> None: ...
    async def flush(self) -> None: ...
    async def rewind(self, topic: str, partition: int, offset: int) -> None: ...
    def committed(self, topic: str, partition: int) -> int | None: ...
    async def commit(self, topic: str, partition: int, offset: int) -> None: ...


@dataclass(slots=True)
class Pending:
    event: Any
    stream: str
    record: dict[str, Any]
    ingested_at: int


@dataclass(frozen=True, slots=True)
class TimePolicy:
    """How event time advances (see ``cjo.timers.Watermark``)."""

    live: bool = True
    allowed_lateness_ms: int = Settings.model_fields["allowed_lateness_ms"].default
    idle_grace_ms: int = Settings.model_fields["idle_grace_ms"].default

    def watermark(self) -> Watermark:
        return Watermark(self.allowed_lateness_ms, self.idle_grace_ms, live=self.live)


class Processor:
    def __init__(self, topics: Topics, table: Any, publisher: Publisher, feed: Feed,
                 catalogue: Catalogue, max_idle_ms: int = 5_000, clock: Clock | None = None,
                 time: TimePolicy | None = None, partitions: int = 1) -> None:
        self.shared = Shared(catalogue)  # swapped whole by the feeds (catalogue, models, dnc)
        self._partitions = partitions
        self._time = time or TimePolicy()
        self._runners: dict[int, PartitionRunner] = {}
        self._stores: dict[int, TableStore] = {}  # the runners' stores, which also write
        self._topics = topics
        self._inputs = topics.inputs()
        self._table = table
        self._publisher = publisher
        self._feed = feed
        self._clock = clock or WallClock()
        self._merger: EventTimeMerger[Pending] = EventTimeMerger(
            {t: STREAM_RANK[s] for s, t in self._inputs.items()}, max_idle_ms=max_idle_ms)
        self._next_offset: dict[tuple[str, int], int] = {}  # per input TP: seen or position
        self._durable = AckWhenDurable(self._ack)
        # per input TP: the offset after the last record processed and durable, every earlier
        # one too (offsets are taken in order: ``_in_sequence`` rewinds over any gap)
        self._done: dict[tuple[str, int], int] = {}
        self._rewound: dict[tuple[str, int], tuple[int, int]] = {}  # TP -> (offset, when)
        self._last_seen_ms: dict[tuple[str, int], int] = {}
        self._stuck_rewound_ms: dict[tuple[str, int], int] = {}
        self._started_ms = self._clock.now_ms()
        self._last_report_ms = 0
        self.counts: Counter[str] = Counter()

    async def handle(self, event: Any) -> None:
        message = event.message
        now = self._clock.now_ms()
        if message.topic == self._topics["ticks"]:
            await self._refresh_positions(message.partition)
            await self._retry_rewinds(message.partition, now)
            await self._unstick_commits(message.partition, now)
        elif await self._in_sequence(message, now):
            self._last_seen_ms[(message.topic, message.partition)] = now
            self._next_offset[(message.topic, message.partition)] = message.offset + 1
            await self._accept(event, now)
        await self._release(message.partition, now)
        if message.topic == self._topics["ticks"]:
            if self._durable.stalled():
                await self._feed.flush()  # a last write may sit in the producer: push it out
            idle = self._idle(message.partition)
            out = self._runner(message.partition).on_tick(now, idle, self.shared)
            self._durable.add(event, await self._emit(message.partition, out))
            self._report(message.partition, now)
        await self._durable.ack_delivered()

    def _report(self, partition: int, now: int) -> None:
        if partition == 0 and now // 10_000 != self._last_report_ms // 10_000:
            self._last_report_ms = now
            log.info("progress", buffered=self._merger.buffered(), forced=self._merger.forced,
                     awaiting_delivery=len(self._durable), **self.counts)

    async def _ack(self, event: Any) -> None:
        await self._feed.ack(event)
        message = event.message
        tp = (message.topic, message.partition)
        if message.topic != self._topics["ticks"]:
            self._done[tp] = max(self._done.get(tp, 0), message.offset + 1)

    async def _in_sequence(self, message: Any, now: int) -> bool:
        """False for a record that lies past a gap: the gap is re-read first.

        faust skips (and acknowledges) records fetched while its flow is stopped during a
        rebalance and relies on a seek to the committed offsets to deliver them again; seen
        here, a partition missed that seek and 120 records were never processed. So a gap in a
        partition's offsets rewinds it once; a gap still there after ``REAL_GAP_MS`` is real
        (compaction, retention) and is accepted.
        """
        tp = (message.topic, message.partition)
        expected = self._next_offset.get(tp)
        if expected is None:  # the first record since (re)assignment: it must be the committed
            expected = self._feed.committed(*tp)  # offset, or faust dropped some at start-up
        if expected is None or message.offset <= expected:
            return True
        rewound = self._rewound.get(tp)
        if rewound is not None and rewound[0] == expected:
            if now - rewound[1] < REAL_GAP_MS:
                return False  # records queued before the rewind took effect: they come again
            log.warning("offset_gap", topic=tp[0], partition=tp[1], start=expected,
                        end=message.offset)
            return True
        log.info("rewind", topic=tp[0], partition=tp[1], to=expected, seen=message.offset)
        self._rewound[tp] = (expected, now)
        await self._feed.rewind(tp[0], tp[1], expected)
        return False

    async def _retry_rewinds(self, partition: int, now: int) -> None:
        """A rewind that delivered nothing (faust may overwrite the position) is done again."""
        for (topic, part), (offset, when) in list(self._rewound.items()):
            stuck = self._next_offset.get((topic, part)) == offset and (
                self._feed.highwater(topic, part) or 0) > offset
            if part == partition and stuck and now - when >= REWIND_RETRY_MS:
                log.info("rewind_again", topic=topic, partition=part, to=offset)
                self._rewound[(topic, part)] = (offset, now)
                await self._feed.rewind(topic, part, offset)

    async def _unstick_commits(self, partition: int, now: int) -> None:
        """A partition whose commit stays behind its end while nothing arrives from it has had
        records dropped under us (by faust, in a rebalance): read it again from the committed
        offset. Records applied before are skipped by the state's offsets, so this is safe."""
        if self._merger.buffered(partition) or len(self._durable) > 1:
            return
        for topic in self._inputs.values():
            tp = (topic, partition)
            committed = self._feed.committed(topic, partition)
            end = self._feed.highwater(topic, partition)
            quiet_since = max(self._last_seen_ms.get(tp, self._started_ms),
                              self._stuck_rewound_ms.get(tp, 0))
            if committed is None or end is None or committed >= end:
                continue
            if now - quiet_since < STUCK_COMMIT_MS:
                continue
            done = self._done.get(tp, -1)
            if done > committed:
                # processed and durable, yet faust's ack bookkeeping will not commit it (seen
                # after a restart with the state restored from the changelog): commit it here
                log.warning("commit_forced", topic=topic, partition=partition, at=done,
                            was=committed, end=end)
                self._stuck_rewound_ms[tp] = now
                await self._feed.commit(topic, partition, done)
            else:
                log.warning("rewind_stuck_commit", topic=topic, partition=partition,
                            to=committed, end=end)
                self._stuck_rewound_ms[tp] = now
                self._next_offset[tp] = committed
                await self._feed.rewind(topic, partition, committed)

    def forget(self, partitions: set[int]) -> None:
        """Partitions were revoked: what waits here is redelivered to their next owner."""
        dropped = sum(len(self._merger.drop(p)) for p in partitions) + self._durable.forget()
        self._next_offset = {tp: o for tp, o in self._next_offset.items()
                             if tp[1] not in partitions}
        self._rewound = {tp: r for tp, r in self._rewound.items() if tp[1] not in partitions}
        self._runners = {p: r for p, r in self._runners.items() if p not in partitions}
        self._stores = {p: s for p, s in self._stores.items() if p not in partitions}
        self._done = {tp: o for tp, o in self._done.items() if tp[1] not in partitions}
        log.info("partitions_revoked", partitions=sorted(partitions), dropped=dropped)

    async def _accept(self, event: Any, now: int) -> None:
        message = event.message
        stream = self._topics.stream_of(message.topic)
        try:
            record = self._decode(stream, message.key, message.value)
        except InvalidRecord as err:
            self.counts["dead_letters"] += 1
            log.warning("dead_letter", topic=message.topic, partition=message.partition,
                        offset=message.offset, error=str(err))
            await self._publisher.dead_letter(message.topic, message.partition, message.offset,
                                              message.key, message.value or b"", str(err))
            self._durable.add(event, [])
            return
        event_time = codec.event_time_of(codec.RECORD_OF_STREAM[stream], record)
        self._merger.push(message.partition, message.topic, event_time, now,
                          Pending(event, stream, record, now))

    async def _refresh_positions(self, partition: int) -> None:
        for topic in self._inputs.values():
            if (topic, partition) not in self._next_offset:
                position = await self._feed.position(topic, partition)
                if position is not None:
                    self._next_offset[(topic, partition)] = position

    def _caught_up(self, partition: int) -> Status:
        def caught_up(topic: str) -> bool | None:
            end = self._feed.highwater(topic, partition)
            nxt = self._next_offset.get((topic, partition))
            if end is None or nxt is None:
                return None
            return nxt >= end
        return caught_up

    async def _release(self, partition: int, now: int) -> None:
        # faust drops stale-generation records on delivery, and revoked partitions are forgotten
        # (see forget): whatever is released here is ours to process and ack.
        for pending in list(self._merger.release(partition, self._caught_up(partition), now)):
            message = pending.event.message
            self.counts[pending.stream] += 1
            writes = await self._apply(pending, Position(message.topic, message.offset))
            self._durable.add(pending.event, writes)

    def _decode(self, stream: str, key: bytes | None, value: bytes | None) -> dict[str, Any]:
        if not value:
            raise InvalidRecord("", "empty message value")
        _, record = codec.decode(value, codec.RECORD_OF_STREAM[stream])
        imsi = record["imsi"]
        if key is None:
            raise InvalidRecord("key", "missing: records must be keyed by imsi")
        if key != imsi.encode():
            raise InvalidRecord("key", f"{key!r} does not match imsi {imsi!r}")
        return record

    @property
    def catalogue(self) -> Catalogue:
        return self.shared.catalogue

    @catalogue.setter
    def catalogue(self, new: Catalogue) -> None:
        self.shared = replace(self.shared, catalogue=new)

    def _runner(self, partition: int) -> PartitionRunner:
        runner = self._runners.get(partition)
        if runner is None:
            store = self._stores[partition] = TableStore(self._table, partition)
            runner = PartitionRunner(store, partition, self._time.watermark(), self._partitions)
            self._runners[partition] = runner
        return runner

    def _idle(self, partition: int) -> bool:
        """Nothing waits in the merge and every input topic of the partition is read to its end."""
        caught_up = self._caught_up(partition)
        return not self._merger.buffered(partition) and all(
            caught_up(t) for t in self._inputs.values())

    async def _apply(self, pending: Pending, position: Position) -> list[Any]:
        """Decide, publish (awaited), store; returns the futures of the state writes."""
        partition = int(pending.event.message.partition)
        out = self._runner(partition).on_record(
            pending.stream, pending.record, position, pending.ingested_at, self.shared)
        if not out.writes:
            self.counts["redelivered"] += 1
        return await self._emit(partition, out)

    async def _emit(self, partition: int, out: Output) -> list[Any]:
        """Publish what a step decided (awaited), then store its writes: an offer is never lost
        to a crash between the two (it is re-sent with the same id instead)."""
        if out.fired:
            self.counts["timers_fired"] += out.fired
        await self._publisher.publish(out.offers, out.decisions, out.outcomes, out.examples)
        for offer in out.offers:
            log.info("offer", subscriber=logs.hash_id(offer["imsi"]), trigger=offer["trigger_id"],
                     channel=offer["channel"], offer_id=offer["offer_id"])
        self.counts["offers"] += len(out.offers)
        return self._stores[partition].apply(out.writes)
