"""Kafka helpers on confluent-kafka: topics, exact end offsets, committed offsets, reading back.

End offsets come from the high watermark that a Fetch response carries, never from ListOffsets:
the embedded broker answers ListOffsets(latest) with the last batch's base offset + 1, which is
short of the log end whenever a batch holds more than one record (docs/architecture.md, "The
embedded broker"). librdkafka caches the watermark of every fetch response (and only of fetch
responses) per partition, so a fresh consumer that has fetched each partition once knows the
exact end. Against Apache Kafka the same method is exact too, so there is no broker-specific
branch.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from confluent_kafka import (
    OFFSET_END,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic  # confluent_kafka.admin re-exports it untyped

from cjo.adapters.kafka_security import confluent_config
from cjo.errors import BrokerError

if TYPE_CHECKING:
    from cjo.settings import Settings

Partition = tuple[str, int]
_COORDINATOR_MOVING = frozenset({KafkaError.NOT_COORDINATOR,
                                 KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
                                 KafkaError.COORDINATOR_NOT_AVAILABLE})
TIMEOUT_S = 30.0
# Client settings whose real names have underscores (everything else: underscores mean dots).
_UNDERSCORED = frozenset(
    {"error_cb", "throttle_cb", "stats_cb", "oauth_cb", "on_delivery", "log_level", "logger"}
)


@dataclass(frozen=True, slots=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int
    headers: tuple[tuple[str, bytes | None], ...] = ()


def producer_config(bootstrap: str, **overrides: Any) -> dict[str, Any]:
    """librdkafka producer settings for cjo's producers.

    ``murmur2_random`` maps a key to the partition the Java client and aiokafka (the Faust
    workers) choose, which keeps every input topic co-partitioned by imsi. Overrides are
    librdkafka names with underscores for dots (``linger_ms=50``, ``**{"linger.ms": 50}`` works
    too); the client's callback settings (``error_cb``, ``logger``, ...) keep their names.
    Security (SASL/TLS) comes from the environment (``cjo.adapters.kafka_security``).
    """
    config: dict[str, Any] = confluent_config(bootstrap)
    config.update({
        "partitioner": "murmur2_random",
        "linger.ms": 5,
        "compression.type": "lz4",
        "acks": "all",
        # a batch retried after a timeout (a broker stalled past the request timeout) is then
        # neither written twice nor put behind a later batch of its partition; both brokers
        # take it (InitProducerId)
        "enable.idempotence": True,
    })
    config.update({
        name if name in _UNDERSCORED else name.replace("_", "."): value
        for name, value in overrides.items()
    })
    return config


Isolation = Literal["read_uncommitted", "read_committed"]


def _consumer(bootstrap: str, group: str | None = None, eof: bool = False,
              isolation: Isolation = "read_uncommitted") -> Consumer:
    return Consumer(confluent_config(bootstrap, {
        "group.id": group or f"cjo-admin-{uuid.uuid4().hex}",
        "enable.auto.commit": False,
        # read_uncommitted: the high watermark, not the last stable offset. read_committed
        # (exactly-once outputs): no record of an aborted or open transaction
        "isolation.level": isolation,
        "fetch.wait.max.ms": 10,
        "enable.partition.eof": eof,
        "auto.offset.reset": "earliest",
        "log_level": 3,
    }))


@dataclass(frozen=True, slots=True)
class Replication:
    """The copies a topic cjo creates keeps (``CJO_REPLICATION_FACTOR``,
    ``CJO_MIN_INSYNC_REPLICAS``).

    ``factor`` -1 is the brokers' ``default.replication.factor`` (CreateTopics v4+, KIP-464; 1 on
    a single test node and on the embedded broker); ``min_insync`` 0 leaves the topic to the
    brokers' ``min.insync.replicas``.
    """

    factor: int = -1
    min_insync: int = 0

    @classmethod
    def of(cls, settings: Settings) -> Replication:
        return cls(settings.replication_factor, settings.min_insync_replicas)

    def config(self) -> dict[str, str]:
        return {"min.insync.replicas": str(self.min_insync)} if self.min_insync else {}


def create_topics(
    bootstrap: str, names: Iterable[str], partitions: int,
    config: Mapping[str, str] | None = None, timeout_s: float = TIMEOUT_S,
    replication: Replication = Replication(),
) -> None:
    """Create the topics that do not exist yet; return once metadata shows every one.

    A topic that exists with another partition count is an error: the input topics must agree
    for co-partitioning by imsi, and Tansu silently auto-creates (with 4 partitions) any topic a
    producer or admin client merely asks metadata about before it is created. A topic that
    exists is left as it is (its replication included).
    """
    wanted = sorted(set(names))
    admin = AdminClient(confluent_config(bootstrap))
    configs = {**replication.config(), **(config or {})}
    new = [NewTopic(name, partitions, replication.factor, config=configs) for name in wanted]
    for name, future in admin.create_topics(new, request_timeout=timeout_s).items():
        try:
            future.result()
        except Exception as err:
            code = _error_code(err)
            if code == KafkaError.TOPIC_ALREADY_EXISTS:
                continue
            if code == KafkaError.INVALID_REPLICATION_FACTOR:
                raise BrokerError(
                    f"cannot create topic {name} on {bootstrap} with replication factor "
                    f"{replication.factor}: {_error_text(err)} (CJO_REPLICATION_FACTOR must not "
                    "exceed the brokers available; -1 takes the brokers' default)") from err
            raise BrokerError(f"cannot create topic {name} on {bootstrap}: {err}") from err
    _await_topics(bootstrap, wanted, partitions, time.monotonic() + timeout_s)


def _await_topics(bootstrap: str, wanted: list[str], partitions: int, deadline: float) -> None:
    consumer = _consumer(bootstrap)  # a consumer's metadata requests never auto-create topics
    try:
        while missing := [name for name in wanted if not _check_count(consumer, name, partitions)]:
            if time.monotonic() > deadline:
                raise BrokerError(f"topics {missing} not in the metadata of {bootstrap} in time")
            time.sleep(0.05)
    finally:
        consumer.close()


def _check_count(consumer: Consumer, topic: str, partitions: int) -> bool:
    found = len(partitions_of(consumer, topic))
    if found and found != partitions:
        raise BrokerError(
            f"topic {topic} exists with {found} partitions, not {partitions}: all cjo topics "
            f"need the same count; delete it (or restart the embedded broker) or set "
            f"CJO_PARTITIONS={found}"
        )
    return found > 0


def _error_code(err: Exception) -> int | None:
    kafka_error = err.args[0] if err.args else None
    return kafka_error.code() if isinstance(kafka_error, KafkaError) else None


def _error_text(err: Exception) -> str:
    """The broker's own words for a KafkaError, on one line."""
    kafka_error = err.args[0] if err.args else None
    text = kafka_error.str() if isinstance(kafka_error, KafkaError) else str(err)
    return " ".join(text.split())


