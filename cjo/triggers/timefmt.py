"""Event times and durations as message templates and instance strings show them (UTC)."""

from __future__ import annotations

import datetime as dt

DAY_MS = 86_400_000
_UNITS = (("d", DAY_MS), ("h", 3_600_000), ("m", 60_000), ("s", 1_000))


def utc(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


def format_duration(ms: int) -> str:
    """The largest unit that divides it: 3_600_000 -> ``1h``, 5_400_000 -> ``90m``, 1500 ->
    ``1500ms`` (``parse_duration`` reads every result back)."""
    for unit, size in _UNITS:
        if ms and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def format_minute(ms: int) -> str:
    """``2026-01-02 18:00 UTC``."""
    return utc(ms).strftime("%Y-%m-%d %H:%M UTC")


def format_day(days_since_epoch: int) -> str:
    """``2026-03-01``."""
    return (dt.date(1970, 1, 1) + dt.timedelta(days=days_since_epoch)).isoformat()


def days(ms: int) -> int | float:
    """A duration in days: whole days as an int, else one decimal."""
    return ms // DAY_MS if ms % DAY_MS == 0 else round(ms / DAY_MS, 1)
