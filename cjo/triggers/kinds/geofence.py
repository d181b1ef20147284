"""geofence: entering a venue (and staying ``dwell``), or leaving one after at least ``dwell``.

Only location records with lat and lon count. The memory holds the newest fix time (``last``) and,
during a visit, the venue and the time of the first fix inside it: ``{"venue", "since", "last"}``.
A fix older than ``last`` (a late record) is ignored: a visit is a run of fixes in event time.

- ``on: enter``, ``dwell`` 0: fires on the first fix inside (after a fix outside, or none).
  ``dwell`` > 0: asks for a timer at ``since + dwell`` (instance ``<venue_id>-<since>``), which
  fires only if that visit is still open then (same ``since``, and the state's newest location is
  still inside the venue). The moment's time is ``since + dwell``.
- ``on: leave``: fires on the first fix outside a visit whose fixes inside spanned at least
  ``dwell`` (``last - since``: the time she was seen there, not the gap until the fix outside,
  which may follow hours of silence). The moment's time is that of the fix outside.

A fix inside another selected venue ends the current visit and starts one there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from cjo.catalogue.model import GeofenceParams, Trigger, Venue
from cjo.state.model import SubscriberState
from cjo.triggers.geo import inside, venue_at, watched
from cjo.triggers.kinds.base import (
    NOTHING,
    BaseKind,
    Detection,
    Example,
    TimerRequest,
    example_record,
)
from cjo.triggers.moment import Moment

if TYPE_CHECKING:
    from cjo.triggers.kinds.base import Checks, Memory, Observation

_SAMPLES = {"venue": "Wembley Stadium", "venue_id": "wembley", "dwell_min": 10}
_MIN = 60_000
_STADIUM = {"id": "wembley", "name": "Wembley Stadium", "kind": "stadium",
            "center": {"lat": 51.556, "lon": -0.2796}, "radius_m": 300}


_VISIT = tuple(example_record("location", at, lat=lat, lon=lon) for at, lat, lon in (
    (0, 51.0, 0.0), (_MIN, 51.556, -0.2796), (20 * _MIN, 51.556, -0.2796), (40 * _MIN, 51.0, 0.0)))


class Geofence(BaseKind[GeofenceParams]):
    name = "geofence"
    model = GeofenceParams
    streams = frozenset({"location"})
    # a venue moment uses her location: never without consent
    consent: tuple[str, ...] = ("location",)
    examples: tuple[Example, ...] = (
        Example("enter", {"venues": ["wembley"]}, _VISIT, venues=(_STADIUM,)),
        Example("dwell", {"venue_kind": "stadium", "dwell": "10m"}, _VISIT,
                until=40 * _MIN, venues=(_STADIUM,)),
        Example("leave", {"venues": ["wembley"], "on": "leave", "dwell": "15m"}, _VISIT,
                venues=(_STADIUM,)),
    )

    def samples(self, params: GeofenceParams) -> dict[str, Any]:
        return dict(_SAMPLES)

    def validate(self, trigger_id: str, params: GeofenceParams, check: Checks) -> None:
        for index, venue_id in enumerate(params.venues):
            check.reference(("params", "venues", index), "venue", venue_id)
        kind, kinds = params.venue_kind, check.venue_kinds()
        if kind is not None and kinds is not None and kind not in kinds:
            check.refuse(("params", "venue_kind"), f"venue_kind {kind!r} selects no venue "
                                                   f"(kinds: {', '.join(sorted(kinds)) or 'none'})")

    def on_event(self, trigger: Trigger, obs: Observation, memory: Memory,
                 venues: Mapping[str, Venue]) -> Detection:
        lat, lon = obs.record.get("lat"), obs.record.get("lon")
        if obs.stream != "location" or lat is None or lon is None:
            return NOTHING
        at = obs.event_time
        if at < memory.get("last", -1):
            return NOTHING
        params = self.params(trigger)
        current = venues.get(memory["venue"]) if "venue" in memory else None
        if current is not None and inside(current, lat, lon):
            return Detection(memory={**memory, "last": at})
        found = Detection(memory={"last": at})
        if current is not None and params.on == "leave" and (
                memory["last"] - memory["since"] >= params.dwell):
            found.moments.append(_moment(trigger.id, params, current, memory["since"], at, obs))
        entered = venue_at(watched(params, venues), lat, lon)
        if entered is not None:
            found.memory = {"venue": entered.id, "since": at, "last": at}
            if params.on == "enter" and params.dwell == 0:
                found.moments.append(_moment(trigger.id, params, entered, at, at, obs))
            elif params.on == "enter":
                found.timers.append(_timer(entered.id, at, params.dwell))
        return found

    def on_timer(self, trigger: Trigger, due: int, instance: str, state: SubscriberState,
                 memory: Memory, venues: Mapping[str, Venue]) -> Detection:
        params = self.params(trigger)
        venue = venues.get(memory.get("venue", ""))
        if venue is None or f"{venue.id}-{memory['since']}" != instance:
            return Detection()  # that visit is over
        where = state.location
        if where is None or where.get("lat") is None or where.get("lon") is None:
            return Detection()
        if not inside(venue, where["lat"], where["lon"]):
            return Detection()
        moment = Moment(trigger_id=trigger.id, instance=instance, imsi=state.imsi,
                        event_id=f"timer-{due}", event_time=due, attrs=_attrs(params, venue))
        return Detection(moments=[moment])


def _timer(venue_id: str, since: int, dwell: int) -> TimerRequest:
    return TimerRequest(due=since + dwell, instance=f"{venue_id}-{since}")


def _moment(trigger_id: str, params: GeofenceParams, venue: Venue, since: int, at: int,
            obs: Observation) -> Moment:
    return Moment(trigger_id=trigger_id, instance=f"{venue.id}-{since}", imsi=obs.after.imsi,
                  event_id=obs.event_id, event_time=at, attrs=_attrs(params, venue))


def _attrs(params: GeofenceParams, venue: Venue) -> dict[str, Any]:
    return {"venue": venue.name, "venue_id": venue.id, "dwell_min": params.dwell // 60_000}
