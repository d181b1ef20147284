"""Part 4 of the proofs: calibration and uplift per segment, through ``cjo report``'s code.

Calibration: sent offers whose true acceptance probability varies by subscriber (the segment's
rate for the offer, with a per-subscriber logit spread of 0.5); a calibrated model scores each
with its true probability, a mis-scaled one with the logit times 1.5. The report's check runs
every 500 outcomes (``cjo.report.calibration``: ECE over the window, warning past the threshold
once ``MIN_OUTCOMES`` are in).

Uplift: three segments whose conversion the offer moves by +5, 0 and -2 points (from 20%), a
holdout of 10%, ``per_segment`` decisions each; the targeting score of each decision is the
segment's true effect plus noise (a model), or the true effect (an oracle), or noise alone.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from cjo.report.calibration import MIN_OUTCOMES, calibrations
from cjo.report.segments import SegmentUplift, qini, segment_uplift
from sim.quality import world

EFFECTS = {"youth": 0.05, "business": 0.0, "family": -0.02}
BASE = 0.20
CHECK_EVERY = 500


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def sent_offers(seed: int, n: int, scale: float) -> tuple[list[dict[str, Any]],
                                                             list[dict[str, Any]]]:
    rng = random.Random(seed)
    decisions, outcomes = [], []
    for i in range(n):
        segment, code = rng.choice(world.SEGMENTS), rng.choice(world.OFFERS)
        p = _sigmoid(_logit(world.HIDDEN.p_accept(code, segment)) + rng.gauss(0, 0.5))
        offer_id = f"{seed}-{i}"
        decisions.append({"offer_id": offer_id, "trigger_id": world.TRIGGER, "offer_code": code,
                          "outcome": "SENT", "trigger_time": i,
                          "propensity": _sigmoid(scale * _logit(p))})
        outcomes.append({"offer_id": offer_id, "group": "TREATED",
                         "responded": rng.random() < p})
    return decisions, outcomes


@dataclass(frozen=True, slots=True)
class Watch:
    final_ece: float  # over every offer of the trigger, at the end
    first_warning: int | None  # outcomes when the first warning came (None: never)


def watch(seed: int, n: int, scale: float, every: int = CHECK_EVERY) -> Watch:
    decisions, outcomes = sent_offers(seed, n, scale)
    for d in decisions:  # one row for the trigger: the offers pooled
        d["offer_code"] = "(all)"
    first = None
    for seen in range(MIN_OUTCOMES, n + 1, every):
        (c,) = calibrations(decisions[:seen], outcomes[:seen])
        if c.warn:
            first = seen
            break
    (final,) = calibrations(decisions, outcomes)
    return Watch(final.ece, first)


def uplift_records(seed: int, per_segment: int, holdout: float = 0.10,
                   noise: float = 0.02) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rng = random.Random(seed)
    decisions, outcomes = [], []
    gauss = rng.gauss
    for segment, effect in EFFECTS.items():
        for i in range(per_segment):
            held = rng.random() < holdout
            converted = rng.random() < BASE + (0.0 if held else effect)
            offer_id = f"{segment}-{i}"
            decisions.append({
                "offer_id": offer_id, "trigger_id": world.TRIGGER,
                "outcome": "HOLDOUT" if held else "SENT", "features": {f"seg={segment}": 1.0},
                "score": effect + gauss(0, noise), "oracle": effect,
                "random": rng.random()})
            outcomes.append({"offer_id": offer_id, "group": "HOLDOUT" if held else "TREATED",
                             "converted": converted})
    return decisions, outcomes


def uplift_trial(seed: int, per_segment: int) -> tuple[list[SegmentUplift], dict[str, float]]:
    decisions, outcomes = uplift_records(seed, per_segment)
    rows = segment_uplift(decisions, outcomes)
    qinis = qini(decisions, outcomes, "oracle", "score", "random")[world.TRIGGER]
    return rows, qinis
