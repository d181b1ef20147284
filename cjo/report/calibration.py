"""Calibration of the propensity model, per trigger and offer, in ``cjo report``.

Arbitration ranks offers by propensity x value, so a mis-scaled propensity mis-ranks them. The
report pairs each SENT decision's ``propensity`` (the model's estimate when it decided, before
the response was learnt: prequential, test-then-train) with its outcome (``responded``), over
the last ``window`` closed outcomes of each trigger and offer (by decision time), and shows:

- a reliability table of 10 equal-mass bins (sorted by score, equal counts): mean score against
  the observed rate (equal-mass bins: equal-width ones are empty or tiny where scores are rare,
  and ECE from them depends on the bin count);
- ECE = sum over bins of (n_b / N) |rate_b - score_b| (Guo et al. 2017), and the Brier score
  mean((score - outcome)^2);
- a warning once ECE exceeds ``threshold`` over at least ``min_outcomes`` outcomes (fewer are
  too noisy: with 10 bins of 100 outcomes a perfectly calibrated model shows ECE ~0.03).

Only offers actually sent count: a held-out subscriber could not respond.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

BINS = 10
WINDOW = 50_000
THRESHOLD = 0.03
MIN_OUTCOMES = 5_000


@dataclass(frozen=True, slots=True)
class Bin:
    n: int
    score: float  # mean score
    rate: float  # observed rate


@dataclass(frozen=True, slots=True)
class Calibration:
    trigger_id: str
    offer_code: str
    n: int
    bins: list[Bin]
    ece: float
    brier: float
    warn: bool


def measure(pairs: Sequence[tuple[float, bool]], bins: int = BINS) -> tuple[list[Bin], float,
                                                                               float]:
    """(reliability bins, ECE, Brier) of ``(score, outcome)`` pairs."""
    ordered = sorted(pairs, key=lambda p: p[0])
    n = len(ordered)
    table = []
    for b in range(bins):
        chunk = ordered[b * n // bins:(b + 1) * n // bins]
        if chunk:
            table.append(Bin(len(chunk), math.fsum(s for s, _ in chunk) / len(chunk),
                             sum(y for _, y in chunk) / len(chunk)))
    ece = math.fsum(b.n / n * abs(b.rate - b.score) for b in table) if n else 0.0
    brier = math.fsum((s - y) ** 2 for s, y in ordered) / n if n else 0.0
    return table, ece, brier


def calibrations(decisions: Iterable[Mapping[str, Any]], outcomes: Iterable[Mapping[str, Any]],
                 window: int = WINDOW, threshold: float = THRESHOLD,
                 min_outcomes: int = MIN_OUTCOMES) -> list[Calibration]:
    scored = {d["offer_id"]: d for d in decisions
              if d.get("outcome") == "SENT" and d.get("propensity") is not None}
    groups: dict[tuple[str, str], list[tuple[int, float, bool]]] = defaultdict(list)
    seen: set[str] = set()
    for o in outcomes:
        d = scored.get(o["offer_id"])
        if d is None or o["offer_id"] in seen or o.get("group") != "TREATED":
            continue
        seen.add(o["offer_id"])
        groups[(d["trigger_id"], d["offer_code"])].append(
            (int(d["trigger_time"]), float(d["propensity"]), bool(o.get("responded"))))
    out = []
    for (trigger_id, code), rows in sorted(groups.items()):
        recent = sorted(rows)[-window:]
        table, ece, brier = measure([(s, y) for _, s, y in recent])
        out.append(Calibration(trigger_id, code, len(recent), table, ece, brier,
                               len(recent) >= min_outcomes and ece > threshold))
    return out


def render(items: Iterable[Calibration], threshold: float = THRESHOLD,
           min_outcomes: int = MIN_OUTCOMES) -> str:
    lines = [f"Calibration of the propensity model (sent offers, prequential; warning when ECE "
             f"> {threshold:g}",
             f"over >= {min_outcomes:,} outcomes); below each row its reliability, score->rate "
             "per equal-mass bin",
             f"{'trigger':<22} {'offer':<22} {'outcomes':>8} {'ECE':>7} {'Brier':>7}"]
    for c in items:
        flag = "  WARNING: miscalibrated" if c.warn else ""
        lines.append(f"{c.trigger_id:<22} {c.offer_code:<22} {c.n:>8,} {c.ece:>7.4f} "
                     f"{c.brier:>7.4f}{flag}")
        cells = [f"{b.score:.2f}->{b.rate:.2f}" for b in c.bins]
        lines.extend("    " + " ".join(cells[i:i + 8]) for i in range(0, len(cells), 8))
    return "\n".join(lines)
