"""Is the worker alive, is it ready: what ``GET /livez`` and ``GET /readyz`` answer.

- **Live**: the event loop answers (the request itself proves it) and no assigned input partition
  is stalled: one whose records wait (end offset past the committed offset) while its committed
  offset has not moved for ``liveness_stall_s`` (``StallWatch``). A consumer that stopped but
  still looks alive (faust-streaming#175, #640) fails here; an idle one (nothing waiting) does
  not.
- **Ready**: the worker owns what it owns and serves it: not while faust rebalances or recovers
  its state (its web server starts before the recovery, so "it answers HTTP" is not enough), and
  not once it drains after SIGTERM (``draining``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from time import monotonic
from typing import Any

from faust.types import TP


@dataclass(slots=True)
class _Seen:
    committed: int
    since: float  # when the committed offset last moved (or records began to wait)


class StallWatch:
    """Per topic-partition: how long its committed offset stood still while records waited."""

    def __init__(self, stall_s: float, clock: Callable[[], float] = monotonic) -> None:
        self._stall_s = stall_s
        self._clock = clock
        self._seen: dict[Any, _Seen] = {}

    def observe(self, offsets: Mapping[Any, tuple[int, int]]) -> None:
        """``offsets``: per assigned partition, (committed offset, end offset) now. Partitions
        not given are forgotten (revoked)."""
        now = self._clock()
        seen: dict[Any, _Seen] = {}
        for tp, (committed, end) in offsets.items():
            before = self._seen.get(tp)
            if end <= committed or before is None or before.committed != committed:
                seen[tp] = _Seen(committed, now)  # caught up, new, or it moved
            else:
                seen[tp] = before
        self._seen = seen

    def stalled(self) -> list[Any]:
        """The partitions whose records have waited for ``stall_s`` without a commit."""
        now = self._clock()
        return sorted(tp for tp, s in self._seen.items() if now - s.since >= self._stall_s)


class Health:
    """The worker's liveness and readiness, from faust's app and consumer."""

    def __init__(self, app: Any, input_topics: Iterable[str], stall_s: float) -> None:
        self._app = app
        self._inputs = frozenset(input_topics)
        self.watch = StallWatch(stall_s)
        self.draining = False  # set on SIGTERM: never ready again

    def offsets(self) -> dict[TP, tuple[int, int]]:
        """Per assigned input partition: (committed offset, end offset as of the last fetch)."""
        consumer = self._app.consumer
        result: dict[TP, tuple[int, int]] = {}
        for tp in consumer.assignment():
            if tp.topic not in self._inputs:
                continue
            end = consumer.highwater(tp)
            committed = consumer._committed_offset.get(tp)  # faust's record of its commits
            if end is None:
                continue
            result[tp] = (int(committed or 0), int(end))
        return result

    def observe(self) -> None:
        """Called every second (a faust timer)."""
        self.watch.observe(self.offsets())

    def live(self) -> tuple[bool, str]:
        stalled = self.watch.stalled()
        if stalled:
            names = ", ".join(f"{tp.topic}[{tp.partition}]" for tp in stalled)
            return False, f"committed offsets stalled with records waiting: {names}"
        return True, "ok"

    def ready(self) -> tuple[bool, str]:
        app = self._app
        if self.draining:
            return False, "draining"
        if app.rebalancing:
            return False, "rebalancing"
        if getattr(app, "in_recovery", False) or not app.tables.recovery.completed.is_set():
            return False, "recovering"
        return True, "ok"
