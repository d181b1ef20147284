"""Replay mode: a record's event time is bounded by the log it comes in, not by the wall clock.

A recorded log is older than the wall clock, so "ahead of the wall clock" bounds nothing in it:
one valid record dated near today in a log of last January would move its partition's
watermark eleven months and fire every timer on it. The reference is the log's front instead:
the newest event time taken so far from any topic-partition the worker reads (its restored
watermarks included), never below the median event time of the first fetch (so that neither a
record dated in 1970 nor one dated near today, among the first read, can set it). A record
more than ``max_jump_ms`` ahead of it is its topic-partition's outlier *or* the first after a
silence, and which one only the rest of the log can tell; so it is held aside (with every
later record of its topic-partition: the order within a topic is never changed) and

- taken as soon as the front, moved on by the other topic-partitions, comes within
  ``max_jump_ms`` of it (a sparse topic read ahead, or a silence the log really had);
- refused when the front cannot catch up: the other input topics of its partition read to
  their end (or the event-time merge full) and it still beyond.

Its topic-partition counts as lagging while something of it is held, so the event-time merge
waits for it and the order of the other topics' records is the one they would have had without
the record. Pure; the wiring (``streams.processor``) says when the front cannot catch up.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)  # a topic-partition
T = TypeVar("T")


class LogFront(Generic[K, T]):
    def __init__(self, max_jump_ms: int) -> None:
        self.max_jump_ms = max_jump_ms
        self.front = -1  # the newest event time taken
        self._floor = -1  # the median event time of the first fetch: the reference's floor
        self._held: dict[K, deque[tuple[int, T]]] = {}

    def reference(self) -> int:
        return max(self.front, self._floor)

    def fetched(self, event_times: Iterable[int]) -> None:
        """A fetch's event times, before its records are offered: while nothing was taken, the
        median of them is the reference's floor (an outlier either way cannot set it)."""
        if self.front < 0 and self._floor < 0:
            times = sorted(event_times)
            if times:
                self._floor = times[(len(times) - 1) // 2]

    def took(self, event_time: int) -> None:
        """An event time the log has certainly reached (a restored watermark, a record taken)."""
        self.front = max(self.front, event_time)

    def offer(self, key: K, event_time: int, item: T) -> bool:
        """True: take the record now (the front moves to it); False: held aside."""
        reference = self.reference()
        if key in self._held or (reference >= 0 and event_time > reference + self.max_jump_ms):
            self._held.setdefault(key, deque()).append((event_time, item))
            return False
        self.took(event_time)
        return True

    def holding(self, key: K) -> bool:
        return key in self._held

    def release(self, stuck: Callable[[K], bool]) -> Iterator[tuple[K, T, bool]]:
        """Held records that can be judged now, in order per topic-partition: (key, item,
        taken). Taken once the front came within reach; refused when ``stuck(key)`` says the
        front cannot catch up."""
        for key in list(self._held):
            queue = self._held[key]
            while queue:
                event_time, item = queue[0]
                if event_time <= self.reference() + self.max_jump_ms:
                    self.took(event_time)
                    taken = True
                elif stuck(key):
                    taken = False
                else:
                    break
                queue.popleft()
                yield key, item, taken
            if not queue:
                del self._held[key]

    def held(self, key: K) -> int:
        queue = self._held.get(key)
        return len(queue) if queue else 0

    def drop(self, gone: Callable[[K], bool]) -> list[T]:
        """Forget the held records of revoked topic-partitions; returns them."""
        dropped = [item for key, q in self._held.items() if gone(key) for _, item in q]
        self._held = {k: q for k, q in self._held.items() if not gone(k)}
        return dropped
