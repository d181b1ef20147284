"""Venue geometry: is a position inside a venue, and which venues a geofence trigger watches.

A circle is tested by great-circle (haversine) distance in metres on a sphere of the Earth's mean
radius; a polygon of ``[lat, lon]`` points by ray casting in plain lat/lon (fine for venues: a
few kilometres, away from the antimeridian and the poles).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from cjo.catalogue.model import GeofenceParams, Venue

EARTH_RADIUS_M = 6_371_008.8


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def inside(venue: Venue, lat: float, lon: float) -> bool:
    if venue.center is not None and venue.radius_m is not None:
        return distance_m(venue.center.lat, venue.center.lon, lat, lon) <= venue.radius_m
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


def venue_at(venues: list[Venue], lat: float, lon: float) -> Venue | None:
    """The first of ``venues`` containing the position."""
    return next((v for v in venues if inside(v, lat, lon)), None)
