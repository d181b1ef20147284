"""The contact policy (cjo.policy.contact, cjo.policy.holdout): each rule alone, then together."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from cjo.catalogue.model import MAX_CONTACTS, MAX_POLICY_WINDOW, OfferDef, PolicyDef, Trigger
from cjo.policy import Verdict, budget_share, contact_verdict, in_holdout, record_contact
from cjo.policy.contact import horizon_of, quiet_until
from cjo.policy.holdout import bucket
from cjo.state.model import SubscriberState

MIN = 60_000
HOUR = 3_600_000
DAY = 86_400_000
NO_QUIET = PolicyDef(quiet_hours=None)
OFFER = OfferDef(code="OFFER_A", templates={"en": "hi"})


def at(text: str) -> int:
    """``'2026-01-14 12:00'`` (UTC) -> epoch ms."""
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC).timestamp() * 1000)


NOON = at("2026-01-14 12:00")  # a Wednesday, no quiet hours anywhere near in UTC


def trigger(trigger_id: str = "t1", marketing: bool = True, max_delay: str = "30m") -> Trigger:
    return TypeAdapter(Trigger).validate_python({
        "id": trigger_id, "kind": "transition", "marketing": marketing, "max_delay": max_delay,
        "params": {"attribute": "device"}, "offers": [{"code": "X", "templates": {"en": "hi"}}]})


MARKETING = trigger("promo")
SERVICE = trigger("apology", marketing=False)


def state(*contacts: list[Any], timezone: str = "UTC") -> SubscriberState:
    return SubscriberState(imsi="234150000000001", timezone=timezone, contacts=list(contacts))


def sent(age: int, trigger_id: str = "other", code: str = "OTHER", channel: str = "push",
         marketing: bool = True, now: int = NOON) -> list[Any]:
    """A contact entry ``age`` ms before ``now``."""
    return [now - age, trigger_id, code, channel, marketing]


def verdict(subscriber: SubscriberState, policy: PolicyDef = NO_QUIET, trg: Trigger = MARKETING,
            channel: str = "push", now: int = NOON, moment_time: int | None = None,
            dnc: bool = False, offer: OfferDef = OFFER) -> Verdict:
    return contact_verdict(policy, trg, offer, channel, subscriber,
                           now if moment_time is None else moment_time, now, dnc)


ALLOW = Verdict("ALLOW")


def suppressed(*reasons: str) -> Verdict:
    return Verdict("SUPPRESSED", reasons)


# -- frequency caps (all marketing offers, across triggers) ---------------------------------------


def test_nothing_sent_yet_is_allowed() -> None:
    assert verdict(state()) == ALLOW


def test_daily_cap_counts_marketing_contacts_of_every_trigger() -> None:
    assert verdict(state(sent(1 * HOUR, "a"))) == ALLOW
    assert verdict(state(sent(1 * HOUR, "a"), sent(2 * HOUR, "b"))) == suppressed(
        "frequency_cap:2/24h")


def test_daily_window_edges() -> None:
    one = sent(HOUR)
    assert verdict(state(one, sent(24 * HOUR))) == ALLOW  # exactly 24 h ago: out of the window
    assert verdict(state(one, sent(24 * HOUR - 1))) == suppressed("frequency_cap:2/24h")
    assert verdict(state(one, sent(0))) == suppressed("frequency_cap:2/24h")  # sent this ms


def test_a_contact_stamped_after_now_counts() -> None:
    assert verdict(state(sent(HOUR), sent(-MIN))) == suppressed("frequency_cap:2/24h")


def test_weekly_cap_and_its_edge() -> None:
    week = [sent(d * DAY + HOUR) for d in range(1, 5)]  # four, one a day, none today
    assert verdict(state(*week)) == ALLOW
    assert verdict(state(*week, sent(HOUR))) == suppressed("frequency_cap:5/7d")
    assert verdict(state(*week, sent(7 * DAY))) == ALLOW  # exactly a week ago: out
    assert verdict(state(*week, sent(7 * DAY - 1))) == suppressed("frequency_cap:5/7d")


def test_only_the_first_full_cap_is_named() -> None:
    history = [sent(d * DAY + HOUR) for d in range(3)] + [sent(2 * HOUR), sent(3 * HOUR)]
    assert verdict(state(*history)) == suppressed("frequency_cap:2/24h")
    reordered = PolicyDef(quiet_hours=None, caps=list(reversed(PolicyDef().caps)))
    assert verdict(state(*history), reordered) == suppressed("frequency_cap:5/7d")


def test_non_marketing_contacts_are_not_counted() -> None:
    apologies = [sent(m * MIN, "apology", marketing=False) for m in range(1, 6)]
    assert verdict(state(*apologies)) == ALLOW
    assert verdict(state(*apologies, sent(HOUR), sent(2 * HOUR))) == suppressed(
        "frequency_cap:2/24h")


def test_non_marketing_triggers_are_exempt_from_caps() -> None:
    full = state(*[sent(m * MIN) for m in range(1, 6)])
    assert verdict(full) == suppressed("frequency_cap:2/24h")
    assert verdict(full, trg=SERVICE) == ALLOW


def test_caps_of_a_catalogue_policy() -> None:
    strict = PolicyDef(quiet_hours=None, caps=[{"count": 1, "within": "30m"}])  # type: ignore[list-item]
    assert verdict(state(sent(29 * MIN)), strict) == suppressed("frequency_cap:1/30m")
    assert verdict(state(sent(30 * MIN)), strict) == ALLOW
    assert verdict(state(*[sent(m * MIN) for m in range(1, 9)]),
                   PolicyDef(quiet_hours=None, caps=[])) == ALLOW


# -- channel caps ---------------------------------------------------------------------------------


SMS_ONCE_A_DAY = PolicyDef.model_validate(
    {"quiet_hours": None, "channel_caps": {"sms": [{"count": 1, "within": "24h"}]}})


def test_channel_cap_applies_to_its_channel_only() -> None:
    texted = state(sent(HOUR, channel="sms"))
    assert verdict(texted, SMS_ONCE_A_DAY, channel="sms") == suppressed("channel_cap:sms:1/24h")
    assert verdict(texted, SMS_ONCE_A_DAY, channel="SMS") == suppressed("channel_cap:sms:1/24h")
    assert verdict(texted, SMS_ONCE_A_DAY, channel="push") == ALLOW
    assert verdict(state(sent(HOUR, channel="push")), SMS_ONCE_A_DAY, channel="sms") == ALLOW


def test_channel_cap_window_edge_and_marketing_only() -> None:
    assert verdict(state(sent(24 * HOUR, channel="sms")), SMS_ONCE_A_DAY, channel="sms") == ALLOW
    apology = state(sent(HOUR, "apology", channel="sms", marketing=False))
    assert verdict(apology, SMS_ONCE_A_DAY, channel="sms") == ALLOW  # not counted
    texted = state(sent(HOUR, channel="sms"))
    assert verdict(texted, SMS_ONCE_A_DAY, trg=SERVICE, channel="sms") == ALLOW  # not applied


def test_channel_cap_on_top_of_the_general_caps() -> None:
    history = state(sent(HOUR, channel="sms"), sent(2 * HOUR, channel="push"))
    assert verdict(history, SMS_ONCE_A_DAY, channel="sms") == suppressed(
        "frequency_cap:2/24h", "channel_cap:sms:1/24h")


# -- dedupe ---------------------------------------------------------------------------------------


def test_the_same_offer_code_is_not_offered_again_within_the_dedupe_window() -> None:
    relaxed = PolicyDef(quiet_hours=None, caps=[])
    assert verdict(state(sent(13 * DAY, code="OFFER_A")), relaxed) == suppressed(
        "dedupe:OFFER_A/14d")
    assert verdict(state(sent(14 * DAY - 1, code="OFFER_A")), relaxed) == suppressed(
        "dedupe:OFFER_A/14d")
    assert verdict(state(sent(14 * DAY, code="OFFER_A")), relaxed) == ALLOW
    assert verdict(state(sent(HOUR, code="OFFER_B")), relaxed) == ALLOW


def test_dedupe_counts_every_contact_and_binds_every_trigger() -> None:
    apology_sent = state(sent(DAY, "apology", code="OFFER_A", marketing=False))
    assert verdict(apology_sent, NO_QUIET) == suppressed("dedupe:OFFER_A/14d")
    assert verdict(apology_sent, NO_QUIET, trg=SERVICE) == suppressed("dedupe:OFFER_A/14d")


def test_dedupe_window_from_the_policy_and_zero_switches_it_off() -> None:
    history = state(sent(2 * DAY, code="OFFER_A"))
    assert verdict(history, PolicyDef(quiet_hours=None, dedupe=DAY)) == ALLOW
    assert verdict(history, PolicyDef(quiet_hours=None, dedupe=3 * DAY)) == suppressed(
        "dedupe:OFFER_A/3d")
    for age in (MIN, 0, -MIN):  # even one stamped now or later (another worker's clock)
        assert verdict(state(sent(age, code="OFFER_A")),
                       PolicyDef(quiet_hours=None, caps=[], dedupe=0)) == ALLOW


# -- do not contact -------------------------------------------------------------------------------


def test_do_not_contact_blocks_every_trigger() -> None:
    assert verdict(state(), dnc=True) == suppressed("do_not_contact")
    assert verdict(state(), trg=SERVICE, dnc=True) == suppressed("do_not_contact")


# -- quiet hours ----------------------------------------------------------------------------------


DEFAULT = PolicyDef()
LONG_WAIT = trigger("renewal", max_delay="2d")


def deferred(until: int) -> Verdict:
    return Verdict("DEFERRED", ("quiet_hours",), until)


@pytest.mark.parametrize(("now", "until"), [
    ("2026-01-14 21:00", "2026-01-15 08:00"),  # the first quiet minute
    ("2026-01-14 23:59", "2026-01-15 08:00"),
    ("2026-01-15 00:00", "2026-01-15 08:00"),  # past midnight: the same night
    ("2026-01-15 07:59", "2026-01-15 08:00"),
])
def test_quiet_hours_across_midnight_defer_to_their_end(now: str, until: str) -> None:
    assert verdict(state(), DEFAULT, LONG_WAIT, now=at(now)) == deferred(at(until))


@pytest.mark.parametrize("now", ["2026-01-14 08:00", "2026-01-14 12:00", "2026-01-14 20:59"])
def test_outside_quiet_hours_is_allowed(now: str) -> None:
    assert verdict(state(), DEFAULT, LONG_WAIT, now=at(now)) == ALLOW


def test_a_quiet_period_within_one_day() -> None:
    siesta = PolicyDef.model_validate({"quiet_hours": {"start": "13:00", "end": "15:30"}})
    assert verdict(state(), siesta, LONG_WAIT, now=at("2026-01-14 12:59")) == ALLOW
    assert verdict(state(), siesta, LONG_WAIT, now=at("2026-01-14 13:00")) == deferred(
        at("2026-01-14 15:30"))
    assert verdict(state(), siesta, LONG_WAIT, now=at("2026-01-14 15:30")) == ALLOW
    assert verdict(state(), siesta, LONG_WAIT, now=at("2026-01-14 23:00")) == ALLOW


def test_no_quiet_hours() -> None:
    assert verdict(state(), NO_QUIET, now=at("2026-01-15 03:00")) == ALLOW


def test_quiet_hours_are_local_time() -> None:
    tokyo = state(timezone="Asia/Tokyo")  # UTC+9
    assert verdict(tokyo, DEFAULT, LONG_WAIT, now=at("2026-01-14 12:00")) == deferred(
        at("2026-01-14 23:00"))  # 21:00 JST, until 08:00 JST
    assert verdict(tokyo, DEFAULT, LONG_WAIT, now=at("2026-01-14 23:00")) == ALLOW
    new_york = state(timezone="America/New_York")  # UTC-5 in January
    assert verdict(new_york, DEFAULT, LONG_WAIT, now=at("2026-01-15 02:30")) == deferred(
        at("2026-01-15 13:00"))  # 21:30 EST, until 08:00 EST


def test_london_summer_and_winter() -> None:
    london = state(timezone="Europe/London")
    assert verdict(london, DEFAULT, LONG_WAIT, now=at("2026-07-14 20:30")) == deferred(
        at("2026-07-15 07:00"))  # 21:30 BST, until 08:00 BST
    assert verdict(london, DEFAULT, LONG_WAIT, now=at("2026-07-15 07:00")) == ALLOW
    assert verdict(london, DEFAULT, LONG_WAIT, now=at("2026-01-14 20:30")) == ALLOW  # GMT


def test_london_the_night_the_clocks_go_forward() -> None:
    # Sunday 29 March 2026, 01:00 GMT -> 02:00 BST: the night is an hour shorter.
    london = state(timezone="Europe/London")
    assert verdict(london, DEFAULT, LONG_WAIT, now=at("2026-03-28 22:00")) == deferred(
        at("2026-03-29 07:00"))  # 08:00 BST


def test_london_the_night_the_clocks_go_back() -> None:
    # Sunday 25 October 2026, 02:00 BST -> 01:00 GMT: the night is an hour longer.
    london = state(timezone="Europe/London")
    assert verdict(london, DEFAULT, LONG_WAIT, now=at("2026-10-24 20:30")) == deferred(
        at("2026-10-25 08:00"))  # 21:30 BST, until 08:00 GMT
    assert verdict(london, DEFAULT, LONG_WAIT, now=at("2026-10-24 19:59")) == ALLOW  # 20:59 BST


def test_an_end_inside_the_repeated_hour() -> None:
    # 01:00-02:00 local happens twice on 25 October 2026 in London (00:00-01:00 UTC as BST,
    # 01:00-02:00 UTC as GMT). Quiet until 01:30: in the first pass it ends at the first 01:30,
    # in the second at the second.
    late_night = PolicyDef.model_validate({"quiet_hours": {"start": "22:00", "end": "01:30"}})
    zone = "Europe/London"
    assert quiet_until(late_night.quiet_hours, zone, at("2026-10-25 00:10")) == at(
        "2026-10-25 00:30")
    assert quiet_until(late_night.quiet_hours, zone, at("2026-10-25 00:45")) is None  # 01:45 BST
    assert quiet_until(late_night.quiet_hours, zone, at("2026-10-25 01:10")) == at(
        "2026-10-25 01:30")


def test_an_end_inside_the_skipped_hour_falls_as_late_as_the_gap() -> None:
    # 01:00-02:00 local does not exist on 29 March 2026 in London.
    early = PolicyDef.model_validate({"quiet_hours": {"start": "00:00", "end": "01:30"}})
    assert quiet_until(early.quiet_hours, "Europe/London", at("2026-03-29 00:45")) == at(
        "2026-03-29 01:30")  # 02:30 BST


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "../../etc/passwd", "not a zone"])
def test_an_unknown_time_zone_is_utc(zone: str) -> None:
    assert verdict(state(timezone=zone), DEFAULT, LONG_WAIT, now=at("2026-01-14 22:00")) == \
        deferred(at("2026-01-15 08:00"))
    assert verdict(state(timezone=zone), DEFAULT, LONG_WAIT, now=at("2026-01-14 12:00")) == ALLOW


def test_deferred_or_expired_by_max_delay() -> None:
    night = at("2026-01-14 22:00")
    quick = trigger("quick", max_delay="30m")
    assert verdict(state(), DEFAULT, quick, now=night) == Verdict(
        "EXPIRED", ("quiet_hours", "late:10h>30m"))
    morning = at("2026-01-15 08:00")
    ten_hours = trigger("patient", max_delay="10h")
    assert verdict(state(), DEFAULT, ten_hours, now=night) == deferred(morning)  # exactly
    assert verdict(state(), DEFAULT, ten_hours, now=night, moment_time=night - 1) == Verdict(
        "EXPIRED", ("quiet_hours", "late:10h1ms>10h"))


def test_lateness_counts_from_the_moment_not_from_now() -> None:
    five_hours = trigger("slow", max_delay="5h")
    now = at("2026-01-15 07:00")
    assert verdict(state(), DEFAULT, five_hours, now=now) == deferred(at("2026-01-15 08:00"))
    assert verdict(state(), DEFAULT, five_hours, now=now,
                   moment_time=at("2026-01-15 02:00")) == Verdict(
        "EXPIRED", ("quiet_hours", "late:6h>5h"))


def test_quiet_hours_bind_non_marketing_triggers_too() -> None:
    apology = trigger("apology", marketing=False, max_delay="1d")
    assert verdict(state(), DEFAULT, apology, now=at("2026-01-14 22:00")) == deferred(
        at("2026-01-15 08:00"))


def test_deciding_again_when_quiet_hours_end_allows() -> None:
    first = verdict(state(), DEFAULT, LONG_WAIT, now=at("2026-01-14 22:00"))
    assert first.until is not None
    assert verdict(state(), DEFAULT, LONG_WAIT, now=first.until,
                   moment_time=at("2026-01-14 22:00")) == ALLOW


# -- every rule together --------------------------------------------------------------------------


def test_every_blocking_reason_in_a_stable_order() -> None:
    history = state(sent(HOUR, code="OFFER_A", channel="sms"), sent(2 * HOUR, channel="sms"),
                    timezone="Europe/London")
    policy = PolicyDef.model_validate({"channel_caps": {"sms": [{"count": 1, "within": "24h"}]}})
    result = verdict(history, policy, channel="sms", dnc=True, now=at("2026-01-14 23:00"))
    assert result == suppressed("do_not_contact", "frequency_cap:2/24h",
                                "channel_cap:sms:1/24h", "dedupe:OFFER_A/14d")


def test_a_blocked_contact_at_night_is_suppressed_not_deferred() -> None:
    result = verdict(state(sent(HOUR), sent(2 * HOUR)), DEFAULT, LONG_WAIT,
                     now=at("2026-01-14 23:00"))
    assert result == suppressed("frequency_cap:2/24h")


def test_a_non_marketing_trigger_meets_only_dnc_dedupe_and_quiet_hours() -> None:
    history = state(sent(HOUR, code="OFFER_A", channel="sms"), sent(2 * HOUR, channel="sms"))
    apology = trigger("apology", marketing=False, max_delay="1d")
    assert verdict(history, SMS_ONCE_A_DAY, apology, channel="sms", dnc=True) == suppressed(
        "do_not_contact", "dedupe:OFFER_A/14d")


_AGES = st.integers(min_value=-HOUR, max_value=10 * DAY)
_CONTACT = st.tuples(_AGES, st.booleans(), st.sampled_from(["push", "sms", "email"]))


@settings(max_examples=300, deadline=None)
@given(history=st.lists(_CONTACT, max_size=12), channel=st.sampled_from(["push", "sms"]))
def test_allowed_only_if_every_window_holds_fewer_than_its_count(
        history: list[tuple[int, bool, str]], channel: str) -> None:
    policy = PolicyDef.model_validate({
        "quiet_hours": None, "dedupe": 0,
        "caps": [{"count": 2, "within": "24h"}, {"count": 5, "within": "7d"}],
        "channel_caps": {"sms": [{"count": 1, "within": "12h"}]}})
    contacts = [sent(age, channel=ch, marketing=m) for age, m, ch in history]
    windows = [(cap.count, cap.within, None) for cap in policy.caps]
    windows += [(1, 12 * HOUR, "sms")] if channel == "sms" else []
    room = all(sum(1 for age, m, ch in history
                   if m and age < within and only in (None, ch)) < count
               for count, within, only in windows)
    result = verdict(state(*contacts), policy, channel=channel)
    assert (result == ALLOW) == room
    assert result.outcome in ("ALLOW", "SUPPRESSED")


# -- the contact history --------------------------------------------------------------------------


def test_record_contact_appends_and_replaces_the_list() -> None:
    subscriber = state()
    before = subscriber.contacts
    record_contact(subscriber, NOON, "promo", "OFFER_A", "SMS", True)
    assert subscriber.contacts == [[NOON, "promo", "OFFER_A", "sms", True]]
    assert before == []  # a copy of the state shares the old list: never mutated
    assert subscriber.contacts is not before


def test_recorded_contacts_are_what_the_rules_count() -> None:
    subscriber = state()
    record_contact(subscriber, NOON - HOUR, "promo", "OFFER_A", "push", True)
    assert verdict(subscriber, PolicyDef(quiet_hours=None, dedupe=0)) == ALLOW
    record_contact(subscriber, NOON - MIN, "promo", "OFFER_B", "push", True)
    assert verdict(subscriber) == suppressed("frequency_cap:2/24h", "dedupe:OFFER_A/14d")
    record_contact(subscriber, NOON, "apology", "GIFT", "push", False)
    assert verdict(subscriber, trg=SERVICE) == suppressed("dedupe:OFFER_A/14d")


def test_record_contact_forgets_what_no_rule_can_need() -> None:
    subscriber = state(sent(MAX_POLICY_WINDOW), sent(MAX_POLICY_WINDOW - 1, code="KEPT"))
    record_contact(subscriber, NOON, "promo", "OFFER_A", "push", True)
    assert [c[2] for c in subscriber.contacts] == ["KEPT", "OFFER_A"]
    tight = state(sent(14 * DAY), sent(14 * DAY - 1, code="KEPT"))
    record_contact(tight, NOON, "promo", "OFFER_A", "push", True,
                   horizon=horizon_of(PolicyDef()))
    assert [c[2] for c in tight.contacts] == ["KEPT", "OFFER_A"]


def test_record_contact_keeps_the_newest_and_orders_by_time() -> None:
    subscriber = state(*[sent(m * MIN, code=f"C{m}") for m in range(100, 0, -1)])
    record_contact(subscriber, NOON - 150 * MIN, "promo", "LATE_STAMP", "push", True)
    assert len(subscriber.contacts) == MAX_CONTACTS
    assert [c[2] for c in subscriber.contacts] == [f"C{m}" for m in range(64, 0, -1)]
    record_contact(subscriber, NOON - 30 * MIN - 1, "promo", "MIDDLE", "push", True)
    times = [c[0] for c in subscriber.contacts]
    assert times == sorted(times)
    assert "MIDDLE" in [c[2] for c in subscriber.contacts]


def test_horizon_of_a_policy() -> None:
    assert horizon_of(PolicyDef()) == 14 * DAY
    assert horizon_of(PolicyDef.model_validate({
        "dedupe": 0, "channel_caps": {"sms": [{"count": 9, "within": "30d"}]}})) == 30 * DAY


def test_contacts_survive_serialisation_and_old_states_have_none() -> None:
    subscriber = state()
    record_contact(subscriber, NOON, "promo", "OFFER_A", "push", True)
    assert SubscriberState.from_bytes(subscriber.to_bytes()).contacts == subscriber.contacts
    assert SubscriberState.from_bytes(b'{"imsi": "1"}').contacts == []


# -- the holdout group ----------------------------------------------------------------------------


ROOT = Path(__file__).resolve().parents[2]
IMSIS = [f"23415{n:010d}" for n in range(100_000)]


def test_holdout_is_about_holdout_pct_of_subscribers() -> None:
    share = sum(in_holdout(imsi, PolicyDef()) for imsi in IMSIS) / len(IMSIS)
    assert 0.047 < share < 0.053  # 5 %; one standard deviation is 0.07 points
    half = PolicyDef(holdout_pct=50)
    assert 0.49 < sum(in_holdout(i, half) for i in IMSIS[:20_000]) / 20_000 < 0.51
    assert not any(in_holdout(i, PolicyDef(holdout_pct=0)) for i in IMSIS[:20_000])


def test_holdout_is_the_documented_hash() -> None:
    for imsi in IMSIS[:500]:
        digest = hashlib.sha256(f"cjo-holdout{imsi}".encode()).digest()
        expected = int.from_bytes(digest[:8], "big") % 10_000 < 500
        assert in_holdout(imsi, PolicyDef()) is expected
        assert in_holdout(imsi, PolicyDef()) is expected  # and the same the second time


def test_another_salt_draws_another_group() -> None:
    group = {i for i in IMSIS if in_holdout(i, PolicyDef())}
    other = {i for i in IMSIS if in_holdout(i, PolicyDef(holdout_salt="2026-q2"))}
    assert len(group & other) < len(group) * 0.1  # independent draws overlap by about 5 %


def test_holdout_is_the_same_in_every_process() -> None:
    code = ("from cjo.policy.holdout import bucket\n"
            "print([bucket(f'23415{n:010d}', 'cjo-holdout') for n in range(200)])")
    outputs = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env={"PYTHONHASHSEED": seed}, cwd=ROOT).stdout
        for seed in ("1", "2")
    }
    assert outputs == {f"{[bucket(i, 'cjo-holdout') for i in IMSIS[:200]]}\n"}


# -- daily budgets --------------------------------------------------------------------------------


@pytest.mark.parametrize(("limit", "partitions", "shares"), [
    (10, 4, [3, 3, 2, 2]),
    (1000, 8, [125] * 8),
    (3, 8, [1, 1, 1, 0, 0, 0, 0, 0]),
    (0, 2, [0, 0]),
    (7, 1, [7]),
])
def test_budget_shares(limit: int, partitions: int, shares: list[int]) -> None:
    assert [budget_share(limit, partitions, p) for p in range(partitions)] == shares


@given(limit=st.integers(0, 100_000), partitions=st.integers(1, 512))
def test_budget_shares_add_up_to_the_limit_and_differ_by_one_at_most(limit: int,
                                                                     partitions: int) -> None:
    shares = [budget_share(limit, partitions, p) for p in range(partitions)]
    assert sum(shares) == limit
    assert max(shares) - min(shares) <= 1


@pytest.mark.parametrize(("limit", "partitions", "partition"), [
    (10, 0, 0), (10, 4, 4), (10, 4, -1), (-1, 4, 0)])
def test_budget_share_refuses_nonsense(limit: int, partitions: int, partition: int) -> None:
    with pytest.raises(ValueError, match="budget_share"):
        budget_share(limit, partitions, partition)
