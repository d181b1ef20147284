"""A live worker fed records hours older than its wall clock: said once, with the fix.

In live mode ``max_delay`` is measured on wall time, so a recorded log replayed into a live
worker expires every moment (``late:263d>30m``). That is right for a worker catching up after an
outage and wrong for a replay; the worker cannot tell them apart, so it says it once per process
and names the setting that replays a log as it was recorded (``CJO_TIME_MODE=replay``).
Pure apart from the one log line.
"""

from __future__ import annotations

from dataclasses import dataclass

from cjo import logs
from cjo.policy.eligibility import rough_duration

STALE_AFTER_MS = 3_600_000  # one hour behind the wall clock

log = logs.get("cjo.worker")


@dataclass(slots=True)
class StaleInput:
    after_ms: int = STALE_AFTER_MS
    warned: bool = False

    def observe(self, event_time: int, wall_ms: int, live: bool) -> bool:
        """True (and one warning logged) the first time a live record is ``after_ms`` older
        than the wall clock; False otherwise and ever after."""
        behind = wall_ms - event_time
        if self.warned or not live or behind <= self.after_ms:
            return False
        self.warned = True
        log.warning("input_hours_behind_wall_clock", behind=rough_duration(behind),
                    hint="live mode measures max_delay on wall time, so these records expire "
                    "(late:...); replaying a recorded log? run the worker with "
                    "CJO_TIME_MODE=replay. Catching up after an outage? expected, ignore")
        return True


#: One per process: the warning is said once, whichever partition sees it first.
STALE_INPUT = StaleInput()
