"""Per-application usage records (DPI/UPF xDR), one per app session, closed at its end."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim.catalog import APPS, App
from sim.population import Subscriber
from sim.sink import Sink
from sim.timeline import HOUR, MINUTE, Segment, activity_bins, sample_times

MIN_PER_DAY, MAX_PER_DAY = 22, 60
DROP_RATE = 0.02
BURST_APPS: tuple[App, ...] = tuple(a for a in APPS if a.category in ("VIDEO", "GAMING", "VOIP"))
GAMES: tuple[App, ...] = tuple(a for a in APPS if a.category == "GAMING")


@dataclass(frozen=True)
class AppSession:
    start: int
    end: int
    app: App
    octets: int
    seg: Segment


def roaming_factor(seg: Segment) -> float:
    """Travellers use less data: a bit less in the EU, far less where it costs more."""
    if not seg.place.abroad:
        return 1.0
    return 0.6 if seg.place.eu else 0.25


def usage_day(
    sub: Subscriber, sink: Sink, day_start: int, day_end: int, day: int
) -> list[AppSession]:
    rng = sub.rng
    bins = activity_bins(sub.segments, day_start, day_end)
    count = min(MAX_PER_DAY, max(MIN_PER_DAY, round(rng.gauss(sub.usage_mean, 4.0))))
    picks = sample_times(rng, bins, count)
    apps = rng.choices(APPS, weights=sub.app_weights, k=len(picks))
    raw = [app.mean_bytes * rng.lognormvariate(0.0, 0.8) for app in apps]
    volume = sub.daily_bytes * rng.lognormvariate(-0.08, 0.4)
    scale = volume / sum(raw) if raw else 0.0
    sessions = []
    for (end, seg), app, size in zip(picks, apps, raw, strict=True):
        octets = max(2_000, int(size * scale * roaming_factor(seg)))
        duration = min(
            3 * HOUR, max(5_000, int(app.mean_duration_s * 1000 * rng.lognormvariate(0.0, 0.6)))
        )
        dropped = rng.random() < DROP_RATE
        if dropped:
            duration = max(2_000, int(duration * rng.uniform(0.05, 0.5)))
            octets = max(1_000, int(octets * rng.uniform(0.05, 0.5)))
        sessions.append(_emit(sub, sink, app, end, duration, octets, seg, dropped))
    if sub.burst_day == day and bins:
        sessions += _burst(sub, sink, bins, day_end)
    return sessions + _plays(sub, sink, day_start, day_end)


def _plays(sub: Subscriber, sink: Sink, day_start: int, day_end: int) -> list[AppSession]:
    """Games played on a second gaming day pass, each started after the pass was taken."""
    if sub.gaming is None:
        return []
    rng, out = sub.rng, []
    for end, seg in sub.gaming.plays:
        if day_start <= end < day_end:
            app = rng.choice(GAMES)
            longest = end - max(seg.start, sub.gaming.second_at)
            duration = min(longest, int(app.mean_duration_s * 1000 * rng.lognormvariate(0.0, 0.5)))
            octets = max(200_000, int(app.mean_bytes * rng.lognormvariate(0.0, 0.5)))
            out.append(_emit(sub, sink, app, end, max(5_000, duration), octets, seg, False))
    return out


def _burst(
    sub: Subscriber, sink: Sink, bins: list[tuple[int, int, Segment, float]], day_end: int
) -> list[AppSession]:
    """Bad coverage: 3-5 sessions dropped within three quarters of an hour."""
    rng = sub.rng
    start, _, seg, _ = rng.choices(bins, weights=[b[3] for b in bins])[0]
    limit = min(seg.end, day_end) - 1
    ends = sorted(min(limit, start + rng.randrange(45 * MINUTE)) for _ in range(rng.randint(3, 5)))
    out = []
    for end in ends:
        app = rng.choice(BURST_APPS)
        duration = rng.randrange(5_000, 90_000)
        out.append(
            _emit(sub, sink, app, end, duration, rng.randrange(20_000, 3_000_000), seg, True)
        )
    return out


def _emit(
    sub: Subscriber,
    sink: Sink,
    app: App,
    end: int,
    duration: int,
    octets: int,
    seg: Segment,
    dropped: bool,
) -> AppSession:
    start = max(seg.start, end - duration)
    duration = max(1_000, end - start)
    uplink = int(octets * app.uplink_share)
    value: dict[str, Any] = {
        "event_id": sub.next_id("u"),
        "event_time": end,
        "imsi": sub.imsi,
        "app_id": app.app_id,
        "app_category": app.category,
        "bytes_uplink": uplink,
        "bytes_downlink": octets - uplink,
        "duration_ms": duration,
        "dropped": dropped,
        "throughput_kbps": max(1, min(2**31 - 1, octets * 8 // duration)),
        "serving_plmn": seg.place.plmn,
    }
    sink.add("usage", end, value)
    return AppSession(start, end, app, octets, seg)
