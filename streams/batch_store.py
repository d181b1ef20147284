"""A partition of the state table, as ``cjo.engine.runner.Store`` sees it, for one batch.

Reads go to the partition's RocksDB (rocksdict) database under the batch's own writes; writes
collect here, so a subscriber touched by many records of a batch is read once and written once.
``flush`` stores them, after the batch's offers are published, in one RocksDB write batch, and
returns what changed: the caller writes one changelog record per changed key (a batch here is
one step of the processor).

The due-timer scan reads the database from the timer prefix up to a bound a little past the one
asked (``LOOKAHEAD_MS`` of event time), once, and answers later scans of the batch from that
(the database does not change during a batch): the cost follows the timers due, never the keys
stored, and a batch seeks once instead of once per record. The scan starts at a floor below
which no live timer is stored (the first timer the last scan found, lowered by any timer stored
below it), not at the timer prefix: fired timers leave tombstones there that RocksDB keeps until
a compaction, and a scan from the prefix stepped over all of them (see ``scan_due``). The floor
holds because this store is the only writer of its partition's database while it lives (the
processor drops it when the partition is revoked; changelog recovery runs before one is made).
"""

from __future__ import annotations

import bisect
from typing import Any

from rocksdict import WriteBatch

from cjo.timers import TIMER_PREFIX, due_bound, scan_due

LOOKAHEAD_MS = 300_000


class BatchStore:
    def __init__(self, db: Any) -> None:
        self._db = db
        self.writes: dict[bytes, bytes | None] = {}  # None: delete
        self._timers: list[bytes] = []  # timer keys set in this batch, sorted
        self._scanned: bytes = b""  # the bound the cached scan reached
        self._scan: list[bytes] = []
        self._scan_complete = False
        self._floor: bytes = TIMER_PREFIX  # no live timer is stored below this key

    def get(self, key: bytes) -> bytes | None:
        if key in self.writes:
            return self.writes[key]
        value = self._db.get(key)
        return None if value is None else bytes(value)

    def due_keys(self, bound: bytes, limit: int) -> list[bytes]:
        writes = self.writes
        stored = self._stored_due(bound, limit + len(writes))
        keys = {k for k in stored if k not in writes}
        keys.update(self._timers[:bisect.bisect_left(self._timers, bound)])
        return sorted(keys)[:limit]

    def _stored_due(self, bound: bytes, limit: int) -> list[bytes]:
        if bound > self._scanned or not (self._scan_complete or len(self._scan) >= limit):
            wider = max(bound, due_bound(_watermark_of(bound) + LOOKAHEAD_MS))
            self._scan = scan_due(self._db, wider, max(limit, 1_000), self._floor)
            self._scan_complete = len(self._scan) < max(limit, 1_000)
            if self._scan:
                self._floor = self._scan[0]
            elif wider > self._floor:
                self._floor = wider  # nothing live in [floor, wider)
            self._scanned = wider if self._scan_complete else bound
            if not self._scan_complete:
                self._scan = [k for k in self._scan if k < bound]
        return [k for k in self._scan if k < bound][:limit]

    def apply(self, writes: dict[bytes, bytes | None]) -> None:
        """One step's writes, on top of the batch's."""
        timers = self._timers
        for key, value in writes.items():
            if key.startswith(TIMER_PREFIX):
                i = bisect.bisect_left(timers, key)
                present = i < len(timers) and timers[i] == key
                if value is None and present:
                    del timers[i]
                elif value is not None and not present:
                    timers.insert(i, key)
        self.writes.update(writes)

    def flush(self) -> list[tuple[bytes, bytes | None]]:
        """Store the batch's writes in one RocksDB write batch; returns what changed, for the
        changelog (a delete of a key never stored is no change)."""
        changed = self.changes()
        self.store(changed)
        return changed

    def changes(self) -> list[tuple[bytes, bytes | None]]:
        """What ``flush`` would store, without storing it (exactly-once: the changelog records
        go into the step's transaction, and the database is written once it commits)."""
        return [(key, value) for key, value in self.writes.items()
                if value is not None or self._db.get(key) is not None]

    def store(self, changed: list[tuple[bytes, bytes | None]]) -> None:
        """Write ``changes()`` in one RocksDB write batch; the batch starts afresh."""
        batch = WriteBatch(raw_mode=True)
        for key, value in changed:
            if value is None:
                batch.delete(key)
            else:
                batch.put(key, value)
                if key < self._floor and key.startswith(TIMER_PREFIX):
                    self._floor = key
        self._db.write(batch)
        self.writes, self._timers = {}, []
        self._scanned, self._scan, self._scan_complete = b"", [], False


def _watermark_of(bound: bytes) -> int:
    """The inverse of ``cjo.timers.due_bound``."""
    return int.from_bytes(bound[len(TIMER_PREFIX):], "big") - 1
