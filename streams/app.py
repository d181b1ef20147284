"""The Faust app factory: one app per worker process, built from the settings.

One agent consumes the five input topics (co-partitioned by imsi) and keeps one state value per
subscriber in a RocksDB-backed table (rocksdict), recoverable from its changelog topic.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import faust
from aiokafka.errors import IllegalStateError
from faust.types import TP

from cjo import logs
from cjo.adapters.kafka_security import faust_security
from cjo.catalogue.catalogue import Catalogue
from cjo.codec.evolution import register_writer_schemas
from cjo.control_records import apply_dnc, models_key, scorer_of
from cjo.errors import CjoError
from cjo.scoring import Scorer
from cjo.settings import Settings
from streams import exact_offsets, faust_pins, transactions
from streams.catalogue_feed import follow_catalogue
from streams.follower import follow
from streams.health import Health
from streams.learner import Learner
from streams.processor import Processor, TimePolicy
from streams.publisher import Publisher
from streams.restore import restore
from streams.web import install_web

log = logs.get("cjo.worker")

STATE_TABLE = "subscriber-state"
TICK_INTERVAL_S = 1.0


@dataclass
class Wiring:
    app: faust.App
    processor: Processor
    consumer: faust_pins.BatchConsumer
    health: Health


def web_url(settings: Settings, web_port: int) -> str:
    """The URL the other workers reach this one's web server at (``CJO_WEB_URL``)."""
    if settings.web_url:
        return settings.web_url.rstrip("/")
    host = "127.0.0.1" if settings.web_bind in ("0.0.0.0", "::", "") else settings.web_bind
    return f"http://{host}:{web_port}"


def _broker_url(bootstrap: str) -> str:
    return ";".join(f"kafka://{host.strip()}" for host in bootstrap.split(",") if host.strip())


@dataclass(frozen=True)
class StartState:
    """What the worker read from the control topics before starting, and where it stopped."""

    catalogue: Catalogue
    catalogue_offset: int = 0
    models: bytes | None = None
    models_offset: int = 0
    do_not_contact: frozenset[str] = frozenset()
    dnc_offset: int = 0
    refused: int = 0  # control records refused while reading them (each logged)


def _new_app(settings: Settings, web_port: int) -> tuple[faust.App, faust_pins.BatchConsumer]:
    register_writer_schemas(Path(path.strip()) for path in settings.writer_schemas.split(",")
                            if path.strip())
    app = faust.App(
        settings.app_id,
        broker=_broker_url(settings.broker),
        store="rocksdb://",
        datadir=str(settings.data_dir),
        topic_partitions=settings.partitions,
        # cjo creates every topic itself (``internal_topics``), with CJO_REPLICATION_FACTOR:
        # faust's own factor cannot say "the brokers' default", and it sets no min.insync
        topic_allow_declare=False,
        consumer_auto_offset_reset="earliest",
        producer_linger=0.005,
        producer_max_batch_size=262_144,
        producer_compression_type=(None if settings.producer_compression == "none"
                                   else settings.producer_compression),
        web_port=web_port,
        web_bind=settings.web_bind,
        web_enabled=True,
        canonical_url=web_url(settings, web_port),
        # faust's table and router pages serve table data to anyone, routed by faust's own
        # key hashing (not the partition the producer chose): cjo's endpoints replace them
        web_router_enabled=False,
        web_tables_enabled=False,
        web_graph_enabled=False,
        web_stats_enabled=False,
        TableManager=faust_pins.FastRestoreTables,  # cjo's reader restores the state table
        broker_commit_interval=1.0,
        # nothing faust tracks is held by cjo, but the learner acks only what a published
        # snapshot holds: a rebalance or a stop must not wait for it (it is read again)
        stream_wait_empty=False,
        # each process replays only its own partitions' changelogs (a standby on the same
        # host would spend the same cores twice)
        table_standby_replicas=settings.standby_replicas,
        # the embedded broker holds a new group join for half the session timeout
        broker_session_timeout=settings.session_timeout_s,
        # static membership: aiokafka then sends no LeaveGroup on stop, and the broker keeps the
        # member (and its partitions) for a session timeout
        consumer_group_instance_id=settings.group_instance_id or None,
        **faust_security(settings),
    )
    consumer = faust_pins.install_transport(app)
    consumer.fetch_max_wait_ms = settings.fetch_max_wait_ms
    if settings.embedded_broker_workarounds:
        consumer.exact_highwaters = exact_offsets.reader(settings.broker)
    if settings.processing_guarantee == "exactly_once":
        consumer.read_committed = True
        consumer.committed_ends = exact_offsets.committed_reader(settings.broker)
    return app, consumer


