"""A partition's event-time watermark: how far event time has certainly progressed there.

``max_seen - allowed_lateness`` while records flow. In live mode an idle partition (nothing
waiting, every input topic read to its end) also advances on wall time, to ``now - idle_grace``,
so a timer due while nobody on the partition does anything still fires within
``idle_grace`` plus one tick. In replay mode wall time never moves it: a recorded log gives the
same timers at any speed.

In live mode timers follow the wall clock: ``due(now)`` never passes ``now``, whatever a record
says (a clock-skewed producer's record minutes or hours ahead fires nothing early; the
records themselves are bounded by ``CJO_MAX_FUTURE_MS``). See docs/reliability.md, "Event time
bounds".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Watermark:
    allowed_lateness_ms: int
    idle_grace_ms: int
    live: bool
    max_seen: int = -1
    idle_floor: int = -1  # wall-time advance while idle (live mode only)

    def observe(self, event_time: int) -> None:
        self.max_seen = max(self.max_seen, event_time)

    def idle(self, now_ms: int) -> None:
        if self.live:
            self.idle_floor = max(self.idle_floor, now_ms - self.idle_grace_ms)

    def value(self) -> int:
        if self.max_seen < 0 and self.idle_floor < 0:
            return -1
        return max(self.max_seen - self.allowed_lateness_ms, self.idle_floor)

    def due(self, now_ms: int) -> int:
        """Up to when timers may fire: the watermark, and in live mode never past the wall
        clock ``now_ms``."""
        value = self.value()
        return min(value, now_ms) if self.live else value

    def restore(self, stored: int) -> None:
        """The value kept in the store before a restart: never go back behind it."""
        self.max_seen = max(self.max_seen, stored + self.allowed_lateness_ms)
