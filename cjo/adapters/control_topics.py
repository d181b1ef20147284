"""The small control topics besides the catalogue: model snapshots, the do-not-contact list, and
the learner's single-partition example topic.

- ``cjo.models`` (compacted, one partition): key ``scorer``, value a ``cjo.scoring.Scorer``
  snapshot published by the learner; every worker scores with the newest.
- ``cjo.dnc`` (compacted, one partition): key an IMSI, value ``1`` to block every offer to it,
  empty (a tombstone) to lift the block. ``cjo dnc add|remove IMSI...`` writes it.
- ``cjo.learning`` (one partition, so one learner owns the models): labelled examples.

A control record is untrusted input, and one bad record must never stop a worker: a record that
does not parse is refused with one ``control_refused`` log line (topic, offset, reason) and
counted, what is in force stays in force, and the next valid record is taken (at start-up: the
newest valid one). See docs/reliability.md, "Control topics".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from confluent_kafka import Producer

from cjo import logs
from cjo.adapters.kafka_admin import create_topics, producer_config, read_all
from cjo.codec.checks import check_imsi
from cjo.errors import BrokerError, CjoError, ConfigError, InvalidRecord
from cjo.scoring import Scorer
from cjo.settings import Settings

MODELS_KEY = b"scorer"
COMPACT = {"cleanup.policy": "compact"}

log = logs.get("cjo.control")


class ControlRecordError(CjoError):
    """A control record that cannot be taken (the reason says why; never the record itself)."""


def refused(topic: str, offset: int, error: Exception) -> None:
    """The one log line of a refused control record: topic, offset, and the first line of why."""
    reason = str(error).strip().splitlines() or [type(error).__name__]
    more = len(reason) - 1
    log.error("control_refused", topic=topic, offset=offset,
              reason=reason[0] + (f" (and {more} more problems)" if more else ""))


def models_key(settings: Settings) -> bytes:
    """The key that signs and checks scorer snapshots (``CJO_MODELS_KEY``)."""
    return settings.models_key.get_secret_value().encode()


@dataclass(frozen=True, slots=True)
class Snapshot:
    value: bytes | None  # the newest valid snapshot (None: none yet)
    next_offset: int
    refused: int = 0  # newer records refused on the way to it (each logged)
    version: int = 0  # the scorer version of ``value``


def ensure_control_topics(settings: Settings) -> None:
    topics = settings.topics
    create_topics(settings.broker, [topics["models"], topics["dnc"]], 1, COMPACT)
    create_topics(settings.broker, [topics["learning"]], 1)


def read_models(settings: Settings) -> Snapshot:
    """The newest snapshot that loads with this worker's key: a bad newest one is refused
    (logged) and the one before it is taken, so it never blocks a start."""
    topic = settings.topics["models"]
    records = read_all(settings.broker, [topic])
    key, refusals = models_key(settings), 0
    for record in reversed(records):
        if record.key != MODELS_KEY or not record.value:
            continue
        try:
            scorer = Scorer.from_bytes(record.value, key)
        except CjoError as err:
            refused(topic, record.offset, err)
            refusals += 1
            continue
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


def dnc_entry(key: bytes | None, value: bytes | None) -> tuple[str, bool]:
    """The IMSI of a do-not-contact record and whether it is blocked (a value) or lifted (a
    tombstone); ``ControlRecordError`` for a key that is not an IMSI, named by a salted hash."""
    if key is None:
        raise ControlRecordError("do-not-contact record without a key")
    try:
        imsi = key.decode("ascii")
        check_imsi(imsi)
    except (UnicodeDecodeError, InvalidRecord):
        shown = logs.hash_id(key.decode("utf-8", "backslashreplace"))
        raise ControlRecordError(f"do-not-contact key #{shown} ({len(key)} bytes) is not an "
                                 "IMSI (5 to 15 digits)") from None
    return imsi, bool(value)


def apply_dnc(blocked: set[str], key: bytes | None, value: bytes | None) -> None:
    """One do-not-contact record applied to ``blocked``; a refused one changes nothing."""
    imsi, block = dnc_entry(key, value)
    if block:
        blocked.add(imsi)
    else:
        blocked.discard(imsi)


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
