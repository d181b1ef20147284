"""The worker's web server is on: /readyz says 200 once it has recovered and owns its partitions,
/livez says 200 while it runs; on SIGTERM it drains: /readyz turns 503 ("draining") while
/livez stays 200, input stops, what it processed is committed, it leaves the group and exits 0."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from cjo import cli
from cjo.adapters.broker import Broker
from tests.integration.http_client import call, free_port, get_json, wait_until
from tests.integration.pipeline import Pipeline, reference_decisions, simulated_log

pytestmark = [pytest.mark.integration, pytest.mark.kafka]


def scrape(base: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Every sample of the worker's /metrics, by sample name, read by Prometheus' parser."""
    status, body = call(f"{base}/metrics")
    assert status == 200
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def check_metrics(base: str, pipeline: Pipeline) -> None:
    """What /metrics says matches what the worker read and published."""
    summary = pipeline.collect()
    samples = scrape(base)
    events = {labels["stream"]: value for labels, value in samples["cjo_events_total"]}
    read = {stream: float(n) for stream, n in summary.events.items()}
    inputs = set(pipeline.topics.inputs().values())
    refused = [d for d in pipeline.dead_letters() if d["source_topic"] in inputs]
    assert len(refused) == 1  # the worker's (the replay refuses a few lines of the log itself)
    assert sum(events.values()) == sum(read.values()) - 1  # read, not decided
    offers = {labels["channel"]: value for labels, value in samples["cjo_offers_total"]}
    assert sum(offers.values()) == len(summary.offers) > 0
    for channel, count in offers.items():
        assert count == sum(1 for o in summary.offers if o["channel"].lower() == channel)
    sent = sum(v for labels, v in samples["cjo_decisions_total"] if labels["outcome"] == "SENT")
    assert sent == len(summary.offers)
    # every decision's ingest-to-publish time is in the histogram (seconds, +Inf bucket)
    (_, count), = samples["cjo_ingest_to_publish_seconds_count"]
    assert count == len(summary.decisions)
    lag = [value for _labels, value in samples["cjo_consumer_lag"]]
    assert lag and all(v == 0 for v in lag)  # consumed: nothing behind
    assert sum(v for _l, v in samples["cjo_timers_stored"]) > 0  # response windows wait
    assert samples["cjo_ready"] == [({}, 1.0)]
    assert ({"kind": "invalid"}, 1.0) in samples["cjo_dead_letters_total"]
    assert samples["cjo_rebalances_total"][0][1] >= 1


def check_commands(base: str, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch,
                   capsys: pytest.CaptureFixture[str]) -> None:
    """cjo tail shows the records as lines, a dead letter with its reason and bytes; cjo state
    shows her state, asked of the worker."""
    monkeypatch.setenv("CJO_BROKER", pipeline.settings.broker)
    monkeypatch.setenv("CJO_TOPIC_PREFIX", pipeline.settings.topic_prefix)
    summary = pipeline.collect()
    capsys.readouterr()
    assert cli.main(["tail", "dlq"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == summary.dead_letters and all(" DEAD " in x for x in lines)
    (line,) = [x for x in lines if "not avro \\x00\\xff at all" in x]  # bytes, readable
    assert f"{pipeline.topics['usage']}[" in line and "@" in line  # where it came from
    assert cli.main(["tail", "offers", "--last", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    newest = sorted(summary.offers, key=lambda o: o["published_at"])[-3:]
    assert newest and len(lines) == len(newest)
    assert all(o["offer_id"] in "".join(lines) for o in newest)
    assert cli.main(["tail", "decisions", "--last", "1000"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(summary.decisions) and any(" SENT " in x for x in lines)
    imsi = newest[-1]["imsi"]
    assert cli.main(["state", imsi, "--worker", base]) == 0
    text = capsys.readouterr().out
    assert f"imsi: {imsi}" in text and "consent:" in text and "caps:" in text
    assert "contacts:" in text and "answered_by: " + base in text


def test_ready_live_then_drain_on_sigterm(broker: Broker, unique_prefix: str, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    pipeline = Pipeline(broker.bootstrap, unique_prefix, tmp_path, partitions=2,
                        web_port=port, drain_delay_s=2.0)
    base = f"http://127.0.0.1:{port}"
    worker = pipeline.start_worker()
    try:
        wait_until("/readyz 200", lambda: get_json(f"{base}/readyz")[0] == 200, 90,
                   worker.log_tail)
        assert get_json(f"{base}/livez") == (200, {"status": "ok", "reason": "ok"})
        log = simulated_log(tmp_path / "log.jsonl", 20, 1, 5)
        pipeline.replay(log)
        pipeline.produce_raw("usage", b"234150000000001", b"not avro \x00\xff at all")
        pipeline.wait(timeout_s=120)
        # the last offers come from timers the last records made due (fired on a tick): all in
        expected = len([d for d in reference_decisions(log, partitions=2)
                        if d["outcome"] == "SENT"])
        wait_until("every offer", lambda: len(pipeline.collect().offers) == expected, 60,
                   worker.log_tail)
        check_metrics(base, pipeline)
        check_commands(base, pipeline, monkeypatch, capsys)
        worker.terminate()
        # draining: not ready any more, still alive, still answering
        wait_until("/readyz 503 draining",
                   lambda: get_json(f"{base}/readyz") == (503, {"status": "not_ready",
                                                                "reason": "draining"}),
                   20, worker.log_tail)
        assert get_json(f"{base}/livez")[0] == 200
        code = worker.wait_exit(60)
    finally:
        worker.kill()
    assert code == 0, worker.log_tail()
    text = worker.log_path.read_text()
    assert '"uncommitted": 0, "event": "drained"' in text, worker.log_tail()
    ready = [orjson.loads(x) for x in text.splitlines() if '"event": "ready"' in x]
    assert len(ready) == 1 and ready[0]["partitions"] == [0, 1]
    assert ready[0]["time_mode"] == "replay" and ready[0]["catalogue"]
    (stopped,) = [orjson.loads(x) for x in text.splitlines() if '"event": "stopped"' in x]
    assert stopped["dead_letters"] == 1 and stopped["offers"] > 0
    assert "]: Starting..." not in text  # faust's start-up chatter: DEBUG only
    assert pipeline.consumed() == sum(pipeline.end_offsets.values())
