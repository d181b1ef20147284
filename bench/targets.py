"""The issue's targets for ``make bench``, judged on one run's rows (ratios, since absolute figures
drift on a shared machine): at 100,000 subscribers, one process at least 3x the naive Faust agent
and at least 0.10 of the plain-consumer ceiling, a process per core at least 5x the agent, and
the latency from production to offer, paced at half of one process's rate, p99 under 1 s; an
inbound next-best-offer request under that load, p99 under 50 ms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from bench.report import Results


@dataclass(frozen=True)
class Target:
    label: str
    key: str  # the row judged
    measure: Literal["vs_baseline", "vs_ceiling", "value"]
    bar: float
    at_least: bool  # True: the figure must be >= bar; False: < bar


TARGETS = (
    Target("1 process >= 3x the naive Faust agent", "cjo_1", "vs_baseline", 3.0, True),
    Target("a process per core >= 5x the naive Faust agent", "cjo_n", "vs_baseline", 5.0, True),
    Target("1 process >= 0.10 of the plain-consumer ceiling", "cjo_1", "vs_ceiling", 0.10, True),
    Target("latency p99, paced at half of 1 process's rate, < 1,000 ms", "latency_p99", "value",
           1000.0, False),
    Target("inbound next best offer p99 under that load < 50 ms", "inbound_p99", "value", 50.0,
           False),
)


# docs/gateways.md: one gateway process against loopback endpoints
GATEWAY_TARGETS = (
    Target("gateway push, 1 process, >= 1,000 offers/s", "gateway_push", "value", 1000.0, True),
    Target("gateway email, 1 process, >= 200 offers/s", "gateway_email", "value", 200.0, True),
    Target("gateway sms, 1 process, >= 500 offers/s", "gateway_sms", "value", 500.0, True),
    Target("event to delivery receipt p99 (sms, push) < 2,000 ms", "receipt_p99", "value",
           2000.0, False),
)


def judge(results: Results, targets: tuple[Target, ...] = TARGETS) -> list[dict[str, Any]]:
    """One entry a target: its label, the bar, the figure measured (None when the row failed or
    is missing) and ``met`` (None then too)."""
    results.compute_ratios()
    rows = {row.key: row for row in results.rows}
    judged = []
    for target in targets:
        row = rows.get(target.key)
        figure = None if row is None else getattr(row, target.measure)
        met = None if figure is None else (
            figure >= target.bar if target.at_least else figure < target.bar)
        judged.append({"target": target.label, "row": target.key, "bar": target.bar,
                       "measured": figure, "met": met})
    return judged


TARGET_SUBSCRIBERS = 100_000  # the scale the targets are set at


def targets_text(judged: list[dict[str, Any]], subscribers: int = TARGET_SUBSCRIBERS) -> str:
    lines = ["against the targets" + ("" if subscribers == TARGET_SUBSCRIBERS else
             f" (set at {TARGET_SUBSCRIBERS:,} subscribers; this run has {subscribers:,})") + ":"]
    for entry in judged:
        figure = entry["measured"]
        shown = "-" if figure is None else (
            f"{figure:,.0f} ms" if entry["row"].startswith(("latency", "inbound", "receipt")) else
            f"{figure:,.0f}/s" if entry["row"].startswith(("gateway", "sms")) else
            f"{figure:.2f}x")
        verdict = {True: "met", False: "MISSED", None: "not measured"}[entry["met"]]
        lines.append(f"  {entry['target']:<62} {shown:>10}  {verdict}")
    return "\n".join(lines)
