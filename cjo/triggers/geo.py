"""Venue geometry: is a position inside a venue, and which venues a geofence trigger watches.

A circle is tested by great-circle (haversine) distance in metres on a sphere of the Earth's mean
radius; a polygon of ``[lat, lon]`` points by ray casting in plain lat/lon (fine for venues: a
few kilometres, away from the antimeridian and the poles).

Most positions are far from every venue: ``inside`` first rules out those north or south of a
venue's reach (a great-circle distance is never less than the difference of latitudes, and a ray
from outside a polygon's band of latitudes crosses none of its edges), which decides nothing
differently and spares the trigonometry.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from cjo.catalogue.model import GeofenceParams, Venue

EARTH_RADIUS_M = 6_371_008.8
_M_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180  # along a meridian
_SLACK_M = 1.0  # far above the rounding error of distance_m: the exact test decides near an edge


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def inside(venue: Venue, lat: float, lon: float) -> bool:
    center, radius = venue.center, venue.radius_m
    if center is not None and radius is not None:
        if abs(lat - center.lat) * _M_PER_DEGREE > radius + _SLACK_M:
            return False
        return distance_m(center.lat, center.lon, lat, lon) <= radius
    low, high = venue.polygon_lats
    if lat < low or lat >= high:
        return False
    return _in_polygon(venue.polygon or [], lat, lon)


def _in_polygon(points: list[tuple[float, float]], lat: float, lon: float) -> bool:
    """Even-odd rule: a ray from the point towards increasing lon crosses the edges."""
    result = False
    for (lat1, lon1), (lat2, lon2) in zip(points, points[1:] + points[:1], strict=True):
        if (lat1 > lat) != (lat2 > lat):
            cross_lon = lon1 + (lat - lat1) * (lon2 - lon1) / (lat2 - lat1)
            if lon < cross_lon:
                result = not result
    return result


def venues_for(params: GeofenceParams, venues: Mapping[str, Venue]) -> list[Venue]:
    """The listed venue ids (unknown ids are skipped: validation refuses them) and every venue
    of ``venue_kind``, each once, listed ones first."""
    chosen = [venues[v] for v in params.venues if v in venues]
    if params.venue_kind is not None:
        chosen += [v for v in venues.values() if v.kind == params.venue_kind]
    unique: dict[str, Venue] = {}
    for venue in chosen:
        unique.setdefault(venue.id, venue)
    return list(unique.values())


def watched(params: GeofenceParams, venues: Mapping[str, Venue]) -> tuple[Venue, ...]:
    """``venues_for``, worked out once per (trigger parameters, catalogue venues): both belong
    to a catalogue, which is immutable and serves many records."""
    key = (id(params), id(venues))
    hit = _WATCHED.get(key)
    if hit is not None and hit[0] is params and hit[1] is venues:
        return hit[2]
    if len(_WATCHED) >= _WATCHED_MAX:
        _WATCHED.clear()  # catalogues replaced many times: start again
    found = tuple(venues_for(params, venues))
    _WATCHED[key] = (params, venues, found)
    return found


_WATCHED: dict[tuple[int, int],
               tuple[GeofenceParams, Mapping[str, Venue], tuple[Venue, ...]]] = {}
_WATCHED_MAX = 256


def venue_at(venues: Sequence[Venue], lat: float, lon: float) -> Venue | None:
    """The first of ``venues`` containing the position."""
    for venue in venues:
        if inside(venue, lat, lon):
            return venue
    return None
