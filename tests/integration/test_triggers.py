"""Every default trigger through a real worker on the embedded broker: the decisions published
are exactly the scenario's, and exactly what the domain decides in process."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from cjo import codec
from cjo.adapters.broker import Broker
from tests.integration.pipeline import Pipeline, reference_decisions, write_log
from tests.scenarios.default_triggers import EXPECTED, REASONS, outcomes, scenario

pytestmark = pytest.mark.integration


def test_default_triggers_fire_once_when_they_should(
        broker: Broker, unique_prefix: str, tmp_path: Path) -> None:
    log = write_log(tmp_path / "scenario.jsonl", scenario())
    pipeline = Pipeline(broker.bootstrap, unique_prefix, tmp_path, partitions=4)
    summary = pipeline.run(log, timeout_s=180)
    assert outcomes(summary.decisions) == sorted(EXPECTED)
    for d in summary.decisions:
        key = (int(d["imsi"][5:]), d["trigger_id"], d["outcome"])
        if key in REASONS:
            assert d["reasons"] == REASONS[key], key
    assert sorted(d["decision_id"] for d in summary.decisions) == sorted(
        d["decision_id"] for d in reference_decisions(log))
    sent = {d["offer_id"] for d in summary.decisions if d["outcome"] == "SENT"}
    assert {o["offer_id"] for o in summary.offers} == sent
    assert len(summary.offers) == len(sent)  # once each
    stadium = [o for o in summary.offers if o["trigger_id"] == "stadium_arrival"]
    assert "Wembley Stadium" in stadium[0]["message"]


def test_scenario_log_lines_are_valid_recorded_log_lines() -> None:
    for line in scenario():
        assert codec.parse_log_line(orjson.dumps(line)).stream == line["topic"]
