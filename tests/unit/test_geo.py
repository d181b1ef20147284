import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from cjo.catalogue.model import GeofenceParams, Venue
from cjo.triggers.geo import EARTH_RADIUS_M, distance_m, inside, venue_at, venues_for


def venue(**fields: Any) -> Venue:
    return Venue.model_validate(fields)


def circle(lat: float, lon: float, radius: float) -> Venue:
    return venue(id="v", name="V", center={"lat": lat, "lon": lon}, radius_m=radius)


WEMBLEY = venue(id="wembley", name="Wembley Stadium", kind="stadium",
                center={"lat": 51.556, "lon": -0.2796}, radius_m=300)
SQUARE = venue(id="square", name="Square", kind="mall",
               polygon=[(51.0, -0.1), (51.0, 0.1), (51.2, 0.1), (51.2, -0.1)])
# a U: its notch (lat 51.1-51.2, lon -0.05..0.05) is outside
U_SHAPE = venue(id="u", name="U", polygon=[
    (51.0, -0.1), (51.0, 0.1), (51.2, 0.1), (51.2, 0.05), (51.1, 0.05), (51.1, -0.05),
    (51.2, -0.05), (51.2, -0.1)])
VENUES = {v.id: v for v in (WEMBLEY, SQUARE, U_SHAPE)}


def north_of(lat: float, metres: float) -> float:
    return lat + math.degrees(metres / EARTH_RADIUS_M)


def test_one_degree_of_latitude_is_about_111_km() -> None:
    assert abs(distance_m(0, 0, 1, 0) - 111_195) < 1
    assert abs(distance_m(51.5, -0.1, 51.5, -0.1)) < 1e-9
    # London to Paris, about 344 km
    assert 340_000 < distance_m(51.5074, -0.1278, 48.8566, 2.3522) < 347_000


@given(st.floats(-60, 60), st.floats(-179, 179), st.floats(1, 20_000), st.floats(0.5, 50))
def test_circle_edge_along_a_meridian(lat: float, lon: float, radius: float, margin: float) -> None:
    place = circle(lat, lon, radius)
    assert inside(place, north_of(lat, radius - min(margin, radius)), lon)
    assert not inside(place, north_of(lat, radius + margin), lon)


@given(st.floats(-179, 179), st.floats(10, 20_000))
def test_circle_edge_along_the_equator(lon: float, radius: float) -> None:
    place = circle(0, lon, radius)
    step = math.degrees(radius / EARTH_RADIUS_M)
    assert inside(place, 0, lon + step * 0.99)
    assert not inside(place, 0, lon + step * 1.01)


def test_polygon_by_ray_casting() -> None:
    assert inside(SQUARE, 51.1, 0.0)
    assert not inside(SQUARE, 51.3, 0.0)
    assert not inside(SQUARE, 51.1, 0.2)
    assert inside(U_SHAPE, 51.05, 0.0)  # the base of the U
    assert inside(U_SHAPE, 51.15, 0.08)  # an arm
    assert not inside(U_SHAPE, 51.15, 0.0)  # the notch


@given(st.floats(50.9, 51.3), st.floats(-0.2, 0.2))
def test_polygon_square_agrees_with_its_bounds(lat: float, lon: float) -> None:
    strictly_in = 51.0 < lat < 51.2 and -0.1 < lon < 0.1
    strictly_out = not (51.0 <= lat <= 51.2 and -0.1 <= lon <= 0.1)
    if strictly_in:
        assert inside(SQUARE, lat, lon)
    if strictly_out:
        assert not inside(SQUARE, lat, lon)


def params(**fields: Any) -> GeofenceParams:
    return GeofenceParams.model_validate(fields)


def test_venues_for_by_ids_or_kind_each_once() -> None:
    assert venues_for(params(venues=["square", "nowhere"]), VENUES) == [SQUARE]
    assert venues_for(params(venue_kind="stadium"), VENUES) == [WEMBLEY]
    both = venues_for(params(venues=["wembley", "u"], venue_kind="stadium"), VENUES)
    assert both == [WEMBLEY, U_SHAPE]


def test_venue_at_gives_the_first_containing_venue() -> None:
    assert venue_at([WEMBLEY, SQUARE], 51.556, -0.2796) == WEMBLEY
    assert venue_at([WEMBLEY, SQUARE], 51.1, 0.0) == SQUARE
    assert venue_at([WEMBLEY, SQUARE], 0, 0) is None
