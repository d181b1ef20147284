"""The bench's broker: Apache Kafka where it can run, the embedded one with --embedded or, said
in one line, where Kafka cannot run; the broker scan on either."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.broker_scan import broker_scan
from bench.brokers import name, open_broker
from bench.stages import Broker as Run
from bench.stages import stage_env
from cjo.adapters.broker import Broker

pytestmark = pytest.mark.integration


def test_without_java_the_bench_says_so_and_runs_on_the_embedded_broker(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))  # no bin/java there: Kafka cannot run
    with open_broker(embedded=False) as broker:
        assert broker.workarounds and name(broker) == "embedded (Tansu)"
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("bench: Apache Kafka cannot run here (Apache Kafka needs Java 17")
    assert lines[0].endswith("; on the embedded broker instead")


def test_embedded_on_request_without_a_word(capsys: pytest.CaptureFixture[str]) -> None:
    with open_broker(embedded=True) as broker:
        assert name(broker) == "embedded (Tansu)"
    assert capsys.readouterr().err == ""


@pytest.mark.kafka
def test_apache_kafka_by_default_and_its_workers_drop_the_workarounds(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with open_broker(embedded=False) as broker:
        assert name(broker).startswith("Apache Kafka 4.")
        run = Run(broker.bootstrap, 1, tmp_path, workarounds=broker.workarounds)
        env = stage_env(run, "s", tmp_path / "data")
    assert env["CJO_EMBEDDED_BROKER_WORKAROUNDS"] == "false"
    assert capsys.readouterr().err == ""


def test_the_broker_scan_reads_the_brokers_cpu(broker: Broker) -> None:
    """A small scan on the session's broker (Apache Kafka where it can run): each round counts
    the batches stored and costs the broker some CPU."""
    rounds = broker_scan(broker, rounds=2, per_round=300, trips=20)
    assert [r.batches for r in rounds] == [320, 640]
    assert all(r.broker_cpu_ms > 0 and r.round_trip_ms > 0 for r in rounds)
