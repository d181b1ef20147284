"""The live catalogue on its compacted control topic (``cjo.catalogue``, one partition).

``cjo catalogue apply`` validates, signs (``CJO_CATALOGUE_KEY``) and then publishes here (key
``catalogue``); every worker reads the topic itself, from the start (no consumer group), takes
the newest record that is signed with the same key and validates, and follows the topic while
it runs. Each publication also writes the same signed record under the key
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

from cjo.adapters.control_read import Refusals, ensure_control_topic, read_control
from cjo.adapters.control_topics import COMPACT
from cjo.adapters.kafka_admin import producer_config
from cjo.catalogue.catalogue import Catalogue, require_triggers
from cjo.catalogue.validate import default_catalogue, load_files, load_payload
from cjo.control_records import CATALOGUE_KEY, HISTORY_PREFIX, catalogue_key, catalogue_of
from cjo.control_signing import open_catalogue, sign_catalogue
from cjo.errors import BrokerError, CjoError, ConfigError
from cjo.settings import Settings


@dataclass(frozen=True, slots=True)
class Live:
    catalogue: Catalogue | None  # None: nothing valid applied yet (workers use their fallback)
    next_offsets: dict[int, int]  # per partition: where a follower goes on reading
    refused: int = 0  # newer records refused on the way to it (each logged once, ever)


def ensure_topic(settings: Settings) -> None:
    ensure_control_topic(settings, settings.topics["catalogue"], COMPACT)


def read_live(settings: Settings, worker: bool = False) -> Live:
    """``worker``: a worker's start (a refusal is kept, and not counted again at a restart)."""
    ensure_topic(settings)
    read = read_control(settings, settings.topics["catalogue"])
    refusals = Refusals(settings, keep=worker)
    key = catalogue_key(settings)
    for record in reversed(read.records):  # the newest valid one
        try:
            catalogue = catalogue_of(record.key, record.value, key)
        except CjoError as err:
            refusals.refuse(record, err)
            continue
        if catalogue is not None:
            return Live(catalogue, read.next_offsets, refusals.close())
    return Live(None, read.next_offsets, refusals.close())


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
    signed = sign_catalogue(catalogue.to_payload(), catalogue_key(settings))
    for key in (HISTORY_PREFIX + catalogue.digest.encode(), CATALOGUE_KEY):
        producer.produce(settings.topics["catalogue"], key=key, value=signed,
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
    """Every catalogue applied on the topic and signed with this ``CJO_CATALOGUE_KEY``, once per
    digest (its latest application), oldest first. A record that is not signed with the key or
    whose payload names no digest is left out (workers refuse it too)."""
    ensure_topic(settings)
    key = catalogue_key(settings)
    latest: dict[str, Applied] = {}
    for record in read_control(settings, settings.topics["catalogue"]).records:
        name = record.key or b""
        if not record.value or not (name == CATALOGUE_KEY or name.startswith(HISTORY_PREFIX)):
            continue
        try:
            payload = open_catalogue(record.value, key)
            digest = json.loads(payload)["digest"]
        except (CjoError, ValueError, TypeError, KeyError):
            continue
        if isinstance(digest, str):
            latest[digest] = Applied(digest, record.timestamp_ms, record.offset, payload)
    return sorted(latest.values(), key=lambda a: (a.timestamp_ms, a.offset))


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
