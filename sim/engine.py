"""The simulation: subscribers, day by day, merged into one log in event-time order."""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from operator import itemgetter
from pathlib import Path
from typing import Any

from cjo.errors import ConfigError
from sim.charging import charging_day
from sim.malformed import with_bad_lines
from sim.mobility import location_day
from sim.population import Subscriber, make_subscriber, profile_updates
from sim.sink import Sink
from sim.timeline import DAY
from sim.usage import usage_day
from sim.writer import write_log

DEFAULT_START_MS = 1_767_225_600_000  # 2026-01-01T00:00Z
LINES_PER_SUBSCRIBER_DAY = 108  # about: 40 location, 36 charging, 32 usage


def simulate(
    subscribers: int,
    days: int,
    seed: int,
    start_ms: int = DEFAULT_START_MS,
    bad_lines: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Recorded-log lines ``{"topic", "key", "value"}`` in event-time order (within 45 s), with
    bad lines ``{"raw": text}`` among them. The same arguments give the same lines."""
    if subscribers < 0 or days < 0:
        raise ConfigError(f"subscribers and days must be >= 0, got {subscribers} and {days}")
    if bad_lines is not None and bad_lines < 0:
        raise ConfigError(f"bad_lines must be >= 0, got {bad_lines}")
    estimate = subscribers * (1 + days * LINES_PER_SUBSCRIBER_DAY)
    rng = random.Random(f"cjo.sim/{seed}/bad-lines")
    return with_bad_lines(_good_lines(subscribers, days, seed, start_ms), rng, bad_lines, estimate)


def run_simulate(
    subscribers: int, days: int, seed: int, out: Path, bad_lines: int | None = None
) -> int:
    """``cjo simulate``: write the log to ``out`` ("-": standard output), report what it holds."""
    lines = simulate(subscribers, days, seed, bad_lines=bad_lines)
    if str(out) == "-":
        summary = write_log(lines, sys.stdout)
        print(summary, file=sys.stderr)
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="\n") as handle:
        summary = write_log(lines, handle)
    print(f"{out}: {summary}")
    return 0


def _good_lines(subscribers: int, days: int, seed: int, start: int) -> Iterator[dict[str, Any]]:
    subs = [make_subscriber(seed, serial, start, days) for serial in range(1, subscribers + 1)]
    for sub in subs:
        yield {"topic": "subscribers", "key": sub.imsi, "value": sub.profile}
    for day in range(days):
        day_start = start + day * DAY
        items: list[tuple[int, dict[str, Any]]] = []
        for sub in subs:
            items += subscriber_day(sub, day, day_start, day_start + DAY)
        items.sort(key=itemgetter(0))  # stable: ties keep their (deterministic) order
        for _, line in items:
            yield line


def subscriber_day(
    sub: Subscriber, day: int, day_start: int, day_end: int
) -> list[tuple[int, dict[str, Any]]]:
    """One subscriber's lines for one day, each with the instant it reaches the log."""
    sink = Sink(sub)
    location_day(sub, sink, day_start, day_end)
    sessions = usage_day(sub, sink, day_start, day_end, day)
    charging_day(sub, sink, sessions, day_start, day_end)
    for when, profile in profile_updates(sub, day_start, day_end):
        sink.add("subscribers", when, profile)
    return sink.items
