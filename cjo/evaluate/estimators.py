"""IPS, self-normalised IPS and doubly robust estimates of a policy's mean reward, each with a
95% interval, from logged decisions (Horvitz & Thompson 1952; Swaminathan & Joachims 2015;
Dudik, Langford & Li 2011).

With ``w_i = pi_e(A_i|x_i) / pi_b(A_i|x_i)`` (candidate over logged probability of the action
taken), ``r_i`` the reward and ``q(x, a)`` a reward model:

- IPS    = mean(w_i r_i)                       unbiased when pi_b is logged right and covers pi_e
- SNIPS  = sum(w_i r_i) / sum(w_i)             biased, consistent, far less variance
- DR     = mean(sum_a pi_e(a|x_i) q(x_i, a) + w_i (r_i - q(x_i, A_i)))
                                                unbiased if either pi_b or q is right

The intervals are normal (central limit) on the per-decision terms (SNIPS: its delta-method
linearisation ``w_i (r_i - SNIPS) / mean(w)``). The effective sample size is
``(sum w)^2 / sum w^2``: few effective decisions, wide or untrustworthy intervals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Z95 = 1.959963984540054


@dataclass(frozen=True, slots=True)
class Estimate:
    value: float
    low: float
    high: float

    def covers(self, x: float) -> bool:
        return self.low <= x <= self.high

    def within(self, low: float, high: float) -> Estimate:
        """Clipped to what the quantity can be (a take-up rate: [0, 1]). DR and IPS terms are
        not bounded, so with few take-ups the raw estimate can fall below 0."""
        return Estimate(*(min(max(v, low), high) for v in (self.value, self.low, self.high)))


def _mean_interval(terms: Sequence[float]) -> Estimate:
    n = len(terms)
    mean = math.fsum(terms) / n
    var = math.fsum((t - mean) ** 2 for t in terms) / (n - 1) if n > 1 else 0.0
    half = Z95 * math.sqrt(var / n)
    return Estimate(mean, mean - half, mean + half)


def ips(w: Sequence[float], r: Sequence[float]) -> Estimate:
    return _mean_interval([wi * ri for wi, ri in zip(w, r, strict=True)])


def snips(w: Sequence[float], r: Sequence[float]) -> Estimate:
    total = math.fsum(w)
    if total <= 0:
        return Estimate(math.nan, math.nan, math.nan)
    value = math.fsum(wi * ri for wi, ri in zip(w, r, strict=True)) / total
    mean_w = total / len(w)
    spread = _mean_interval([wi * (ri - value) / mean_w for wi, ri in zip(w, r, strict=True)])
    half = spread.high - spread.value
    return Estimate(value, value - half, value + half)


def dr(w: Sequence[float], r: Sequence[float], q_taken: Sequence[float],
       q_policy: Sequence[float]) -> Estimate:
    """``q_taken``: the reward model at the logged action; ``q_policy``: its expectation under
    the candidate, ``sum_a pi_e(a|x) q(x, a)``."""
    return _mean_interval([dm + wi * (ri - qa) for wi, ri, qa, dm in
                           zip(w, r, q_taken, q_policy, strict=True)])


def effective_sample_size(w: Sequence[float]) -> float:
    squares = math.fsum(x * x for x in w)
    return math.fsum(w) ** 2 / squares if squares > 0 else 0.0
