"""Scoring: decision-time features, the scorer's choose/learn contract and its snapshots."""

from __future__ import annotations

import math

import pytest

from cjo.scoring import FEATURE_NAMES, Choice, Scorer, features
from cjo.scoring.features import AGE_BANDS, PAYMENT_TYPES, SEGMENTS, local_hour
from cjo.state.model import SubscriberState
from cjo.triggers.moment import Moment

T = "roaming_welcome"
OFFERS = ["TRAVEL_PASS_1GB_7D", "TRAVEL_PASS_5GB_7D"]
NOON_UTC = 1_751_371_200_000  # 2025-07-01 12:00:00 UTC


def moment(at: int = NOON_UTC) -> Moment:
    return Moment(T, "i1", "234150000000001", "e1", at)


def state(**kw: object) -> SubscriberState:
    base: dict[str, object] = {"imsi": "234150000000001", "payment_type": "PREPAID",
                               "age_band": "A18_24", "segment": "youth",
                               "timezone": "Europe/London"}
    base.update(kw)
    return SubscriberState(**base)  # type: ignore[arg-type]


# --- features -------------------------------------------------------------------------------

WEIRD = [
    state(),
    state(payment_type="BARTER", age_band=None, segment="astronauts", timezone="Mars/Olympus"),
    state(segment=None, balance=-5.0, bundle={"total": 0, "remaining": 3}, trip={"mcc": "208"}),
    state(balance=1e9, bundle={"total": 10, "remaining": -4},
          trials=[{"status": "ACTIVE"}] * 9, timezone=""),
    state(balance=float("nan"), bundle={"total": "x"}, trials=[{"status": "CANCELLED"}]),
]


@pytest.mark.parametrize("subject", WEIRD)
def test_features_have_a_fixed_bounded_key_set(subject: SubscriberState) -> None:
    feats = features(moment(), subject)
    assert tuple(feats) == FEATURE_NAMES  # same keys, same order, whatever the state
    assert all(isinstance(v, float) and -1.0 <= v <= 1.0 for v in feats.values()), feats


def test_features_are_deterministic() -> None:
    s = state(balance=12.5, bundle={"total": 4, "remaining": 1}, trip={"mcc": "208"})
    assert features(moment(), s) == features(moment(), s.copy())


def _hot(feats: dict[str, float], prefix: str) -> list[str]:
    return [k for k, v in feats.items() if k.startswith(prefix) and v == 1.0]


def test_one_hot_groups_have_exactly_one_hot_value() -> None:
    for subject in WEIRD:
        feats = features(moment(), subject)
        for prefix, group in (("pay=", PAYMENT_TYPES), ("age=", AGE_BANDS), ("seg=", SEGMENTS)):
            assert len(_hot(feats, prefix)) == 1
            assert sum(1 for k in feats if k.startswith(prefix)) == len(group)
    feats = features(moment(), state(payment_type="POSTPAID", age_band="A45_54", segment="family"))
    assert _hot(feats, "pay=") == ["pay=POSTPAID"]
    assert _hot(feats, "age=") == ["age=A45_54"]
    assert _hot(feats, "seg=") == ["seg=family"]


def test_unknown_values_fall_back() -> None:
    feats = features(moment(), state(payment_type="BARTER", age_band=None, segment="astronauts"))
    assert _hot(feats, "pay=") == ["pay=UNKNOWN"]
    assert _hot(feats, "age=") == ["age=UNKNOWN"]
    assert _hot(feats, "seg=") == ["seg=other"]
    assert _hot(features(moment(), state(segment=None)), "seg=") == ["seg=other"]


def test_numeric_features() -> None:
    feats = features(moment(), state(balance=0.0, bundle={"total": 8, "remaining": 2},
                                     trip={"mcc": "208"},
                                     trials=[{"status": "ACTIVE"}, {"status": "CONVERTED"}]))
    assert feats["abroad"] == 1.0
    assert (feats["balance"], feats["has_balance"]) == (0.0, 1.0)
    assert (feats["bundle_used"], feats["has_bundle"]) == (0.75, 1.0)
    assert (feats["trials"], feats["trials_active"]) == (0.4, 0.2)
    home = features(moment(), state())
    assert home["abroad"] == 0.0
    assert (home["balance"], home["has_balance"], home["has_bundle"]) == (0.0, 0.0, 0.0)
    assert features(moment(), state(balance=1000.0))["balance"] == pytest.approx(1.0)
    assert features(moment(), state(balance=5000.0))["balance"] == pytest.approx(1.0)
    assert 0.0 < features(moment(), state(balance=10.0))["balance"] < 0.5


