"""Visits to venues: young subscribers at their city's mall, fans at a match.

A visit is planned once per subscriber (its own random stream, so the rest of the simulation does
not shift) and only where the phone is attached at home for the whole of it. While inside, the
phone reports its position (LOCATION_REPORT) every 5-10 minutes, from a point inside the venue;
one fix before arriving and one shortly after leaving lie a kilometre or more away, so both the
entry and the exit can be observed.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from sim.timeline import DAY, HOUR, MINUTE, Segment

METRES_PER_DEGREE = 111_320.0
INSIDE_MARGIN = 0.85  # fixes are drawn this far in, so rounding to 5 decimals stays inside
MALL_DAY = 0.30  # chance a day that a young subscriber of a mall's city goes there
ATTEND = 0.13  # share of a stadium's city at its match
YOUNG = ("UNDER_18", "A18_24")
APPROACH = (10 * MINUTE, 25 * MINUTE)  # the fix on the way in, before arriving
AFTER = (3 * MINUTE, 12 * MINUTE)  # the fix on the way out, after leaving
EVERY = (5 * MINUTE, 10 * MINUTE)

Fix = tuple[int, float, float]  # when, lat, lon


@dataclass(frozen=True)
class Venue:
    """A circle (centre and radius) or, with ``polygon``, the polygon of (lat, lon) vertices."""

    venue_id: str
    kind: str  # mall, stadium
    city: str
    lat: float
    lon: float
    radius_m: float = 0.0
    polygon: tuple[tuple[float, float], ...] = ()

    def contains(self, lat: float, lon: float) -> bool:
        if self.polygon:
            return in_polygon(lat, lon, self.polygon)
        return distance_m(self.lat, self.lon, lat, lon) <= self.radius_m

    def point_inside(self, rng: random.Random) -> tuple[float, float]:
        if self.polygon:
            lats = [p[0] for p in self.polygon]
            lons = [p[1] for p in self.polygon]
            while True:  # rejection within the box, shrunk by the margin around the centre
                lat = self.lat + (rng.uniform(min(lats), max(lats)) - self.lat) * INSIDE_MARGIN
                lon = self.lon + (rng.uniform(min(lons), max(lons)) - self.lon) * INSIDE_MARGIN
                if self.contains(lat, lon):
                    return lat, lon
        return offset(self.lat, self.lon, self.radius_m * INSIDE_MARGIN * math.sqrt(rng.random()),
                      rng.uniform(0.0, 2 * math.pi))

    def point_near(self, rng: random.Random) -> tuple[float, float]:
        """1-3 km from the centre: on the way in or out."""
        return offset(self.lat, self.lon, rng.uniform(1_000.0, 3_000.0),
                      rng.uniform(0.0, 2 * math.pi))


def _box(lat0: float, lat1: float, lon0: float, lon1: float) -> tuple[tuple[float, float], ...]:
    return ((lat0, lon0), (lat0, lon1), (lat1, lon1), (lat1, lon0))


MALLS: tuple[Venue, ...] = (
    Venue("westfield_stratford", "mall", "London", 51.5430, -0.0065, 350.0),
    Venue("bullring", "mall", "Birmingham", 52.4775, -1.8936, 300.0),
    Venue("trafford_centre", "mall", "Manchester", 53.4668, -2.3475, 450.0),
)
STADIUMS: tuple[Venue, ...] = (
    Venue("wembley", "stadium", "London", 51.5560, -0.2796,
          polygon=_box(51.5545, 51.5575, -0.2830, -0.2762)),
    Venue("old_trafford", "stadium", "Manchester", 53.4631, -2.2913, 300.0),
)
VENUES: tuple[Venue, ...] = MALLS + STADIUMS
# (stadium, day of the log from 0, kick-off in hours after that day's 00:00 UTC: GMT in winter)
MATCHES: tuple[tuple[Venue, int, float], ...] = ((STADIUMS[0], 0, 19.75), (STADIUMS[1], 1, 15.0))


@dataclass(frozen=True)
class Visit:
    venue: Venue
    arrive: int
    leave: int
    fixes: tuple[Fix, ...]  # the one on the way in, those inside, the one on the way out


def distance_m(lat0: float, lon0: float, lat1: float, lon1: float) -> float:
    """Great-circle distance (haversine, mean Earth radius)."""
    p0, p1 = math.radians(lat0), math.radians(lat1)
    dp, dl = p1 - p0, math.radians(lon1 - lon0)
    h = math.sin(dp / 2) ** 2 + math.cos(p0) * math.cos(p1) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def in_polygon(lat: float, lon: float, polygon: tuple[tuple[float, float], ...]) -> bool:
    """Ray casting (even-odd) on (lat, lon) as plane coordinates: fine at a venue's scale.

    The same rule as ``cjo.triggers.geo``, written again on purpose: the simulator places
    visits inside venues by its own geometry, so a defect in the engine's cannot hide by
    placing the points it would then detect."""
    inside = False
    for (a_lat, a_lon), (b_lat, b_lon) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        if (a_lat > lat) != (b_lat > lat):
            cross = a_lon + (lat - a_lat) * (b_lon - a_lon) / (b_lat - a_lat)
            if lon < cross:
                inside = not inside
    return inside


def offset(lat: float, lon: float, metres: float, bearing: float) -> tuple[float, float]:
    north, east = metres * math.cos(bearing), metres * math.sin(bearing)
    per_lon = METRES_PER_DEGREE * math.cos(math.radians(lat))
    return lat + north / METRES_PER_DEGREE, lon + east / per_lon


def venue_at(lat: float, lon: float) -> Venue | None:
    for venue in VENUES:
        if venue.contains(lat, lon):
            return venue
    return None


def plan_visits(
    rng: random.Random, city: str, age_band: str | None, segs: list[Segment], start: int, days: int
) -> list[Visit]:
    """The match of the subscriber's city if she goes, and mall afternoons for the young."""
    visits: list[Visit] = []
    mall = next((v for v in MALLS if v.city == city), None)
    for day in range(days):
        day_start = start + day * DAY
        planned: list[tuple[Venue, int, int]] = []
        for stadium, match_day, kick_off in MATCHES:
            if match_day == day and stadium.city == city and rng.random() < ATTEND:
                arrive = day_start + int(kick_off * HOUR) - HOUR + rng.randrange(-20, 15) * MINUTE
                planned.append((stadium, arrive, arrive + 150 * MINUTE + rng.randrange(-10, 16)
                                * MINUTE))
        if mall is not None and age_band in YOUNG and rng.random() < MALL_DAY:
            arrive = day_start + int(rng.uniform(10.0, 17.5) * HOUR)
            leave = arrive + int(rng.uniform(1.0, 3.0) * HOUR)
            if all(leave + HOUR < a or arrive > b + HOUR for _, a, b in planned):
                planned.append((mall, arrive, leave))
        for venue, arrive, leave in sorted(planned, key=lambda p: p[1]):
            visit = _visit(rng, venue, arrive, leave)
            if _attached_at_home(segs, visit.fixes[0][0], visit.fixes[-1][0]):
                visits.append(visit)
    return visits


def _visit(rng: random.Random, venue: Venue, arrive: int, leave: int) -> Visit:
    lat, lon = venue.point_near(rng)
    fixes: list[Fix] = [(arrive - rng.randrange(*APPROACH), lat, lon)]
    when = arrive
    while when < leave:
        lat, lon = venue.point_inside(rng)
        fixes.append((when, lat, lon))
        when += rng.randrange(*EVERY)
    lat, lon = venue.point_near(rng)
    fixes.append((leave + rng.randrange(*AFTER), lat, lon))
    return Visit(venue, arrive, leave, tuple(fixes))


def _attached_at_home(segs: list[Segment], first: int, last: int) -> bool:
    return any(not s.place.abroad and s.start < first and last < s.end for s in segs)


def visit_at(visits: list[Visit], when: int) -> Visit | None:
    """The visit during which ``when`` falls (from arrival to leaving), if any."""
    for visit in visits:
        if visit.arrive <= when <= visit.leave:
            return visit
    return None
