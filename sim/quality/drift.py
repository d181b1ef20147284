"""Part 3 of the proofs: learning that follows drift.

A piecewise-stationary world: the true acceptance probabilities of the three offers are
permuted per segment at breakpoints the policy cannot see (each segment's best offer becomes its
worst). The scorer decides (Thompson sampling, as the engine does) and learns every response at
once. Dynamic regret is the sum over decisions of ``max_a p_t(a) - p_t(chosen)`` against the
per-round oracle (the responder knows the best offer); the recovery time after a flip is the
number of decisions until the new best offer is chosen at least half the time (over a window of
``WINDOW`` decisions)."""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from cjo.scoring import Scorer, features
from sim.quality import world
from sim.responder import HiddenPropensities

WINDOW = 100
RECOVERY_BOUND = 1_000  # decisions: a third of a phase of the proof's 6,000-decision runs


def flipped(hidden: HiddenPropensities) -> HiddenPropensities:
    """Per segment, the worst offer becomes the best (the old best's probability + 0.05), the
    best drops to second (the old second's + 0.05), the second to worst (the old worst's): what
    a competitor's price change does to a segment's favourite. The old favourite stays good
    enough that a bandit sure of its other estimates never tries them again."""
    table: dict[str, dict[str, float]] = {code: {} for code in world.OFFERS}
    for segment in world.SEGMENTS:
        best, middle, worst = sorted(world.OFFERS, key=lambda c: -hidden.p_accept(c, segment))
        p = {c: hidden.p_accept(c, segment) for c in world.OFFERS}
        table[worst][segment] = p[best] + 0.05
        table[best][segment] = p[middle] + 0.05
        table[middle][segment] = p[worst]
    return HiddenPropensities(table)


@dataclass(frozen=True, slots=True)
class Run:
    regret: float
    recoveries: list[int]  # decisions to recover after each flip (-1: never within the phase)


def run(seed: int, decisions: int, breakpoints: Sequence[int], discount: float = 1.0,
        detect: bool = False) -> Run:
    rng = random.Random(seed)
    people = world.population(300, seed)
    contexts = [(s.segment, features(world.moment_of(s, 0), world.state_of(s))) for s in people]
    scorer = Scorer()
    phases = [world.HIDDEN]
    for _ in breakpoints:
        phases.append(flipped(phases[-1]))
    codes = list(world.OFFERS)
    regret = 0.0
    recoveries: list[int] = []
    recent: deque[bool] = deque(maxlen=WINDOW)
    phase, since = 0, 0
    for t in range(decisions):
        if phase < len(breakpoints) and t == breakpoints[phase]:
            phase, since = phase + 1, 0
            recent.clear()
            recoveries.append(-1)
        truth = phases[phase]
        segment, feats = contexts[rng.randrange(len(contexts))]
        chosen = scorer.choose(world.TRIGGER, codes, feats, f"{seed}|{t}").offer_code
        best = truth.best_offer(codes, segment)
        regret += truth.p_accept(best, segment) - truth.p_accept(chosen, segment)
        recent.append(chosen == best)
        since += 1
        if (recoveries and recoveries[-1] < 0 and len(recent) == WINDOW
                and sum(recent) >= WINDOW / 2):
            recoveries[-1] = since
        scorer.learn(world.TRIGGER, chosen, feats, rng.random() < truth.p_accept(chosen, segment),
                     discount=discount, detect_drift=detect)
    return Run(regret, recoveries)