def internal_topics(settings: Settings) -> dict[str, tuple[int, dict[str, str]]]:
    """The topics faust reads and writes beyond cjo's own, as faust names and configures them:
    topic -> (partitions, config). cjo creates them before the app starts (faust may not:
    ``topic_allow_declare=False``)."""
    return {f"{settings.app_id}-{STATE_TABLE}-changelog": (settings.partitions,
                                                           {"cleanup.policy": "compact"}),
            f"{settings.app_id}-__assignor-__leader": (1, {})}


def _state_table(app: faust.App, settings: Settings) -> Any:
    """One raw-bytes value per subscriber (and the timers, budgets and watermarks), in RocksDB
    with bounded memory per partition, recoverable from its changelog topic."""
    mib = 1024 * 1024
    table: Any = app.Table(
        STATE_TABLE,
        partitions=settings.partitions,
        key_type=bytes,
        value_type=bytes,
        options={"block_cache_size": settings.rocksdb_block_cache_mb * mib,
                 "write_buffer_size": settings.rocksdb_write_buffer_mb * mib,
                 "max_write_buffer_number": 2,
                 "driver": "rocksdict"},
    )
    if table.changelog_topic.get_topic_name() not in internal_topics(settings):
        raise CjoError(f"faust names the state changelog "
                       f"{table.changelog_topic.get_topic_name()}, not one cjo creates")
    # faust derives a table's serializers from its types and falls back to json for bytes;
    # the store and the changelog are created lazily, so raw set here is what they use.
    table.key_serializer = table.value_serializer = "raw"
    faust_pins.install_reader(app, partial(restore, settings.broker) if settings.fast_restore
                              else None)
    return table


def create_app(settings: Settings, web_port: int, start: StartState) -> Wiring:
    """``start``: the catalogue, models and do-not-contact list in force; the worker then
    follows their topics (see ``streams.follower``)."""
    app, consumer = _new_app(settings, web_port)
    raw: dict[str, Any] = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw",
           "value_serializer": "raw"}
    topics = settings.topics
    table = _state_table(app, settings)
    source = app.topic(*topics.inputs().values(), topics["ticks"], **raw)
    eos = _exactly_once(app, consumer, table, source.topics) \
        if settings.processing_guarantee == "exactly_once" else None
    processor = _processor(settings, start, Publisher(topics, partial(faust_pins.send_records,
                                                                      app)),
                           FaustFeed(app, table), eos)
    key = models_key(settings)

    def count_refused() -> None:
        processor.counts["control_refused"] += 1

    consumer.handler = processor
    models = app.topic(topics["models"], **raw)
    learner = Learner(models, start.models, key)
    _learn(app, app.topic(topics["learning"], **raw), learner)
    ticks = app.topic(topics["ticks"], **raw)

    @app.agent(source, name="ingest")
    async def ingest(stream: Any) -> None:
        """Subscribes the worker to its input topics; their records go to the processor a
        fetch at a time (``streams.faust_pins.BatchConsumer``), never through this stream."""
        async for _event in stream.events():
            raise RuntimeError("an input record reached faust's stream path")

    @app.timer(interval=TICK_INTERVAL_S)
    async def tick() -> None:
        """A tick on every partition this worker owns: wakes the agent there (event context)."""
        now = str(time.time_ns() // 1_000_000).encode()
        for tp in app.consumer.assignment():
            if tp.topic == topics["ticks"]:
                await ticks.send(key=b"tick", value=now, partition=tp.partition)

    @app.task
    async def catalogue_task() -> None:
        def switch(new: Catalogue) -> None:
            processor.catalogue = new

        await follow_catalogue(settings.broker, topics["catalogue"], start.catalogue_offset,
                               lambda: processor.catalogue, switch, count_refused)

    @app.task
    async def models_task() -> None:
        def load_twice(record_key: bytes | None,
                       value: bytes | None) -> tuple[Scorer | None, Scorer | None]:
            # the learner's own copy: it learns in place. SnapshotError: refused, none adopted
            return scorer_of(record_key, value, key), scorer_of(record_key, value, key)

        async def adopt(record_key: bytes | None, value: bytes | None, offset: int) -> None:
            scorer, copy = await asyncio.to_thread(load_twice, record_key, value)  # off the loop
            if scorer is not None and copy is not None:
                processor.knowledge = replace(processor.knowledge, scorer=scorer)
                learner.adopt(copy)
                log.info("models_adopted", version=scorer.version, offset=offset)

        await follow(settings.broker, topics["models"], {0: start.models_offset}, adopt,
                     count_refused)

    @app.task
    async def dnc_task() -> None:
        blocked = set(start.do_not_contact)

        async def update(key: bytes | None, value: bytes | None, offset: int) -> None:
            apply_dnc(blocked, key, value)  # ControlRecordError: refused, nothing changes
            processor.knowledge = replace(processor.knowledge, do_not_contact=frozenset(blocked))
            log.info("do_not_contact_updated", blocked=len(blocked), offset=offset)

        await follow(settings.broker, topics["dnc"], {0: start.dnc_offset}, update,
                     count_refused)

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]  # faust's signal typing
    async def on_revoked(sender: Any, *args: Any, **kwargs: Any) -> None:
        revoked: set[TP] = args[0] if args else kwargs["revoked"]
        partitions = {tp.partition for tp in revoked if tp.topic in source.topics}
        processor.forget(partitions)
        if eos is not None:
            await eos.transactions.release(partitions)

    return Wiring(app=app, processor=processor, consumer=consumer,
                  health=install_web(app, settings, processor, table,
                                     web_url(settings, web_port)))


