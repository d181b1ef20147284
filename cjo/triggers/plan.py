"""Which triggers a record of a stream runs, and in which order, worked out once per catalogue and
stream.

A kind looks at some streams only (a geofence at locations, a threshold at charging records) and
count and sequence only at the facts their matchers name (``Kind.reads``): skipping the others
never changes a result, and spares most of the per-record work of a catalogue of a dozen triggers.

Triggers of one kind with the same parameters (an operator's variants of one moment: other
offers, other eligibility, other priorities) detect the same thing: a kind's detection depends on
the parameters, the record and the trigger's memory only, the id being merely written into the
moments. Such triggers share a group (:func:`grouped`: the index of the first of them in the
plan), and ``cjo.engine.decide`` runs the kind once per group and record while their memories are
equal, so the work of a record grows with the distinct detections a catalogue asks for, not with its
number of triggers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

from cjo.catalogue.catalogue import Catalogue
from cjo.catalogue.model import Trigger, Venue
from cjo.triggers.kinds import KINDS
from cjo.triggers.kinds.base import Detection, Memory, Observation

OnEvent = Callable[[Trigger, Observation, Memory, Mapping[str, Venue]], Detection]


class Step(NamedTuple):
    trigger: Trigger
    on_event: OnEvent  # its kind's
    sees_moments: bool  # its kind's: it sees the moments of the triggers before it


def plan(catalogue: Catalogue, stream: str) -> tuple[Step, ...]:
    """The triggers of :func:`evaluation_order` a record of ``stream`` can concern."""
    plans = catalogue.memo(plan, _no_plans)
    found = plans.get(stream)
    if found is None:
        found = plans[stream] = tuple(
            Step(t, kind.on_event, kind.sees_moments)
            for t in evaluation_order(catalogue)
            if (kind := KINDS[t.kind]).reads(t.params, stream))
    return found


class Grouped(NamedTuple):
    """A :class:`Step` and its group: the index of the first step of the plan whose trigger has
    the same kind and parameters (its own index when it is the first)."""

    trigger: Trigger
    on_event: OnEvent
    sees_moments: bool
    group: int


def grouped(catalogue: Catalogue, stream: str) -> tuple[Grouped, ...]:
    """:func:`plan`, each step with its group."""
    memo = catalogue.memo(grouped, _no_groups)
    found = memo.get(stream)
    if found is None:
        first: dict[tuple[str, str], int] = {}
        found = memo[stream] = tuple(
            Grouped(*step, first.setdefault(
                (step.trigger.kind, step.trigger.params.model_dump_json()), index))
            for index, step in enumerate(plan(catalogue, stream)))
    return found


def evaluation_order(catalogue: Catalogue) -> tuple[Trigger, ...]:
    """The enabled triggers, those whose kind ``sees_moments`` last (a deadline anchored on
    another trigger's moment sees the moments of the same record), else in catalogue order."""
    return catalogue.memo(evaluation_order, _evaluation_order)


def _evaluation_order(catalogue: Catalogue) -> tuple[Trigger, ...]:
    return tuple(sorted(catalogue.enabled(), key=lambda t: KINDS[t.kind].sees_moments))


def _no_plans(_: Catalogue) -> dict[str, tuple[Step, ...]]:
    return {}


def _no_groups(_: Catalogue) -> dict[str, tuple[Grouped, ...]]:
    return {}
