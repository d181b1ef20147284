"""The table ``make quality`` prints: each claim of docs/decision-quality.md, the figure
measured, its bound, and whether it holds. ``full=False`` is the reduced run of ``make test``
(fewer seeds, smaller logs, bounds scaled to match)."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sim.quality.behaviour import horvitz_thompson, ips_of_logging_policy, log_days
from sim.quality.drift import RECOVERY_BOUND
from sim.quality.drift import Run as DriftRun
from sim.quality.drift import run as drift_run
from sim.quality.monitoring import EFFECTS, uplift_trial, watch
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


def _ratio(runs: list[DriftRun], base: list[DriftRun]) -> float:
    return statistics.median(r.regret / b.regret for r, b in zip(runs, base, strict=True))


def drift_claims(full: bool) -> Iterator[Claim]:
    seeds, decisions = (20, 6_000) if full else (2, 3_000)
    flips = [decisions // 3, 2 * decisions // 3]
    options: dict[str, dict[str, Any]] = {"discounted 0.999": {"discount": 0.999},
                                          "reset on drift": {"detect": True}}
    base = [drift_run(seed, decisions, flips) for seed in range(1, seeds + 1)]
    calm = [drift_run(seed, decisions, []) for seed in range(1, seeds + 1)]
    need = 18 if full else seeds
    for name, option in options.items():
        runs = [drift_run(seed, decisions, flips, **option) for seed in range(1, seeds + 1)]
        halved = sum(r.regret <= 0.5 * b.regret for r, b in zip(runs, base, strict=True))
        yield Claim(f"{name}: drift regret <= 0.5 x stationary TS ({seeds} seeds)",
                    f"{halved}/{seeds} (median ratio {_ratio(runs, base):.2f})",
                    f">= {need}/{seeds}", halved >= need)
        still = [drift_run(seed, decisions, [], **option) for seed in range(1, seeds + 1)]
        within = sum(r.regret <= 1.2 * b.regret for r, b in zip(still, calm, strict=True))
        yield Claim(f"{name}: no-drift regret <= 1.2 x stationary TS",
                    f"{within}/{seeds} (median ratio {_ratio(still, calm):.2f})",
                    f">= {need}/{seeds}", within >= need)
        recoveries = [t if t >= 0 else decisions for r in runs for t in r.recoveries]
        yield Claim(f"{name}: median recovery time (decisions)",
                    f"{statistics.median(recoveries):.0f}", f"<= {RECOVERY_BOUND}",
                    statistics.median(recoveries) <= RECOVERY_BOUND)
    stationary = [t if t >= 0 else decisions for r in base for t in r.recoveries]
    yield Claim("  (stationary TS: median recovery time)", f"{statistics.median(stationary):.0f}",
                "-", True)


def calibration_claims(full: bool) -> Iterator[Claim]:
    seeds = 20 if full else 2
    size = 50_000 if full else 10_000
    calm = [watch(seed, size, 1.0, every=5_000) for seed in range(1, seeds + 1)]
    worst = max(w.final_ece for w in calm)
    yield Claim(f"calibrated model: ECE at {size:,} outcomes (worst of {seeds})",
                f"{worst:.4f}", "< 0.02", worst < 0.02)
    alarms = sum(w.first_warning is not None for w in calm)
    yield Claim("calibrated model: false warnings (seeds)", f"{alarms}/{seeds}",
                f"<= {1 if full else 0}/{seeds}", alarms <= (1 if full else 0))
    skewed = [watch(seed, 10_000, 1.5) for seed in range(1, seeds + 1)]
    tripped = sum(w.first_warning is not None for w in skewed)
    need = 19 if full else seeds
    yield Claim("logits x1.5: warning within 10,000 outcomes (seeds)", f"{tripped}/{seeds}",
                f">= {need}/{seeds}", tripped >= need)


def uplift_claims(full: bool) -> Iterator[Claim]:
    seeds, per_segment = (20, 60_000) if full else (2, 20_000)
    trials = [uplift_trial(seed, per_segment) for seed in range(1, seeds + 1)]
    need_cover, need_flag = (18, 16) if full else (seeds, seeds)
    for segment, effect in EFFECTS.items():
        covered = sum(next(r for r in rows if r.segment == segment).low <= effect
                      <= next(r for r in rows if r.segment == segment).high for rows, _ in trials)
        yield Claim(f"uplift {segment} ({effect * 100:+.0f}pp): interval covers "
                    f"({per_segment:,}/segment, holdout 10%)", f"{covered}/{seeds}",
                    f">= {need_cover}/{seeds}", covered >= need_cover)
    flagged = sum(next(r for r in rows if r.segment == "family").verdict == "negative"
                  for rows, _ in trials)
    yield Claim("uplift: the -2pp segment flagged negative", f"{flagged}/{seeds}",
                f">= {need_flag}/{seeds}", flagged >= need_flag)
    order = sum(q["oracle"] > q["score"] > q["random"] for _, q in trials)
    median = {k: statistics.median(q[k] for _, q in trials) for k in ("oracle", "score", "random")}
    yield Claim("Qini: true uplift > model score > random (seeds)",
                f"{order}/{seeds} ({median['oracle']:.4f} > {median['score']:.4f} > "
                f"{median['random']:.4f})", f">= {need_cover}/{seeds}", order >= need_cover)


PARTS: dict[str, Callable[[bool], Iterator[Claim]]] = {
    "behaviour": behaviour_claims,
    "evaluate": offpolicy_claims,
    "drift": drift_claims,
    "calibration": calibration_claims,
    "uplift": uplift_claims,
}
