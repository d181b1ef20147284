"""The control topics besides the catalogue, on the broker: created, read at start-up, written.

- models (compacted, one partition): the learner's scorer snapshots;
- do-not-contact (compacted, one partition): written by ``cjo dnc add|remove IMSI...``;
- learning (one partition, so one learner owns the models): labelled examples.

Their record formats, and how a bad record is refused, are in ``cjo.control_records``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from confluent_kafka import Producer

from cjo.adapters.control_read import Refusals, ensure_control_topic, read_control
from cjo.adapters.kafka_admin import producer_config, read_all
from cjo.codec.checks import check_imsi
from cjo.control_records import (
    DNC_BLOCK,
    ControlRecordError,
    apply_dnc,
    models_key,
    scorer_of,
)
from cjo.errors import BrokerError, CjoError, ConfigError, InvalidRecord
from cjo.settings import Settings

COMPACT = {"cleanup.policy": "compact"}


@dataclass(frozen=True, slots=True)
class Snapshot:
    value: bytes | None  # the newest valid snapshot (None: none yet)
    next_offsets: dict[int, int]  # per partition: where a follower goes on
    refused: int = 0  # newer records refused on the way to it (each logged once, ever)
    version: int = 0  # the scorer version of ``value``


def ensure_control_topics(settings: Settings) -> None:
    """Created with one partition if missing; another layout is reported and read as it is
    (``cjo.adapters.control_read``)."""
    topics = settings.topics
    ensure_control_topic(settings, topics["models"], COMPACT)
    ensure_control_topic(settings, topics["dnc"], COMPACT)
    ensure_control_topic(settings, topics["learning"], None)


def read_models(settings: Settings) -> Snapshot:
    """The newest snapshot that loads with this worker's key: a bad newest one is refused
    (logged) and the one before it is taken, so it never blocks a start."""
    read = read_control(settings, settings.topics["models"])
    key, refusals = models_key(settings), Refusals(settings)
    found: Snapshot | None = None
    for record in reversed(read.records):
        try:
            scorer = scorer_of(record.key, record.value, key)
        except CjoError as err:
            refusals.refuse(record, err)
            continue
        if scorer is not None:
            found = Snapshot(record.value, read.next_offsets, 0, scorer.version)
            break
    refused = refusals.close()
    if found is None:
        return Snapshot(None, read.next_offsets, refused)
    return replace(found, refused=refused)


def read_dnc(settings: Settings) -> tuple[frozenset[str], dict[int, int], int]:
    """The blocked IMSIs, the offsets to follow from, and how many records were refused."""
    read = read_control(settings, settings.topics["dnc"])
    blocked: set[str] = set()
    refusals = Refusals(settings)
    for record in read.records:
        try:
            apply_dnc(blocked, record.key, record.value)
        except ControlRecordError as err:
            refusals.refuse(record, err)
    return frozenset(blocked), read.next_offsets, refusals.close()


def publish_dnc(settings: Settings, imsis: Iterable[str], block: bool) -> int:
    imsis = list(imsis)
    for imsi in imsis:
        try:
            check_imsi(imsi)
        except InvalidRecord as err:
            raise ConfigError(f"do-not-contact: {err.reason}") from None
    ensure_control_topics(settings)
    producer = Producer(producer_config(settings.broker))
    errors: list[str] = []
    for imsi in imsis:
        producer.produce(settings.topics["dnc"], key=imsi.encode(),
                         value=DNC_BLOCK if block else None,
                         on_delivery=lambda err, _m: errors.append(str(err)) if err else None)
    if producer.flush(10) or errors:
        raise BrokerError(f"do-not-contact update not delivered: {errors or 'timed out'}")
    return len(imsis)


CONTROL = ("catalogue", "models", "dnc")


def purge(settings: Settings, topic: str, offset: int, partition: int = 0) -> bytes:
    """Tombstones the key of the control record at ``offset`` (a refused one, named by its
    ``control_refused`` line): compaction then removes it, and no worker reads it again.
    ``topic``: catalogue, models, dnc, or the topic's name. Returns the key tombstoned."""
    names = {settings.topics[c]: c for c in CONTROL}
    name = settings.topics[topic] if topic in CONTROL else topic
    if name not in names:
        raise ConfigError(f"cjo control purge: {topic!r} is not a control topic "
                          f"(one of {', '.join(CONTROL)}, or {', '.join(sorted(names))})")
    found = [r for r in read_all(settings.broker, [name])
             if r.partition == partition and r.offset == offset]
    if not found:
        raise ConfigError(f"cjo control purge: no record at offset {offset} of {name} "
                          f"partition {partition} (compacted away already?)")
    key = found[0].key
    if key is None:
        raise ConfigError(f"cjo control purge: the record at offset {offset} of {name} has no "
                          "key, so no tombstone can remove it (compaction drops it)")
    producer = Producer(producer_config(settings.broker))
    errors: list[str] = []
    producer.produce(name, key=key, value=None, partition=partition,
                     on_delivery=lambda err, _m: errors.append(str(err)) if err else None)
    if producer.flush(10) or errors:
        raise BrokerError(f"tombstone not delivered to {name}: {errors or 'timed out'}")
    return key
