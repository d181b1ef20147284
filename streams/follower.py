"""Follows a small control topic (catalogue, models, do-not-contact) from every worker.

No consumer group: every worker reads every partition itself from ``start`` offsets (where its
start-up read ended) and awaits ``handle`` on each record, one at a time (a handler parses what
may be costly in a thread, off the event loop, and applies the result on the loop). This is
the dependable alternative to faust's GlobalTable, which did not replicate in a two-worker probe
here (docs/architecture.md, "Control topics").

A record ``handle`` refuses (it raises a ``CjoError``: a payload that does not parse) is logged
once (``control_refused``: topic, offset, reason), told to ``on_refused``, and skipped: what
is in force stays, and the follower goes on with the next record.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition

from cjo.adapters.kafka_security import aiokafka_security
from cjo.control_records import refused
from cjo.errors import CjoError

Handler = Callable[[bytes | None, bytes | None, int], Awaitable[None]]  # key, value, offset


async def follow(bootstrap: str, topic: str, start: Mapping[int, int], handle: Handler,
                 on_refused: Callable[[str, int, int], None]) -> None:
    """``on_refused(topic, partition, offset)``: after a refusal is logged."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap.split(","), group_id=None,
                                enable_auto_commit=False, **aiokafka_security())
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in sorted(start)]
        consumer.assign(tps)
        for tp in tps:
            consumer.seek(tp, start[tp.partition])
        while True:
            batches = await consumer.getmany(*tps, timeout_ms=1_000)
            for messages in batches.values():
                for message in messages:
                    try:
                        await handle(message.key, message.value, message.offset)
                    except CjoError as err:
                        refused(topic, message.offset, err, message.partition)
                        on_refused(topic, message.partition, message.offset)
    finally:
        await consumer.stop()