def test_hour_of_day_is_local_and_an_unknown_zone_is_utc() -> None:
    assert local_hour(NOON_UTC, "UTC") == 12.0
    assert local_hour(NOON_UTC, "Europe/Paris") == 14.0  # CEST in July
    assert local_hour(NOON_UTC, "Mars/Olympus") == 12.0
    assert local_hour(NOON_UTC, "") == 12.0
    paris = features(moment(), state(timezone="Europe/Paris"))
    assert paris["hour_sin"] == pytest.approx(math.sin(2 * math.pi * 14 / 24))
    assert paris["hour_cos"] == pytest.approx(math.cos(2 * math.pi * 14 / 24))
    unknown = features(moment(), state(timezone="Nowhere/Nope"))
    utc = features(moment(), state(timezone="UTC"))
    assert (unknown["hour_sin"], unknown["hour_cos"]) == (utc["hour_sin"], utc["hour_cos"])


# --- choose / learn -------------------------------------------------------------------------

YOUTH = features(moment(), state())
OTHER = features(moment(), state(segment="family", age_band="A45_54"))


def trained(n: int = 300) -> Scorer:
    """A scorer taught that youth take the 5GB pass and others the 1GB pass."""
    scorer = Scorer()
    for i in range(n):
        feats, good = (YOUTH, OFFERS[1]) if i % 2 else (OTHER, OFFERS[0])
        for code in OFFERS:
            scorer.learn(T, code, feats, code == good and i % 3 != 0)
    return scorer


def test_an_unseen_model_gives_the_prior_and_explores() -> None:
    scorer = Scorer()
    choice = scorer.choose(T, OFFERS, YOUTH, seed="s1")
    assert isinstance(choice, Choice)
    assert choice.offer_code in OFFERS
    assert choice.propensities == dict.fromkeys(OFFERS, 0.5)
    assert choice.explored
    assert {scorer.choose(T, OFFERS, YOUTH, seed=f"s{i}").offer_code for i in range(20)} == set(
        OFFERS)  # a uniform pick, not always the first
    assert Scorer(prior=0.2).choose(T, OFFERS, YOUTH, "s").propensities == dict.fromkeys(
        OFFERS, 0.2)
    assert scorer.propensity(T, OFFERS[0], YOUTH) == 0.5
    assert (scorer.examples(T), scorer.auc(T), scorer.version) == (0, None, 0)


def test_a_single_offer_is_returned_with_its_propensity() -> None:
    assert Scorer().choose(T, ["ONLY"], YOUTH, "s") == Choice("ONLY", {"ONLY": 0.5}, False,
                                                              {"ONLY": 1.0})
    scorer = trained()
    choice = scorer.choose(T, [OFFERS[1]], YOUTH, "s")
    assert choice.offer_code == OFFERS[1]
    assert not choice.explored
    assert choice.propensities == {OFFERS[1]: scorer.propensity(T, OFFERS[1], YOUTH)}


def test_choose_needs_an_offer_and_prior_must_be_a_probability() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Scorer().choose(T, [], YOUTH, "s")
    with pytest.raises(ValueError, match="prior"):
        Scorer(prior=1.0)


def test_learn_counts_versions_and_examples() -> None:
    scorer = Scorer()
    scorer.learn(T, OFFERS[0], YOUTH, True)
    assert (scorer.version, scorer.examples(T), scorer.examples("other")) == (1, 1, 0)
    assert scorer.auc(T) is None  # one class only so far
    scorer.learn("other", OFFERS[0], YOUTH, False)
    scorer.learn(T, OFFERS[1], YOUTH, False)
    assert (scorer.version, scorer.examples(T), scorer.examples("other")) == (3, 2, 1)
    assert scorer.auc(T) is not None
    assert scorer.model_ids() == ["other", T]


def test_a_trained_scorer_prefers_each_segments_offer() -> None:
    scorer = trained()
    youth = scorer.choose(T, OFFERS, YOUTH, "s")
    other = scorer.choose(T, OFFERS, OTHER, "s")
    assert youth.propensities[OFFERS[1]] > youth.propensities[OFFERS[0]]
    assert other.propensities[OFFERS[0]] > other.propensities[OFFERS[1]]
    assert all(0.0 < p < 1.0 for p in [*youth.propensities.values(),
                                       *other.propensities.values()])
    picks = [scorer.choose(T, OFFERS, YOUTH, f"s{i}") for i in range(200)]
    assert sum(c.offer_code == OFFERS[1] for c in picks) >= 180  # mostly exploits
    assert all(c.explored == (c.offer_code != OFFERS[1]) for c in picks)
    auc = scorer.auc(T)
    assert auc is not None and auc > 0.7


def test_choose_is_deterministic_per_seed_and_reads_only() -> None:
    scorer = trained(40)  # still uncertain: the draws matter
    before = scorer.to_bytes(b"k")
    first = [scorer.choose(T, OFFERS, YOUTH, f"seed-{i}") for i in range(50)]
    again = [scorer.choose(T, OFFERS, YOUTH, f"seed-{i}") for i in range(50)]
    assert first == again
    assert len({c.offer_code for c in first}) == 2  # seeds do change the draws
    assert scorer.to_bytes(b"k") == before
    assert scorer.version == 40 * 2
