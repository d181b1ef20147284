"""Part 1 of the proofs: the decisions log the truth about the policy that made them.

- Horvitz-Thompson: for every action ``a``, the mean over decisions (where ``a`` was eligible)
  of ``1{chosen = a} / p(a)`` is 1 in expectation when ``p`` is the probability the policy
  really gave ``a``; a wrong propensity (1/n for Thompson sampling, the model's score) is off.
- IPS of the logging policy itself, with its probabilities recomputed by the evaluator
  (``cjo.evaluate.candidate``) from the same models and catalogue, equals its observed mean
  take-up: the evaluator's policy and the logged one are the same.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from cjo.evaluate.candidate import Candidate
from cjo.evaluate.evaluate import evaluate
from cjo.evaluate.logged import read_log
from sim.quality import world


@dataclass(frozen=True, slots=True)
class Logged:
    decisions: list[dict[str, Any]]
    outcomes: list[dict[str, Any]]


def log_days(seed: int, size: int, days: int = 1, examples: int = 300) -> tuple[Any, Any, Logged]:
    """``days`` of decisions for a population of ``size`` under a scorer that learnt
    ``examples`` responses (it still explores), with their outcomes drawn from the truth."""
    cat, scorer = world.catalogue(), world.trained(examples, seed)
    people = world.population(size, seed)
    rng = random.Random(seed * 7919 + 1)
    decisions = list(world.days(cat, scorer, people, 1, days))
    outcomes = [{"offer_id": d["offer_id"], "responded": world.take_up(d, rng)}
                for d in decisions if d["outcome"] in ("SENT", "HOLDOUT")]
    return cat, scorer, Logged(decisions, outcomes)


def horvitz_thompson(decisions: list[dict[str, Any]]) -> dict[str, tuple[float, float]]:
    """Per action: the mean of ``1{chosen = a} / p(a)`` over the decisions that gave ``a`` a
    chance, and its standard error."""
    terms: dict[str, list[float]] = defaultdict(list)
    for d in decisions:
        for entry in d["actions"]:
            p = entry["probability"]
            if p > 0:
                terms[entry["action"]].append((d["action"] == entry["action"]) / p)
    out = {}
    for action, values in sorted(terms.items()):
        n = len(values)
        mean = math.fsum(values) / n
        var = math.fsum((v - mean) ** 2 for v in values) / max(n - 1, 1)
        out[action] = (mean, math.sqrt(var / n))
    return out


def ips_of_logging_policy(cat: Any, scorer: Any, logged: Logged) -> tuple[float, float]:
    """(IPS estimate of the logging policy's take-up, its observed mean take-up)."""
    ev = evaluate(read_log(logged.decisions, logged.outcomes), Candidate(cat, scorer))
    return ev.ips.value, ev.observed.value
