"""The key rule: every input record is keyed by its subscriber's IMSI (the value's ``imsi``).

Kafka puts a record on the partition its key hashes to, and a subscriber's records and state must
share one; a key other than the IMSI would send the record to another subscriber's partition. The
worker checks the keys of what it consumes (bytes) and the log reader those of a recorded log
(a string, which may be left out there: it defaults to the IMSI).
"""

from __future__ import annotations

from cjo.errors import InvalidRecord

from .paths import show


def key_matches(key: bytes | str | None, imsi: str) -> bool:
    """Whether ``key`` (Kafka's bytes, or a recorded log's string) is ``imsi``."""
    return key == imsi if type(key) is str else key == imsi.encode()


def checked_key(key: bytes | str | None, imsi: str) -> bytes:
    """The Kafka key of a record whose value holds ``imsi``: the IMSI's bytes.

    Raises :class:`~cjo.errors.InvalidRecord` (field ``key``) for a missing key or another one.
    """
    encoded = imsi.encode()
    if key == encoded:  # first, without a call: every good record the worker reads
        return encoded
    if key is None:
        raise InvalidRecord("key", "missing: records must be keyed by imsi")
    if not key_matches(key, imsi):
        raise InvalidRecord("key", f"{show(key)} does not match imsi {imsi!r}")
    return encoded
