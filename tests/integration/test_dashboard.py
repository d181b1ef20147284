"""The live dashboard in a real headless browser (Debian's chromium, selenium), during a replay
on the session's Apache Kafka: the page connects to the server-sent events, its figures appear
(events per second, decisions, offers by trigger and channel, latency percentiles, lag, outcome
reasons, a dead letter, take-up and uplift with its interval) and change as records arrive, and
at the end its counts are what the topics hold. A screenshot is kept in test-artifacts/."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer

from cjo import codec
from cjo.adapters.broker import Broker
from cjo.adapters.kafka_admin import producer_config, read_all
from tests.integration.browser import headless_chromium, screenshot
from tests.integration.http_client import free_port, get_json, wait_until
from tests.integration.pipeline import Pipeline, simulated_log

pytestmark = [pytest.mark.integration, pytest.mark.kafka]
TRIGGER = "browser_check"


def _text(driver: Any, element_id: str) -> str:
    return str(driver.find_element("id", element_id).text)


def _number(driver: Any, element_id: str) -> float:
    text = _text(driver, element_id).replace(",", "")
    return float(text) if text not in ("", "–") else -1.0


def _produce_outcomes(pipeline: Pipeline) -> None:
    """Closed outcomes of a trigger of this test's own: 40 treated (12 converted), 40 holdout
    (4 converted), as the worker would write them."""
    producer = Producer(producer_config(pipeline.settings.broker))
    for i in range(80):
        group, converted = ("TREATED", i < 12) if i < 40 else ("HOLDOUT", i < 44)
        record = {"offer_id": f"browser-{i}", "imsi": f"23415{i:010d}", "trigger_id": TRIGGER,
                  "offer_code": "CHECK", "group": group, "responded": False,
                  "converted": converted, "decided_at": 1_767_225_600_000,
                  "closed_at": 1_767_312_000_000}
        producer.produce(pipeline.topics["outcomes"], codec.encode("Outcome", record),
                         key=record["imsi"].encode())
    producer.flush(10)


def test_dashboard_live_in_a_browser(broker: Broker, unique_prefix: str, tmp_path: Path) -> None:
    port = free_port()
    pipeline = Pipeline(broker.bootstrap, unique_prefix, tmp_path, partitions=2, web_port=port)
    base = f"http://127.0.0.1:{port}"
    log = simulated_log(tmp_path / "log.jsonl", 20, 1, 11)
    worker = pipeline.start_worker()
    try:
        wait_until("/readyz 200", lambda: get_json(f"{base}/readyz")[0] == 200, 120,
                   worker.log_tail)
        with headless_chromium() as driver:
            driver.get(f"{base}/dashboard")
            wait_until("the page live", lambda: driver.find_element(
                "id", "status").get_attribute("data-state") == "live", 30, worker.log_tail)
            # a day of events over ~8 s: the page is read while it flows
            replay = pipeline.replay_in_background(log, speed=86_400 / 8)
            wait_until("decisions on the page", lambda: _number(driver, "decisions-total") > 0,
                       90, worker.log_tail)
            first = _number(driver, "decisions-total")
            wait_until("events per second above 0",
                       lambda: _number(driver, "events-per-s") > 0, 60, worker.log_tail)
            wait_until("the decisions count to move", lambda: _number(
                driver, "decisions-total") > first, 60, worker.log_tail)
            pipeline.produce_raw("usage", b"234150000000001", b"\x00not avro")
            _produce_outcomes(pipeline)
            replay.join(120)
            pipeline.wait(timeout_s=120)
            time.sleep(3)  # a progress reading (every 2 s) after the last commit
            wait_until("the take-up row", lambda: TRIGGER in _text(driver, "take-up"), 30)
            dead_letters = len(read_all(broker.bootstrap, [pipeline.topics["dlq"]]))
            wait_until("the dead letters", lambda: _number(
                driver, "dead-letters-total") == dead_letters, 30,
                lambda: _text(driver, "dead-letters") + "\n" + worker.log_tail())
            wait_until("lag back to 0", lambda: _number(driver, "lag-total") == 0, 30)
            path = screenshot(driver, "dashboard")
            snapshots = int(driver.find_element("tag name", "body").get_attribute(
                "data-snapshots"))
            page = {name: _text(driver, name) for name in (
                "offers", "outcomes", "reasons", "latency", "take-up", "dead-letters")}
            decisions_on_page = _number(driver, "decisions-total")
            offers_on_page = _number(driver, "offers-total")
            events_on_page = _number(driver, "events-total")
    finally:
        pipeline.stop()
    assert path.stat().st_size > 10_000
    assert snapshots >= 5  # refreshed live, once a second
    records = read_all(broker.bootstrap, [pipeline.topics["decisions"]])
    decisions = {d["decision_id"]: d for d in (codec.decode(r.value)[1] for r in records)}
    sent = [d for d in decisions.values() if d["outcome"] == "SENT"]
    assert decisions_on_page == len(decisions) > 0
    assert offers_on_page == len(sent) > 0
    assert events_on_page == sum(pipeline.end_offsets.values())
    for decision in sent:  # every trigger that sent shows in the offers table, with its channel
        assert decision["trigger_id"] in page["offers"]
        assert decision["channel"].lower() in page["offers"]
    for outcome in {d["outcome"] for d in decisions.values()}:
        assert outcome in page["outcomes"]
    latency = page["latency"].split(" / ")
    assert len(latency) == 3 and all(part.endswith(" s") for part in latency), latency
    # take-up 30.0% against 10.0%: uplift +20.0 pts, interval above 0 (Newcombe), "uplift"
    assert "30.0%" in page["take-up"] and "10.0%" in page["take-up"]
    assert "+20.0 pts" in page["take-up"] and "uplift" in page["take-up"]
    assert dead_letters >= 1 and "not Avro" in page["dead-letters"]  # ours, besides the log's
