"""Log compaction on Apache Kafka, made to happen within a test: the state changelog and the
control topics are compacted (cleanup.policy=compact, as cjo and faust create them), a
do-not-contact removal (a tombstone) removes its key, and a worker whose RocksDB is lost restores
from the compacted changelog and decides exactly as the in-process oracle.

The broker rolls a segment every second (compaction only cleans closed segments; Kafka 4 refuses
segment.bytes under 1 MB, so the roll is by time), its cleaner looks every half second and
cleans a log as soon as 1% of it is dirty; that it ran is seen in offsets that are no longer
there (fewer records read than the log's end offset).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, ConfigResource

from cjo.adapters.catalogue_topic import ensure_topic as ensure_catalogue_topic
from cjo.adapters.control_topics import ensure_control_topics, publish_dnc, read_dnc
from cjo.adapters.kafka_admin import end_offsets, producer_config, read_all
from cjo.adapters.kafka_broker import KafkaBroker
from cjo.adapters.kafka_security import confluent_config
from cjo.settings import load
from streams.app import STATE_TABLE
from tests.integration.pipeline import Pipeline, reference_decisions, simulated_log

pytestmark = [pytest.mark.integration, pytest.mark.kafka]

COMPACTING = {
    "log.roll.ms": "1000",
    "log.cleaner.backoff.ms": "500",
    "log.cleaner.min.cleanable.ratio": "0.01",
    "log.cleaner.min.compaction.lag.ms": "0",
    "log.cleaner.delete.retention.ms": "0",  # a tombstone itself goes at the next cleaning
}
PARTITIONS = 2


@pytest.fixture(scope="module")
def compacting() -> Iterator[KafkaBroker]:
    with KafkaBroker(config=COMPACTING) as kafka:
        yield kafka


def policy(bootstrap: str, topic: str) -> str:
    admin = AdminClient(confluent_config(bootstrap))
    [future] = admin.describe_configs([ConfigResource("topic", topic)]).values()
    return str(future.result(30)["cleanup.policy"].value)


def compacted(bootstrap: str, topic: str, timeout_s: float = 90.0,
              nudge: Callable[[], object] | None = None) -> int:
    """Wait until the cleaner removed records of ``topic`` (fewer readable than its end
    offsets); ``nudge``: writes a record now and then, so the active segment rolls (a roll
    happens on append). Returns how many records went."""
    deadline = time.monotonic() + timeout_s
    while True:
        ends = sum(end_offsets(bootstrap, [topic]).values())
        gone = ends - len(read_all(bootstrap, [topic]))
        if gone > 0:
            return gone
        assert time.monotonic() < deadline, f"{topic} was not compacted in {timeout_s:.0f}s"
        time.sleep(1.5)
        if nudge is not None:
            nudge()


def rewrite_last(bootstrap: str, topic: str) -> Callable[[], object]:
    """A nudge for a changelog: each partition's last record written again, verbatim (the same
    key and value: a restore ends in the same state), so that the active segment, which holds
    everything a fast run wrote, rolls and can be cleaned."""
    last = {r.partition: r for r in read_all(bootstrap, [topic])}

    def nudge() -> None:
        producer = Producer(producer_config(bootstrap))
        for record in last.values():
            producer.produce(topic, record.value, record.key, partition=record.partition)
        assert producer.flush(10) == 0

    return nudge


def test_control_topics_are_compacted_and_a_tombstone_removes(compacting: KafkaBroker,
                                                              unique_prefix: str) -> None:
    settings = load(broker=compacting.bootstrap, topic_prefix=unique_prefix)
    ensure_control_topics(settings)
    ensure_catalogue_topic(settings)
    for name in ("catalogue", "models", "dnc"):
        assert policy(compacting.bootstrap, settings.topics[name]) == "compact", name
    kept, removed, roller = "208150000000001", "208150000000002", "208150000000003"
    for _ in range(10):
        publish_dnc(settings, [kept, removed], block=True)
    publish_dnc(settings, [removed], block=False)  # the tombstone
    compacted(compacting.bootstrap, settings.topics["dnc"],
              nudge=lambda: publish_dnc(settings, [roller], True))

    deadline = time.monotonic() + 90
    while True:  # the tombstone goes at a later cleaning (delete.retention.ms=0)
        records = read_all(compacting.bootstrap, [settings.topics["dnc"]])
        keys = [r.key for r in records]
        if removed.encode() not in keys and keys.count(kept.encode()) == 1:
            break
        assert time.monotonic() < deadline, keys
        time.sleep(1.5)
        publish_dnc(settings, [roller], True)
    blocked, _offset, refused = read_dnc(settings)
    assert blocked == {kept, roller} and refused == 0


def test_a_worker_restores_from_a_compacted_changelog(compacting: KafkaBroker,
                                                      unique_prefix: str,
                                                      tmp_path: Path) -> None:
    log = simulated_log(tmp_path / "sim.jsonl", subscribers=40, days=2, seed=31)
    lines = log.read_bytes().splitlines(keepends=True)
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first.write_bytes(b"".join(lines[:len(lines) // 2]))
    second.write_bytes(b"".join(lines[len(lines) // 2:]))
    expected = {(d["offer_id"], d["outcome"], d.get("channel"))
                for d in reference_decisions(log, partitions=PARTITIONS)}
    pipeline = Pipeline(compacting.bootstrap, unique_prefix, tmp_path, partitions=PARTITIONS)
    changelog = f"{pipeline.settings.app_id}-{STATE_TABLE}-changelog"
    try:
        pipeline.start_worker("first")
        pipeline.replay(first)
        pipeline.wait(timeout_s=240)
        pipeline.stop()
        assert policy(compacting.bootstrap, changelog) == "compact"
        gone = compacted(compacting.bootstrap, changelog,
                         nudge=rewrite_last(compacting.bootstrap, changelog))
        print(f"changelog records removed by the cleaner: {gone}")
        shutil.rmtree(pipeline.settings.data_dir)  # the disk is lost: restore from the broker
        pipeline.start_worker("second")
        pipeline.replay(second)
        pipeline.wait(timeout_s=240)
    finally:
        pipeline.stop()
    assert {(d["offer_id"], d["outcome"], d.get("channel"))
            for d in pipeline.collect().decisions} == expected
