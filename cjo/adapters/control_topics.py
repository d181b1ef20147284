"""The small control topics besides the catalogue: model snapshots, the do-not-contact list, and
the learner's single-partition example topic.

- ``cjo.models`` (compacted, one partition): key ``scorer``, value a ``cjo.scoring.Scorer``
  snapshot published by the learner; every worker scores with the newest.
- ``cjo.dnc`` (compacted, one partition): key an IMSI, value ``1`` to block every offer to it,
  empty (a tombstone) to lift the block. ``cjo dnc add|remove IMSI...`` writes it.
- ``cjo.learning`` (one partition, so one learner owns the models): labelled examples.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from confluent_kafka import Producer

from cjo.adapters.kafka_admin import create_topics, producer_config, read_all
from cjo.codec.checks import check_imsi
from cjo.errors import BrokerError, ConfigError, InvalidRecord
from cjo.settings import Settings

MODELS_KEY = b"scorer"
COMPACT = {"cleanup.policy": "compact"}


@dataclass(frozen=True, slots=True)
class Snapshot:
    value: bytes | None  # the newest record's value (None: nothing yet)
    next_offset: int


def ensure_control_topics(settings: Settings) -> None:
    topics = settings.topics
    create_topics(settings.broker, [topics["models"], topics["dnc"]], 1, COMPACT)
    create_topics(settings.broker, [topics["learning"]], 1)


def read_models(settings: Settings) -> Snapshot:
    records = read_all(settings.broker, [settings.topics["models"]])
    values = [r.value for r in records if r.key == MODELS_KEY and r.value]
    return Snapshot(values[-1] if values else None, records[-1].offset + 1 if records else 0)


def read_dnc(settings: Settings) -> tuple[frozenset[str], int]:
    blocked: set[str] = set()
    records = read_all(settings.broker, [settings.topics["dnc"]])
    for record in records:
        apply_dnc(blocked, record.key, record.value)
    return frozenset(blocked), records[-1].offset + 1 if records else 0


def apply_dnc(blocked: set[str], key: bytes | None, value: bytes | None) -> None:
    if key is None:
        return
    if value:
        blocked.add(key.decode())
    else:
        blocked.discard(key.decode())


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
        producer.produce(settings.topics["dnc"], key=imsi.encode(), value=b"1" if block else None,
                         on_delivery=lambda err, _m: errors.append(str(err)) if err else None)
    if producer.flush(10) or errors:
        raise BrokerError(f"do-not-contact update not delivered: {errors or 'timed out'}")
    return len(imsis)
