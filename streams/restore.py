"""cjo's changelog reader: a table's changelog partitions restored into their RocksDB databases.

faust restores a table one event at a time (a message, an ``Event``, a queue hop and an
``asyncio.wait_for`` per changelog record: about 20,000 records/s). Here a plain librdkafka
consumer (confluent-kafka, no group) reads the partitions from where each database stopped,
and every ``consume`` call's records go to their partition's database in one RocksDB write
batch (a ``None`` value deletes the key, as in faust's ``apply_changelog_batch``).

Each write batch also sets the partition's persisted changelog offset (``Target.offset_entry``:
faust's own key and encoding) to the last offset it holds, so the database is at every moment
"every changelog record up to the recorded offset applied": a crash or a stop mid-restore
leaves a state that the next restore, cjo's or faust's, continues from. A partition is done
once a record past ``Target.last`` arrives or the reader reaches the partition's end; its
offset is then ``last`` (or the end less one, if the end, the last stable offset under
transactions, is short of it).

``streams.faust_pins.FastRecovery`` runs this before faust's recovery looks at its offsets, for
the active changelog partitions the worker is assigned, up to the end offsets faust measured.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition
from rocksdict import WriteBatch

from cjo.adapters.kafka_security import confluent_config

Partition = tuple[str, int]
CONSUME_MAX = 20_000  # records per consume call, and so at most per write batch and partition
POLL_S = 0.25  # a stop or the deadline is noticed within this (plus one write batch)


@dataclass(frozen=True)
class Target:
    """One changelog partition to bring up to ``last`` (inclusive) in ``db``."""

    db: Any  # rocksdict.Rdict, raw mode
    start: int | None  # the first offset to read; None: the partition's beginning
    last: int  # the offset to reach (the end offset less one)
    offset_entry: Callable[[int], tuple[bytes, bytes]]  # offset -> (key, value) as faust stores


@dataclass
class Restored:
    """What a restore did: per partition the offset its database now records as applied."""

    reached: dict[Partition, int] = field(default_factory=dict)
    records: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # of the reading thread (librdkafka's own threads not counted)
    complete: bool = True  # every partition reached its target

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0


def restore(bootstrap: str, targets: Mapping[Partition, Target],
            stop: threading.Event | None = None, deadline: float | None = None) -> Restored:
    """Read each target partition from its start to its ``last`` offset into its database.
    Blocking (run it in a thread). Returns early, each database consistent at its recorded
    offset, once ``stop`` is set or ``deadline`` (``time.monotonic``) passes."""
    started, cpu_started = time.monotonic(), time.thread_time()
    result = Restored()
    pending = {p: t for p, t in targets.items() if t.start is None or t.start <= t.last}
    if not pending:
        return result
    consumer = Consumer(confluent_config(bootstrap, {
        "group.id": f"cjo-restore-{uuid.uuid4().hex}",  # never joined: assign() only
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "enable.partition.eof": True,
        "auto.offset.reset": "earliest",  # a start below the log start (compacted, deleted)
        "isolation.level": "read_committed",  # aborted transactions are no state
        "fetch.wait.max.ms": 50,
        "queued.min.messages": 200_000,
        "log_level": 3,
    }))
    try:
        consumer.assign([TopicPartition(t, p, OFFSET_BEGINNING if tg.start is None else tg.start)
                         for (t, p), tg in pending.items()])
        while pending:
            if (stop is not None and stop.is_set()) or (deadline is not None
                                                        and time.monotonic() > deadline):
                result.complete = False
                break
            done = _apply(consumer.consume(CONSUME_MAX, POLL_S), pending, result)
            if done:
                consumer.incremental_unassign([TopicPartition(t, p) for t, p in done])
    finally:
        consumer.close()
    result.seconds = time.monotonic() - started
    result.cpu_seconds = time.thread_time() - cpu_started
    return result


def _apply(messages: list[Any], pending: dict[Partition, Target],
           result: Restored) -> set[Partition]:
    """One consume call's records into one write batch per partition (with its offset);
    returns the partitions now done (removed from ``pending``)."""
    batches: dict[Partition, tuple[Any, int]] = {}  # partition -> (write batch, last offset)
    done: dict[Partition, int] = {}  # partition -> offset reached
    for message in messages:
        where = (message.topic(), message.partition())
        target = pending.get(where)
        if target is None or where in done:
            continue  # done earlier in this batch, or records fetched before the unassign
        error = message.error()
        if error is not None:
            if error.code() != KafkaError._PARTITION_EOF:
                raise KafkaException(error)
            done[where] = min(target.last, message.offset() - 1)
            continue
        offset = message.offset()
        if offset > target.last:
            done[where] = target.last
            continue
        batch, _ = batches.get(where) or (WriteBatch(raw_mode=True), 0)
        key, value = message.key(), message.value()
        if key is not None:
            if value is None:
                batch.delete(key)
            else:
                batch.put(key, value)
            result.records += 1
        batches[where] = (batch, offset)
        if offset == target.last:
            done[where] = offset
    for where in batches.keys() | done.keys():
        target = pending[where]
        batch, offset = batches.get(where) or (WriteBatch(raw_mode=True), -1)
        offset = max(done.get(where, offset), (target.start or 0) - 1)
        if offset < 0:
            continue  # an empty partition: nothing to record
        key, value = target.offset_entry(offset)
        batch.put(key, value)  # in the same batch as the records: written together or not
        target.db.write(batch)
        result.reached[where] = offset
    for where in done:
        del pending[where]
    return set(done)
