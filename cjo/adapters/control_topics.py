"""The control topics besides the catalogue, on the broker: created, read at start-up, written.

- models (compacted, one partition): the learner's scorer snapshots;
- do-not-contact (compacted, one partition): written by ``cjo dnc add|remove IMSI...``;
- learning (one partition, so one learner owns the models): labelled examples.

Their record formats, and how a bad record is refused, are in ``cjo.control_records``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from confluent_kafka import Producer

from cjo.adapters.kafka_admin import Replication, create_topics, producer_config, read_all
from cjo.codec.checks import check_imsi
from cjo.control_records import (
    DNC_BLOCK,
    ControlRecordError,
    apply_dnc,
    models_key,
    refused,
    scorer_of,
)
from cjo.errors import BrokerError, CjoError, ConfigError, InvalidRecord
from cjo.settings import Settings

COMPACT = {"cleanup.policy": "compact"}


@dataclass(frozen=True, slots=True)
class Snapshot:
    value: bytes | None  # the newest valid snapshot (None: none yet)
    next_offset: int
    refused: int = 0  # newer records refused on the way to it (each logged)
    version: int = 0  # the scorer version of ``value``


def ensure_control_topics(settings: Settings) -> None:
    topics = settings.topics
    replication = Replication.of(settings)
    create_topics(settings.broker, [topics["models"], topics["dnc"]], 1, COMPACT,
                  replication=replication)
    create_topics(settings.broker, [topics["learning"]], 1, replication=replication)


def read_models(settings: Settings) -> Snapshot:
    """The newest snapshot that loads with this worker's key: a bad newest one is refused
    (logged) and the one before it is taken, so it never blocks a start."""
    topic = settings.topics["models"]
    records = read_all(settings.broker, [topic])
    key, refusals = models_key(settings), 0
    for record in reversed(records):
        try:
            scorer = scorer_of(record.key, record.value, key)
        except CjoError as err:
            refused(topic, record.offset, err)
            refusals += 1
            continue
        if scorer is not None:
            return Snapshot(record.value, records[-1].offset + 1, refusals, scorer.version)
    return Snapshot(None, records[-1].offset + 1 if records else 0, refusals)


def read_dnc(settings: Settings) -> tuple[frozenset[str], int, int]:
    """The blocked IMSIs, the offset to follow from, and how many records were refused."""
    topic = settings.topics["dnc"]
    blocked: set[str] = set()
    refusals = 0
    records = read_all(settings.broker, [topic])
    for record in records:
        try:
            apply_dnc(blocked, record.key, record.value)
        except ControlRecordError as err:
            refused(topic, record.offset, err)
            refusals += 1
    return frozenset(blocked), records[-1].offset + 1 if records else 0, refusals


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
