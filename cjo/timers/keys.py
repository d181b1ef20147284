"""Timer index keys: prefix, due time (8 bytes big-endian), subscriber, trigger, instance.

Stored in the partition's RocksDB next to the subscriber states (whose keys are imsi digits, so
they never start with the prefix byte). Big-endian due times sort as numbers, so every timer due
at or before a watermark lies between ``TIMER_PREFIX`` and ``due_bound(watermark)``: a tick reads
exactly the timers due, never the whole table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TIMER_PREFIX = b"\x00T"
_WATERMARK_PREFIX = b"\x00W"
_SEP = b"\x00"
_DUE_BYTES = 8


@dataclass(frozen=True, slots=True, order=True)
class Timer:
    due: int  # event time, epoch ms
    imsi: str
    trigger_id: str
    instance: str

    def key(self) -> bytes:
        if self.due < 0:
            raise ValueError(f"a timer's due time must be >= 0, got {self.due}")
        parts = (self.imsi, self.trigger_id, self.instance)
        if any("\x00" in p for p in parts):
            raise ValueError(f"timer fields must not contain NUL: {parts!r}")
        return (TIMER_PREFIX + self.due.to_bytes(_DUE_BYTES, "big")
                + _SEP.join(p.encode() for p in parts))

    @classmethod
    def from_key(cls, key: bytes) -> Timer:
        if not key.startswith(TIMER_PREFIX):
            raise ValueError(f"not a timer key: {key!r}")
        start = len(TIMER_PREFIX)
        due = int.from_bytes(key[start:start + _DUE_BYTES], "big")
        imsi, trigger_id, instance = key[start + _DUE_BYTES:].decode().split("\x00", 2)
        return cls(due, imsi, trigger_id, instance)


def due_bound(watermark: int) -> bytes:
    """The smallest key after every timer due at or before ``watermark``."""
    return TIMER_PREFIX + (max(watermark, -1) + 1).to_bytes(_DUE_BYTES, "big")


def watermark_key(partition: int) -> bytes:
    """Where a partition's watermark is kept (one key per partition: faust's store maps a key to
    one partition)."""
    return _WATERMARK_PREFIX + partition.to_bytes(4, "big")


def scan_due(db: Any, bound: bytes, limit: int, start: bytes = TIMER_PREFIX) -> list[bytes]:
    """Timer keys of a rocksdict database (``keys(from_key=...)`` in byte order) from ``start``
    up to ``bound``: one seek, then only the keys due (the cost follows the timers due, not the
    keys stored).

    ``start`` matters as the timers fire: a fired timer is deleted, and RocksDB keeps its
    tombstone until a compaction reaches the bottom level, so a scan from the prefix steps over
    every timer fired since (in a long run, hundreds of thousands: the cost of each scan grew
    with the run). A caller that knows no live timer sorts below some key starts there."""
    keys: list[bytes] = []
    for key in db.keys(from_key=max(start, TIMER_PREFIX)):
        if key >= bound or len(keys) >= limit:
            break
        keys.append(bytes(key))
    return keys
