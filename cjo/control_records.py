"""The record formats of the control topics, and how a control record is taken or refused.

Kafka-free: the topics are read and written by ``cjo.adapters.control_topics`` and
``cjo.adapters.catalogue_topic`` (start-up) and followed by ``streams.follower`` (while a worker
runs); both parse here. See docs/data-contract.md, "Control topics".

- catalogue (compacted, one partition): key ``catalogue``, value a ``Catalogue.to_payload``
  JSON document signed with ``CJO_CATALOGUE_KEY`` (``cjo.control_signing``), checked and
  validated again by every reader (``cjo.catalogue.validate.load_payload``); the same signed
  record under ``catalogue@DIGEST`` is its history record, which workers ignore.
- models (compacted, one partition): key ``scorer``, value a signed ``cjo.scorer/2`` snapshot
  (``Scorer.to_bytes``), loaded only with the same ``CJO_MODELS_KEY``.
- do-not-contact (compacted, one partition): key an IMSI, value ``1`` to block every offer to
  it, empty (a tombstone) to lift the block.

A control record is untrusted input, and one bad record must never stop a worker: a record that
does not parse is refused with one ``control_refused`` log line (topic, offset, reason) and
counted, what is in force stays in force, and the next valid record is taken (at start-up: the
newest valid one). See docs/reliability.md, "Control topics".
"""

from __future__ import annotations

from cjo import logs
from cjo.catalogue.catalogue import Catalogue
from cjo.catalogue.validate import load_payload
from cjo.codec.checks import check_imsi
from cjo.control_signing import open_catalogue
from cjo.errors import CjoError, InvalidRecord
from cjo.scoring import Scorer
from cjo.settings import Settings

CATALOGUE_KEY = b"catalogue"
HISTORY_PREFIX = b"catalogue@"  # + digest: every catalogue applied, kept by compaction
MODELS_KEY = b"scorer"
DNC_BLOCK = b"1"  # a do-not-contact value that blocks (a tombstone lifts)

log = logs.get("cjo.control")


class ControlRecordError(CjoError):
    """A control record that cannot be taken (the reason says why; never the record itself)."""


def refused(topic: str, offset: int, error: Exception, partition: int = 0) -> None:
    """The one log line of a refused control record: topic, offset, and the first line of why,
    with the command that removes it."""
    reason = str(error).strip().splitlines() or [type(error).__name__]
    more = len(reason) - 1
    purge = f"cjo control purge {topic} {offset}" + (
        f" --partition {partition}" if partition else "")
    log.error("control_refused", topic=topic, offset=offset, partition=partition,
              reason=reason[0] + (f" (and {more} more problems)" if more else ""),
              purge=purge)


def catalogue_key(settings: Settings) -> bytes:
    """The key that signs and checks catalogue records (``CJO_CATALOGUE_KEY``)."""
    return settings.catalogue_key.get_secret_value().encode()


def catalogue_of(key: bytes | None, value: bytes | None, signing_key: bytes) -> Catalogue | None:
    """The catalogue a record of the catalogue topic carries; None for a record that carries
    none (another key, or empty); ``SignatureError`` for one not signed with ``signing_key``,
    ``CatalogueRejected`` for a payload that does not validate."""
    if key != CATALOGUE_KEY or not value:
        return None
    return load_payload(open_catalogue(value, signing_key))


def models_key(settings: Settings) -> bytes:
    """The key that signs and checks scorer snapshots (``CJO_MODELS_KEY``)."""
    return settings.models_key.get_secret_value().encode()


def scorer_of(key: bytes | None, value: bytes | None, signing_key: bytes) -> Scorer | None:
    """The scorer a record of the models topic carries; None for a record that carries none
    (another key, or empty); ``SnapshotError`` for one that does not load with ``signing_key``."""
    if key != MODELS_KEY or not value:
        return None
    return Scorer.from_bytes(value, signing_key)


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
    """One do-not-contact record applied to ``blocked``; a refused one changes nothing, nor does
    a tombstone of a key that is not an IMSI (a purged record: ``cjo control purge``)."""
    try:
        imsi, block = dnc_entry(key, value)
    except ControlRecordError:
        if value is None:
            return
        raise
    if block:
        blocked.add(imsi)
    else:
        blocked.discard(imsi)
