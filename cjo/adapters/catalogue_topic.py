"""The live catalogue on its compacted control topic (``cjo.catalogue``, one partition).

``cjo catalogue apply`` validates and then publishes here (key ``catalogue``); every worker reads
the topic itself, from the start (no consumer group), takes the newest record that validates and
follows the topic while it runs. A payload that does not validate never replaces the one in force.
"""

from __future__ import annotations

from dataclasses import dataclass

from confluent_kafka import Producer

from cjo import logs
from cjo.adapters.kafka_admin import create_topics, producer_config, read_all
from cjo.catalogue.catalogue import Catalogue
from cjo.catalogue.validate import default_catalogue, load_files
from cjo.errors import BrokerError, CjoError
from cjo.settings import Settings

KEY = b"catalogue"
TOPIC_CONFIG = {"cleanup.policy": "compact"}

log = logs.get("cjo.catalogue")


@dataclass(frozen=True, slots=True)
class Live:
    catalogue: Catalogue | None  # None: nothing applied yet (workers use the bundled default)
    next_offset: int  # where a follower goes on reading


def ensure_topic(settings: Settings) -> None:
    create_topics(settings.broker, [settings.topics["catalogue"]], 1, TOPIC_CONFIG)


def read_live(settings: Settings) -> Live:
    ensure_topic(settings)
    records = read_all(settings.broker, [settings.topics["catalogue"]])
    live: Catalogue | None = None
    for record in records:
        if record.key == KEY and record.value:
            live = accept(record.value, live, record.offset)
    return Live(live, records[-1].offset + 1 if records else 0)


def fallback_catalogue(settings: Settings) -> Catalogue:
    """The catalogue workers run while the topic holds none: ``CJO_CATALOGUE``'s files, else
    the bundled default."""
    files = [f.strip() for f in settings.catalogue.split(",") if f.strip()]
    return load_files(files) if files else default_catalogue()


def accept(payload: bytes, current: Catalogue | None, offset: int) -> Catalogue | None:
    """The catalogue a payload holds, or ``current`` if it does not validate (logged)."""
    try:
        return Catalogue.from_payload(payload)
    except (CjoError, ValueError) as err:
        log.error("catalogue_refused", offset=offset, error=str(err))
        return current


def publish(settings: Settings, catalogue: Catalogue, timeout_s: float = 10.0) -> None:
    ensure_topic(settings)
    producer = Producer(producer_config(settings.broker))
    errors: list[str] = []
    producer.produce(settings.topics["catalogue"], key=KEY, value=catalogue.to_payload(),
                     on_delivery=lambda err, _msg: errors.append(str(err)) if err else None)
    if producer.flush(timeout_s) or errors:
        raise BrokerError(f"catalogue not published to {settings.topics['catalogue']}: "
                          f"{errors or 'delivery timed out'}")
