"""Inbound next best offer, as pure code: the triggered path's eligibility, contact policy,
holdout and expected value decide the ranking; her state is never changed; the answer is a
valid Decision record (outcome INBOUND)."""

from __future__ import annotations

from cjo import codec
from cjo.catalogue.validate import default_catalogue
from cjo.engine import inbound
from cjo.engine.runner import Knowledge
from cjo.policy import in_holdout
from cjo.state.model import SubscriberState

NOW = 1_780_000_000_000
CATALOGUE = default_catalogue()


def subscriber(n: int = 1, **fields: object) -> SubscriberState:
    imsi = next(f"23415{i:010d}" for i in range(n, n + 1000)
                if not in_holdout(f"23415{i:010d}", CATALOGUE.policy))
    state = SubscriberState(imsi=imsi, payment_type="POSTPAID", age_band="A25_34")
    for name, value in fields.items():
        setattr(state, name, value)
    return state


def test_ranked_by_expected_value_eligibility_applied() -> None:
    state = subscriber()
    before = state.to_bytes()
    answer = inbound.rank(state, Knowledge(CATALOGUE), NOW)
    assert state.to_bytes() == before  # nothing of her state changed
    scores = [r.score for r in answer.offers]
    assert scores == sorted(scores, reverse=True) and len(answer.offers) == inbound.MAX_OFFERS
    # value x priority / 50 without a model: renewal 10 x 65 / 50 first, gaming 10 x 55 / 50
    assert [r.offer_code for r in answer.offers[:2]] == ["RENEWAL_UPGRADE", "GAMING_PASS_30D"]
    # prepaid-only and location-consent triggers are not offered, with the policy's reasons
    assert answer.not_eligible["low_balance"] == ["ineligible:payment_type"]
    assert "no_consent:location" in answer.not_eligible["stadium_arrival"]
    assert "dropped_sessions_apology" not in answer.not_eligible  # a service message: never


def test_policy_caps_dedupe_and_do_not_contact_apply() -> None:
    state = subscriber(contacts=[[NOW - 3_600_000, "bill_shock", "BUNDLE_UPGRADE_10GB", "sms",
                                  True]])
    answer = inbound.rank(state, Knowledge(CATALOGUE), NOW)
    assert "BUNDLE_UPGRADE_10GB" not in [r.offer_code for r in answer.offers]
    assert answer.not_eligible["bill_shock"] == ["dedupe:BUNDLE_UPGRADE_10GB/14d"]
    capped = subscriber(contacts=[[NOW - 60_000 * i, "x", f"C{i}", "sms", True]
                                  for i in (1, 2)])
    answer = inbound.rank(capped, Knowledge(CATALOGUE), NOW)
    assert answer.offers == [] and all("frequency_cap:2/24h" in r
                                       for r in answer.not_eligible.values())
    blocked = subscriber()
    answer = inbound.rank(blocked, Knowledge(CATALOGUE, do_not_contact=frozenset(
        {blocked.imsi})), NOW)
    assert answer.offers == []


def test_the_holdout_gets_no_marketing_offer() -> None:
    imsi = next(f"23415{i:010d}" for i in range(10_000)
                if in_holdout(f"23415{i:010d}", CATALOGUE.policy))
    answer = inbound.rank(SubscriberState(imsi=imsi), Knowledge(CATALOGUE), NOW)
    assert answer.offers == []
    assert {tuple(r) for r in answer.not_eligible.values()} == {("holdout:5%",)}


def test_the_answer_is_a_decision_record_and_the_default_ranks_the_catalogue() -> None:
    state = subscriber()
    answer = inbound.rank(state, Knowledge(CATALOGUE), NOW)
    record = inbound.decision(state.imsi, answer, "req1", NOW)
    _, decoded = codec.decode(codec.encode("Decision", record))
    assert decoded["outcome"] == "INBOUND" and decoded["offer_code"] == "RENEWAL_UPGRADE"
    assert decoded["reasons"][0] == "offered:contract_renewal/RENEWAL_UPGRADE"
    default = inbound.default_answer(CATALOGUE)
    assert [r.offer_code for r in default[:2]] == ["RENEWAL_UPGRADE", "GAMING_PASS_30D"]
    assert all(r.propensity is None for r in default)
