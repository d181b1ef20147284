"""count: ``count`` matching facts within ``within``; fires on the count-th, then re-arms.

The memory is the event times of the matching facts not yet used, newer than ``within`` before the
newest seen: ``{"at": [...]}``, sorted. All of them lie within one window, so as soon as there are
``count`` of them the moment fires; hence the memory never holds more than ``count - 1``. A late
fact (older than the newest) counts if it is within ``within`` of the newest, and is dropped
otherwise. The instance and the moment's time are the completing fact's event time.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from cjo.catalogue.model import CountParams, Trigger, Venue
from cjo.triggers import facts as fact_rules
from cjo.triggers.kinds.base import NOTHING, BaseKind, Detection, Example, example_record
from cjo.triggers.moment import Moment
from cjo.triggers.timefmt import format_duration

if TYPE_CHECKING:
    from cjo.triggers.kinds.base import Checks, Memory, Observation


def _session(at: int, dropped: bool) -> tuple[str, dict[str, Any]]:
    return example_record("usage", at, dropped=dropped)


class Count(BaseKind[CountParams]):
    name = "count"
    model = CountParams
    examples: tuple[Example, ...] = (
        Example("dropped", {"match": {"event": "usage", "where": {"dropped": True}},
                            "count": 3, "within": "1h"},
                (_session(0, True), _session(10, True), _session(15, False), _session(20, True),
                 _session(30, True))),
    )

    def reads(self, params: CountParams, stream: str) -> bool:
        return params.match.event in fact_rules.names_of(stream)

    def samples(self, params: CountParams) -> dict[str, Any]:
        return _attrs(params)

    def validate(self, trigger_id: str, params: CountParams, check: Checks) -> None:
        check.matcher(("params", "match"), params.match)

    def on_event(self, trigger: Trigger, obs: Observation, memory: Memory,
                 venues: Mapping[str, Venue]) -> Detection:
        params = self.params(trigger)
        if not any(fact.name == params.match.event for fact in obs.facts):
            return NOTHING
        times: list[int] = list(memory.get("at", []))
        found = Detection()
        for fact in obs.facts:
            if not fact_rules.matches(params.match, fact):
                continue
            if times and fact.at < times[-1] - params.within:
                continue  # too late to share a window with what is remembered
            bisect.insort(times, fact.at)
            cutoff = times[-1] - params.within
            times = [t for t in times if t >= cutoff]
            if len(times) >= params.count:
                found.moments.append(Moment(
                    trigger_id=trigger.id, instance=str(fact.at), imsi=obs.after.imsi,
                    event_id=fact.event_id, event_time=fact.at, attrs=_attrs(params)))
                times = []
            found.memory = {"at": times}
        return found


def _attrs(params: CountParams) -> dict[str, Any]:
    return {"count": params.count, "window": format_duration(params.within)}