def partitions_of(client: AdminClient | Consumer, topic: str) -> list[int]:
    """The partition numbers of a topic; empty when it does not exist (yet)."""
    metadata = client.list_topics(topic, timeout=TIMEOUT_S).topics.get(topic)
    if metadata is None or metadata.error is not None:
        return []
    return sorted(metadata.partitions)


def _all_partitions(consumer: Consumer, topics: Iterable[str]) -> list[Partition]:
    found: list[Partition] = []
    for topic in topics:
        numbers = partitions_of(consumer, topic)
        if not numbers:
            raise BrokerError(f"no such topic: {topic}")
        found.extend((topic, number) for number in numbers)
    return found


def end_offsets(
    bootstrap: str, topics: Iterable[str], timeout_s: float = TIMEOUT_S
) -> dict[Partition, int]:
    """The exact log-end offset of every partition of ``topics`` (see the module docstring)."""
    consumer = _consumer(bootstrap)
    try:
        wanted = _all_partitions(consumer, topics)
        # Start near the end: a fetch from there is small and its response carries the watermark.
        consumer.assign([TopicPartition(t, p, OFFSET_END) for t, p in wanted])
        return _fetched_watermarks(consumer, wanted, time.monotonic() + timeout_s)
    finally:
        consumer.close()


def _fetched_watermarks(
    consumer: Consumer, wanted: list[Partition], deadline: float
) -> dict[Partition, int]:
    found: dict[Partition, int] = {}
    while len(found) < len(wanted):
        if time.monotonic() > deadline:
            missing = sorted(set(wanted) - set(found))
            raise BrokerError(f"no fetch response for {missing[:5]} in time: is the broker up?")
        consumer.poll(0.01)
        for topic, partition in wanted:
            high = consumer.get_watermark_offsets(TopicPartition(topic, partition), cached=True)[1]
            if high >= 0:
                found[topic, partition] = high
    return found


