"""Which offset of an offer partition may be committed: the one after the longest run of
offers finished from the start, however out of order they finish (sends run concurrently)."""

from __future__ import annotations

import heapq


class OffsetTracker:
    """Offsets of one partition, started in increasing order, finished in any order."""

    def __init__(self) -> None:
        self._open: list[int] = []  # a heap of offsets started and not finished
        self._finished: set[int] = set()
        self._high = -1  # the highest offset started

    def start(self, offset: int) -> None:
        if offset <= self._high:  # read again (a seek back): already tracked or done
            return
        heapq.heappush(self._open, offset)
        self._high = offset

    def finish(self, offset: int) -> None:
        self._finished.add(offset)
        while self._open and self._open[0] in self._finished:
            self._finished.discard(heapq.heappop(self._open))

    def committable(self) -> int | None:
        """The offset to commit (the next to read after everything finished), or None when
        nothing was started."""
        if self._high < 0:
            return None
        return self._open[0] if self._open else self._high + 1

    def busy(self) -> bool:
        return bool(self._open)
