"""The simulated responder: hidden propensities per offer and segment, seeded answers."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from cjo.scoring import features
from cjo.state.model import SubscriberState
from cjo.triggers.moment import Moment
from sim.responder import DEFAULT_HIDDEN, HiddenPropensities, respond, segment_of

P1, P5 = "TRAVEL_PASS_1GB_7D", "TRAVEL_PASS_5GB_7D"


def test_the_default_table() -> None:
    assert DEFAULT_HIDDEN.p_accept(P5, "youth") == 0.6
    assert DEFAULT_HIDDEN.p_accept(P1, "youth") == 0.1
    assert DEFAULT_HIDDEN.p_accept(P1, "family") == 0.3
    assert DEFAULT_HIDDEN.p_accept(P5, None) == 0.1
    assert DEFAULT_HIDDEN.p_accept("SOMETHING_ELSE", "youth") == DEFAULT_HIDDEN.base
    assert DEFAULT_HIDDEN.best_offer([P1, P5], "youth") == P5
    assert DEFAULT_HIDDEN.best_offer([P1, P5], "value") == P1


def test_answers_follow_the_hidden_probabilities() -> None:
    rng = random.Random(1)
    youth = SubscriberState(imsi="1", segment="youth")
    counts = Counter(respond(P5, youth, rng) for _ in range(20_000))
    assert counts["ACCEPTED"] / 20_000 == pytest.approx(0.6, abs=0.02)
    assert counts["DECLINED"] / 20_000 == pytest.approx(0.4 * 0.4, abs=0.02)
    assert counts[None] / 20_000 == pytest.approx(0.4 * 0.6, abs=0.02)


def test_a_state_and_its_features_get_the_same_answers() -> None:
    s = SubscriberState(imsi="1", segment="youth")
    feats = features(Moment("roaming_welcome", "i", "1", "e", 0), s)
    assert segment_of(feats) == "youth" == segment_of(s)
    a = [respond(P5, s, rng) for rng in [random.Random(5)] for _ in range(200)]
    b = [respond(P5, feats, rng) for rng in [random.Random(5)] for _ in range(200)]
    assert a == b
    assert segment_of({"seg=other": 1.0}) == "other"
    assert segment_of({}) is None


def test_answers_are_deterministic_with_a_seeded_rng() -> None:
    s = SubscriberState(imsi="1", segment="family")
    first = [DEFAULT_HIDDEN.respond(P1, s, random.Random(f"r{i}")) for i in range(100)]
    again = [DEFAULT_HIDDEN.respond(P1, s, random.Random(f"r{i}")) for i in range(100)]
    assert first == again
    assert set(first) == {"ACCEPTED", "DECLINED", None}


def test_a_custom_table_and_its_validation() -> None:
    hidden = HiddenPropensities({"A": {"*": 1.0}}, base=0.0, decline_share=1.0)
    rng = random.Random(0)
    assert {hidden.respond("A", {}, rng) for _ in range(50)} == {"ACCEPTED"}
    assert {hidden.respond("B", {}, rng) for _ in range(50)} == {"DECLINED"}
    with pytest.raises(ValueError, match="not in"):
        HiddenPropensities({"A": {"youth": 1.5}})
    with pytest.raises(ValueError, match="decline_share"):
        HiddenPropensities(decline_share=-0.1)
