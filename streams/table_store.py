"""A partition of the faust state table, as the domain's ``cjo.runner.Store`` sees it.

Reads go through the table (its RocksDB store); the due-timer scan reads the partition's rocksdict
database directly, from the timer prefix up to the watermark's bound, because faust's table API
has no ordered range read. Writes are applied here, after the offers are published, and their
changelog futures are handed back for ``AckWhenDurable``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from cjo.timers import TIMER_PREFIX


class TableStore:
    def __init__(self, table: Any, partition: int) -> None:
        self._table = table
        self._partition = partition

    def get(self, key: bytes) -> bytes | None:
        value = self._table.get(key)
        return None if value is None else bytes(value)

    def due_keys(self, bound: bytes, limit: int) -> list[bytes]:
        return scan_due(self._table._data._db_for_partition(self._partition), bound, limit)

    def apply(self, writes: Mapping[bytes, bytes | None]) -> list[asyncio.Future[Any]]:
        futures = []
        for key, value in writes.items():
            if value is None:
                if self._table.get(key) is None:
                    continue  # scheduled and fired within one step: never stored
                del self._table[key]
            else:
                self._table[key] = value
            if self._table.last_write is not None:
                futures.append(self._table.last_write)
        return futures


def scan_due(db: Any, bound: bytes, limit: int) -> list[bytes]:
    """Timer keys of a rocksdict database from the prefix up to ``bound``: one seek, then only
    the keys due (the cost follows the timers due, not the keys stored)."""
    keys: list[bytes] = []
    for key in db.keys(from_key=TIMER_PREFIX):
        if key >= bound or len(keys) >= limit:
            break
        keys.append(bytes(key))
    return keys
