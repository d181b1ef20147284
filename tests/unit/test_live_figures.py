"""The dashboard's figures from decoded records: counts, reasons, latency, take-up and uplift,
dead letters, events per second and lag."""

from __future__ import annotations

import pytest

from cjo.report.live_figures import LiveFigures, percentile, reason_kind
from cjo.report.uplift import newcombe


def _decision(i: int, outcome: str = "SENT", trigger: str = "roaming", channel: str = "SMS",
              reasons: tuple[str, ...] = (), latency_ms: int = 100) -> dict[str, object]:
    return {"decision_id": f"d{i}", "offer_id": f"o{i}", "outcome": outcome,
            "trigger_id": trigger, "channel": channel, "reasons": list(reasons),
            "ingested_at": 1_000_000, "published_at": 1_000_000 + latency_ms}


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.95) == 95
    assert percentile(values, 0.99) == 99
    assert percentile([3.0], 0.99) == 3.0
    assert percentile([], 0.5) is None


def test_reason_kind_drops_the_figures() -> None:
    assert reason_kind("frequency_cap:2/24h") == "frequency_cap"
    assert reason_kind("no_consent") == "no_consent"
    assert reason_kind("") == "unknown"
    assert reason_kind("not Avro single-object encoded (starts 006e6f74)") == (
        "not Avro single-object encoded")


def test_decisions_counted_once_by_outcome_reason_trigger_and_channel() -> None:
    figures = LiveFigures()
    figures.add_decision(_decision(1, channel="SMS", latency_ms=100))
    figures.add_decision(_decision(1, channel="SMS", latency_ms=100))  # re-published: once
    figures.add_decision(_decision(2, channel="PUSH", latency_ms=300))
    figures.add_decision(_decision(3, outcome="SUPPRESSED", channel="PUSH",
                                   reasons=("frequency_cap:2/24h", "quiet_hours"),
                                   latency_ms=2_000))
    snap = figures.snapshot()
    assert snap["decisions"] == {"SENT": 2, "SUPPRESSED": 1}
    assert snap["reasons"] == {"frequency_cap": 1, "quiet_hours": 1}
    assert snap["offers"] == [{"trigger": "roaming", "channel": "PUSH", "count": 1},
                              {"trigger": "roaming", "channel": "SMS", "count": 1}]
    assert snap["latency_s"] == {"p50": 0.3, "p95": 2.0, "p99": 2.0}


def test_latency_over_the_last_window_only() -> None:
    figures = LiveFigures(latency_window=2)
    for i, ms in enumerate((5_000, 100, 200)):
        figures.add_decision(_decision(i, latency_ms=ms))
    assert figures.snapshot()["latency_s"]["p99"] == 0.2


def test_take_up_and_uplift_with_its_interval() -> None:
    figures = LiveFigures()
    n = 0
    for group, size, converted in (("TREATED", 40, 12), ("HOLDOUT", 40, 4)):
        for i in range(size):
            n += 1
            outcome = {"offer_id": f"o{n}", "trigger_id": "roaming", "group": group,
                       "converted": i < converted}
            figures.add_outcome(outcome)
            figures.add_outcome(outcome)  # a duplicate counts once
    rows = {row["trigger"]: row for row in figures.snapshot()["take_up"]}
    assert list(rows) == ["roaming", "(all)"]
    row = rows["roaming"]
    assert (row["treated"], row["holdout"]) == (40, 40)
    assert row["rate_treated"] == pytest.approx(0.3)
    assert row["rate_holdout"] == pytest.approx(0.1)
    assert (row["uplift"], row["low"], row["high"]) == pytest.approx(newcombe(12, 40, 4, 40))
    assert row["verdict"] == "uplift"
    assert rows["(all)"]["treated"] == 40


def test_dead_letters_by_kind() -> None:
    figures = LiveFigures()
    figures.add_dead_letter({"error": "undecodable: not Avro"})
    figures.add_dead_letter({"error": "undecodable: truncated"})
    figures.add_dead_letter({"error": "future_event_time: 3 days ahead"})
    assert figures.snapshot()["dead_letters"] == {"undecodable": 2, "future_event_time": 1}


def test_events_per_second_and_lag_from_the_group_progress() -> None:
    figures = LiveFigures()
    a, b = ("cjo.events.usage", 0), ("cjo.events.usage", 1)
    figures.progress({a: 100, b: -1}, {a: 150, b: 30}, now=10.0)
    snap = figures.snapshot()
    assert snap["events_per_s"] == 0.0  # one reading: no rate yet
    assert snap["lag"] == {"total": 80, "partitions": {"cjo.events.usage[0]": 50,
                                                       "cjo.events.usage[1]": 30}}
    figures.progress({a: 150, b: 30}, {a: 150, b: 40}, now=12.0)
    snap = figures.snapshot()
    assert snap["events_per_s"] == 40.0
    assert snap["events_total"] == 180
    assert snap["lag"]["total"] == 10
