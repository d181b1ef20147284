"""The SMS gateway's correlation shared by its instances, through Kafka.

A receipt may reach any instance bound to the SMSC, and an MO STOP may answer an offer another
instance sent (or this one, before a restart). So each instance writes what it learns, and reads
what all of them wrote, on a compacted topic beside the claim ledger
(``<ledger topic>.ids``, e.g. ``cjo.gateway.sms.ledger.ids``; ``compact,delete`` with
``CJO_SMS_SHARED_HOURS`` of retention), one record per offer sent, keyed by its offer id:
``{"offer_id", "imsi", "parts", "ids", "number"}``, the SMSC's message ids of its parts (as
``cjo.delivery.sms_inbound.id_key`` reads them) and the destination's digits; written and
acknowledged before the send is reported SENT.

A thread reads the topic from its beginning (no consumer group: every instance reads every
partition) into the channel's in-process maps, waking a receipt that waits for its id. Those
maps keep the newest entries only (``CJO_SMS_REMEMBERED`` each): the retention and that bound
are what an instance can answer for.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

import orjson
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from cjo.adapters.gateways.kafka_io import AsyncProducer
from cjo.adapters.kafka_admin import Replication, create_topics, partitions_of
from cjo.adapters.kafka_security import confluent_config
from cjo.settings import Settings

Apply = Callable[[list[tuple[str, dict[str, Any]]]], None]
log = logging.getLogger("cjo.gateway.sms")


def topic_of(settings: Settings) -> str:
    return f"{settings.topics['ledger_sms']}.ids"


class SharedCorrelation:
    """Writes entries to the topic and feeds every entry read (own ones too) to ``apply``."""

    def __init__(self, settings: Settings, retention_hours: float) -> None:
        self.settings = settings
        self.topic = topic_of(settings)
        self.retention_ms = int(retention_hours * 3_600_000)
        self._producer: AsyncProducer | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, loop: asyncio.AbstractEventLoop, apply: Apply) -> None:
        s = self.settings
        create_topics(s.broker, [self.topic], s.partitions,
                      config={"cleanup.policy": "compact,delete",
                              "retention.ms": str(self.retention_ms)},
                      replication=Replication.of(s))
        self._producer = AsyncProducer(s.broker, loop)
        self._thread = threading.Thread(target=self._read, args=(loop, apply),
                                        name="sms-correlation", daemon=True)
        self._thread.start()

    async def put(self, key: str, value: dict[str, Any]) -> None:
        assert self._producer is not None
        await self._producer.send(self.topic, key.encode(), orjson.dumps(value))

    def _read(self, loop: asyncio.AbstractEventLoop, apply: Apply) -> None:
        s = self.settings
        consumer = Consumer(confluent_config(s.broker, {
            "group.id": "cjo-gateway-sms-correlation", "enable.auto.commit": False,
            "fetch.wait.max.ms": 20, "log_level": 3}, s))
        try:
            partitions = partitions_of(consumer, self.topic)
            consumer.assign([TopicPartition(self.topic, p, OFFSET_BEGINNING)
                             for p in partitions])
            while not self._stop.is_set():
                batch: list[tuple[str, dict[str, Any]]] = []
                for msg in consumer.consume(1000, 0.2):
                    error = msg.error()
                    if error is not None:
                        if error.code() != KafkaError._PARTITION_EOF:
                            loop.call_soon_threadsafe(_warn, str(error))
                        continue
                    key, value = msg.key(), msg.value()
                    if key is None or value is None:
                        continue
                    try:
                        batch.append((key.decode(errors="replace"), orjson.loads(value)))
                    except orjson.JSONDecodeError:
                        continue
                if batch:  # one hand-over to the event loop per batch
                    loop.call_soon_threadsafe(apply, batch)
        finally:
            consumer.close()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        if self._producer is not None:
            self._producer.close()


def _warn(text: str) -> None:
    log.warning("reading the SMS correlation topic: %s", text)
