"""Event-time merge of co-partitioned input topics, so a log replays the same at any speed.

Each input topic-partition is consumed in offset order, but Kafka gives no order *across* topics:
a charging record at 10:02 may reach the worker before the location record at 10:01. Like Kafka
Streams, the worker buffers records per partition and always releases the record with the smallest
(event time, stream rank) among the heads of the topic queues. A topic whose queue is empty blocks
the release while it is known to lag (records exist that have not arrived yet: they will), and
while its position is unknown only until the oldest record waiting has waited ``max_idle_ms`` of
wall time. "Caught up" is only as good as when it was learnt: a topic read to its end as of the
last fetch may since have received a record produced before the one about to be released (two
partitions' records reach the broker independently), so a record waits for a topic's end learnt
more than ``settle_ms`` after it arrived. Strictly after: the fetch that brought the record
carries the other topics' ends as of the same moment on the broker, and the worker can take the
record within the millisecond that fetch was read in, so an end learnt in that millisecond may
be the record's own fetch. And ``settle_ms`` more: even a later fetch may be served before
records produced earlier are appended (a broker appends the partitions of a produce request
one after another; under load a fetch was served 10 ms into such a gap). Both seen on Apache
Kafka at load average 9 to 20: a partition's charging records were released ahead of its
location records, which were then older than the state held, and trips were missed. A full
buffer (``max_buffered``) releases regardless: memory stays bounded.

Within one topic the order is the offset order, never changed: the redelivery check in the state
relies on it, and a late record inside a topic is the state's business (see ``cjo.state.update``).
Pure: wall time is passed in; the wiring says which topics are caught up.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from cjo.stream_registry import INPUTS

# What the wiring knows of a topic-partition: False lagging, None unknown, True caught up, or an
# int: caught up as of that wall time (ms), so not for a record that arrived at or after it, nor
# ``settle_ms`` before it (the end may have come with the record itself, or from a fetch served
# before records produced earlier than it were appended).
Status = Callable[[str], bool | int | None]

T = TypeVar("T")

STREAM_RANK: dict[str, int] = {s.name: s.rank for s in INPUTS}  # ties of event time: lower first


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
                 max_buffered: int = 20_000, settle_ms: int = 0) -> None:
        """``topics``: every input topic -> its stream rank; ``settle_ms``: how much later
        than a record's arrival a topic's end must have been learnt to count for it."""
        self._topics = dict(topics)
        self._max_idle_ms = max_idle_ms
        self._settle_ms = settle_ms
        self.max_buffered = max_buffered
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

    def waiting(self) -> set[int]:
        """The partitions with records waiting."""
        return {p for p, part in self._partitions.items() if part.size}

    def release(self, partition: int, caught_up: Status, now_ms: int) -> Iterator[T]:
        """Yield the records of ``partition`` that may be processed now, in merged order."""
        part = self._partitions.get(partition)
        while part is not None and part.size:
            best: deque[_Entry[T]] | None = None
            for queue in part.queues.values():
                if queue and (best is None or (queue[0].event_time, queue[0].rank)
                              < (best[0].event_time, best[0].rank)):
                    best = queue
            assert best is not None
            if self._must_wait(part, best[0].arrived_ms, caught_up, now_ms):
                return
            first = best.popleft()
            part.size -= 1
            yield first.item

    def _must_wait(self, part: _Partition[T], arrived_ms: int, caught_up: Status,
                   now_ms: int) -> bool:
        """Whether the next record (arrived at ``arrived_ms``) must wait for a topic whose
        queue is empty: one that lags, or whose end is not known since the record arrived."""
        lagging = unknown = False
        for topic in self._topics:
            if part.queues.get(topic):
                continue
            status = caught_up(topic)
            if status is False:
                lagging = True
            elif status is None or (status is not True
                                      and status <= arrived_ms + self._settle_ms):
                unknown = True
        if not (lagging or unknown):
            return False
        if part.size >= self.max_buffered:
            self.forced += 1
            return False
        if lagging:
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
