"""Bad records on the control topics never stop a worker: each is refused (one log line and the
``control_refused`` counter), what is in force stays, the worker goes on processing events and
adopts the valid records that follow; a worker (re)started with a bad newest models record
starts on the newest valid one. Issue 21: catalogue records are signed (unsigned or foreign
ones refused), the worker names the key behind what it runs (``signed_by``), a models topic
with the broker's default partition count is read, not fatal, and a refused record is counted
once across restarts, and purged with ``cjo control purge``."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer

from cjo.adapters.broker import Broker
from cjo.adapters.catalogue_topic import ensure_topic, publish
from cjo.adapters.control_topics import ensure_control_topics, publish_dnc
from cjo.adapters.kafka_admin import create_topics, producer_config
from cjo.catalogue.catalogue import PAYLOAD_FORMAT, digest_of
from cjo.catalogue.validate import load_catalogue
from cjo.cli import main
from cjo.control_records import CATALOGUE_KEY, MODELS_KEY, models_key
from cjo.control_signing import fingerprint, sign_catalogue
from cjo.scoring import Scorer
from cjo.settings import Settings
from tests.integration.pipeline import Pipeline, write_log
from tests.integration.test_hot_reload import VIDEO_ONLY, binges, lands_abroad, wait_for_line
from tests.scenarios.default_triggers import END, HOUR, T0, imsi

pytestmark = pytest.mark.integration


def produce(settings: Settings, topic: str, key: bytes, value: bytes) -> int:
    """Produces one record; returns its offset."""
    producer = Producer(producer_config(settings.broker))
    delivered: list[Any] = []
    producer.produce(settings.topics[topic], key=key, value=value,
                     on_delivery=lambda err, msg: delivered.append(err or msg.offset()))
    assert producer.flush(10) == 0 and len(delivered) == 1, delivered
    assert isinstance(delivered[0], int), delivered
    return int(delivered[0])


def catalogue_payload(text: str, key: bytes | None = b"cjo-development-catalogue-key") -> bytes:
    """A catalogue record's value: signed with ``key`` (the default one), or unsigned (None)."""
    sources = [("bad.yaml", text)]
    payload = json.dumps({"format": PAYLOAD_FORMAT, "digest": digest_of(sources),
                          "sources": [{"name": "bad.yaml", "text": text}]}).encode()
    return payload if key is None else sign_catalogue(payload, key)


def snapshot(settings: Settings, examples: int) -> bytes:
    scorer = Scorer()
    for i in range(examples):
        scorer.learn("roaming_welcome", "TRAVEL_PASS_1GB_7D", {"youth": 1.0}, i % 2 == 0)
    return scorer.to_bytes(models_key(settings))


def events(log: Path, name: str) -> list[dict[str, Any]]:
    """The worker's JSON log lines of event ``name``."""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{") and f'"{name}"' in line:
            record = json.loads(line)
            if record.get("event") == name:
                found.append(record)
    return found


def wait_for_event(log: Path, name: str, **fields: Any) -> dict[str, Any]:
    """The first log line of event ``name`` with these field values (waits up to 60 s)."""
    deadline = time.monotonic() + 60.0
    while True:
        for record in events(log, name):
            if all(record.get(k) == v for k, v in fields.items()):
                return record
        assert time.monotonic() < deadline, f"no {name} {fields} in {log}"
        time.sleep(0.2)


def refused(log: Path) -> list[tuple[str, int]]:
    return sorted((r["topic"].rsplit(".", 1)[1], r["offset"])
                  for r in events(log, "control_refused"))


ALIAS_BOMB = "\n".join(
    ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]) + "\n"


