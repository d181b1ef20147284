"""Part 2 of the proofs: ``cjo evaluate``'s DR interval against the candidate's real take-up.

Per seed: a day is logged under the current catalogue (three offers, a scorer that learnt 300
responses: it explores); the candidate drops an offer and decides with a better-trained scorer
(3,000 responses); its DR estimate and 95% interval from the log are compared with the take-up
it gets when it runs on-policy on fresh days of the same population."""

from __future__ import annotations

import random
from dataclasses import dataclass

from cjo.evaluate.candidate import Candidate
from cjo.evaluate.evaluate import Evaluation, evaluate
from cjo.evaluate.logged import read_log
from sim.quality import world
from sim.quality.behaviour import log_days

CANDIDATE_OFFERS = ("PASS_1GB", "PASS_5GB")


@dataclass(frozen=True, slots=True)
class Trial:
    evaluation: Evaluation
    on_policy: float  # the candidate's observed take-up on fresh days

    @property
    def covered(self) -> bool:
        return self.evaluation.dr.covers(self.on_policy)

    @property
    def relative_error(self) -> float:
        return abs(self.evaluation.dr.value - self.on_policy) / self.on_policy


def trial(seed: int, size: int, fresh_days: int = 2) -> Trial:
    current, _, logged = log_days(seed, size)
    cat = world.catalogue(CANDIDATE_OFFERS)
    scorer = world.trained(3_000, seed + 10_000, offers=world.OFFERS)
    ev = evaluate(read_log(logged.decisions, logged.outcomes), Candidate(cat, scorer),
                  current=current)
    rng = random.Random(seed * 31 + 5)
    people = world.population(size, seed)
    fresh = [world.take_up(d, rng) for d in world.days(cat, scorer, people, 2, fresh_days)]
    return Trial(ev, sum(fresh) / len(fresh))
