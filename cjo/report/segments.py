"""Uplift per segment, and the targeting model's Qini against the holdout, in ``cjo report``.

Per trigger and segment (the subscriber's profile segment, as the decision's features hold it:
``seg=<S>``), the conversion rate of treated (SENT) against held-out (HOLDOUT) offers, with
Newcombe's hybrid score interval (``cjo.report.uplift.newcombe``) widened for the number of
segments compared (Bonferroni: each interval at 1 - 0.05/m, so all m hold together with 95%).
A segment is flagged ``negative`` when its whole interval is below 0, ``uplift`` above.

Qini: a held-out decision carries the score the targeting model gave it (``score``: propensity x
value x priority), as a treated one does, so the two groups can be ranked by it together. The
Qini curve at the top k decisions is ``Y_t(k) - Y_c(k) N_t(k) / N_c(k)`` (conversions of the
treated minus the holdout's scaled to as many); the coefficient is its area above the line of a
random ranking, divided by the number of decisions and by the number treated (a share of the
treated: comparable across logs): positive when the model sends to those the
offer changes most, ~0 for a random ranking.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

from cjo.report.uplift import newcombe

ALPHA = 0.05
NO_SEGMENT = "other"


@dataclass(frozen=True, slots=True)
class SegmentUplift:
    trigger_id: str
    segment: str
    treated: int
    converted_treated: int
    held: int
    converted_holdout: int
    uplift: float
    low: float
    high: float

    @property
    def verdict(self) -> str:
        if self.high < 0:
            return "negative"
        if self.low > 0:
            return "uplift"
        return "no evidence"


def segment_of(features: Mapping[str, float]) -> str:
    return next((k[4:] for k, v in features.items() if k.startswith("seg=") and v >= 0.5),
                NO_SEGMENT)


def _joined(decisions: Iterable[Mapping[str, Any]], outcomes: Iterable[Mapping[str, Any]]
            ) -> list[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    kept = {d["offer_id"]: d for d in decisions if d.get("outcome") in ("SENT", "HOLDOUT")}
    seen: set[str] = set()
    out = []
    for o in outcomes:
        d = kept.get(o["offer_id"])
        if d is not None and o["offer_id"] not in seen and o.get("group") in ("TREATED",
                                                                                "HOLDOUT"):
            seen.add(o["offer_id"])
            out.append((d, o))
    return out


def segment_uplift(decisions: Iterable[Mapping[str, Any]], outcomes: Iterable[Mapping[str, Any]],
                   alpha: float = ALPHA) -> list[SegmentUplift]:
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for d, o in _joined(decisions, outcomes):
        c = counts[(d["trigger_id"], segment_of(d.get("features") or {}))]
        treated = o["group"] == "TREATED"
        c[0 if treated else 2] += 1
        c[1 if treated else 3] += bool(o.get("converted"))
    per_trigger: dict[str, int] = defaultdict(int)
    for (trigger, _), c in counts.items():
        if c[0] and c[2]:
            per_trigger[trigger] += 1
    rows = []
    for (trigger, segment), (nt, xt, nh, xh) in sorted(counts.items()):
        if not nt or not nh:
            continue
        z = NormalDist().inv_cdf(1 - alpha / (2 * per_trigger[trigger]))
        diff, low, high = newcombe(xt, nt, xh, nh, z)
        rows.append(SegmentUplift(trigger, segment, nt, xt, nh, xh, diff, low, high))
    return rows


def qini(decisions: Iterable[Mapping[str, Any]], outcomes: Iterable[Mapping[str, Any]],
         *scores: str) -> dict[str, dict[str, float]]:
    """Per trigger, per score field (default ``score``): the Qini coefficient of ranking the
    decisions by it."""
    joined = _joined(decisions, outcomes)
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for score in scores or ("score",):
        for trigger, value in _qini_by_trigger(joined, score).items():
            out[trigger][score] = value
    return dict(sorted(out.items()))


def _qini_by_trigger(joined: list[tuple[Mapping[str, Any], Mapping[str, Any]]],
                     score: str) -> dict[str, float]:
    by_trigger: dict[str, list[tuple[float, bool, bool]]] = defaultdict(list)
    for d, o in joined:
        if d.get(score) is not None:
            by_trigger[d["trigger_id"]].append((float(d[score]), o["group"] == "TREATED",
                                                bool(o.get("converted"))))
    return {t: qini_coefficient(rows) for t, rows in sorted(by_trigger.items())}


def qini_coefficient(rows: list[tuple[float, bool, bool]]) -> float:
    """``rows``: (score, treated, converted). Ties in score are taken together."""
    ordered = sorted(rows, key=lambda r: -r[0])
    n = len(ordered)
    nt = nc = yt = yc = 0
    curve: list[float] = []
    i = 0
    while i < n:
        j = i
        while j < n and ordered[j][0] == ordered[i][0]:
            _, treated, converted = ordered[j]
            nt, yt = nt + treated, yt + (treated and converted)
            nc, yc = nc + (not treated), yc + (not treated and converted)
            j += 1
        q = yt - (yc * nt / nc if nc else 0.0)
        curve.extend([q] * (j - i))
        i = j
    if not n or not nt:
        return 0.0
    final = curve[-1]
    return math.fsum(q - (k + 1) / n * final for k, q in enumerate(curve)) / n / nt


def render(rows: Iterable[SegmentUplift], qinis: Mapping[str, Mapping[str, float]]) -> str:
    lines = ["Uplift per segment (conversions, treated vs holdout; Newcombe intervals,",
             "Bonferroni-corrected over each trigger's segments)",
             f"{'trigger':<22} {'segment':<10} {'treated':>8} {'holdout':>8} {'uplift':>8}  "
             f"{'interval':<19} verdict"]
    for r in rows:
        lines.append(f"{r.trigger_id:<22} {r.segment:<10} {r.treated:>8,} {r.held:>8,} "
                     f"{r.uplift * 100:>+7.1f}pp [{r.low * 100:+.1f}, {r.high * 100:+.1f}]pp"
                     f"  {r.verdict}")
    for trigger, by_score in qinis.items():
        lines.append(f"Qini of the targeting score, {trigger}: {by_score['score']:+.4f} (0: no "
                     f"better than a random ranking)")
    return "\n".join(lines)
