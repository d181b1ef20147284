from typing import Any

from cjo.catalogue.model import Venue
from tests.unit.factories import drive, location, trigger

MIN = 60_000
STADIUM = Venue.model_validate({"id": "wembley", "name": "Wembley Stadium", "kind": "stadium",
                                "center": {"lat": 51.556, "lon": -0.2796}, "radius_m": 300})
MALL = Venue.model_validate({"id": "mall", "name": "Mall", "kind": "mall",
                             "polygon": [(51.50, -0.10), (51.50, -0.09), (51.51, -0.09),
                                         (51.51, -0.10)]})
VENUES = {v.id: v for v in (STADIUM, MALL)}
IN_STADIUM, IN_MALL, AWAY = (51.556, -0.2796), (51.505, -0.095), (51.0, 0.0)


def fix(at: int, where: tuple[float, float] | None) -> tuple[str, dict[str, Any]]:
    lat, lon = where if where is not None else (None, None)
    return ("location", location("23415", at, lat=lat, lon=lon))


def geofence(**params: Any) -> Any:
    return trigger("geofence", {"venues": ["wembley"], **params})


def test_enter_without_dwell_fires_on_the_first_fix_inside() -> None:
    moments = drive(geofence(), [fix(0, AWAY), fix(1 * MIN, IN_STADIUM),
                                 fix(2 * MIN, IN_STADIUM), fix(3 * MIN, AWAY),
                                 fix(4 * MIN, IN_STADIUM)], VENUES)
    assert [(m.instance, m.event_time) for m in moments] == [
        (f"wembley-{MIN}", MIN), (f"wembley-{4 * MIN}", 4 * MIN)]
    assert moments[0].attrs == {"venue": "Wembley Stadium", "venue_id": "wembley",
                                "dwell_min": 0}


def test_enter_with_dwell_fires_at_since_plus_dwell_if_still_there() -> None:
    stay = [fix(0, IN_STADIUM), fix(5 * MIN, IN_STADIUM), fix(12 * MIN, IN_STADIUM)]
    [moment] = drive(geofence(dwell="10m"), stay, VENUES)
    assert (moment.instance, moment.event_time) == ("wembley-0", 10 * MIN)
    assert moment.attrs["dwell_min"] == 10


def test_enter_with_dwell_is_cancelled_by_leaving_or_a_new_visit() -> None:
    left = [fix(0, IN_STADIUM), fix(5 * MIN, AWAY), fix(20 * MIN, AWAY)]
    assert drive(geofence(dwell="10m"), left, VENUES) == []
    # left and came back: the first visit's timer is stale, the second one's fires
    back = [fix(0, IN_STADIUM), fix(5 * MIN, AWAY), fix(8 * MIN, IN_STADIUM)]
    moments = drive(geofence(dwell="10m"), back, VENUES, until=30 * MIN)
    assert [m.instance for m in moments] == [f"wembley-{8 * MIN}"]


def test_leave_after_dwell_fires_on_the_first_fix_outside() -> None:
    visit = [fix(0, IN_STADIUM), fix(30 * MIN, IN_STADIUM), fix(90 * MIN, AWAY),
             fix(91 * MIN, AWAY)]
    [moment] = drive(geofence(on="leave", dwell="30m"), visit, VENUES)
    assert (moment.instance, moment.event_time) == ("wembley-0", 90 * MIN)
    # seen inside for 20 minutes only (last - since), however late the fix outside
    short = [fix(0, IN_STADIUM), fix(20 * MIN, IN_STADIUM), fix(90 * MIN, AWAY)]
    assert drive(geofence(on="leave", dwell="30m"), short, VENUES) == []


def test_venue_kind_selects_and_moving_between_venues_is_leave_then_enter() -> None:
    both = trigger("geofence", {"venues": ["mall"], "venue_kind": "stadium"})
    moments = drive(both, [fix(0, IN_MALL), fix(MIN, IN_STADIUM)], VENUES)
    assert [m.attrs["venue_id"] for m in moments] == ["mall", "wembley"]
    leave = trigger("geofence", {"venues": ["mall", "wembley"], "on": "leave"})
    moments = drive(leave, [fix(0, IN_MALL), fix(MIN, IN_STADIUM), fix(2 * MIN, AWAY)], VENUES)
    assert [(m.attrs["venue_id"], m.event_time) for m in moments] == [
        ("mall", MIN), ("wembley", 2 * MIN)]


def test_fixes_without_position_and_late_fixes_are_ignored() -> None:
    records = [fix(0, AWAY), fix(MIN, None), fix(3 * MIN, AWAY), fix(2 * MIN, IN_STADIUM),
               ("usage", {"event_id": "u", "event_time": 4 * MIN, "imsi": "1", "app_id": "a",
                          "app_category": "WEB", "bytes_uplink": 0, "bytes_downlink": 0,
                          "duration_ms": 0, "dropped": False, "throughput_kbps": None,
                          "serving_plmn": None})]
    assert drive(geofence(), records, VENUES) == []


def test_unknown_venue_ids_select_nothing() -> None:
    assert drive(trigger("geofence", {"venues": ["gone"]}), [fix(0, IN_STADIUM)], VENUES) == []
