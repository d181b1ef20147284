"""The simulation: subscribers, day by day, merged into one log in event-time order."""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
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
MAX_SERIAL = 9_999_999_999  # an IMSI is a 5-digit PLMN and a 10-digit serial
LINES_PER_SUBSCRIBER_DAY = 108  # about: 40 location, 36 charging, 32 usage


def simulate(
    subscribers: int,
    days: int,
    seed: int,
    start_ms: int = DEFAULT_START_MS,
    bad_lines: int | None = None,
    imsi_offset: int = 0,
) -> Iterator[dict[str, Any]]:
    """Recorded-log lines ``{"topic", "key", "value"}`` in event-time order (within 45 s), with
    bad lines ``{"raw": text}`` among them. The same arguments give the same lines.
    ``imsi_offset``: the subscribers are numbers ``imsi_offset + 1`` on (other people: a second
    log with another offset shares nobody with the first)."""
    if subscribers < 0 or days < 0:
        raise ConfigError(f"subscribers and days must be >= 0, got {subscribers} and {days}")
    if imsi_offset < 0 or imsi_offset + subscribers > MAX_SERIAL:
        raise ConfigError(f"--imsi-offset plus --subscribers must stay within 0..{MAX_SERIAL:,}, "
                          f"got {imsi_offset} + {subscribers}")
    if bad_lines is not None and bad_lines < 0:
        raise ConfigError(f"bad_lines must be >= 0, got {bad_lines}")
    estimate = subscribers * (1 + days * LINES_PER_SUBSCRIBER_DAY)
    rng = random.Random(f"cjo.sim/{seed}/bad-lines")
    return with_bad_lines(_good_lines(subscribers, days, seed, start_ms, imsi_offset), rng,
                          bad_lines, estimate)


def run_simulate(
    subscribers: int, days: int, seed: int, out: Path, bad_lines: int | None = None,
    start_ms: int = DEFAULT_START_MS, imsi_offset: int = 0,
) -> int:
    """``cjo simulate``: write the log to ``out`` ("-": standard output), report what it holds."""
    lines = simulate(subscribers, days, seed, start_ms, bad_lines, imsi_offset)
    if str(out) == "-":
        summary = write_log(lines, sys.stdout)
        print(f"{summary}; {_span(start_ms, days, imsi_offset, subscribers)}", file=sys.stderr)
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="\n") as handle:
        summary = write_log(lines, handle)
    print(f"{out}: {summary}\n  {_span(start_ms, days, imsi_offset, subscribers)}")
    return 0


def _span(start_ms: int, days: int, imsi_offset: int, subscribers: int) -> str:
    """When the log's events happen and whom they are about (``--start``, ``--imsi-offset``)."""
    def iso(ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%MZ")

    return (f"events from {iso(start_ms)} to {iso(start_ms + days * DAY)}, subscribers "
            f"{imsi_offset + 1} to {imsi_offset + subscribers} (a next log: --imsi-offset "
            f"{imsi_offset + subscribers})")


def _good_lines(subscribers: int, days: int, seed: int, start: int,
                imsi_offset: int = 0) -> Iterator[dict[str, Any]]:
    subs = [make_subscriber(seed, serial, start, days)
            for serial in range(imsi_offset + 1, imsi_offset + subscribers + 1)]
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