def committed_offsets(
    bootstrap: str, group: str, topics: Iterable[str], timeout_s: float = TIMEOUT_S
) -> dict[Partition, int]:
    """The offsets ``group`` committed per partition; -1 where it committed nothing.

    A coordinator that is moving or still loading (Apache Kafka answers NOT_COORDINATOR or
    COORDINATOR_LOAD_IN_PROGRESS while a new group's offsets partition gets ready) is asked again
    until ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    consumer = _consumer(bootstrap, group)
    try:
        wanted = [TopicPartition(t, p) for t, p in _all_partitions(consumer, topics)]
        while True:
            try:
                answer = consumer.committed(wanted, timeout=max(1.0, deadline - time.monotonic()))
                break
            except KafkaException as err:
                if _error_code(err) not in _COORDINATOR_MOVING or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    finally:
        consumer.close()
    return {(tp.topic, tp.partition): tp.offset if tp.offset >= 0 else -1 for tp in answer}


def read_all(bootstrap: str, topics: Iterable[str], timeout_s: float = TIMEOUT_S,
             isolation: Isolation = "read_uncommitted") -> list[Record]:
    """Every record now in ``topics``, up to their exact end offsets, by partition then offset.
    ``read_committed``: only records of committed transactions (and non-transactional ones);
    a transaction still open when it reads holds its partition until it ends, or the timeout."""
    topics = list(topics)
    deadline = time.monotonic() + timeout_s
    ends = {tp: end for tp, end in end_offsets(bootstrap, topics, timeout_s).items() if end > 0}
    consumer = _consumer(bootstrap, eof=True, isolation=isolation)
    try:
        # Offset 0, not OFFSET_BEGINNING: the same records (a log that starts later resets to
        # its earliest offset), without the ListOffsets round trip that costs Tansu ~0.5 s.
        consumer.assign([TopicPartition(t, p, 0) for t, p in ends])
        records = _read_until(consumer, ends, deadline)
    finally:
        consumer.close()
    return sorted(records, key=lambda r: (r.topic, r.partition, r.offset))


def committed_ends(bootstrap: str, ends: Mapping[Partition, int],
                   timeout_s: float = TIMEOUT_S) -> dict[Partition, int]:
    """Per partition, the offset after the last record a read_committed reader gets below its
    ``ends`` (last stable offsets); 0 if none. A transaction's commit or abort marker takes an
    offset no record fills, so the last stable offset alone does not say where the records end.
    Reads back from each end, a window that widens until a record is found or the log starts."""
    found: dict[Partition, int] = {tp: 0 for tp, end in ends.items() if end <= 0}
    window = 64
    deadline = time.monotonic() + timeout_s
    while pending := {tp: end for tp, end in ends.items() if tp not in found}:
        consumer = _consumer(bootstrap, eof=True, isolation="read_committed")
        try:
            consumer.assign([TopicPartition(t, p, max(end - window, 0))
                             for (t, p), end in pending.items()])
            records = _read_until(consumer, pending, deadline)
        finally:
            consumer.close()
        for record in records:
            tp = (record.topic, record.partition)
            found[tp] = max(found.get(tp, 0), record.offset + 1)
        for tp, end in pending.items():
            if tp not in found and end - window <= 0:
                found[tp] = 0  # read from the log's start: nothing committed
        window *= 16
    return found


def follow_records(bootstrap: str, start: Mapping[Partition, int],
                   isolation: Isolation = "read_uncommitted",
                   poll_s: float = 0.5) -> Iterator[Record]:
    """The records of the partitions in ``start`` from the offsets given, as they arrive, until
    the caller stops iterating (``cjo tail --follow``)."""
    consumer = _consumer(bootstrap, isolation=isolation)
    try:
        consumer.assign([TopicPartition(t, p, o) for (t, p), o in start.items()])
        while True:
            for msg in consumer.consume(500, poll_s):
                error = msg.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        continue
                    raise BrokerError(f"follow: {error}")
                yield _record(msg)
    finally:
        consumer.close()


def _read_until(consumer: Consumer, ends: dict[Partition, int], deadline: float) -> list[Record]:
    records: list[Record] = []
    pending = dict(ends)
    while pending:
        if time.monotonic() > deadline:
            raise BrokerError(f"read_all: partitions {sorted(pending)[:5]} not read to the end")
        for msg in consumer.consume(500, 0.1):
            error = msg.error()
            if error is not None and error.code() != KafkaError._PARTITION_EOF:
                raise BrokerError(f"read_all: {error}")
            record = _record(msg)
            tp = (record.topic, record.partition)
            end = pending.get(tp)
            if end is None:
                continue
            if error is None and record.offset < end:
                records.append(record)
            # Done at the end offset; an end-of-partition event also covers offset gaps
            # (control records) that no message would ever fill.
            if record.offset + (error is None) >= end:
                del pending[tp]
    return records


def _record(msg: Message) -> Record:
    topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
    assert topic is not None and partition is not None and offset is not None
    headers = msg.headers() or []
    items = headers.items() if isinstance(headers, dict) else headers
    return Record(
        topic=topic, partition=partition, offset=offset, key=msg.key(), value=msg.value(),
        timestamp_ms=msg.timestamp()[1],
        headers=tuple((name, v.encode() if isinstance(v, str) else v) for name, v in items),
    )


# -- is anybody there? (every command that talks to a broker asks this first) --

PROBE_TIMEOUT_S = 3.0
_QUIET = logging.getLogger("cjo.librdkafka.probe")
_QUIET.propagate = False  # librdkafka's connection-refused lines: the one-line error says it
_SECURITY_WORDS = ("SASL", "SSL", "authentication", "Authentication")


class _Kept(logging.Handler):
    """The librdkafka lines of one probe, kept rather than shown."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def probe(bootstrap: str, timeout_s: float | None = None) -> None:
    """Return once a broker at ``bootstrap`` answers a metadata request (with the security
    settings every client uses); otherwise raise a one-line :class:`BrokerError` within
    ``timeout_s`` (default ``PROBE_TIMEOUT_S``), with no client log lines on stderr: that no
    broker answered, or, when one did but refused the connection's security (SASL, TLS), the
    client's reason."""
    timeout_s = PROBE_TIMEOUT_S if timeout_s is None else timeout_s
    kept = _Kept()
    _QUIET.addHandler(kept)
    admin = AdminClient(confluent_config(bootstrap, {
        "logger": _QUIET, "socket.connection.setup.timeout.ms": int(timeout_s * 1000)}))
    try:
        admin.list_topics(timeout=timeout_s)
    except KafkaException:
        admin.poll(0)  # serves the client's log lines to ``kept``
        refused = [line for line in kept.lines if any(w in line for w in _SECURITY_WORDS)]
        if refused:
            raise BrokerError(f"the broker at {bootstrap} refused the connection's security "
                              f"settings (CJO_SECURITY_PROTOCOL, CJO_SASL_*, CJO_SSL_*): "
                              f"{refused[0].strip()}") from None
        raise BrokerError(
            f"no broker answered at {bootstrap} within {timeout_s:g} s: start one with "
            f"`cjo broker` (then export the CJO_BROKER line it prints), or point --broker or "
            f"CJO_BROKER at yours"
        ) from None
    finally:
        _QUIET.removeHandler(kept)
