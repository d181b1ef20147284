"""Row 1, the ceiling: a plain confluent-kafka consumer reading the input topics and decoding each
record (Avro, ``cjo.codec.decode``), nothing else. No Python stream processor can beat it."""

from __future__ import annotations

import time
import uuid

from confluent_kafka import Consumer, KafkaError, TopicPartition

from cjo import codec
from cjo.adapters.kafka_admin import Partition
from cjo.adapters.kafka_security import confluent_config
from cjo.errors import BrokerError


def read_and_decode(bootstrap: str, ends: dict[Partition, int],
                    timeout_s: float = 300.0) -> tuple[int, float]:
    """(records decoded, seconds from the first record to the last)."""
    consumer = Consumer(confluent_config(bootstrap, {
        "group.id": f"cjo-bench-ceiling-{uuid.uuid4().hex}",
        "enable.auto.commit": False, "enable.partition.eof": False, "fetch.wait.max.ms": 10,
        "queued.max.messages.kbytes": 262_144, "log_level": 3,
    }))
    pending = {tp: end for tp, end in ends.items() if end > 0}
    consumer.assign([TopicPartition(t, p, 0) for t, p in pending])
    count, first, deadline = 0, 0.0, time.monotonic() + timeout_s
    try:
        while pending:
            if time.monotonic() > deadline:
                raise BrokerError(f"ceiling: {sorted(pending)[:3]} not read to the end in time")
            for msg in consumer.consume(1000, 0.1):
                error = msg.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        continue
                    raise BrokerError(f"ceiling: {error}")
                first = first or time.perf_counter()
                value = msg.value()
                if value is not None:
                    codec.decode(value)
                count += 1
                tp = (msg.topic() or "", msg.partition() or 0)
                if (msg.offset() or 0) + 1 >= pending.get(tp, 0):
                    pending.pop(tp, None)
    finally:
        consumer.close()
    return count, time.perf_counter() - first
