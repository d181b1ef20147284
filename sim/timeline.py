"""Where a subscriber is and when the phone is attached: trips abroad, nights off, segments.

A subscriber's simulated time is cut into *segments*: stretches during which the phone is attached
to one network at one place. A segment starts with an ATTACH and ends with a DETACH (a night with
the phone off, a flight, a border crossing) unless the log ends first.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from sim.catalog import DESTINATIONS, DIURNAL, LANGUAGE_HOME, Destination

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
MIN_SEGMENT = 10 * MINUTE
FITTING_TRIPS = 0.8  # share of trips timed to be back home before the log ends, when they can be
RETURN_MARGIN = 16 * HOUR  # late return (5 h) plus the longest journey home (10 h) and some


@dataclass(frozen=True)
class Place:
    """Where the phone is: network, rough position, local time offset."""

    plmn: str
    lat: float
    lon: float
    utc_offset_ms: int = 0
    abroad: bool = False
    eu: bool = True


@dataclass(frozen=True)
class Segment:
    """The phone attached to one network from ``start`` (an ATTACH) until ``end``."""

    start: int
    end: int
    place: Place
    detach: bool  # a DETACH ends it; False when the log ends first
    index: int


@dataclass(frozen=True)
class Trip:
    """One trip abroad: depart (home DETACH), legs in foreign networks, back home (ATTACH)."""

    depart: int
    legs: tuple[tuple[int, int, Place], ...]  # (ATTACH abroad, DETACH abroad, place)
    home_arrive: int


def plan_trips(rng: random.Random, language: str, start: int, end: int) -> list[Trip]:
    """About 13% of subscribers take one trip and 3% take two, each 1-4 days long."""
    draw = rng.random()
    wanted = 2 if draw < 0.03 else 1 if draw < 0.16 else 0
    trips: list[Trip] = []
    earliest = start
    for _ in range(wanted):
        trip = _one_trip(rng, language, earliest, end)
        if trip is None:
            break
        trips.append(trip)
        earliest = trip.home_arrive + DAY
    return trips


def _one_trip(rng: random.Random, language: str, earliest: int, end: int) -> Trip | None:
    days_away = rng.choices((1, 2, 3, 4), weights=(35, 30, 20, 15))[0]
    depart = _departure(rng, earliest, end, end - days_away * DAY - RETURN_MARGIN)
    if depart is None:
        return None
    leave = depart + days_away * DAY + int(rng.uniform(-5.0, 5.0) * HOUR)
    dest = _destination(rng, language)
    arrive = depart + _travel_ms(rng, dest)
    leave = max(leave, arrive + 8 * HOUR)
    legs = [(arrive, leave, _place_in(rng, dest))]
    if days_away >= 2 and rng.random() < 0.15:
        other = rng.choice([d for d in DESTINATIONS if d.eu and d is not dest])
        switch = arrive + int((leave - arrive) * rng.uniform(0.4, 0.6))
        legs = [(arrive, switch, legs[0][2])]
        legs.append((switch + int(rng.uniform(2.0, 5.0) * HOUR), leave, _place_in(rng, other)))
        dest = other
    return Trip(depart, tuple(legs), leave + _travel_ms(rng, dest))


def _departure(rng: random.Random, earliest: int, end: int, latest_fit: int) -> int | None:
    """Between 06:00 and 20:00 on some day; mostly early enough to be back before the log ends."""
    first_day, last_day = earliest // DAY, (end - 1) // DAY
    if first_day > last_day:
        return None
    fit_day = (latest_fit - 6 * HOUR) // DAY
    if rng.random() < FITTING_TRIPS and fit_day >= first_day:
        day = rng.randint(first_day, min(last_day, fit_day))
        latest_hour = min(20.0, (latest_fit - day * DAY) / HOUR)
        when = day * DAY + int(rng.uniform(6.0, latest_hour) * HOUR)
    else:
        when = rng.randint(first_day, last_day) * DAY + int(rng.uniform(6.0, 20.0) * HOUR)
    return max(when, earliest + HOUR)


def _destination(rng: random.Random, language: str) -> Destination:
    favourite = dict(LANGUAGE_HOME).get(language)
    weights = [d.weight * (10.0 if d.country == favourite else 1.0) for d in DESTINATIONS]
    return rng.choices(DESTINATIONS, weights=weights)[0]


def _travel_ms(rng: random.Random, dest: Destination) -> int:
    """Door to door with the phone off: the flight plus boarding and taxiing."""
    return int((dest.flight_h * rng.uniform(0.95, 1.2) + rng.uniform(0.5, 1.5)) * HOUR)


def _place_in(rng: random.Random, dest: Destination) -> Place:
    plmn = rng.choices(dest.plmns, weights=(3, 2, 1)[: len(dest.plmns)])[0]
    lat, lon = dest.lat + rng.gauss(0.0, 0.03), dest.lon + rng.gauss(0.0, 0.03)
    return Place(plmn, lat, lon, dest.utc_offset_h * HOUR, abroad=True, eu=dest.eu)


def presence(home: Place, trips: list[Trip], start: int, end: int) -> list[tuple[int, int, Place]]:
    """Where the subscriber is, as (from, to, place); gaps are flights and transfers."""
    spans: list[tuple[int, int, Place]] = []
    cursor = start
    for trip in trips:
        spans.append((cursor, trip.depart, home))
        spans.extend(trip.legs)
        cursor = trip.home_arrive
    spans.append((cursor, end, home))
    return [(max(a, start), min(b, end), p) for a, b, p in spans if min(b, end) > max(a, start)]


def night_gaps(
    rng: random.Random, spans: list[tuple[int, int, Place]], start: int, end: int
) -> list[tuple[int, int]]:
    """Phone off from bedtime (22:00-24:00 local) to waking (06:00-09:00 local), every night."""
    gaps: list[tuple[int, int]] = []
    if not spans:
        return gaps
    for day in range(start // DAY - 1, end // DAY + 1):
        offset = place_at(spans, day * DAY + 12 * HOUR).utc_offset_ms
        sleep = day * DAY + int(rng.uniform(22.0, 23.95) * HOUR) - offset
        wake = (day + 1) * DAY + int(rng.uniform(6.0, 9.0) * HOUR) - offset
        gaps.append((sleep, wake))
    return gaps


def place_at(spans: list[tuple[int, int, Place]], when: int) -> Place:
    """The place of the last span that started at or before ``when`` (the first one before all)."""
    found = spans[0][2]
    for a, _, place in spans:
        if a > when:
            break
        found = place
    return found


def segments(
    spans: list[tuple[int, int, Place]], gaps: list[tuple[int, int]], end: int
) -> list[Segment]:
    """Cut the presence spans by the gaps; drop slivers shorter than ten minutes."""
    pieces: list[tuple[int, int, Place]] = []
    for a, b, place in spans:
        cursor = a
        for g_start, g_end in gaps:
            if g_end <= cursor or g_start >= b:
                continue
            if g_start > cursor:
                pieces.append((cursor, g_start, place))
            cursor = max(cursor, g_end)
        if cursor < b:
            pieces.append((cursor, b, place))
    kept = [p for p in pieces if p[1] - p[0] >= MIN_SEGMENT]
    return [Segment(a, b, p, b < end, i) for i, (a, b, p) in enumerate(kept)]


def local_hour(when: int, place: Place) -> int:
    return ((when + place.utc_offset_ms) // HOUR) % 24


def activity_bins(
    segs: list[Segment], day_start: int, day_end: int
) -> list[tuple[int, int, Segment, float]]:
    """The attached time of a day in pieces of at most an hour, weighted by the hour's activity."""
    bins = []
    for seg in segs:
        a, b = max(seg.start, day_start), min(seg.end, day_end)
        while a < b:
            nxt = min(b, (a // HOUR + 1) * HOUR)
            weight = DIURNAL[local_hour(a, seg.place)] * (nxt - a) / HOUR
            bins.append((a, nxt, seg, weight))
            a = nxt
    return bins


def sample_times(
    rng: random.Random, bins: list[tuple[int, int, Segment, float]], count: int
) -> list[tuple[int, Segment]]:
    """``count`` instants drawn by activity over the attached time, in time order."""
    if not bins or count <= 0:
        return []
    cum, total = [], 0.0
    for b in bins:
        total += b[3]
        cum.append(total)
    picks = rng.choices(bins, cum_weights=cum, k=count)
    return sorted(((rng.randrange(a, b), seg) for a, b, seg, _ in picks), key=lambda x: x[0])
