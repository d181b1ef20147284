"""Which input offsets may be committed: processed, and everything they caused on the broker.

faust commits an offset after flushing its producer, but its flush gives up after 0.1 s without a
send (``ProducerBuffer.flush_atmost``): it can commit offsets whose changelog records are still
queued, and a SIGKILL then loses state the committed offsets say was kept (seen here: 14,268
offsets committed, 490 changelog records on the broker). So each record taken is held here until
it is processed *and* the writes it caused are delivered; the committable offset of a partition
is the one after its longest prefix of such records. A record still waiting in the event-time
merge holds back only its own partition's commit, and is simply read again after a crash or by
the partition's next owner (state updates are idempotent under redelivery).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterable, Sequence
from typing import Any, Protocol


class Delivery(Protocol):
    """A write in flight (an asyncio future of its delivery)."""

    def done(self) -> bool: ...
    def result(self) -> object: ...


class _Writes:
    """The writes of one processed batch, shared by its records; delivered is checked once."""

    __slots__ = ("_pending",)

    def __init__(self, writes: Sequence[Delivery]) -> None:
        self._pending = list(writes)

    def delivered(self) -> bool:
        """True once every write is delivered; a failed delivery raises."""
        while self._pending and self._pending[-1].done():
            self._pending.pop().result()
        return not self._pending


class _Entry:
    __slots__ = ("offset", "writes")

    def __init__(self, offset: int) -> None:
        self.offset = offset
        self.writes: _Writes | None = None  # None: not processed yet


class OffsetTracker:
    def __init__(self) -> None:
        self._taken: dict[Hashable, deque[_Entry]] = {}
        self._entry: dict[tuple[Hashable, int], _Entry] = {}
        self._committable: dict[Hashable, int] = {}

    def take(self, tp: Hashable, offset: int) -> None:
        """A record was received (records of a partition are taken in offset order)."""
        entry = _Entry(offset)
        self._taken.setdefault(tp, deque()).append(entry)
        self._entry[(tp, offset)] = entry

    def processed(self, records: Iterable[tuple[Hashable, int]],
                  writes: Sequence[Delivery]) -> None:
        """These records are processed; they are durable once ``writes`` are delivered."""
        shared = _Writes(writes)
        for key in records:
            entry = self._entry.pop(key, None)
            if entry is not None:
                entry.writes = shared

    def advance(self) -> dict[Hashable, int]:
        """Move each partition's committable offset past its processed and delivered prefix.
        A failed delivery raises: the worker must stop rather than commit over it."""
        for tp, entries in self._taken.items():
            last = None
            while entries and entries[0].writes is not None and entries[0].writes.delivered():
                last = entries.popleft().offset
            if last is not None:
                self._committable[tp] = last + 1
        return self._committable

    def committable(self) -> dict[Hashable, int]:
        return self.advance()

    def pending(self, tp: Hashable | None = None) -> int:
        """Records taken and not yet durable (of one partition, or all)."""
        if tp is not None:
            return len(self._taken.get(tp, ()))
        return sum(len(e) for e in self._taken.values())

    def topic_partitions(self) -> list[Any]:
        """Every topic-partition with records taken or committable."""
        return [*{*self._taken, *self._committable}]

    def forget(self, keep: Iterable[Hashable] = ()) -> int:
        """Drop every partition but ``keep`` (revoked: their next owner reads them again)."""
        kept = set(keep)
        dropped = sum(len(e) for tp, e in self._taken.items() if tp not in kept)
        self._taken = {tp: e for tp, e in self._taken.items() if tp in kept}
        self._entry = {k: e for k, e in self._entry.items() if k[0] in kept}
        self._committable = {tp: o for tp, o in self._committable.items() if tp in kept}
        return dropped
