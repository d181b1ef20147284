"""sequence: ``steps`` in order, each ``count`` matching facts, all within ``within``.

The steps flatten into N positions (a step of count 3 is three positions). The memory keeps, for
each stage s (1..N-1 positions matched), the partial matches worth extending as ``[start, end]``
pairs: the time of the first counted fact and of the last. A later start is better (more room
left in the window) and an earlier end is better (a late fact can still extend it), so each stage
keeps the pairs no other pair beats on both, at most ``MAX_FRONT`` (latest starts first). A new fact
extends every partial of the stage before a position it matches if it is not older than the
partial's end and within ``within`` of its start; each fact extends a partial once. Partials that
started more than ``within`` before the newest fact are dropped.

It fires on the fact completing position N (instance and moment time: that fact's event time) and
then re-arms with an empty memory. In event-time order this is exact; a late fact is counted when
it falls after the partial it extends (not when it belongs between two facts already matched).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from cjo.catalogue.model import SequenceParams, Trigger, Venue
from cjo.triggers import facts as fact_rules
from cjo.triggers.kinds.base import NOTHING, BaseKind, Detection, Example, Fact, example_record
from cjo.triggers.moment import Moment
from cjo.triggers.timefmt import days

if TYPE_CHECKING:
    from cjo.triggers.kinds.base import Checks, Memory, Observation

MAX_FRONT = 4
Partial = list[int]  # [start, end]


def _game(at: int) -> tuple[str, dict[str, Any]]:
    return example_record("usage", at, app_category="GAMING")


class Sequence(BaseKind[SequenceParams]):
    name = "sequence"
    model = SequenceParams
    # no $count: its steps count unlike things (two day passes, then a game)
    retired: Mapping[str, str] = MappingProxyType({
        "count": "a sequence has one count per step: write $step1_count (the first step's), "
                 "$step2_count, ..."})
    examples: tuple[Example, ...] = (
        Example("steps", {"within": "1d", "steps": [
            {"event": "trial_started"},
            {"event": "usage", "where": {"app_category": "GAMING"}, "count": 2}]}, (
            _game(1), example_record("subscribers", 10, trials=[
                {"product_id": "gaming_1d", "expires_at": 100_000, "status": "ACTIVE"}]),
            _game(20), _game(30), _game(40))),
    )

    def reads(self, params: SequenceParams, stream: str) -> bool:
        return not params.events.isdisjoint(fact_rules.names_of(stream))

    def samples(self, params: SequenceParams) -> dict[str, Any]:
        return _attrs(params)

    def validate(self, trigger_id: str, params: SequenceParams, check: Checks) -> None:
        for index, step in enumerate(params.steps):
            check.matcher(("params", "steps", index), step)

    def on_event(self, trigger: Trigger, obs: Observation, memory: Memory,
                 venues: Mapping[str, Venue]) -> Detection:
        params = self.params(trigger)
        hits = [(fact, wanted) for fact in obs.facts if (wanted := _wanted(params, fact))]
        if not hits:
            return NOTHING
        positions = params.positions
        stages: list[list[Partial]] = memory.get("stages") or [[] for _ in positions[:-1]]
        newest: int = memory.get("newest", -1)
        found = Detection()
        for fact, wanted in hits:
            newest = max(newest, fact.at)
            stages, done = _advance(stages, wanted, fact, params.within, len(positions))
            stages = [[q for q in front if q[0] >= newest - params.within] for front in stages]
            if done:
                found.moments.append(Moment(
                    trigger_id=trigger.id, instance=str(fact.at), imsi=obs.after.imsi,
                    event_id=fact.event_id, event_time=fact.at, attrs=_attrs(params)))
                stages = [[] for _ in positions[:-1]]
            found.memory = {"stages": stages, "newest": newest}
        return found


def _wanted(params: SequenceParams, fact: Fact) -> list[int]:
    """The positions ``fact`` matches."""
    if fact.name not in params.events:
        return []
    return [p for p, step in enumerate(params.positions) if fact_rules.matches(step, fact)]


def _advance(stages: list[list[Partial]], wanted: list[int], fact: Fact, within: int,
             size: int) -> tuple[list[list[Partial]], bool]:
    """Extend partials by ``fact`` at each position it matches; True when one completes."""
    new = [list(front) for front in stages]
    done = False
    for position in wanted:  # extends the partials of stage ``position`` (0: none yet)
        before = [[fact.at, fact.at]] if position == 0 else stages[position - 1]
        for start, end in before:
            if end > fact.at or fact.at - start > within:
                continue
            if position == size - 1:
                done = True
            else:
                new[position] = _insert(new[position], [start, fact.at])
    return new, done


def _insert(front: list[Partial], candidate: Partial) -> list[Partial]:
    start, end = candidate
    if any(s >= start and e <= end for s, e in front):
        return front
    kept = [[s, e] for s, e in front if not (start >= s and end <= e)] + [candidate]
    kept.sort(key=lambda q: (-q[0], q[1]))
    return kept[:MAX_FRONT]


def _attrs(params: SequenceParams) -> dict[str, Any]:
    """``step1_count`` .. ``stepN_count``: the facts each step matched (its ``count``); there is
    no ``count``: a sum of unlike steps (two passes and a game) is no number to tell a customer;
    and ``window_days``."""
    return {**{f"step{i}_count": step.count for i, step in enumerate(params.steps, 1)},
            "window_days": days(params.within)}