def test_bad_control_records_are_refused_and_the_worker_goes_on(
        broker: Broker, unique_prefix: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    pipeline = Pipeline(broker.bootstrap, unique_prefix, tmp_path, partitions=1)
    settings = pipeline.settings
    noise = random.Random(9)
    bad: list[tuple[str, int]] = []

    def produce_bad(topic: str, key: bytes, value: bytes) -> None:
        bad.append((topic, produce(settings, topic, key, value)))

    # cjo.models auto-created by a stray producer with the broker's default partition count
    create_topics(settings.broker, [settings.topics["models"]], 3)
    ensure_control_topics(settings)  # the others as a worker creates them: one partition
    ensure_topic(settings)
    try:
        # before the start: a valid model, then a bad newest one; a key that is not an IMSI
        produce(settings, "models", MODELS_KEY, snapshot(settings, 3))
        produce_bad("models", MODELS_KEY, noise.randbytes(64))
        produce_bad("dnc", b"\xff\xfe\x00not-an-imsi", b"1")
        worker = pipeline.start_worker("first")
        pipeline.replay(write_log(tmp_path / "1.jsonl", lands_abroad(1, T0)))
        pipeline.wait()  # it started, and processes events
        started = wait_for_event(worker.log_path, "models", version=3, refused=1)
        assert started["signed_by"] == fingerprint(models_key(settings))
        assert "(public default)" in started["signed_by"]
        layout = wait_for_event(worker.log_path, "control_topic_layout")
        assert (layout["topic"], layout["partitions"]) == (settings.topics["models"], 3)

        # while it runs: one bad record on each topic, the catalogue three ways
        produce_bad("models", MODELS_KEY, noise.randbytes(64))
        produce_bad("dnc", b"\x80\x81", b"1")
        produce_bad("catalogue", CATALOGUE_KEY,
                    catalogue_payload("triggers: " + "[" * 5_000 + "]" * 5_000 + "\n"))
        produce_bad("catalogue", CATALOGUE_KEY, catalogue_payload(ALIAS_BOMB))
        produce_bad("catalogue", CATALOGUE_KEY, catalogue_payload("# no trigger\n"))
        produce_bad("catalogue", CATALOGUE_KEY, catalogue_payload(VIDEO_ONLY, key=None))
        produce_bad("catalogue", CATALOGUE_KEY, catalogue_payload(VIDEO_ONLY, key=b"stolen?"))
        # then valid ones: each is adopted
        produce(settings, "models", MODELS_KEY, snapshot(settings, 5))
        publish(settings, load_catalogue([("video.yaml", VIDEO_ONLY)]))
        publish_dnc(settings, [imsi(7)], block=True)
        adopted = wait_for_event(worker.log_path, "models_adopted", version=5)
        assert adopted["signed_by"] == started["signed_by"]
        wait_for_line(worker.log_path, "catalogue_switched")
        switched = events(worker.log_path, "catalogue_switched")
        assert [s["signed_by"] for s in switched] == [
            fingerprint(b"cjo-development-catalogue-key")]  # the valid one only
        wait_for_line(worker.log_path, "do_not_contact_updated")
        pipeline.replay(write_log(tmp_path / "2.jsonl",
                                  binges(4, T0 + 2 * HOUR) + binges(7, T0 + 2 * HOUR)))
        pipeline.wait()
        wait_for_event(worker.log_path, "progress", control_refused=9)  # the counter
        assert worker.alive

        # a restart with a bad newest models record starts on the newest valid one; the refused
        # records still on the topics are not counted again, and one purged is not read at all
        pipeline.stop()
        monkeypatch.setenv("CJO_TOPIC_PREFIX", settings.topic_prefix)
        dnc = [offset for topic, offset in bad if topic == "dnc"]
        assert main(["control", "purge", "dnc", str(dnc[0]), "--broker", settings.broker]) == 0
        newest = ("models", produce(settings, "models", MODELS_KEY,
                                    b"cjo.scorer/2\n" + noise.randbytes(80)))
        later = pipeline.start_worker("later")
        pipeline.replay(write_log(tmp_path / "3.jsonl", binges(6, END)))
        pipeline.wait()
        started = wait_for_event(later.log_path, "models", refused=1)
        known = wait_for_event(later.log_path, "control_refused_known")
        assert later.alive
        summary = pipeline.collect()
    finally:
        pipeline.stop()
    assert refused(tmp_path / "first.log") == sorted(bad)  # each one line, none twice
    reasons = " | ".join(r["reason"] for r in events(tmp_path / "first.log", "control_refused"))
    for says in ("nested deeper than", "alias bomb", "has no trigger", "is not an IMSI",
                 "not a scorer snapshot", "catalogue record is not signed",
                 "signed with another CJO_CATALOGUE_KEY"):
        assert says in reasons
    assert "not-an-imsi" not in reasons  # a refused key is shown by its hash only
    assert started["version"] >= 5  # not the bad newest record, nor an older model
    assert refused(tmp_path / "later.log") == [newest]  # the others: counted once, before
    assert known["records"] == 1  # the second dnc record; the first was purged
    fired = sorted((int(d["imsi"][5:]), d["trigger_id"], d["outcome"])
                   for d in summary.decisions)
    assert fired == [(1, "roaming_welcome", "SENT"), (4, "video_binge", "SENT"),
                     (6, "video_binge", "SENT"), (7, "video_binge", "SUPPRESSED")]
