"""A daily offer budget holds across two workers and every partition: each partition spends its
share, counted in its changelog-backed store, so no coordination is needed."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from cjo import codec
from cjo.adapters.broker import Broker
from cjo.adapters.kafka_admin import read_all
from cjo.adapters.worker_process import WorkerProcess, worker_env
from tests.integration.pipeline import Pipeline, write_log
from tests.integration.test_hot_reload import wait_for_line
from tests.scenarios.default_triggers import DAY
from tests.scenarios.learning import arrivals, profiles

pytestmark = pytest.mark.integration

BUDGET = 8
CATALOGUE = f"""\
policy: {{quiet_hours: null, dedupe: 1m, holdout_pct: 0}}
triggers:
  - id: roaming_welcome
    kind: transition
    params: {{attribute: network, from: home, to: foreign}}
    offers:
      - code: TRAVEL_PASS_1GB_7D
        budget_per_day: {BUDGET}
        channels: [sms]
        templates: {{en: "Welcome to $country! 1 GB for 7 days: reply YES."}}
"""
SUBSCRIBERS = 40


def test_a_daily_budget_holds_across_two_workers(
        broker: Broker, unique_prefix: str, tmp_path: Path) -> None:
    catalogue = tmp_path / "budget.yaml"
    catalogue.write_text(CATALOGUE)
    pipeline = Pipeline(broker.bootstrap, unique_prefix, tmp_path, partitions=4,
                        catalogue=str(catalogue))
    second = WorkerProcess({**worker_env(pipeline.settings, log_level="INFO"),
                            "CJO_DATA_DIR": str(tmp_path / "state-b")}, tmp_path / "b.log")
    try:
        first = pipeline.start_worker("a")
        wait_for_line(first.log_path, '"event": "ready"')
        second.start()
        wait_for_line(second.log_path, '"event": "ready"')
        # and the first worker gave up its partitions in that rebalance: the embedded broker
        # does not fence a member that lost its partitions (it keeps the generation), so a
        # record the old owner processes during the hand-over can miss the new owner's
        # changelog recovery (seen twice in 13 runs: a trip decided without its profile)
        wait_for_line(first.log_path, '"partitions": [0, 1, 2, 3], "dropped"')
        time.sleep(2)
        pipeline.replay(write_log(tmp_path / "profiles.jsonl", profiles(SUBSCRIBERS)))
        pipeline.wait(timeout_s=240)
        lines = arrivals(SUBSCRIBERS, 0) + arrivals(SUBSCRIBERS, 2)
        pipeline.replay(write_log(tmp_path / "trips.jsonl", lines))
        pipeline.wait(timeout_s=240)
        assert second.alive
    finally:
        pipeline.stop()
        second.stop()
    decisions = [codec.decode(r.value or b"")[1] for r in read_all(
        pipeline.settings.broker, [pipeline.topics["decisions"]])]
    by_day = Counter((d["trigger_time"] // DAY, d["outcome"], tuple(d["reasons"]))
                     for d in decisions)
    assert all(n == 1 for n in Counter(d["offer_id"] for d in decisions).values())
    print(sorted(by_day.items()))
    days = sorted({day for day, _, _ in by_day})
    assert len(days) == 2
    for day in days:
        assert by_day[(day, "SENT", ("channel:sms",))] == BUDGET
        assert by_day[(day, "SUPPRESSED", (f"budget:TRAVEL_PASS_1GB_7D:{BUDGET}/day",))] == (
            SUBSCRIBERS - BUDGET)
    for log in (tmp_path / "a.log", tmp_path / "b.log"):  # both workers spent budget
        assert '"event": "offer"' in log.read_text(errors="replace")
    offers = read_all(pipeline.settings.broker, [pipeline.topics["sms"]])
    assert len({codec.decode(o.value or b"")[1]["offer_id"] for o in offers}) == 2 * BUDGET
