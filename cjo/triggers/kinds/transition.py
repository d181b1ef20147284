"""transition: an attribute of the subscriber changed class, ``from`` -> ``to``.

``network``: the serving network's class, ``home`` or ``foreign`` (serving MCC vs home MCC), read
from the state's trip (``cjo.state.update``): a new trip is home -> foreign (instance
``trip-<started_at>``, the roaming welcome's), the end of a trip is foreign -> home (instance
``trip-<started_at>-end``, at the event that showed the home network). Templates get the country
of the network she is on (``$country``) and of the one she left (``$previous_country``): back
home, ``$country`` is home and ``$previous_country`` the trip's (last) foreign country. A change
of country within a trip keeps the class (foreign) and is no transition. A subscriber never seen
is at home.

``device``: the handset's TAC (first 8 digits of the IMEISV) changed from one known TAC to another;
the first sighting (none -> X) is no change. ``from``/``to`` are TAC globs (``any``: every TAC).
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from cjo.catalogue.model import TransitionParams, Trigger, Venue
from cjo.offers.countries import country_name
from cjo.triggers.kinds.base import NOTHING, BaseKind, Detection, Example, example_record
from cjo.triggers.moment import Moment

if TYPE_CHECKING:
    from cjo.triggers.kinds.base import Memory, Observation

HOME, FOREIGN, ANY = "home", "foreign", "any"

_SAMPLES: dict[str, dict[str, Any]] = {
    # country/mcc: the network she is on; previous_*: the one she left (back home: the trip's)
    "network": {"country": "France", "mcc": "208", "serving_plmn": "20801",
                "previous_country": "the United Kingdom", "previous_mcc": "234"},
    "device": {"tac": "35875109", "previous_tac": "86072104"},
}


class Transition(BaseKind[TransitionParams]):
    name = "transition"
    model = TransitionParams
    streams = frozenset({"charging", "location", "usage"})
    examples: tuple[Example, ...] = (
        Example("network", {"attribute": "network"}, (
            example_record("location", 10), example_record("location", 20, serving_plmn="20801"),
            example_record("location", 30))),
        Example("device", {"attribute": "device", "to": "3587*"}, (
            example_record("location", 10, imeisv="860721040000001"),
            example_record("location", 20, imeisv="358751090000001"))),
    )

    def samples(self, params: TransitionParams) -> dict[str, Any]:
        return dict(_SAMPLES[params.attribute])

    def on_event(self, trigger: Trigger, obs: Observation, memory: Memory,
                 venues: Mapping[str, Venue]) -> Detection:
        params = trigger.params
        assert isinstance(params, TransitionParams)
        if params.attribute == "network":
            moment = _network(trigger.id, params, obs)
        else:
            moment = _device(trigger.id, params, obs)
        return Detection(moments=[moment]) if moment is not None else NOTHING


def _wanted(params: TransitionParams, old: str, new: str) -> bool:
    return params.from_ in (ANY, old) and params.to in (ANY, new)


def _network(trigger_id: str, params: TransitionParams, obs: Observation) -> Moment | None:
    before, after = obs.before.trip, obs.after.trip
    if after is not None and (before is None or before["started_at"] != after["started_at"]):
        if not _wanted(params, HOME, FOREIGN):
            return None
        # the network before: home (a trip starts from home; a new trip straight after
        # another, with no home network seen between, is left from that trip's country)
        previous = before["plmn"] if before is not None else obs.after.home_plmn or ""
        return _network_moment(trigger_id, obs, f"trip-{after['started_at']}",
                               int(after["started_at"]), after["plmn"], previous)
    if before is not None and after is None:
        if not _wanted(params, FOREIGN, HOME):
            return None
        serving = obs.after.serving_plmn or obs.after.home_plmn or ""
        return _network_moment(trigger_id, obs, f"trip-{before['started_at']}-end",
                               obs.after.serving_at, serving, before["plmn"])
    return None


def _network_moment(trigger_id: str, obs: Observation, instance: str, at: int,
                    plmn: str, previous_plmn: str) -> Moment:
    """``country``/``mcc``: the network she is on now; ``previous_country``/``previous_mcc``: the
    one she left (back home: the last foreign network of the trip)."""
    mcc, previous_mcc = plmn[:3], previous_plmn[:3]
    return Moment(trigger_id=trigger_id, instance=instance, imsi=obs.after.imsi,
                  event_id=obs.event_id, event_time=at,
                  attrs={"country": country_name(mcc), "mcc": mcc, "serving_plmn": plmn,
                         "previous_country": country_name(previous_mcc),
                         "previous_mcc": previous_mcc})


def _device(trigger_id: str, params: TransitionParams, obs: Observation) -> Moment | None:
    old, new = obs.before.device_tac, obs.after.device_tac
    if old is None or new is None or old == new:
        return None
    if not (_tac_matches(params.from_, old) and _tac_matches(params.to, new)):
        return None
    return Moment(trigger_id=trigger_id, instance=f"tac-{new}-{obs.event_time}",
                  imsi=obs.after.imsi, event_id=obs.event_id, event_time=obs.event_time,
                  attrs={"tac": new, "previous_tac": old})


def _tac_matches(pattern: str, tac: str) -> bool:
    return pattern == ANY or fnmatchcase(tac, pattern)
