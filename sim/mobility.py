"""Location events: ATTACH/DETACH at segment edges, periodic TAU, handovers, location reports."""

from __future__ import annotations

import math
from typing import Any

from sim.population import Subscriber
from sim.sink import Sink
from sim.timeline import Segment, activity_bins, local_hour, sample_times
from sim.venues import venue_at, visit_at

MIN_PER_DAY = 32
KEPT_PERIODIC = 0.7  # periodic updates not needed while the phone is busy anyway


def location_day(sub: Subscriber, sink: Sink, day_start: int, day_end: int) -> None:
    rng = sub.rng
    events = _procedures(sub, day_start, day_end)
    bins = activity_bins(sub.segments, day_start, day_end)
    handovers = round(sub.mobility * rng.uniform(6.0, 16.0))
    reports = max(rng.randint(4, 9), MIN_PER_DAY - len(events) - handovers)
    events += [(t, "HANDOVER", seg) for t, seg in sample_times(rng, bins, handovers)]
    events += [(t, "LOCATION_REPORT", seg) for t, seg in sample_times(rng, bins, reports)]
    events.sort(key=lambda e: e[0])
    fixes = _venue_fixes(sub, day_start, day_end)
    for when, kind, seg in events:
        while fixes and fixes[0][0] <= when:
            _add_fix(sub, sink, *fixes.pop(0))
        sink.add("location", when, _event(sub, when, kind, seg))
    for fix in fixes:
        _add_fix(sub, sink, *fix)


def _venue_fixes(
    sub: Subscriber, day_start: int, day_end: int
) -> list[tuple[int, float, float, Segment]]:
    """The planned fixes of venue visits in this day, with the segment they fall in."""
    out = []
    for visit in sub.visits:
        for when, lat, lon in visit.fixes:
            if day_start <= when < day_end:
                seg = next(s for s in sub.segments if s.start <= when < s.end)
                out.append((when, lat, lon, seg))
    return out


def _add_fix(sub: Subscriber, sink: Sink, when: int, lat: float, lon: float, seg: Segment) -> None:
    sink.add("location", when, _event(sub, when, "LOCATION_REPORT", seg, (lat, lon)))


def _procedures(sub: Subscriber, day_start: int, day_end: int) -> list[tuple[int, str, Segment]]:
    """Attach, detach, periodic updates and a device change falling in this day."""
    periodic = "REGISTRATION" if sub.sa_5g else "TAU"
    period = sub.tau_period
    out: list[tuple[int, str, Segment]] = []
    for seg in sub.segments:
        if seg.end <= day_start or seg.start >= day_end:
            continue
        if day_start <= seg.start:
            out.append((seg.start, "ATTACH", seg))
        k = max(1, -(-(day_start - seg.start) // period))
        limit = min(seg.end, day_end)
        while seg.start + k * period < limit:
            if sub.rng.random() < KEPT_PERIODIC:
                out.append((seg.start + k * period, periodic, seg))
            k += 1
        if seg.detach and seg.end < day_end:
            out.append((seg.end, "DETACH", seg))
        change = sub.device_change
        if (
            change is not None
            and day_start <= change[0] < day_end
            and seg.start < change[0] < seg.end
        ):
            out.append((change[0], "ATTACH", seg))  # the new device attaches
    return out


def _event(
    sub: Subscriber,
    when: int,
    kind: str,
    seg: Segment,
    at: tuple[float, float] | None = None,
) -> dict[str, Any]:
    value: dict[str, Any] = {"event_id": sub.next_id("l"), "event_time": when, "imsi": sub.imsi}
    if kind == "ATTACH":
        value["msisdn"] = sub.msisdn
    plmn = seg.place.plmn
    value.update(event_type=kind, home_plmn=sub.home.plmn, serving_plmn=plmn)
    if kind == "DETACH":
        return value
    lat, lon = at if at is not None else _position(sub, seg, when, kind)
    value["tac"] = tracking_area(lat, lon)
    value["cell_id"] = cell_id(plmn, lat, lon)
    if kind in ("HANDOVER", "LOCATION_REPORT"):
        value["lat"], value["lon"] = round(lat, 5), round(lon, 5)
    if kind in ("ATTACH", "TAU", "REGISTRATION"):
        value["imeisv"] = sub.imeisv_at(when)
    return value


def _position(sub: Subscriber, seg: Segment, when: int, kind: str) -> tuple[float, float]:
    """Inside the venue during a visit; elsewhere, never inside one by chance."""
    visit = visit_at(sub.visits, when)
    if visit is not None:
        return visit.venue.point_inside(sub.rng)
    lat, lon = _usual_position(sub, seg, when, kind)
    while venue_at(lat, lon) is not None:
        lat += 0.01  # a kilometre north: out of it
    return lat, lon


def _usual_position(
    sub: Subscriber, seg: Segment, when: int, kind: str
) -> tuple[float, float]:
    rng, place = sub.rng, seg.place
    moving = kind == "HANDOVER"
    if place.abroad:
        spread = 0.02 if moving else 0.006
        return place.lat + rng.gauss(0.0, spread), place.lon + rng.gauss(0.0, spread * 1.6)
    home = (place.lat, place.lon)
    if sub.work is not None and moving:
        f = rng.random()  # somewhere on the way between home and work
        lat = home[0] + f * (sub.work[0] - home[0])
        lon = home[1] + f * (sub.work[1] - home[1])
        return lat + rng.gauss(0.0, 0.006), lon + rng.gauss(0.0, 0.01)
    at_work = sub.work is not None and 9 <= local_hour(when, place) < 17
    base = sub.work if at_work and sub.work is not None else home
    spread = 0.01 if moving else 0.003
    return base[0] + rng.gauss(0.0, spread), base[1] + rng.gauss(0.0, spread * 1.6)


def tracking_area(lat: float, lon: float) -> str:
    """A tracking area covers roughly 10 km: a hash of a 0.1 degree grid cell."""
    gx, gy = math.floor(lat * 10), math.floor(lon * 10)
    return f"{(gx * 7919 + gy * 104_729) % 0xFFFF:04X}"


def cell_id(plmn: str, lat: float, lon: float) -> str:
    """ECGI: the PLMN, an eNodeB id from a 0.01 degree grid cell, and one of three sectors."""
    gx, gy = math.floor(lat * 100), math.floor(lon * 100)
    enb = (gx * 31 + gy * 1_000_003) % (1 << 20)
    sector = 1 + math.floor(lat * 1000) % 3
    return f"{plmn}{(enb << 8) | sector:07X}"
