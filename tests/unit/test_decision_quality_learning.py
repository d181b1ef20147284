"""Decision quality, parts 3 and 4 (docs/decision-quality.md): learning that follows drift,
calibration and uplift per segment. Reduced runs of what ``make quality`` proves in full."""

from __future__ import annotations

import random

import pytest

from cjo.catalogue.validate import load_catalogue
from cjo.errors import CatalogueRejected
from cjo.report.calibration import calibrations, measure
from cjo.report.segments import qini_coefficient, segment_uplift
from cjo.report.uplift import newcombe
from cjo.scoring import Scorer
from sim.quality.claims import calibration_claims, uplift_claims
from sim.quality.drift import run as drift_run

FEATS = {"bias": 1.0, "seg=youth": 1.0}


def _share_of_b(detect: bool, discount: float = 1.0) -> tuple[float, int]:
    """Offer A is better for 800 decisions, then B is (A stays fair: 0.35 against B's 0.65)."""
    rng, scorer = random.Random(5), Scorer()
    picks = []
    for t in range(2_400):
        truth = {"A": 0.6, "B": 0.1} if t < 800 else {"A": 0.35, "B": 0.65}
        code = scorer.choose("t", ["A", "B"], FEATS, f"s{t}").offer_code
        picks.append(code)
        scorer.learn("t", code, FEATS, rng.random() < truth[code], discount=discount,
                     detect_drift=detect)
    return picks[-600:].count("B") / 600, scorer._models["t"].resets


def test_reset_on_drift_finds_the_new_best_offer() -> None:
    share, resets = _share_of_b(detect=True)
    assert resets >= 1
    assert share >= 0.5


def test_drift_options_survive_a_snapshot() -> None:
    scorer = Scorer()
    scorer.learn("t", "A", FEATS, True, discount=0.99, detect_drift=True)
    scorer.learn("t", "B", FEATS, False)
    again = Scorer.from_bytes(scorer.to_bytes(b"k" * 32), b"k" * 32)
    model = again._models["t"]
    assert (model.discount, model.detect_drift) == (0.99, True)
    assert again.probabilities("t", ["A", "B"], FEATS) == scorer.probabilities(
        "t", ["A", "B"], FEATS)


def test_a_discount_lets_evidence_fade() -> None:
    kept, faded = Scorer(), Scorer()
    for _ in range(300):
        kept.learn("t", "A", FEATS, True)
        faded.learn("t", "A", FEATS, True, discount=0.99)
    for _ in range(300):
        kept.learn("t", "B", FEATS, False)
        faded.learn("t", "B", FEATS, False, discount=0.99)
    _, spread_kept = kept._models["t"].logit_spread("A", FEATS)
    _, spread_faded = faded._models["t"].logit_spread("A", FEATS)
    assert spread_faded > 1.5 * spread_kept  # A untried for 300: unsure of it again


def test_the_catalogue_sets_the_bandit_per_trigger() -> None:
    text = """\
triggers:
  - id: t
    kind: transition
    params: {attribute: network, from: home, to: foreign}
    bandit: {discount: 0.995, reset_on_drift: true}
    offers: [{code: A, templates: {en: a}}]
"""
    trigger = load_catalogue([("c.yaml", text)]).get("t")
    assert trigger is not None
    assert (trigger.bandit.discount, trigger.bandit.reset_on_drift) == (0.995, True)
    with pytest.raises(CatalogueRejected, match=r"c.yaml:5: .*bandit.discount"):
        load_catalogue([("c.yaml", text.replace("0.995", "1.5"))])


def test_the_drift_scenario_measures_regret_and_recovery() -> None:
    stationary = drift_run(1, 2_400, [800, 1_600])
    calm = drift_run(1, 2_400, [])
    assert stationary.regret > calm.regret  # the flips cost the stationary bandit
    assert len(stationary.recoveries) == 2


def test_calibration_claims_reduced() -> None:
    failed = [c for c in calibration_claims(full=False) if not c.holds]
    assert not failed, failed


def test_uplift_claims_reduced() -> None:
    failed = [c for c in uplift_claims(full=False) if not c.holds]
    assert not failed, failed


def test_reliability_bins_ece_and_brier() -> None:
    pairs = [(0.2, False)] * 8 + [(0.2, True)] * 2 + [(0.8, True)] * 6 + [(0.8, False)] * 4
    bins, ece, brier = measure(pairs, bins=2)
    assert [(b.n, b.score, b.rate) for b in bins] == [(10, 0.2, 0.2), (10, 0.8, 0.6)]
    assert ece == pytest.approx(0.1)
    assert brier == pytest.approx((8 * 0.04 + 2 * 0.64 + 6 * 0.04 + 4 * 0.64) / 20)


def test_calibration_warns_only_past_the_threshold_with_enough_outcomes() -> None:
    decisions = [{"offer_id": str(i), "trigger_id": "t", "offer_code": "A", "outcome": "SENT",
                  "trigger_time": i, "propensity": 0.5} for i in range(6_000)]
    outcomes = [{"offer_id": str(i), "group": "TREATED", "responded": i % 10 < 3}
                for i in range(6_000)]
    (c,) = calibrations(decisions, outcomes)
    assert c.warn and c.ece == pytest.approx(0.2)
    (few,) = calibrations(decisions[:100], outcomes[:100])
    assert not few.warn


def test_segment_intervals_are_corrected_for_the_segments_compared() -> None:
    decisions, outcomes = [], []
    for s, segment in enumerate(("youth", "family", "business")):
        for i in range(400):
            held = i % 4 == 0
            oid = f"{segment}{i}"
            decisions.append({"offer_id": oid, "trigger_id": "t", "features": {
                f"seg={segment}": 1.0}, "outcome": "HOLDOUT" if held else "SENT"})
            outcomes.append({"offer_id": oid, "group": "HOLDOUT" if held else "TREATED",
                             "converted": i % (3 + s) == 1})
    rows = segment_uplift(decisions, outcomes)
    assert [r.segment for r in rows] == ["business", "family", "youth"]
    plain = newcombe(rows[0].converted_treated, rows[0].treated, rows[0].converted_holdout,
                     rows[0].held)
    assert rows[0].low < plain[1] and rows[0].high > plain[2]  # wider than one at 95%


def test_qini_ranks_the_responsive_first() -> None:
    # treated convert when scored high, holdout never: a good ranking puts them first
    good = [(1.0, True, True)] * 10 + [(0.5, False, False)] * 10 + [(0.1, True, False)] * 10
    bad = [(0.1, True, True)] * 10 + [(0.5, False, False)] * 10 + [(1.0, True, False)] * 10
    assert qini_coefficient(good) > 0 > qini_coefficient(bad)
