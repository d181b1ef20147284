"""The first roaming-welcome detector, kept as a reference the transition kind is checked against.

One moment per trip: a trip starts on the first event that shows a foreign MCC while she was not
already abroad, and ends on the first newer event that shows a home-MCC network (see
``cjo.state.update``). A subscriber never seen before counts as at home. A change of country
within a trip is the same trip.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cjo.offers.countries import country_name
from cjo.state.model import SubscriberState
from cjo.triggers.moment import Moment

ROAMING_WELCOME = "roaming_welcome"


def detect_roaming_welcome(
    record: Mapping[str, Any], before: SubscriberState, after: SubscriberState
) -> list[Moment]:
    trip = after.trip
    same_trip = before.trip is not None and trip is not None and (
        before.trip["started_at"] == trip["started_at"])
    if trip is None or same_trip:
        return []
    return [
        Moment(
            trigger_id=ROAMING_WELCOME,
            instance=f"trip-{trip['started_at']}",
            imsi=after.imsi,
            event_id=str(record["event_id"]),
            event_time=int(trip["started_at"]),
            attrs={"country": country_name(trip["mcc"]), "mcc": trip["mcc"],
                   "serving_plmn": trip["plmn"],
                   # the network left: home (since added to the kind's attributes)
                   "previous_country": country_name((after.home_plmn or "")[:3]),
                   "previous_mcc": (after.home_plmn or "")[:3]},
        )
    ]
