"""The live catalogue on its compacted control topic (``cjo.catalogue``, one partition).

``cjo catalogue apply`` validates and then publishes here (key ``catalogue``); every worker reads
the topic itself, from the start (no consumer group), takes the newest record that validates and
follows the topic while it runs. Each publication also writes the same payload under the key
``catalogue@DIGEST`` first: compaction keeps one record per key, so the topic keeps every
catalogue ever applied, once per digest (``cjo catalogue history``, ``rollback DIGEST``);
workers ignore those keys. A payload that does not validate
(``cjo.catalogue.validate.load_payload``: bounded in size and depth, never empty) is refused with a
``control_refused`` log line and never replaces the one in force. The record format is in
``cjo.control_records``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from confluent_kafka import Producer

from cjo.adapters.control_topics import COMPACT
from cjo.adapters.kafka_admin import Replication, create_topics, producer_config, read_all
from cjo.catalogue.catalogue import Catalogue, require_triggers
from cjo.catalogue.validate import default_catalogue, load_files, load_payload
from cjo.control_records import CATALOGUE_KEY, HISTORY_PREFIX, catalogue_of, refused
from cjo.errors import BrokerError, CjoError, ConfigError
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
    """The catalogue in force from now on: its history record, then the record workers take."""
    ensure_topic(settings)
    producer = Producer(producer_config(settings.broker))
    errors: list[str] = []
    payload = catalogue.to_payload()
    for key in (HISTORY_PREFIX + catalogue.digest.encode(), CATALOGUE_KEY):
        producer.produce(settings.topics["catalogue"], key=key, value=payload,
                         on_delivery=lambda err, _msg: errors.append(str(err)) if err else None)
    if producer.flush(timeout_s) or errors:
        raise BrokerError(f"catalogue not published to {settings.topics['catalogue']}: "
                          f"{errors or 'delivery timed out'}")


@dataclass(frozen=True, slots=True)
class Applied:
    """One catalogue the topic keeps: its digest, when it was last applied, its payload."""

    digest: str
    timestamp_ms: int
    offset: int
    payload: bytes


def history(settings: Settings) -> list[Applied]:
    """Every catalogue applied on the topic, once per digest (its latest application), oldest
    first. A record whose payload names no digest is left out (workers refuse it too)."""
    ensure_topic(settings)
    latest: dict[str, Applied] = {}
    for record in read_all(settings.broker, [settings.topics["catalogue"]]):
        key = record.key or b""
        if not record.value or not (key == CATALOGUE_KEY or key.startswith(HISTORY_PREFIX)):
            continue
        try:
            digest = json.loads(record.value)["digest"]
        except (ValueError, TypeError, KeyError):
            continue
        if isinstance(digest, str):
            latest[digest] = Applied(digest, record.timestamp_ms, record.offset, record.value)
    return sorted(latest.values(), key=lambda a: a.offset)


def earlier(settings: Settings, digest: str) -> Catalogue:
    """The catalogue of ``digest`` (or a unique prefix of it) from the topic's history, validated
    again; ConfigError naming the digests there when none or several match."""
    entries = history(settings)
    matches = [a for a in entries if a.digest.startswith(digest.strip().lower())]
    if len(matches) != 1:
        known = ", ".join(a.digest for a in entries) or "none"
        what = "no" if not matches else "more than one"
        raise ConfigError(f"{what} catalogue on {settings.topics['catalogue']} has digest "
                          f"{digest!r} (applied there: {known}; see cjo catalogue history)")
    return load_payload(matches[0].payload)
