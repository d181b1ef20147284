"""Inputs the worker must not choke on, through a real worker on the session's broker: a record
too big to be echoed whole on the dead-letter topic (2 MB, on an input topic that allows it;
Apache Kafka refuses it at produce time on a topic at its default limit), profiles produced
with another partitioner than Kafka's murmur2, a record dated far in the future."""

from __future__ import annotations

import hashlib
import random
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, ConfigResource

from cjo import codec
from cjo.adapters.broker import Broker
from cjo.adapters.kafka_admin import producer_config, read_all
from cjo.adapters.kafka_security import confluent_config
from cjo.catalogue.validate import default_catalogue
from cjo.clock import HOUR_MS
from cjo.codec import MAX_DEAD_LETTER_PAYLOAD
from cjo.engine.offline import read_log, run_offline
from cjo.partitioning import partition_of
from tests.integration.pipeline import Pipeline, reference_decisions, simulated_log

pytestmark = pytest.mark.integration

PARTITIONS = 4
MAX_REQUEST_SIZE = 1_000_000  # the workers' producer (faust's producer_max_request_size)
BIG = 2_000_000  # over it, and over a Kafka topic's default max.message.bytes (1 MiB + 12)
BIG_TOPIC_LIMIT = 4 * BIG
YEAR_2100_MS = 4_102_444_800_000


@pytest.fixture(scope="module")
def sim_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return simulated_log(tmp_path_factory.mktemp("limits") / "sim.jsonl",
                         subscribers=30, days=2, seed=3)


@pytest.fixture
def pipeline(broker: Broker, unique_prefix: str, tmp_path: Path) -> Iterator[Pipeline]:
    p = Pipeline(broker.bootstrap, unique_prefix, tmp_path, partitions=PARTITIONS)
    yield p
    p.stop()


def produce(pipeline: Pipeline, records: list[tuple[str, bytes, bytes]],
            **config: Any) -> None:
    """Records (stream, key, value) with a producer of the given librdkafka settings; the ends
    of their partitions are what the pipeline waits for."""
    producer = Producer(producer_config(pipeline.settings.broker, **config))
    delivered: list[tuple[str, int, int]] = []
    errors: list[Any] = []

    def on_delivery(err: Any, msg: Any) -> None:
        if err is not None:
            errors.append(err)
        else:
            delivered.append((msg.topic(), msg.partition(), msg.offset()))

    for stream, key, value in records:
        producer.produce(pipeline.topics[stream], key=key, value=value, on_delivery=on_delivery)
    producer.flush(30)
    assert not errors and len(delivered) == len(records), errors
    for topic, partition, offset in delivered:
        tp = (topic, partition)
        pipeline.end_offsets[tp] = max(offset + 1, pipeline.end_offsets.get(tp, 0))


def allow_messages_up_to(pipeline: Pipeline, stream: str, limit: int) -> None:
    """The input topic's max.message.bytes raised (an operator's choice: cjo creates its topics
    with the broker's default)."""
    admin = AdminClient(confluent_config(pipeline.settings.broker))
    resource = ConfigResource("topic", pipeline.topics[stream],
                              set_config={"max.message.bytes": str(limit)})
    for future in admin.alter_configs([resource]).values():
        future.result(30)


def decided(pipeline: Pipeline) -> set[tuple[Any, ...]]:
    return {(d["offer_id"], d["outcome"], d.get("channel"))
            for d in pipeline.collect().decisions}


def test_a_record_over_a_megabyte_is_dead_lettered_truncated(pipeline: Pipeline,
                                                             sim_log: Path) -> None:
    expected = {(d["offer_id"], d["outcome"], d.get("channel"))
                for d in reference_decisions(sim_log, partitions=PARTITIONS)}
    assert len(expected) >= 5
    imsi = read_log(sim_log)[0][0].value["imsi"].encode()
    # incompressible: a Kafka broker's limit is on the batch as stored, after compression
    big = random.Random(5).randbytes(BIG)
    allow_messages_up_to(pipeline, "charging", BIG_TOPIC_LIMIT)
    pipeline.start_worker()
    # the broker takes it (a topic and a producer allowing bigger messages), the worker reads it
    produce(pipeline, [("charging", imsi, big)], message_max_bytes=BIG_TOPIC_LIMIT)
    pipeline.replay(sim_log)
    pipeline.wait(timeout_s=180)

    raw = read_all(pipeline.settings.broker, [pipeline.topics["dlq"]])
    # the envelope fits the workers' producer max request size (a Kafka broker refuses more
    # by default, message.max.bytes; the embedded broker does not check)
    assert all(len(r.value) + len(r.key or b"") < MAX_REQUEST_SIZE for r in raw)
    letters = [d for d in pipeline.dead_letters() if d["source_topic"] ==
               pipeline.topics["charging"]]
    assert len(letters) == 1
    letter = letters[0]
    assert letter["payload"] == big[:MAX_DEAD_LETTER_PAYLOAD]
    assert f"payload truncated to {MAX_DEAD_LETTER_PAYLOAD} of {len(big)} bytes" in letter["error"]
    assert f"sha256 {hashlib.sha256(big).hexdigest()}" in letter["error"]
    assert decided(pipeline) == expected


