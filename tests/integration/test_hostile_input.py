"""Hostile records, drawn by hypothesis (tests/hostile.py), mixed into a simulated feed on every
input topic of a real worker: every record produced is consumed, and is either decided exactly
as the offline reference decides it or dead-lettered once with a reason; the worker keeps going."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest
from confluent_kafka import Producer

from cjo import codec
from cjo.adapters.broker import Broker
from cjo.adapters.kafka_admin import producer_config
from cjo.catalogue.validate import default_catalogue
from cjo.codec import LogRecord
from cjo.codec.deadletter import MAX_DEAD_LETTER_KEY
from cjo.engine.offline import run_offline
from sim import simulate
from tests.hostile import KINDS, Hostile, hostile_records
from tests.integration.pipeline import Pipeline

pytestmark = pytest.mark.integration

PER_KIND = 5  # records of every kind (at most): 13 kinds, ~65 hostile among ~1,900 good ones


def good_records() -> list[LogRecord]:
    lines = [line for line in simulate(subscribers=15, days=1, seed=23, bad_lines=0)
             if "raw" not in line]
    return [codec.parse_log_line(orjson.dumps(line)) for line in lines]


def response_template(good: Sequence[LogRecord]) -> LogRecord:
    """The simulation has no responses: one, so the responses topic gets its hostile share."""
    middle = good[len(good) // 2]
    value = codec.normalise("OfferResponse", {
        "event_id": "r-template", "event_time": middle.event_time, "offer_id": "o-template",
        "imsi": middle.key.decode(), "channel": "SMS", "status": "DELIVERED"})
    return LogRecord("responses", middle.key, "OfferResponse", value, middle.event_time)


GOOD = good_records()
TEMPLATES = [*GOOD, response_template(GOOD)]
POSITION = [*range(len(GOOD)), len(GOOD) // 2]  # template index -> after which good record


def produce_mixed(pipeline: Pipeline, hostile: Sequence[tuple[int, Hostile]]
                  ) -> list[tuple[Hostile, tuple[str, int, int]]]:
    """Every good record in order, each hostile one right after its template's position; the
    (topic, partition, offset) each hostile record landed at."""
    after: dict[int, list[Hostile]] = {}
    for index, h in hostile:
        after.setdefault(POSITION[index], []).append(h)
    producer = Producer(producer_config(pipeline.settings.broker))
    landed: dict[int, tuple[str, int, int]] = {}
    failed: list[str] = []

    def report(n: int) -> Any:
        def delivered(err: Any, msg: Any) -> None:
            if err is not None:
                failed.append(str(err))
                return
            tp = (msg.topic(), msg.partition())
            pipeline.end_offsets[tp] = max(msg.offset() + 1, pipeline.end_offsets.get(tp, 0))
            if n >= 0:
                landed[n] = (msg.topic(), msg.partition(), msg.offset())
        return delivered

    def send(stream: str, key: bytes | None, value: bytes | None, at: int, n: int) -> None:
        producer.produce(pipeline.topics[stream], value, key, timestamp=at,
                         on_delivery=report(n))
        producer.poll(0)

    sent: list[Hostile] = []
    for i, good in enumerate(GOOD):
        send(good.stream, good.key, codec.encode_complete(good.record_name, good.value),
             good.event_time, -1)
        for h in after.get(i, ()):
            send(h.stream, h.key, h.value, good.event_time, len(sent))
            sent.append(h)
    assert producer.flush(60) == 0 and not failed, failed
    return [(h, landed[n]) for n, h in enumerate(sent)]


def reference(hostile: Sequence[tuple[int, Hostile]]) -> list[dict[str, Any]]:
    """The offline decisions of the good records with the taken hostile ones in their place."""
    after: dict[int, list[LogRecord]] = {}
    for index, h in hostile:
        if h.taken is not None:
            after.setdefault(POSITION[index], []).append(h.taken)
    records = [r for i, good in enumerate(GOOD) for r in (good, *after.get(i, ()))]
    return run_offline(records, default_catalogue()).decisions


def outcome(d: dict[str, Any]) -> tuple[str, str, str | None]:
    return d["offer_id"], d["outcome"], d.get("channel")


def test_hostile_records_are_dead_lettered_once_and_the_rest_decided_as_offline(
        broker: Broker, unique_prefix: str, tmp_path: Path) -> None:
    hostile = hostile_records(TEMPLATES, PER_KIND)
    assert set(Counter(h.kind for _, h in hostile)) == set(KINDS)
    assert {h.stream for _, h in hostile} == set(codec.RECORD_OF_STREAM)
    expected = reference(hostile)
    assert any(d["outcome"] == "SENT" for d in expected), "the feed must hold offers"

    pipeline = Pipeline(broker.bootstrap, unique_prefix, tmp_path, partitions=4)
    try:
        worker = pipeline.start_worker()
        landed = produce_mixed(pipeline, hostile)
        pipeline.wait(timeout_s=75)  # every input partition committed to its end
        assert worker.alive, f"the worker stopped:\n{worker.log_tail()}"
        assert "Traceback" not in worker.log_path.read_text(errors="replace")
    finally:
        pipeline.stop()

    inputs = set(pipeline.topics.inputs().values())
    letters = [d for d in pipeline.dead_letters() if d["source_topic"] in inputs]
    at = Counter((d["source_topic"], d["source_partition"], d["source_offset"]) for d in letters)
    assert [where for where, n in at.items() if n > 1] == [], "a record dead-lettered twice"
    must_die = {where: h for h, where in landed if h.dies}
    wrongly = {h.kind for where, h in must_die.items() if where not in at}
    assert not wrongly, f"hostile records taken instead of dead-lettered: {sorted(wrongly)}"
    taken = {where: h for h, where in landed if not h.dies}
    assert not {h.kind for where, h in taken.items() if where in at}, "valid records refused"
    assert set(at) == set(must_die), "a good record was dead-lettered"
    for letter in letters:
        h = must_die[(letter["source_topic"], letter["source_partition"],
                      letter["source_offset"])]
        key = h.key if h.key is None else h.key[:MAX_DEAD_LETTER_KEY]  # a long key is cut
        assert letter["payload"] == (h.value or b"") and letter["key"] == key
        assert letter["error"], f"a {h.kind} dead letter without a reason"

    # produced = consumed (committed) = decided-or-taken + dead-lettered, and decisions as offline
    produced = len(GOOD) + len(hostile)
    assert sum(pipeline.end_offsets.values()) == produced == sum(
        max(c, 0) for c in pipeline.committed().values())
    result = pipeline.collect()
    assert Counter(map(outcome, result.decisions)) == Counter(map(outcome, expected))
    sent = Counter(d["offer_id"] for d in expected if d["outcome"] == "SENT")
    assert Counter(o["offer_id"] for o in result.offers) == sent
