"""Input records through the domain: decode, merge by event time, decide, publish, store state.

Records are acknowledged (so their offsets may be committed) only once processed; a record still
waiting in the event-time merge is not, so a crash redelivers it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Protocol

from cjo import codec, logs
from cjo.clock import Clock, WallClock
from cjo.decide import decide, new_state
from cjo.errors import InvalidRecord
from cjo.ordering import STREAM_RANK, EventTimeMerger
from cjo.settings import Topics
from cjo.state import Position, SubscriberState
from streams.publisher import Publisher

log = logs.get("cjo.processor")


class Feed(Protocol):
    """What the processor needs from the consumer that feeds it."""

    def highwater(self, topic: str, partition: int) -> int | None: ...
    async def position(self, topic: str, partition: int) -> int | None: ...
    def generation(self) -> int: ...
    async def ack(self, event: Any) -> None: ...


@dataclass(slots=True)
class Pending:
    event: Any
    stream: str
    record: dict[str, Any]
    ingested_at: int


class Processor:
    def __init__(self, topics: Topics, table: Any, publisher: Publisher, feed: Feed,
                 max_idle_ms: int = 5_000, clock: Clock | None = None) -> None:
        self._topics = topics
        self._inputs = topics.inputs()
        self._table = table
        self._publisher = publisher
        self._feed = feed
        self._clock = clock or WallClock()
        self._merger: EventTimeMerger[Pending] = EventTimeMerger(
            {t: STREAM_RANK[s] for s, t in self._inputs.items()}, max_idle_ms=max_idle_ms)
        self._next_offset: dict[tuple[str, int], int] = {}  # per input TP: seen or position
        self.counts: Counter[str] = Counter()

    async def handle(self, event: Any) -> None:
        message = event.message
        now = self._clock.now_ms()
        if message.topic == self._topics["ticks"]:
            await self._refresh_positions(message.partition)
        else:
            self._next_offset[(message.topic, message.partition)] = message.offset + 1
            await self._accept(event, now)
        await self._release(message.partition, now)
        if message.topic == self._topics["ticks"]:
            await self._feed.ack(event)

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
            await self._feed.ack(event)
            return
        event_time = int(record.get("event_time", record.get("updated_at", 0)))
        self._merger.push(message.partition, message.topic, event_time, now,
                          Pending(event, stream, record, now))

    async def _refresh_positions(self, partition: int) -> None:
        for topic in self._inputs.values():
            if (topic, partition) not in self._next_offset:
                position = await self._feed.position(topic, partition)
                if position is not None:
                    self._next_offset[(topic, partition)] = position

    def _caught_up(self, partition: int) -> Any:
        def caught_up(topic: str) -> bool:
            end = self._feed.highwater(topic, partition)
            nxt = self._next_offset.get((topic, partition))
            return end is not None and nxt is not None and nxt >= end
        return caught_up

    async def _release(self, partition: int, now: int) -> None:
        generation = self._feed.generation()
        for pending in list(self._merger.release(partition, self._caught_up(partition), now)):
            message = pending.event.message
            if message.generation_id != generation:
                continue  # revoked in a rebalance: never acked, its new owner reprocesses it
            self.counts[pending.stream] += 1
            await self._apply(pending, Position(message.topic, message.offset))
            await self._feed.ack(pending.event)

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

    async def _apply(self, pending: Pending, position: Position) -> None:
        record = pending.record
        key = record["imsi"].encode()
        raw = self._table.get(key)
        state = SubscriberState.from_bytes(raw) if raw else new_state(record["imsi"])
        result = decide(pending.stream, record, state, position, pending.ingested_at)
        if result.state is None:
            self.counts["redelivered"] += 1
            return
        await self._publisher.publish(result.offers, result.decisions)
        for offer in result.offers:
            log.info("offer", subscriber=logs.hash_id(offer["imsi"]), trigger=offer["trigger_id"],
                     channel=offer["channel"], offer_id=offer["offer_id"])
        self._table[key] = result.state.to_bytes()
