"""What logging the behaviour policy costs, and how fast ``cjo evaluate`` is (issue 19).

- decide path: ``settle`` for one moment of a trigger with three offers and a trained scorer
  (features, Thompson draws, contact policy, rendering), with the P(argmax) of the draws
  computed (as decisions log it) and with it replaced by a constant (the path before it was
  logged): the ratio is the cost of logging the truth;
- evaluate: ``cjo.evaluate`` on a logged day (reward model, candidate probabilities, the
  three estimators), per decision and extrapolated to a day at 100,000 subscribers.
"""

from __future__ import annotations

import random
import time
from unittest import mock

from bench.report import Row
from cjo.evaluate.candidate import Candidate
from cjo.evaluate.evaluate import evaluate
from cjo.evaluate.logged import read_log
from cjo.scoring import scorer as scorer_module
from sim.quality import world


def _decide_us(decisions: int) -> float:
    cat, scorer = world.catalogue(), world.trained(300, 1)
    people = world.population(decisions, 1)
    for s in people[:200]:  # warm-up
        world.decide(cat, scorer, s, 0)
    began = time.perf_counter()
    for s in people:
        world.decide(cat, scorer, s, 1)
    return (time.perf_counter() - began) / decisions * 1e6


def bench_decide_path(decisions: int = 5_000, rounds: int = 2) -> list[Row]:
    """Each variant ``rounds`` times, interleaved (load drifts during a bench), the best kept."""
    with_p, without = float("inf"), float("inf")
    for _ in range(rounds):
        with mock.patch.object(scorer_module, "argmax_probabilities",
                               lambda means, sds: [1.0 / len(means)] * len(means)):
            without = min(without, _decide_us(decisions))
        with_p = min(with_p, _decide_us(decisions))
    return [
        Row("decide_without_p", "decide path: P(argmax) not computed", without, "us/decision",
            decisions),
        Row("decide_with_p", "decide path: P(argmax) computed and logged", with_p,
            "us/decision", decisions, note=f"{with_p / without:.2f} of not computed"),
    ]


def bench_evaluate(size: int = 20_000) -> list[Row]:
    cat, scorer = world.catalogue(), world.trained(300, 1)
    decisions = list(world.days(cat, scorer, world.population(size, 1), 1, 1))
    rng = random.Random(1)
    outcomes = [{"offer_id": d["offer_id"], "responded": world.take_up(d, rng)}
                for d in decisions if d["outcome"] in ("SENT", "HOLDOUT")]
    candidate = Candidate(world.catalogue(("PASS_1GB", "PASS_5GB")), scorer)
    began = time.perf_counter()
    evaluate(read_log(decisions, outcomes), candidate)
    seconds = time.perf_counter() - began
    return [Row("evaluate_day", f"cjo evaluate: {size:,} logged decisions", seconds, "s", size,
                seconds, note=f"{seconds / size * 100_000:.0f} s for a day at 100,000")]
