"""The bench's verdicts: the issue's targets on one run's rows, the soak's after its warm-up, the
broker named above the table, and the run refused where Apache Kafka would refuse its records."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.brokers import FUTURE_LIMIT_MS, check_times
from bench.chaos import soak_verdict, verdict_text, warmup_minutes
from bench.report import BASELINE, CEILING, Results, Row, heading
from bench.stages import Broker as Run
from bench.stages import stage_env
from bench.targets import GATEWAY_TARGETS, judge, targets_text
from cjo.errors import ConfigError


def _results(cjo_1: float, cjo_n: float | None, p99: float | None,
             inbound_p99: float | None = None) -> Results:
    results = Results(setup={"broker": "Apache Kafka 4.2.2", "subscribers": 100_000,
                             "events": 200_000, "partitions": 8, "cpus": 2})
    results.add(Row(CEILING, "ceiling", 100_000.0, "events/s", compare=True))
    results.add(Row(BASELINE, "baseline", 3_000.0, "events/s", compare=True))
    results.add(Row("cjo_1", "cjo, 1", cjo_1, "events/s", compare=True))
    results.add(Row("cjo_n", "cjo, 2", cjo_n, "events/s", compare=True))
    results.add(Row("latency_p99", "latency p99", p99, "ms"))
    if inbound_p99 is not None:
        results.add(Row("inbound_p99", "inbound p99", inbound_p99, "ms"))
    return results


def test_targets_met() -> None:
    judged = judge(_results(cjo_1=10_000.0, cjo_n=15_000.0, p99=800.0, inbound_p99=49.0))
    assert [j["met"] for j in judged] == [True, True, True, True, True]
    assert judged[0]["measured"] == pytest.approx(10_000 / 3_000)
    assert judged[2]["measured"] == pytest.approx(0.10)  # exactly at the bar: met


def test_targets_missed_and_not_measured() -> None:
    judged = judge(_results(cjo_1=8_000.0, cjo_n=None, p99=1_000.0, inbound_p99=50.0))
    # a p99 of 1 s is not under 1 s
    assert [j["met"] for j in judged] == [False, None, False, False, False]
    text = targets_text(judged).splitlines()
    assert text[1].endswith("2.67x  MISSED")
    assert text[2].endswith("not measured")
    assert text[4].endswith("1,000 ms  MISSED")
    assert text[5].endswith("50 ms  MISSED")  # an inbound p99 of 50 ms is not under 50
    assert text[0] == "against the targets:"
    quick = targets_text(judged, subscribers=20_000).splitlines()[0]
    assert quick == "against the targets (set at 100,000 subscribers; this run has 20,000):"


def test_heading_names_the_broker() -> None:
    line = heading(_results(1.0, 1.0, 1.0))
    assert line == ("broker: Apache Kafka 4.2.2, 100,000 subscribers, 200,000 events, "
                    "8 partitions, 2 cores")


def _minute(n: int, p99: float | None, rss: float) -> dict[str, object]:
    return {"minute": n, "p99_ms": p99, "rss_mb": rss}


def test_soak_judges_the_minutes_after_the_warm_up() -> None:
    assert warmup_minutes(60) == 10 and warmup_minutes(3) == 1 and warmup_minutes(12) == 2
    # minute 1 (warm-up) is slow and small, the last minute holds the input's end: neither judged
    minutes = [_minute(1, 5_000.0, 300.0), _minute(2, 200.0, 500.0), _minute(3, 900.0, 520.0),
               _minute(4, 3_000.0, 530.0)]
    verdict = soak_verdict(minutes)
    assert verdict["worst_p99_ms"] == 900.0 and verdict["p99_met"]
    assert verdict["rss_growth"] == pytest.approx(0.06) and verdict["rss_flat"]
    assert "met" in verdict_text(verdict) and "flat" in verdict_text(verdict)


def test_soak_missed_one_slow_minute_and_growing_memory() -> None:
    minutes = [_minute(1, 50.0, 300.0), _minute(2, 200.0, 500.0), _minute(3, 1_200.0, 600.0),
               _minute(4, 100.0, 700.0)]
    verdict = soak_verdict(minutes)
    assert not verdict["p99_met"] and verdict["minutes_over_1s"] == [3]
    assert not verdict["rss_flat"]
    assert "MISSED" in verdict_text(verdict) and "NOT flat" in verdict_text(verdict)


@dataclass
class _Broker:
    workarounds: bool


def test_kafka_refuses_records_more_than_an_hour_ahead() -> None:
    now = 1_800_000_000_000
    check_times(now + FUTURE_LIMIT_MS, _Broker(workarounds=False), now)  # at the limit: taken
    with pytest.raises(ConfigError, match="an hour from now"):
        check_times(now + FUTURE_LIMIT_MS + 1, _Broker(workarounds=False), now)
    check_times(now + 10 * FUTURE_LIMIT_MS, _Broker(workarounds=True), now)  # embedded: any


@pytest.mark.parametrize(("workarounds", "told"), [(False, "false"), (True, "true")])
def test_workers_on_kafka_are_told_to_drop_the_embedded_brokers_workarounds(
        tmp_path: Path, workarounds: bool, told: str) -> None:
    run = Run("127.0.0.1:1", 8, tmp_path, workarounds=workarounds)
    assert stage_env(run, "s", tmp_path / "d")["CJO_EMBEDDED_BROKER_WORKAROUNDS"] == told


def test_event_to_receipt_p99_is_judged_in_ms_against_two_seconds() -> None:
    results = Results(setup={})
    results.add(Row("receipt_p99", "event to receipt p99", 1_999.0, "ms"))
    [entry] = [j for j in judge(results, GATEWAY_TARGETS) if j["row"] == "receipt_p99"]
    assert entry["met"] is True and entry["bar"] == 2_000.0
    line = next(x for x in targets_text([entry]).splitlines() if "receipt" in x)
    assert line.endswith("1,999 ms  met")
    results.rows[-1].value = 2_000.0
    [entry] = [j for j in judge(results, GATEWAY_TARGETS) if j["row"] == "receipt_p99"]
    assert entry["met"] is False