def _processor(settings: Settings, start: StartState, publisher: Publisher, feed: FaustFeed,
               eos: TransactionalFeed | None) -> Processor:
    time_policy = TimePolicy(live=settings.time_mode == "live",
                             allowed_lateness_ms=settings.allowed_lateness_ms,
                             idle_grace_ms=settings.idle_grace_ms,
                             max_future_ms=settings.max_future_ms)
    processor = Processor(settings.topics, publisher, feed, start.catalogue,
                          max_idle_ms=settings.max_idle_ms, time=time_policy,
                          partitions=settings.partitions, exactly_once=eos,
                          merge_settle_ms=settings.merge_settle_ms)
    key = models_key(settings)
    processor.knowledge = replace(processor.knowledge, do_not_contact=start.do_not_contact,
                                  scorer=Scorer.from_bytes(start.models, key) if start.models
                                  else None)
    processor.counts["control_refused"] += start.refused  # shown in the progress line, even 0
    return processor


def _exactly_once(app: faust.App, consumer: faust_pins.BatchConsumer, table: Any,
                  source_topics: Sequence[str]) -> TransactionalFeed:
    """The transactional producers, one per input partition (``streams.transactions``), each
    started when its partition is assigned."""
    eos = TransactionalFeed(table, transactions.Transactions(
        app.conf.id, app.conf.id, partial(faust_pins.transactional_producer, app)))

    async def on_assign(assigned: set[TP]) -> None:
        await eos.transactions.claim(
            sorted({tp.partition for tp in assigned if tp.topic in source_topics}))

    consumer.on_assign = on_assign
    return eos


def _learn(app: faust.App, source: Any, learner: Learner) -> None:
    @app.agent(source, name="learner")
    async def learn(stream: Any) -> None:
        manual = stream.noack()
        learner.stream = manual
        async for event in manual.events():
            await learner.handle(event)

    @app.timer(interval=1.0)
    async def publish_models() -> None:
        if learner.stream is not None:
            await learner.publish_if_due()


class FaustFeed:
    """The processor's view of the faust consumer and state table (``streams.processor.Feed``)."""

    def __init__(self, app: faust.App, table: Any) -> None:
        self._app = app
        self._table = table

    def highwater(self, topic: str, partition: int) -> tuple[int | None, int]:
        tp = TP(topic, partition)
        try:
            value = self._app.consumer.highwater(tp)
        except AssertionError:  # aiokafka's "Partition is not assigned": revoked meanwhile
            return None, 0
        if value is None:
            return None, 0
        return int(value), faust_pins.fetched_at(self._app.consumer, tp) or 0

    async def position(self, topic: str, partition: int) -> int | None:
        """None also when the partition is no longer assigned (revoked while the batch was
        decided: its next owner reads it, and the processor forgets it)."""
        try:
            value = await self._app.consumer.position(TP(topic, partition))
        except IllegalStateError:
            return None
        return None if value is None else int(value)

    def partition_db(self, partition: int) -> Any:
        return faust_pins.partition_db(self._table, partition)

    async def send_changelog(self, partition: int,
                             items: Sequence[tuple[bytes, bytes | None]]) -> list[Any]:
        return await faust_pins.send_changelog(self._app, self._table, partition, items)


class TransactionalFeed:
    """Exactly-once: the transactional producers and the writes of a step's transaction
    (``streams.processor.TransactionalFeed``)."""

    def __init__(self, table: Any, partition_transactions: transactions.Transactions) -> None:
        self._table = table
        self.transactions = partition_transactions

    async def send_records_on(self, producer: Any, records: Sequence[Any]) -> list[Any]:
        return await faust_pins.send_records_on(producer, records)

    async def send_changelog_on(self, producer: Any, partition: int,
                                items: Sequence[tuple[bytes, bytes | None]]) -> list[Any]:
        return await faust_pins.send_changelog_on(producer, self._table, partition, items)

    def persist_offset(self, partition: int, offset: int) -> None:
        faust_pins.persist_offset(self._table, partition, offset)
