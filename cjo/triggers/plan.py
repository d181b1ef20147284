"""Which triggers a record of a stream runs, worked out once per catalogue and stream.

A kind looks at some streams only (a geofence at locations, a threshold at charging records) and
count and sequence only at the facts their matchers name: skipping the others never changes a
result, and spares most of the per-record work of a catalogue of a dozen triggers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

from cjo.catalogue.catalogue import Catalogue
from cjo.catalogue.model import (
    USAGE,
    CountParams,
    DeadlineParams,
    SequenceParams,
    ThresholdParams,
    Trigger,
    Venue,
)
from cjo.triggers.facts import names_of
from cjo.triggers.kinds import KINDS
from cjo.triggers.kinds.base import Detection, Memory, Observation

OnEvent = Callable[[Trigger, Observation, Memory, Mapping[str, Venue]], Detection]

# The input streams whose records can change what a kind looks at (None: it goes by facts).
_STREAMS: dict[str, frozenset[str] | None] = {
    "transition": frozenset({"charging", "location", "usage"}),
    "threshold": frozenset({"charging"}),
    "geofence": frozenset({"location"}),
    "deadline": frozenset({"subscribers"}),
    "count": None,
    "sequence": None,
}


class Step(NamedTuple):
    trigger: Trigger
    on_event: OnEvent  # its kind's
    sees_moments: bool  # a deadline: it sees the moments of the triggers before it


def plan(catalogue: Catalogue, stream: str) -> tuple[Step, ...]:
    """The triggers of ``catalogue.evaluation_order`` a record of ``stream`` can concern."""
    plans = catalogue.memo(plan, _no_plans)
    found = plans.get(stream)
    if found is None:
        found = plans[stream] = tuple(
            Step(t, KINDS[t.kind].on_event, t.kind == "deadline")
            for t in catalogue.evaluation_order if reacts_to(t, stream))
    return found


def reacts_to(trigger: Trigger, stream: str) -> bool:
    params = trigger.params
    if isinstance(params, DeadlineParams) and params.anchor == "moment":
        return True  # anchored on another trigger's moment, which any record may bring
    if isinstance(params, CountParams):
        return params.match.event in names_of(stream)
    if isinstance(params, SequenceParams):
        return not params.events.isdisjoint(names_of(stream))
    if isinstance(params, ThresholdParams) and params.measure == USAGE:
        return stream == "usage"  # summed from usage records (cjo.triggers.kinds.usage)
    streams = _STREAMS[trigger.kind]
    return streams is None or stream in streams


def _no_plans(_: Catalogue) -> dict[str, tuple[Step, ...]]:
    return {}
