"""The scorer learns, in process: choose -> simulated response -> learn, a few thousand times.

A synthetic population (a third ``youth``, the rest family, business, value or no segment) lands
abroad and gets a ``roaming_welcome`` offer: a 1GB or a 5GB travel pass. The hidden truth
(``sim.responder.DEFAULT_HIDDEN``): youth take the 5GB pass with p=0.6 and the 1GB with
p=0.1, everyone else the 1GB with p=0.3 and the 5GB with p=0.1. Every seed is fixed.

Measured with these seeds (4,000 decisions, about 0.35 s): over the last 500 youth decisions the
5GB pass was chosen 98.6% of the time (without learning: 51.8%); over the last 500 others the
1GB pass 93.8%; the propensity model's progressive ROC AUC over the second half of the responses
is 0.614, against 0.635 for the hidden true probabilities themselves on the same responses (with
this table a perfect model cannot do much better: once each segment gets its best offer, the
response probabilities are only 0.6 against 0.3). Loop seeds 1-4 gave 96-99% (youth), 94-98%
(others), AUC 0.64-0.66 (truth 0.66-0.67). AUCs here are exact (Mann-Whitney).
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass

from cjo.scoring import Scorer, features
from cjo.state.model import SubscriberState
from cjo.triggers.moment import Moment
from sim.responder import DEFAULT_HIDDEN

TRIGGER = "roaming_welcome"
OFFERS = ["TRAVEL_PASS_1GB_7D", "TRAVEL_PASS_5GB_7D"]
SEGMENTS = ["youth", "youth", "family", "business", "value", None]
START_MS = 1_760_000_000_000
DECISIONS = 4000


def population(n: int, rng: random.Random) -> list[SubscriberState]:
    return [
        SubscriberState(
            imsi=f"23415{i:010d}",
            payment_type=rng.choice(["PREPAID", "POSTPAID", "HYBRID"]),
            age_band=rng.choice(["A18_24", "A25_34", "A45_54", None]),
            segment=rng.choice(SEGMENTS),
            timezone=rng.choice(["Europe/London", "Europe/Paris", "America/New_York"]),
            balance=round(rng.uniform(0, 50), 2) if rng.random() < 0.4 else None,
            trip={"mcc": "208", "plmn": "20801", "started_at": START_MS},
            bundle={"id": "b", "total": 10, "remaining": rng.randint(0, 10)},
        )
        for i in range(n)
    ]


@dataclass
class LoopResult:
    youth_best: list[bool]  # per youth decision: was the better (5GB) pass chosen
    other_best: list[bool]
    late_auc: float  # model's score before learning vs the response, second half
    oracle_auc: float  # the hidden true probability vs the response, same half
    scorer: Scorer


def roc_auc(pairs: list[tuple[float, bool]]) -> float:
    """Exact ROC AUC (Mann-Whitney, ties count a half) of (score, label) pairs."""
    ranked = sorted(pairs, key=lambda pair: pair[0])
    positives = sum(label for _, label in ranked)
    negatives = len(ranked) - positives
    wins, i = 0.0, 0
    below = 0  # negatives with a strictly lower score
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        pos = sum(label for _, label in ranked[i:j])
        neg = (j - i) - pos
        wins += pos * (below + neg / 2)
        below += neg
        i = j
    return wins / (positives * negatives)


def run_loop(*, learning: bool, seed: int = 7, decisions: int = DECISIONS) -> LoopResult:
    rng = random.Random(seed)
    people = population(500, rng)
    scorer = Scorer()
    youth_best: list[bool] = []
    other_best: list[bool] = []
    late: list[tuple[float, bool]] = []
    oracle: list[tuple[float, bool]] = []
    for i in range(decisions):
        state = rng.choice(people)
        moment = Moment(TRIGGER, str(i), state.imsi, f"e-{i}", START_MS + i * 450_000)
        feats = features(moment, state)
        choice = scorer.choose(TRIGGER, OFFERS, feats, seed=f"loop-{seed}-{i}")
        accepted = DEFAULT_HIDDEN.respond(choice.offer_code, state, rng) == "ACCEPTED"
        if learning:
            scorer.learn(TRIGGER, choice.offer_code, feats, accepted)
        best = DEFAULT_HIDDEN.best_offer(OFFERS, state.segment) == choice.offer_code
        (youth_best if state.segment == "youth" else other_best).append(best)
        if i >= decisions // 2:
            late.append((choice.propensities[choice.offer_code], accepted))
            oracle.append((DEFAULT_HIDDEN.p_accept(choice.offer_code, state.segment), accepted))
    return LoopResult(youth_best, other_best, roc_auc(late), roc_auc(oracle), scorer)


@functools.cache
def learnt() -> LoopResult:
    """The learning loop, run once for the tests that only read its result."""
    return run_loop(learning=True)


def share(flags: list[bool]) -> float:
    return sum(flags) / len(flags)


def test_the_scorer_learns_which_offer_each_segment_prefers() -> None:
    result = learnt()
    assert len(result.youth_best) >= 1000
    youth = share(result.youth_best[-500:])  # measured 0.986
    others = share(result.other_best[-500:])  # measured 0.938
    assert youth >= 0.85, youth
    assert others >= 0.8, others
    assert result.scorer.examples(TRIGGER) == DECISIONS
    assert result.scorer.version == DECISIONS


def test_the_propensity_model_ranks_later_responses_well() -> None:
    result = learnt()
    # measured 0.614 (the hidden truth itself: 0.635); 0.5 is chance
    assert result.late_auc >= 0.57, result.late_auc
    assert result.late_auc >= result.oracle_auc - 0.06, (result.late_auc, result.oracle_auc)
    overall = result.scorer.auc(TRIGGER)  # every response, from the first: measured 0.629
    assert overall is not None and overall >= 0.58, overall


def test_roc_auc_helper() -> None:
    assert roc_auc([(0.1, False), (0.9, True)]) == 1.0
    assert roc_auc([(0.9, False), (0.1, True)]) == 0.0
    assert roc_auc([(0.5, False), (0.5, True), (0.7, True)]) == 0.75


def test_without_learning_the_choice_stays_at_chance() -> None:
    result = run_loop(learning=False)
    youth = share(result.youth_best[-500:])  # measured 0.518
    assert 0.4 <= youth <= 0.6, youth
    assert result.scorer.version == 0
    assert result.scorer.auc(TRIGGER) is None


def test_the_loop_is_deterministic() -> None:
    first, second = run_loop(learning=True, decisions=600), run_loop(learning=True, decisions=600)
    assert first.youth_best == second.youth_best
    assert first.scorer.to_bytes(b"k") == second.scorer.to_bytes(b"k")
