"""Moments to decisions, rules together: arbitration by expected value, quiet-hours deferral and
its timer, do-not-contact, and the holdout group sparing service messages."""

from __future__ import annotations

from typing import Any

import orjson

from cjo import codec
from cjo.catalogue.validate import load_catalogue
from cjo.engine.decide import Context, Effects, decide, new_state
from cjo.engine.offline import OfflineResult, run_offline
from cjo.state import Position
from tests.scenarios.default_triggers import HOUR, T0, imsi, loc, profile

DAY0 = T0 - 10 * HOUR  # 2026-01-10T00:00Z (London is on UTC in January)


def catalogue(extra: str = "", policy: str = "{quiet_hours: null, holdout_pct: 0}") -> Any:
    text = f"""\
policy: {policy}
triggers:
  - id: welcome_small
    kind: transition
    priority: 50
    params: {{attribute: network, from: home, to: foreign}}
    max_delay: 12h
    offers: [{{code: SMALL, value: 1, channels: [sms], templates: {{en: "small"}}}}]
  - id: welcome_big
    kind: transition
    priority: 80
    params: {{attribute: network, from: home, to: foreign}}
    max_delay: 30m
    offers: [{{code: BIG, value: 4, channels: [sms], templates: {{en: "big"}}}}]
{extra}"""
    return load_catalogue([("t.yaml", text)])


SERVICE = """\
  - id: service_note
    kind: transition
    marketing: false
    params: {attribute: network, from: home, to: foreign}
    offers: [{code: NOTE, value: 0, channels: [sms], templates: {en: "note"}}]
"""


def run(lines: list[dict[str, Any]], cat: Any) -> OfflineResult:
    return run_offline([codec.parse_log_line(orjson.dumps(x)) for x in lines], cat)


def outcomes(result: OfflineResult) -> list[tuple[str, str, list[str]]]:
    return sorted((d["trigger_id"], d["outcome"], d["reasons"]) for d in result.decisions)


def trip(at: int) -> list[dict[str, Any]]:
    return [profile(1, at - HOUR), loc(1, at - 60_000), loc(1, at, "20801"),
            loc(1, at + 12 * HOUR)]


def test_competing_moments_go_to_the_highest_expected_value() -> None:
    got = outcomes(run(trip(T0), catalogue(SERVICE)))
    assert got == [("service_note", "SENT", ["channel:sms"]),
                   ("welcome_big", "SENT", ["channel:sms"]),  # 4 x 80/50 beats 1 x 50/50
                   ("welcome_small", "SUPPRESSED", ["arbitration"])]


def test_a_moment_in_quiet_hours_is_deferred_to_their_end_then_sent() -> None:
    quiet = "{quiet_hours: {start: '21:00', end: '08:00'}, holdout_pct: 0}"
    result = run(trip(DAY0 - 2 * HOUR), catalogue(policy=quiet))  # 22:00 the evening before
    decisions = {(d["trigger_id"], d["outcome"]): d for d in result.decisions}
    deferred = decisions[("welcome_small", "DEFERRED")]
    assert deferred["reasons"] == ["quiet_hours"]
    assert deferred["deferred_until"] == DAY0 + 8 * HOUR
    assert decisions[("welcome_small", "SENT")]["trigger_time"] == DAY0 - 2 * HOUR
    # the 30-minute welcome cannot wait ten hours: it expires, and so does not compete
    assert decisions[("welcome_big", "EXPIRED")]["reasons"] == ["quiet_hours", "late:10h>30m"]
    assert len(result.offers) == 1


def test_do_not_contact_suppresses_every_trigger() -> None:
    cat = catalogue(SERVICE)
    state = new_state(imsi(1))
    for offset, line in enumerate(trip(T0)[:2]):
        state = decide(line["topic"], line["value"], state, Position(line["topic"], offset),
                       Context(cat, None, 0), Effects()) or state
    landed = trip(T0)[2]["value"]
    effects = Effects()
    decide("location", landed, state, Position("location", 5),
           Context(cat, None, 0, do_not_contact=frozenset({imsi(1)})), effects)
    assert {d["trigger_id"]: d["reasons"] for d in effects.decisions} == {
        "service_note": ["do_not_contact"], "welcome_big": ["do_not_contact"],
        "welcome_small": ["do_not_contact"]}
    assert effects.offers == []


def test_the_holdout_group_gets_no_marketing_but_its_service_messages() -> None:
    everyone = "{quiet_hours: null, holdout_pct: 50, holdout_salt: s}"
    cat = catalogue(SERVICE, policy=everyone)
    from cjo.policy import in_holdout
    held = next(n for n in range(100) if in_holdout(imsi(n), cat.policy))
    later = [*trip(T0), loc(1, T0 + 4 * 24 * HOUR)]  # past the 72 h response window
    lines = [dict(x, key=imsi(held), value={**x["value"], "imsi": imsi(held)}) for x in later]
    got = outcomes(run(lines, cat))
    assert ("service_note", "SENT", ["channel:sms"]) in got
    assert ("welcome_big", "HOLDOUT", ["holdout:50%"]) in got
    result = run(lines, cat)
    assert [o["trigger_id"] for o in result.offers] == ["service_note"]
    assert sorted((o["group"], o["trigger_id"]) for o in result.outcomes) == [
        ("HOLDOUT", "welcome_big"), ("TREATED", "service_note")]
