"""The Faust app factory: one app per worker process, built from the settings.

One agent consumes the five input topics (co-partitioned by imsi) and keeps one state value per
subscriber in a RocksDB-backed table (rocksdict), recoverable from its changelog topic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import faust

from cjo.settings import Settings
from streams.processor import Processor
from streams.publisher import Publisher

STATE_TABLE = "subscriber-state"


@dataclass
class Wiring:
    app: faust.App
    processor: Processor


def _broker_url(bootstrap: str) -> str:
    return ";".join(f"kafka://{host.strip()}" for host in bootstrap.split(",") if host.strip())


def create_app(settings: Settings, web_port: int) -> Wiring:
    extra: dict[str, Any] = {}
    if settings.embedded_broker_workarounds:
        # Tansu answers ListOffsets(latest) with the last batch's base offset + 1: one record per
        # batch keeps that right for the changelogs that faust's recovery reads (ARCHITECTURE.md).
        extra["producer_max_batch_size"] = 1
    app = faust.App(
        settings.app_id,
        broker=_broker_url(settings.broker),
        store="rocksdb://",
        datadir=str(settings.data_dir),
        topic_partitions=settings.partitions,
        topic_replication_factor=1,
        consumer_auto_offset_reset="earliest",
        web_port=web_port,
        web_bind="127.0.0.1",
        web_enabled=False,
        producer_linger=0.005,
        producer_compression_type="lz4",
        broker_commit_interval=1.0,
        # the embedded broker holds a new group join for half the session timeout
        broker_session_timeout=settings.session_timeout_s,
        **extra,
    )
    raw = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw",
           "value_serializer": "raw"}
    topics = settings.topics
    table = app.Table(
        STATE_TABLE,
        partitions=settings.partitions,
        key_type=bytes,
        value_type=bytes,
        options={"block_cache_size": settings.rocksdb_block_cache_mb * 1024 * 1024,
                 "driver": "rocksdict"},
    )
    # faust derives a table's serializers from its types and falls back to json for bytes;
    # the store and the changelog are created lazily, so raw set here is what they use.
    table.key_serializer = table.value_serializer = "raw"
    publisher = Publisher(
        offers={c: app.topic(t, **raw) for c, t in topics.offers().items()},
        decisions=app.topic(topics["decisions"], **raw),
        dlq=app.topic(topics["dlq"], **raw),
    )
    processor = Processor(topics, table, publisher)
    source = app.topic(*topics.inputs().values(), **raw)

    @app.agent(source, name="ingest")
    async def ingest(stream: Any) -> None:
        async for event in stream.events():
            await processor.handle(event)

    return Wiring(app=app, processor=processor)
