import enum
from typing import Any

import pytest

from cjo.catalogue.model import Matcher
from cjo.state import SubscriberState
from cjo.triggers.facts import TOPUP, TRIAL_STARTED, facts, matches
from cjo.triggers.kinds.base import Fact
from tests.unit.factories import IMSI, charging, observe, profile, usage

TRIAL_A = {"product_id": "gaming_1d", "expires_at": 5_000, "status": "ACTIVE"}
TRIAL_B = {"product_id": "video_7d", "expires_at": 9_000, "status": "ACTIVE"}


def names(found: list[Fact]) -> list[str]:
    return [f.name for f in found]


def test_record_is_a_fact_named_by_its_stream_at_its_event_time() -> None:
    record = usage(42)
    obs = observe(SubscriberState(imsi=IMSI), "usage", record)
    [fact] = facts("usage", record, obs.before, obs.after)
    assert (fact.name, fact.at, fact.event_id, fact.fields) == ("usage", 42, "u-42", record)


def test_profile_fact_is_at_updated_at_with_a_profile_event_id() -> None:
    obs = observe(SubscriberState(imsi=IMSI), "subscribers", profile(at=77))
    [fact] = obs.facts
    assert (fact.name, fact.at, fact.event_id) == ("subscribers", 77, "profile-77")


def test_trial_started_only_for_trials_not_seen_before() -> None:
    first = observe(SubscriberState(imsi=IMSI), "subscribers", profile(at=1, trials=[TRIAL_A]))
    assert names(first.facts) == ["subscribers", TRIAL_STARTED]
    assert first.facts[1].fields == TRIAL_A
    again = observe(first.after, "subscribers", profile(at=2, trials=[TRIAL_A, TRIAL_B]))
    assert names(again.facts) == ["subscribers", TRIAL_STARTED]
    assert again.facts[1].fields["product_id"] == "video_7d" and again.facts[1].at == 2
    # the same product with a new expiry is a new trial
    renewed = observe(again.after, "subscribers",
                      profile(at=3, trials=[{**TRIAL_A, "expires_at": 6_000}, TRIAL_B]))
    assert [f.fields["expires_at"] for f in renewed.facts[1:]] == [6_000]


def test_a_late_profile_the_state_ignored_starts_no_trial() -> None:
    newer = observe(SubscriberState(imsi=IMSI), "subscribers", profile(at=10))
    late = observe(newer.after, "subscribers", profile(at=5, trials=[TRIAL_A]))
    assert names(late.facts) == ["subscribers"]


def test_topup_when_the_balance_rose() -> None:
    state = observe(SubscriberState(imsi=IMSI), "charging", charging("23415", 1, balance=2.5)).after
    obs = observe(state, "charging", charging("23415", 2, balance=10.0))
    assert names(obs.facts) == ["charging", TOPUP]
    assert obs.facts[1].fields == {"amount": 7.5, "balance": 10.0}
    spent = observe(obs.after, "charging", charging("23415", 3, balance=9.0))
    assert names(spent.facts) == ["charging"]
    unknown = observe(SubscriberState(imsi=IMSI), "charging", charging("23415", 1, balance=5.0))
    assert names(unknown.facts) == ["charging"]  # no balance before: not a top-up


def fact(name: str = "usage", **fields: object) -> Fact:
    return Fact(name, 1, "e1", fields)


class Category(enum.Enum):
    VIDEO = "video"


@pytest.mark.parametrize(("where", "fields", "expected"), [
    ({}, {"x": 1}, True),
    ({"app_category": "VIDEO"}, {"app_category": "VIDEO"}, True),
    ({"app_category": "VIDEO"}, {"app_category": "GAMING"}, False),
    ({"app_category": ["VIDEO", "GAMING"]}, {"app_category": "GAMING"}, True),
    ({"app_category": ["VIDEO", "SOCIAL"]}, {"app_category": "GAMING"}, False),
    ({"app_category": "VIDEO"}, {"app_category": Category.VIDEO}, True),  # enum by name
    ({"dropped": True}, {"dropped": True}, True),
    ({"dropped": True}, {"dropped": 1}, False),  # booleans strictly
    ({"rating_group": 1}, {"rating_group": True}, False),
    ({"rating_group": 10}, {"rating_group": 10.0}, True),
    ({"rating_group": 10}, {"rating_group": "10"}, False),
    ({"missing": 1}, {"x": 1}, False),
    ({"a": 1, "b": "x"}, {"a": 1, "b": "y"}, False),  # every field
    ({"a": 1, "b": "x"}, {"a": 1, "b": "x"}, True),
])
def test_matches_compares_where_fields(where: dict[str, Any], fields: dict[str, Any],
                                       expected: bool) -> None:
    assert matches(Matcher(event="usage", where=where), fact(**fields)) is expected


def test_matches_needs_the_same_name() -> None:
    assert not matches(Matcher(event="charging"), fact("usage"))
    assert matches(Matcher(event=TOPUP), fact(TOPUP, amount=5))


def test_bundle_purchased_only_when_a_bundle_is_bought() -> None:
    from cjo.state import Position, SubscriberState, apply_record
    from cjo.triggers.facts import BUNDLE_PURCHASED, facts
    from tests.unit.factories import charging

    def bought(state: SubscriberState, offset: int, bundle: str, remaining: int
               ) -> tuple[SubscriberState, list[str]]:
        record = charging("23415", offset * 1000, bundle_id=bundle, bundle_total_octets=100,
                          bundle_remaining_octets=remaining)
        after = apply_record(state, "charging", record, Position("charging", offset))
        assert after is not None
        return after, [f.fields["bundle_id"] for f in facts("charging", record, state, after)
                       if f.name == BUNDLE_PURCHASED]

    state = SubscriberState(imsi="234150000000001")
    state, first = bought(state, 1, "BASE", 90)
    state, using = bought(state, 2, "BASE", 50)
    state, addon = bought(state, 3, "ADDON_5GB_30D", 100)
    state, again = bought(state, 4, "ADDON_5GB_30D", 40)
    state, rebought = bought(state, 5, "ADDON_5GB_30D", 100)
    assert (first, using, addon, again, rebought) == (
        ["BASE"], [], ["ADDON_5GB_30D"], [], ["ADDON_5GB_30D"])
