"""The triggers a record runs (cjo.triggers.plan): skipping the others never changes a result."""

import io
from typing import Any

from cjo import codec
from cjo.catalogue.validate import default_catalogue
from cjo.engine.decide import new_state
from cjo.errors import InvalidRecord
from cjo.state import Position, SubscriberState, apply_record
from cjo.triggers.facts import facts, names_of
from cjo.triggers.kinds import KINDS
from cjo.triggers.plan import evaluation_order, plan
from sim import simulate, write_log
from tests.unit.factories import trigger


def test_every_fact_of_a_simulated_day_is_named_as_its_stream_may_name_it() -> None:
    log = io.StringIO()
    write_log(simulate(40, 1, seed=3), log)
    states: dict[str, SubscriberState] = {}
    seen: set[str] = set()
    for line in log.getvalue().splitlines():
        try:
            rec = codec.parse_log_line(line)
        except InvalidRecord:
            continue
        imsi = rec.value["imsi"]
        before = states.get(imsi) or new_state(imsi)
        after = apply_record(before, rec.stream, rec.value, Position(rec.stream))
        assert after is not None
        for fact in facts(rec.stream, rec.value, before, after):
            assert fact.name in names_of(rec.stream)
            seen.add(fact.name)
        states[imsi] = after
    assert {"trial_started", "bundle_purchased"} <= seen


def reads(trg: Any, stream: str) -> bool:
    return KINDS[trg.kind].reads(trg.params, stream)


def test_count_and_sequence_run_only_on_streams_that_may_give_their_facts() -> None:
    dropped = trigger("count", {"match": {"event": "usage", "where": {"dropped": True}},
                                "count": 3, "within": "1h"})
    assert [s for s in ("usage", "charging", "location") if reads(dropped, s)] == ["usage"]
    topups = trigger("sequence", {"steps": [{"event": "topup"}, {"event": "trial_started"}],
                                  "within": "7d"})
    assert [s for s in ("usage", "charging", "subscribers") if reads(topups, s)] == [
        "charging", "subscribers"]


def test_a_deadline_on_a_moment_reads_every_stream_the_others_the_profile() -> None:
    follow = trigger("deadline", {"anchor": "moment", "trigger": "low", "offset": "1h"})
    expiry = trigger("deadline", {"anchor": "trial_expiry"})
    streams = ("charging", "location", "usage", "subscribers", "responses")
    assert [s for s in streams if reads(follow, s)] == list(streams)
    assert [s for s in streams if reads(expiry, s)] == ["subscribers"]


def test_plans_keep_the_evaluation_order_and_are_worked_out_once() -> None:
    catalogue = default_catalogue()
    for stream in ("charging", "location", "usage", "subscribers", "responses"):
        steps = plan(catalogue, stream)
        assert plan(catalogue, stream) is steps
        order = [t.id for t in evaluation_order(catalogue)]
        ids = [s.trigger.id for s in steps]
        assert ids == [i for i in order if i in ids]
        assert all(s.sees_moments == (s.trigger.kind == "deadline") for s in steps)
    assert {s.trigger.kind for s in plan(catalogue, "location")} == {
        "geofence", "transition"}
    order = evaluation_order(catalogue)
    assert order is evaluation_order(catalogue)
    deadlines = [t.id for t in order if t.kind == "deadline"]
    assert deadlines and [t.id for t in order[-len(deadlines):]] == deadlines
    assert [t.id for t in order if t.kind != "deadline"] == [
        t.id for t in catalogue.enabled() if t.kind != "deadline"]
