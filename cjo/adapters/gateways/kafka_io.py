"""The gateway's Kafka side on confluent-kafka: a producer whose writes can be awaited, and the
reading back of a ledger partition."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    Message,
    Producer,
    TopicPartition,
)

from cjo.adapters.kafka_admin import producer_config
from cjo.adapters.kafka_security import confluent_config
from cjo.delivery import Entry, LedgerTable
from cjo.errors import BrokerError

READ_TIMEOUT_S = 30.0


class AsyncProducer:
    """An idempotent ``acks=all`` producer; ``await send(...)`` returns once the broker has the
    record, and raises ``BrokerError`` if it could not be written. A thread serves the
    delivery callbacks."""

    def __init__(self, bootstrap: str, loop: asyncio.AbstractEventLoop, **overrides: Any) -> None:
        self._producer = Producer(producer_config(bootstrap, linger_ms=2, **overrides))
        self._loop = loop
        self._stop = threading.Event()
        self._settled: list[tuple[asyncio.Future[None], KafkaError | None, str]] = []
        self._thread = threading.Thread(target=self._serve, name="gateway-producer", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            self._producer.poll(0.05)
            if self._settled:  # one wake-up of the event loop per poll, not per record
                batch, self._settled = self._settled, []
                self._loop.call_soon_threadsafe(_settle_all, batch)

    def send(self, topic: str, key: bytes | None, value: bytes | None,
             partition: int | None = None) -> asyncio.Future[None]:
        future: asyncio.Future[None] = self._loop.create_future()

        def delivered(err: KafkaError | None, _msg: Message) -> None:
            self._settled.append((future, err, topic))  # in poll(): the serving thread

        kwargs: dict[str, Any] = {"on_delivery": delivered}
        if partition is not None:
            kwargs["partition"] = partition
        while True:
            try:
                self._producer.produce(topic, value, key, **kwargs)
                return future
            except BufferError:  # the local queue is full: let deliveries drain it
                time.sleep(0.01)

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop serving deliveries and flush what is queued; futures still pending are left
        (their offers are not recorded, so not committed: read again after a restart)."""
        self._stop.set()
        self._thread.join()
        self._producer.flush(timeout_s)


def _settle_all(batch: list[tuple[asyncio.Future[None], KafkaError | None, str]]) -> None:
    for future, err, topic in batch:
        if future.done():
            continue
        if err is None:
            future.set_result(None)
        else:
            future.set_exception(BrokerError(f"cannot write to {topic}: {err}"))


def read_ledger(bootstrap: str, topic: str, partition: int,
                timeout_s: float = READ_TIMEOUT_S) -> tuple[LedgerTable, int]:
    """Every entry of one ledger partition, read to its end (blocking); and how many records
    were not ledger entries (kept out, counted). The end is the end-of-partition event, which
    librdkafka raises from a fetch response's high watermark: exact on both brokers (the
    embedded one's ListOffsets is not: docs/architecture.md)."""
    table = LedgerTable()
    bad = 0
    consumer = Consumer(confluent_config(bootstrap, {
        "group.id": "cjo-gateway-ledger-reader", "enable.auto.commit": False,
        "enable.partition.eof": True, "fetch.wait.max.ms": 10, "log_level": 3}))
    try:
        consumer.assign([TopicPartition(topic, partition, OFFSET_BEGINNING)])
        deadline = time.monotonic() + timeout_s
        while True:
            if time.monotonic() > deadline:
                raise BrokerError(f"ledger {topic}[{partition}] not read to its end within "
                                  f"{timeout_s:.0f} s")
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            error = msg.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    return table, bad
                raise BrokerError(f"reading ledger {topic}[{partition}]: {error}")
            value = msg.value()
            if value is not None:
                try:
                    table.apply(Entry.from_bytes(value))
                except ValueError:
                    bad += 1
    finally:
        consumer.close()
