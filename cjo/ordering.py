"""Event-time merge of co-partitioned input topics, so a log replays the same at any speed.

Each input topic-partition is consumed in offset order, but Kafka gives no order *across* topics:
a charging record at 10:02 may reach the worker before the location record at 10:01. Like Kafka
Streams, the worker buffers records per partition and always releases the record with the smallest
(event time, stream rank) among the heads of the topic queues. A topic whose queue is empty blocks
the release while it is known to lag (records exist that have not arrived yet: they will), and
while its position is unknown only until the oldest record waiting has waited ``max_idle_ms`` of
wall time. A full buffer (``max_buffered``) releases regardless: memory stays bounded.

Within one topic the order is the offset order, never changed: the redelivery check in the state
relies on it, and a late record inside a topic is the state's business (see ``cjo.state.update``).
Pure: wall time is passed in; the wiring says which topics are caught up.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

# What the wiring knows of a topic-partition: True caught up, False lagging, None unknown.
Status = Callable[[str], bool | None]

T = TypeVar("T")

# at equal event times a profile applies before the events it governs
STREAM_RANK = {"subscribers": 0, "charging": 1, "location": 2, "usage": 3, "responses": 4}


@dataclass(slots=True)
class _Entry(Generic[T]):
    event_time: int
    rank: int
    arrived_ms: int
    item: T


@dataclass
class _Partition(Generic[T]):
    queues: dict[str, deque[_Entry[T]]] = field(default_factory=dict)
    size: int = 0


class EventTimeMerger(Generic[T]):
    def __init__(self, topics: Mapping[str, int], max_idle_ms: int = 5_000,
                 max_buffered: int = 20_000) -> None:
        """``topics``: every input topic -> its stream rank."""
        self._topics = dict(topics)
        self._max_idle_ms = max_idle_ms
        self._max_buffered = max_buffered
        self._partitions: dict[int, _Partition[T]] = {}
        self.forced = 0  # releases that did not wait for a lagging topic (idle or full buffer)

    def push(self, partition: int, topic: str, event_time: int, arrived_ms: int, item: T) -> None:
        part = self._partitions.setdefault(partition, _Partition())
        part.queues.setdefault(topic, deque()).append(
            _Entry(event_time, self._topics[topic], arrived_ms, item))
        part.size += 1

    def buffered(self, partition: int | None = None) -> int:
        if partition is not None:
            part = self._partitions.get(partition)
            return part.size if part else 0
        return sum(p.size for p in self._partitions.values())

    def release(self, partition: int, caught_up: Status, now_ms: int) -> Iterator[T]:
        """Yield the records of ``partition`` that may be processed now, in merged order."""
        part = self._partitions.get(partition)
        free = False  # every empty queue's topic is caught up: holds until another empties
        while part is not None and part.size:
            if not free:
                if self._must_wait(part, caught_up, now_ms):
                    return
                free = self._all_caught_up(part, caught_up)
            best: deque[_Entry[T]] | None = None
            for queue in part.queues.values():
                if queue and (best is None or (queue[0].event_time, queue[0].rank)
                              < (best[0].event_time, best[0].rank)):
                    best = queue
            assert best is not None
            first = best.popleft()
            part.size -= 1
            if not best:
                free = False
            yield first.item

    def _all_caught_up(self, part: _Partition[T], caught_up: Status) -> bool:
        return all(caught_up(t) is True for t in self._topics if not part.queues.get(t))

    def _must_wait(self, part: _Partition[T], caught_up: Status, now_ms: int) -> bool:
        statuses = {caught_up(t) for t in self._topics if not part.queues.get(t)}
        if statuses <= {True}:
            return False
        if part.size >= self._max_buffered:
            self.forced += 1
            return False
        if False in statuses:
            return True
        oldest = min(q[0].arrived_ms for q in part.queues.values() if q)
        if now_ms - oldest >= self._max_idle_ms:
            self.forced += 1
            return False
        return True

    def drop(self, partition: int) -> list[T]:
        """Forget a partition (revoked in a rebalance); returns what it held, unprocessed."""
        part = self._partitions.pop(partition, None)
        if part is None:
            return []
        return [e.item for q in part.queues.values() for e in q]
