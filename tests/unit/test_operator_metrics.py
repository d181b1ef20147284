"""The worker's /metrics text, read by Prometheus' own parser; the stall check behind /livez; a
subscriber's state made readable."""

from __future__ import annotations

from collections import Counter

import rocksdict
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from cjo.catalogue.validate import default_catalogue
from cjo.report.state_view import readable
from cjo.state.model import SubscriberState
from cjo.timers import Timer
from streams.health import StallWatch
from streams.metrics import Tally, TimerCount, WorkerCollector, WorkerSource, count_timers


def scrape(source: WorkerSource) -> dict[str, list[tuple[dict[str, str], float]]]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(WorkerCollector(source))
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def test_families_follow_prometheus_conventions() -> None:
    tally = Tally()
    decisions = [{"outcome": "SENT", "reasons": ["channel:sms"], "ingested_at": 1_000},
                 {"outcome": "SUPPRESSED", "reasons": ["no_consent", "late:2h>1h"],
                  "ingested_at": 1_000},
                 {"outcome": "SUPPRESSED", "reasons": ["late:3h>1h"], "ingested_at": 900}]
    tally.decided(decisions, [{"channel": "SMS"}], now_ms=1_030)
    tally.answered("owner", 0.004)
    tally.answered("degraded", 0.2)
    source = WorkerSource()
    source.counts = lambda: Counter({"usage": 7, "dead_letters": 2, "timers_fired": 3})
    source.tally = lambda: tally
    source.lag = lambda: {("cjo.events.usage", 0): 5}
    source.timers = lambda: [TimerCount(0, 10, 4)]
    source.model = lambda: (12, {"bill_shock": 0.71, "new": None})
    source.rebalances = lambda: 2
    source.ready = lambda: True
    s = scrape(source)
    assert ({"stream": "usage"}, 7.0) in s["cjo_events_total"]
    assert ({"kind": "invalid"}, 2.0) in s["cjo_dead_letters_total"]
    assert dict((tuple(sorted(k.items())), v) for k, v in s["cjo_decisions_total"]) == {
        (("outcome", "SENT"), ("reason", "channel")): 1.0,
        (("outcome", "SUPPRESSED"), ("reason", "no_consent")): 1.0,
        (("outcome", "SUPPRESSED"), ("reason", "late")): 2.0}
    assert ({"channel": "sms"}, 1.0) in s["cjo_offers_total"]
    # seconds: 30 ms twice, 130 ms once
    buckets = {k["le"]: v for k, v in s["cjo_ingest_to_publish_seconds_bucket"]}
    assert buckets["0.025"] == 0 and buckets["0.05"] == 2 and buckets["+Inf"] == 3
    assert abs(s["cjo_ingest_to_publish_seconds_sum"][0][1] - 0.19) < 1e-9
    answers = {k["answer"]: v for k, v in s["cjo_inbound_request_seconds_count"]}
    assert answers == {"owner": 1.0, "degraded": 1.0}
    assert s["cjo_consumer_lag"] == [({"topic": "cjo.events.usage", "partition": "0"}, 5.0)]
    assert s["cjo_timers_stored"] == [({"partition": "0"}, 10.0)]
    assert s["cjo_timers_due"] == [({"partition": "0"}, 4.0)]
    assert s["cjo_model_version"] == [({}, 12.0)]
    assert s["cjo_model_auc"] == [({"model": "bill_shock"}, 0.71)]
    assert s["cjo_rebalances_total"] == [({}, 2.0)]
    assert s["cjo_timers_fired_total"] == [({}, 3.0)]


def test_timers_are_counted_in_rocksdb(tmp_path: object) -> None:
    db = rocksdict.Rdict(str(tmp_path), options=rocksdict.Options(raw_mode=True))
    try:
        for due in (100, 200, 300):
            db[Timer(due, "234150000000001", "t", str(due)).key()] = b"1"
        db[b"234150000000001"] = b"{}"  # a subscriber's state: not a timer
        assert count_timers(db, watermark=200) == (3, 2)
    finally:
        db.close()


def test_a_stall_is_records_waiting_while_the_commit_stands_still() -> None:
    clock = [0.0]
    watch = StallWatch(60.0, clock=lambda: clock[0])
    watch.observe({"a": (10, 10), "b": (5, 9)})
    clock[0] = 59.0
    watch.observe({"a": (10, 10), "b": (5, 12)})
    assert watch.stalled() == []
    clock[0] = 61.0
    watch.observe({"a": (10, 10), "b": (5, 12)})
    assert watch.stalled() == ["b"]  # "a" is idle, not stalled
    watch.observe({"a": (10, 10), "b": (6, 12)})  # it committed: alive again
    assert watch.stalled() == []


def test_her_state_readable() -> None:
    catalogue = default_catalogue()
    now = 1_780_000_000_000
    state = SubscriberState(imsi="234150000000001", payment_type="PREPAID",
                            contacts=[[now - 3_600_000, "bill_shock", "B", "sms", True]],
                            last_fired={"dropped_sessions_apology": now - 3_600_000})
    view = readable(state, catalogue, now, [Timer(now + 60_000, state.imsi, "t", "i")])
    assert view["profile"]["payment_type"] == "PREPAID"
    assert {"scope": "all marketing", "cap": "2/24h", "used": 1, "full": False} in view["caps"]
    assert view["triggers"]["dropped_sessions_apology"]["cooldown_until"] is not None
    assert view["triggers"]["bill_shock"]["params"]  # the thresholds that read her counters
    assert view["timers"][0]["trigger_id"] == "t"


def test_faust_start_up_chatter_moves_to_debug() -> None:
    import logging

    from cjo.logs import _LibraryChatter

    def record(name: str, message: str) -> logging.LogRecord:
        return logging.LogRecord(name, logging.INFO, "", 0, message, None, None)

    quiet, debug = _LibraryChatter(logging.INFO), _LibraryChatter(logging.DEBUG)
    chatter = record("faust.agents.agent", "[^---Agent: streams.app.x.[.]ingest]: Starting...")
    assert not quiet.filter(chatter)
    assert debug.filter(chatter) and chatter.levelname == "DEBUG"
    kept = record("faust.tables.recovery", "[^---Recovery]: Worker ready")
    assert quiet.filter(kept) and kept.levelno == logging.INFO
    assert quiet.filter(record("aiokafka.consumer", "[^x]: Starting..."))  # not faust's
