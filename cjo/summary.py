"""The demo's closing summary, computed from what the engine published (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cjo.logs import mask


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil without floats drifting
    return float(ordered[int(rank) - 1])


@dataclass
class Summary:
    events: Mapping[str, int]
    dead_letters: int
    offers: Sequence[Mapping[str, Any]]
    decisions: Sequence[Mapping[str, Any]]
    closed: Sequence[Mapping[str, Any]] = ()  # Outcome records (closed response windows)
    offers_by: Counter[tuple[str, str]] = field(init=False)
    outcomes: Counter[str] = field(init=False)
    latencies: list[int] = field(init=False)

    def __post_init__(self) -> None:
        self.offers_by = Counter((o["trigger_id"], o["channel"]) for o in self.offers)
        self.outcomes = Counter(d["outcome"] for d in self.decisions)
        self.latencies = [o["published_at"] - o["ingested_at"] for o in self.offers]

    def render(self) -> str:
        lines = ["events read per stream:"]
        lines += [f"  {stream:<12} {count:>8}" for stream, count in sorted(self.events.items())]
        lines.append(f"dead letters: {self.dead_letters}")
        lines.append("decisions: " + (", ".join(
            f"{k} {v}" for k, v in sorted(self.outcomes.items())) or "none"))
        lines += outcome_reasons(self.decisions)
        by_trigger = Counter((d["trigger_id"], d["outcome"]) for d in self.decisions)
        lines.append("decisions per trigger:")
        for trigger in sorted({t for t, _ in by_trigger}):
            counts = ", ".join(f"{o} {n}" for (t, o), n in sorted(by_trigger.items())
                               if t == trigger)
            lines.append(f"  {trigger:<26} {counts}")
        lines.append("offers per trigger and channel:")
        lines += [f"  {t:<26} {c:<6} {n:>6}" for (t, c), n in sorted(self.offers_by.items())]
        lines.append(f"offers: {len(self.offers)}")
        lines.append(f"ingest-to-publish latency (includes queueing when a log is replayed at max "
                     f"speed): p50 {percentile(self.latencies, 50):.0f} ms, "
                     f"p99 {percentile(self.latencies, 99):.0f} ms")
        return "\n".join(lines)


def reason_key(reason: str) -> str:
    """A reason as counted in summaries: ``late:7h>1h`` -> ``late>1h`` (how late varies per
    decision, the bound it broke does not); every other reason as it is."""
    if reason.startswith("late:") and ">" in reason:
        return "late>" + reason.rsplit(">", 1)[1]
    return reason


def outcome_reasons(decisions: Sequence[Mapping[str, Any]], indent: str = "  ") -> list[str]:
    """``decisions by outcome and reason:`` then one line per outcome, its count, and how many
    of its decisions gave each reason (most frequent first; a decision may give several)."""
    if not decisions:
        return []
    outcomes = Counter(str(d["outcome"]) for d in decisions)
    reasons: dict[str, Counter[str]] = {o: Counter() for o in outcomes}
    for d in decisions:
        reasons[str(d["outcome"])].update(reason_key(r) for r in d.get("reasons") or ())
    lines = ["decisions by outcome and reason:"]
    for outcome, count in sorted(outcomes.items()):
        why = ", ".join(f"{r} {n}" for r, n in
                        sorted(reasons[outcome].items(), key=lambda rn: (-rn[1], rn[0])))
        lines.append(f"{indent}{outcome:<10} {count:>6}  {why or '-'}")
    return lines


def offer_line(offer: Mapping[str, Any]) -> str:
    destination = mask(str(offer["destination"]))  # printed: an MSISDN or email never in clear
    return (f"{offer['channel']:<5} {destination:<25} {offer['trigger_id']:<24} "
            f"{offer['offer_code']:<20} {offer['message']}")