def test_a_record_dated_2100_is_dead_lettered_and_fires_no_timer(pipeline: Pipeline,
                                                                 sim_log: Path) -> None:
    expected = {(d["offer_id"], d["outcome"], d.get("channel"))
                for d in reference_decisions(sim_log, partitions=PARTITIONS)}
    records = read_log(sim_log)[0]
    source = next(r for r in records if r.stream == "charging")
    future = {**source.value, "event_id": "from-2100", "event_time": YEAR_2100_MS}
    # issue 21: dated near today in this January log, ahead of the wall clock or not (only the
    # log bounds the second: before, it moved its partition's watermark 11 months on)
    now = int(time.time() * 1000)
    near = [{**source.value, "event_id": f"near-today-{i}", "event_time": at}
            for i, at in enumerate((now + 23 * HOUR_MS, now - HOUR_MS))]
    bad = [codec.encode(source.record_name, v) for v in (future, *near)]
    pipeline.start_worker()
    pipeline.replay(sim_log)
    produce(pipeline, [("charging", source.key, value) for value in bad])
    pipeline.wait(timeout_s=180)

    letters = [d for d in pipeline.dead_letters()
               if d["source_topic"] == pipeline.topics["charging"]]  # (the log's bad lines too)
    assert [(d["key"], d["payload"]) for d in letters] == [(source.key, v) for v in bad]
    assert ["CJO_MAX_FUTURE_MS" in d["error"] for d in letters] == [True, True, False]
    assert "CJO_REPLAY_MAX_JUMP_MS" in letters[2]["error"]
    # no timer of the partition fired early: the decisions are the log's alone
    assert decided(pipeline) == expected


def test_profiles_from_another_partitioner_are_dead_lettered(pipeline: Pipeline,
                                                             sim_log: Path) -> None:
    records = read_log(sim_log)[0]
    profiles = [r for r in records if r.stream == "subscribers"]
    others = [r for r in records if r.stream != "subscribers"]
    pipeline.start_worker()
    # profiles from a producer with librdkafka's default partitioner (CRC32)
    produce(pipeline, [("subscribers", r.key, codec.encode(r.record_name, r.value))
                       for r in profiles], partitioner="consistent_random")
    produce(pipeline, [(r.stream, r.key, codec.encode(r.record_name, r.value))
                       for r in others])
    pipeline.wait(timeout_s=180)

    misplaced = [r for r in profiles if partition_of(r.key, PARTITIONS) !=
                 _crc32_partition(r.key)]
    assert misplaced, "some profiles must land elsewhere with CRC32"
    letters = pipeline.dead_letters()
    assert sorted(d["key"] for d in letters) == sorted(r.key for r in misplaced)
    assert all("murmur2_random" in d["error"] for d in letters)
    # nothing decided on them: what is decided is what the profiles left in place give
    kept = [r for r in records if not any(r is m for m in misplaced)]
    expected = _reference(kept)
    assert decided(pipeline) == expected


def _crc32_partition(key: bytes) -> int:
    return zlib.crc32(key) % PARTITIONS  # librdkafka's consistent partitioner (non-empty key)


def _reference(records: list[Any]) -> set[tuple[Any, ...]]:
    return {(d["offer_id"], d["outcome"], d.get("channel"))
            for d in run_offline(records, default_catalogue(), PARTITIONS).decisions}


@pytest.mark.kafka
def test_a_record_over_a_topic_s_limit_is_refused_at_produce_time(broker: Broker,
                                                                   unique_prefix: str,
                                                                   tmp_path: Path) -> None:
    """Apache Kafka enforces max.message.bytes (1 MiB + 12 by default) on the batch it is
    given: a 2 MB record never reaches an input topic at the default limit, so no worker ever
    reads it (the producer gets MSG_SIZE_TOO_LARGE); the embedded broker took it."""
    pipeline = Pipeline(broker.bootstrap, unique_prefix, tmp_path, partitions=PARTITIONS)
    big = random.Random(5).randbytes(BIG)  # incompressible: the limit is on the compressed batch
    with pytest.raises(AssertionError, match="MSG_SIZE_TOO_LARGE"):
        produce(pipeline, [("charging", b"208150000000001", big)],
                message_max_bytes=BIG_TOPIC_LIMIT)
