"""Each default trigger through the domain, in process: it fires when it should, once, and not
when it should not (no consent, ineligible, converted trial, cooldown, too late)."""

from __future__ import annotations

import orjson

from cjo import codec
from cjo.catalogue.validate import default_catalogue
from cjo.engine.offline import OfflineResult, run_offline
from tests.scenarios.default_triggers import EXPECTED, REASONS, outcomes, scenario


def run(partitions: int = 1) -> OfflineResult:
    records = [codec.parse_log_line(orjson.dumps(x)) for x in scenario()]
    return run_offline(records, default_catalogue(), partitions)


def test_every_default_trigger_decides_as_expected() -> None:
    decisions = run().decisions
    assert outcomes(decisions) == sorted(EXPECTED)
    for d in decisions:
        key = (int(d["imsi"][5:]), d["trigger_id"], d["outcome"])
        if key in REASONS:
            assert d["reasons"] == REASONS[key], key


def test_the_default_catalogue_covers_every_trigger_in_the_scenario() -> None:
    fired = {trigger for _, trigger, _ in EXPECTED}
    assert fired == {t.id for t in default_catalogue().enabled()}


def test_timer_moments_carry_their_due_time() -> None:
    by_trigger = {d["trigger_id"]: d for d in run().decisions if d["outcome"] == "SENT"}
    from tests.scenarios.default_triggers import HOUR, MIN, T0
    assert by_trigger["trial_expiry_promo"]["trigger_time"] == T0 + 2 * HOUR
    assert by_trigger["mall_food_voucher"]["trigger_time"] == T0 + 15 * MIN
    assert by_trigger["stadium_arrival"]["trigger_time"] == T0 + 10 * MIN
    assert by_trigger["stadium_halftime"]["trigger_time"] == T0 + 55 * MIN


def test_decisions_do_not_depend_on_the_partition_count() -> None:
    one = run(1)
    eight = run(8)

    def ids(result: OfflineResult) -> list[str]:
        return sorted(d["decision_id"] for d in result.decisions)

    assert ids(one) == ids(eight)
    assert one.timers_fired == eight.timers_fired > 0


def test_a_moment_acted_on_after_its_max_delay_expires() -> None:
    """Live, a moment is late by the wall clock; in a replay by the subscriber's own newest
    event (so neither the replay speed nor the partition's other subscribers matter)."""
    from cjo.engine.decide import Context, Effects, decide, new_state
    from cjo.state import Position
    from tests.scenarios.default_triggers import HOUR, T0, loc, profile

    catalogue = default_catalogue()
    state = new_state("234150000000001")
    lines = [profile(1), loc(1, T0), loc(1, T0 + 3 * HOUR, "20801")]
    results = []
    for offset, line in enumerate(lines[:-1]):
        after = decide(line["topic"], line["value"], state, Position(line["topic"], offset),
                       Context(catalogue, None, 0), Effects())
        assert after is not None
        state = after
    landed = lines[-1]
    for now in (T0 + 3 * HOUR + 29 * 60_000, T0 + 6 * HOUR):  # live: 29 min, then 3 h after
        effects = Effects()
        decide("location", landed["value"], state, Position("location", 9),
               Context(catalogue, now, now), effects)
        results.append(effects.decisions)
    assert [d["outcome"] for d in results[0]] == ["SENT"]
    assert [(d["outcome"], d["reasons"]) for d in results[1]] == [("EXPIRED", ["late:3h>30m"])]
