"""Retry policy: exponential backoff with jitter, a server's ``Retry-After`` honoured, bounded by
the attempts allowed and by the offer's validity."""

from __future__ import annotations

import email.utils
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 5  # attempts in all, the first included
    base_s: float = 0.5  # the wait after the first attempt; doubles after each
    max_s: float = 30.0  # longest backoff of our own
    jitter: float = 0.2  # +- this fraction of the backoff, so instances do not retry in step
    max_retry_after_s: float = 300.0  # longest wait a server may ask for

    def backoff_s(self, attempts: int, rand: float = 0.5) -> float:
        """The wait after ``attempts`` attempts (>= 1); ``rand`` in [0, 1) draws the jitter."""
        base = min(self.max_s, self.base_s * 2.0 ** max(0, attempts - 1))
        return max(0.0, base * (1 + self.jitter * (2 * rand - 1)))

    def next_wait_s(self, attempts: int, after_s: float | None, now_ms: int, valid_until_ms: int,
                    rand: float = 0.5) -> float | None:
        """Seconds to wait before attempt ``attempts + 1``, or None: give up (attempts used up,
        the server's wait is too long, or the offer would expire before the retry)."""
        if attempts >= self.max_attempts:
            return None
        if after_s is not None and after_s > self.max_retry_after_s:
            return None
        wait = max(after_s, 0.0) if after_s is not None else self.backoff_s(attempts, rand)
        if now_ms + wait * 1000 >= valid_until_ms:
            return None
        return wait


def parse_retry_after(value: str | None, now_s: float) -> float | None:
    """An HTTP ``Retry-After`` (delay-seconds or an HTTP-date) as seconds from ``now_s``; None
    when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now_s)
