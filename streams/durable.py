"""Acknowledge an input only once everything it caused is on the broker.

faust commits an offset after flushing its producer, but its flush gives up after 0.1 s without
a send (``ProducerBuffer.flush_atmost``): under back-pressure it commits offsets whose changelog
records are still queued, and a SIGKILL then loses state that the committed offsets say was kept
(seen here: 14,268 offsets committed, 490 changelog records on the broker). So the state table
hands out the future of each changelog write, and an input is acked only when its writes are
delivered; an unacked input is redelivered after a crash and is idempotent by design.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import faust


class DurableTable(faust.Table):  # type: ignore[type-arg]  # faust is untyped here
    """A faust Table that remembers the future of its latest changelog write."""

    last_write: asyncio.Future[Any] | None = None

    def send_changelog(self, *args: Any, **kwargs: Any) -> Any:
        future = super().send_changelog(*args, **kwargs)
        self.last_write = future
        return future


class AckWhenDurable:
    """Inputs in processing order, each acked once the writes it caused are delivered."""

    def __init__(self, ack: Callable[[Any], Awaitable[None]]) -> None:
        self._ack = ack
        self._waiting: deque[tuple[Any, list[asyncio.Future[Any]]]] = deque()

    def __len__(self) -> int:
        return len(self._waiting)

    def stalled(self) -> bool:
        """The oldest input still waits for a write (the producer may hold it back)."""
        return bool(self._waiting) and not all(w.done() for w in self._waiting[0][1])

    def forget(self) -> int:
        """Drop every input not yet acked (partitions revoked: they will be redelivered)."""
        dropped = len(self._waiting)
        self._waiting.clear()
        return dropped

    def add(self, event: Any, writes: list[asyncio.Future[Any]]) -> None:
        self._waiting.append((event, writes))

    async def ack_delivered(self) -> int:
        """Ack the oldest inputs whose writes are all delivered; a failed write raises."""
        acked = 0
        while self._waiting and all(w.done() for w in self._waiting[0][1]):
            event, writes = self._waiting.popleft()
            for write in writes:
                write.result()  # a failed delivery must stop the worker, not be acked over
            await self._ack(event)
            acked += 1
        return acked
