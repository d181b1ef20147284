"""The live catalogue on its compacted control topic (``cjo.catalogue``, one partition).

``cjo catalogue apply`` validates and then publishes here (key ``catalogue``); every worker reads
the topic itself, from the start (no consumer group), takes the newest record that validates and
follows the topic while it runs. A payload that does not validate
(``cjo.catalogue.validate.load_payload``: bounded in size and depth, never empty) is refused with a
``control_refused`` log line and never replaces the one in force. The record format is in
``cjo.control_records``.
"""

from __future__ import annotations

from dataclasses import dataclass

from confluent_kafka import Producer

from cjo.adapters.control_topics import COMPACT
from cjo.adapters.kafka_admin import Replication, create_topics, producer_config, read_all
from cjo.catalogue.catalogue import Catalogue, require_triggers
from cjo.catalogue.validate import default_catalogue, load_files
from cjo.control_records import CATALOGUE_KEY, catalogue_of, refused
from cjo.errors import BrokerError, CjoError
from cjo.settings import Settings


@dataclass(frozen=True, slots=True)
class Live:
    catalogue: Catalogue | None  # None: nothing valid applied yet (workers use their fallback)
    next_offset: int  # where a follower goes on reading
    refused: int = 0  # newer records refused on the way to it (each logged)


def ensure_topic(settings: Settings) -> None:
    create_topics(settings.broker, [settings.topics["catalogue"]], 1, COMPACT,
                  replication=Replication.of(settings))


def read_live(settings: Settings) -> Live:
    ensure_topic(settings)
    topic = settings.topics["catalogue"]
    records = read_all(settings.broker, [topic])
    next_offset = records[-1].offset + 1 if records else 0
    refusals = 0
    for record in reversed(records):  # the newest valid one
        try:
            catalogue = catalogue_of(record.key, record.value)
        except CjoError as err:
            refused(topic, record.offset, err)
            refusals += 1
            continue
        if catalogue is not None:
            return Live(catalogue, next_offset, refusals)
    return Live(None, next_offset, refusals)


def fallback_catalogue(settings: Settings) -> Catalogue:
    """The catalogue workers run while the topic holds none: ``CJO_CATALOGUE``'s files, else
    the bundled default (one without any trigger is refused: workers would offer nothing)."""
    files = [f.strip() for f in settings.catalogue.split(",") if f.strip()]
    return require_triggers(load_files(files)) if files else default_catalogue()


def publish(settings: Settings, catalogue: Catalogue, timeout_s: float = 10.0) -> None:
    ensure_topic(settings)
    producer = Producer(producer_config(settings.broker))
    errors: list[str] = []
    producer.produce(settings.topics["catalogue"], key=CATALOGUE_KEY, value=catalogue.to_payload(),
                     on_delivery=lambda err, _msg: errors.append(str(err)) if err else None)
    if producer.flush(timeout_s) or errors:
        raise BrokerError(f"catalogue not published to {settings.topics['catalogue']}: "
                          f"{errors or 'delivery timed out'}")
