"""One input record through the domain: decode, load state, decide, publish, store state."""

from __future__ import annotations

from collections import Counter
from typing import Any

from cjo import codec, logs
from cjo.clock import Clock, WallClock
from cjo.decide import decide, new_state
from cjo.errors import InvalidRecord
from cjo.settings import Topics
from cjo.state import Position, SubscriberState
from streams.publisher import Publisher

log = logs.get("cjo.processor")


class Processor:
    def __init__(self, topics: Topics, table: Any, publisher: Publisher,
                 clock: Clock | None = None) -> None:
        self._topics = topics
        self._table = table
        self._publisher = publisher
        self._clock = clock or WallClock()
        self.counts: Counter[str] = Counter()

    async def handle(self, event: Any) -> None:
        message = event.message
        ingested_at = self._clock.now_ms()
        stream = self._topics.stream_of(message.topic)
        try:
            record = self._decode(stream, message.key, message.value)
        except InvalidRecord as err:
            self.counts["dead_letters"] += 1
            log.warning("dead_letter", topic=message.topic, partition=message.partition,
                        offset=message.offset, error=str(err))
            await self._publisher.dead_letter(message.topic, message.partition, message.offset,
                                              message.key, message.value or b"", str(err))
            return
        self.counts[stream] += 1
        await self._apply(stream, record, Position(message.topic, message.offset), ingested_at)

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

    async def _apply(self, stream: str, record: dict[str, Any], position: Position,
                     ingested_at: int) -> None:
        key = record["imsi"].encode()
        raw = self._table.get(key)
        state = SubscriberState.from_bytes(raw) if raw else new_state(record["imsi"])
        result = decide(stream, record, state, position, ingested_at)
        if result.state is None:
            self.counts["redelivered"] += 1
            return
        await self._publisher.publish(result.offers, result.decisions)
        for offer in result.offers:
            log.info("offer", subscriber=logs.hash_id(offer["imsi"]), trigger=offer["trigger_id"],
                     channel=offer["channel"], offer_id=offer["offer_id"])
        self._table[key] = result.state.to_bytes()
