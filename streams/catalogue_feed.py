"""Follows the catalogue control topic while the worker runs, and swaps the catalogue in force.

Started after the worker read the topic to its end (``cjo.adapters.catalogue_topic.read_live``),
from the next offset. The processor reads its catalogue once per record, so a switch is atomic:
a record is decided wholly under the old catalogue or wholly under the new one.
"""

from __future__ import annotations

from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, TopicPartition

from cjo import logs
from cjo.adapters.catalogue_topic import KEY, accept
from cjo.catalogue.catalogue import Catalogue

log = logs.get("cjo.catalogue")


async def follow(bootstrap: str, topic: str, start_offset: int, current: Callable[[], Catalogue],
                 switch: Callable[[Catalogue], None]) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap.split(","), group_id=None,
                                enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.seek(tp, start_offset)
        while True:
            batches = await consumer.getmany(tp, timeout_ms=1_000)
            for message in batches.get(tp, []):
                if message.key != KEY or not message.value:
                    continue
                old = current()
                new = accept(message.value, old, message.offset)
                if new is not None and new is not old and new.digest != old.digest:
                    switch(new)
                    log.info("catalogue_switched", old=old.digest, new=new.digest,
                             triggers=len(new.enabled()), offset=message.offset)
    finally:
        await consumer.stop()
