"""The table ``make quality`` prints: each claim of docs/decision-quality.md, the figure
measured, its bound, and whether it holds. ``full=False`` is the reduced run of ``make test``
(fewer seeds, smaller logs, bounds scaled to match)."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sim.quality.behaviour import horvitz_thompson, ips_of_logging_policy, log_days
from sim.quality.offpolicy import trial


@dataclass(frozen=True, slots=True)
class Claim:
    name: str
    figure: str
    bound: str
    holds: bool


def behaviour_claims(full: bool) -> Iterator[Claim]:
    size = 50_000 if full else 3_000
    tolerance = 0.03 if full else 0.10
    cat, scorer, logged = log_days(seed=1, size=size)
    for action, (mean, se) in horvitz_thompson(logged.decisions).items():
        yield Claim(f"HT identity, {action} ({size:,} decisions)",
                    f"{mean:.4f} (se {se:.4f})", f"|x - 1| <= {tolerance}",
                    abs(mean - 1) <= tolerance)
    estimate, observed = ips_of_logging_policy(cat, scorer, logged)
    yield Claim("IPS of the logging policy vs its observed take-up",
                f"{estimate:.4f} vs {observed:.4f}", "within 1%",
                abs(estimate - observed) <= 0.01 * observed)


def offpolicy_claims(full: bool) -> Iterator[Claim]:
    seeds, size, fresh = (20, 5_000, 2) if full else (2, 1_500, 1)
    trials = [trial(seed, size, fresh) for seed in range(1, seeds + 1)]
    covered = sum(t.covered for t in trials)
    need = 18 if full else 1
    errors = [t.relative_error for t in trials]
    yield Claim(f"DR interval covers on-policy take-up ({seeds} seeds, {size:,}/day)",
                f"{covered}/{seeds}", f">= {need}/{seeds}", covered >= need)
    yield Claim("DR median relative error", f"{statistics.median(errors):.3f}", "<= 0.15",
                statistics.median(errors) <= 0.15)
    ess = statistics.median(t.evaluation.ess / t.evaluation.decisions for t in trials)
    yield Claim("  (median effective sample size, share of the log)", f"{ess:.2f}", "-", True)


PARTS: dict[str, Callable[[bool], Iterator[Claim]]] = {
    "behaviour": behaviour_claims,
    "evaluate": offpolicy_claims,
}
