"""The state table restored by cjo's reader (``streams.restore``): a compacted changelog with
updates and tombstones gives the state the records say; a worker that lost its data directory
gets back the RocksDB contents it had, and faust finds nothing left to restore."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import pytest
from confluent_kafka import Producer
from rocksdict import AccessType, Options, Rdict

from cjo.adapters.broker import Broker
from cjo.adapters.kafka_admin import create_topics, end_offsets, producer_config, read_all
from cjo.adapters.kafka_broker import KafkaBroker
from cjo.adapters.worker_process import WorkerProcess, worker_env
from streams import restore as restore_module
from streams.app import STATE_TABLE
from streams.restore import Target, restore
from tests.integration.pipeline import READY, Pipeline, log_text, simulated_log

pytestmark = [pytest.mark.integration, pytest.mark.kafka]

OFFSET_KEY = b"__faust\0offset__"  # faust's RocksDB store's persisted-offset key
FAUST_RESTORE = "Restoring state from changelog topics"


def _entry(offset: int) -> tuple[bytes, bytes]:
    return OFFSET_KEY, str(offset).encode()


def _open(path: Path) -> Rdict:
    return Rdict(str(path), options=Options(raw_mode=True))


def _contents(db: Rdict) -> dict[bytes, bytes]:
    return {bytes(k): bytes(v) for k, v in db.items()}


def _produce(bootstrap: str, topic: str, records: Iterable[tuple[int, bytes, bytes | None]]
             ) -> None:
    producer = Producer(producer_config(bootstrap, linger_ms=0))
    for partition, key, value in records:
        producer.produce(topic, key=key, value=value, partition=partition)
    assert producer.flush(30) == 0


def test_a_compacted_changelog_restores_the_last_value_of_each_key_and_tombstones_delete(
        tmp_path: Path) -> None:
    # its own broker: compaction within seconds (the session broker's cleaner waits 15 s)
    with KafkaBroker(config={"log.cleaner.backoff.ms": "200"}) as kafka:
        topic = "restore-changelog"
        create_topics(kafka.bootstrap, [topic], 2, config={
            "cleanup.policy": "compact", "segment.ms": "100", "min.cleanable.dirty.ratio": "0.01",
            "min.compaction.lag.ms": "0", "delete.retention.ms": "86400000"})
        expected: dict[int, dict[bytes, bytes]] = {0: {}, 1: {}}
        records: list[tuple[int, bytes, bytes | None]] = []
        for round_ in range(5):  # every key written five times: compaction keeps the last
            for i in range(200):
                partition, key = i % 2, b"sub-%04d" % i
                value = b"round-%d-" % round_ + key * 20
                records.append((partition, key, value))
                expected[partition][key] = value
        for i in range(0, 200, 5):  # every fifth subscriber deleted at the end
            partition, key = i % 2, b"sub-%04d" % i
            records.append((partition, key, None))
            del expected[partition][key]
        _produce(kafka.bootstrap, topic, records)
        deadline = time.monotonic() + 120
        while len(read_all(kafka.bootstrap, [topic])) >= len(records):
            assert time.monotonic() < deadline, "the broker did not compact the changelog"
            time.sleep(0.5)  # a segment rolls when a later record arrives after segment.ms
            _produce(kafka.bootstrap, topic, [(0, b"roll", b"x"), (1, b"roll", b"x")])
            expected[0][b"roll"] = expected[1][b"roll"] = b"x"
        ends = end_offsets(kafka.bootstrap, [topic])

        # a database that had an old state: a subscriber deleted since, recorded at offset 5
        stale = _open(tmp_path / "p1.db")
        stale[b"sub-0001"] = b"old"
        stale[b"sub-0005"] = b"old"  # tombstoned after offset 5
        stale[OFFSET_KEY] = b"5"
        dbs = {0: _open(tmp_path / "p0.db"), 1: stale}
        targets = {(topic, p): Target(dbs[p], None if p == 0 else 6, ends[(topic, p)] - 1,
                                      _entry) for p in (0, 1)}
        done = restore(kafka.bootstrap, targets)
        assert done.complete
        assert done.reached == {(topic, p): ends[(topic, p)] - 1 for p in (0, 1)}
        for p in (0, 1):
            state = _contents(dbs[p])
            assert state.pop(OFFSET_KEY) == str(ends[(topic, p)] - 1).encode()
            assert state == expected[p]
        assert b"sub-0005" not in _contents(stale)  # the tombstone removed the stale key
        assert done.records < len(records)  # read from the compacted log


class StopAfter(threading.Event):
    """Set once the reader has written ``n`` write batches to ``db`` (a stop, a rebalance or
    a crash mid-way)."""

    def __init__(self, db: Rdict, n: int) -> None:
        super().__init__()
        self.db, self.left = db, n

    def is_set(self) -> bool:
        if self.db.get(OFFSET_KEY) is not None:
            self.left -= 1
        return self.left < 0


def test_an_interrupted_restore_leaves_each_database_at_its_recorded_offset_and_reads_on(
        broker: Broker, unique_prefix: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    topic = f"{unique_prefix}-changelog"
    create_topics(broker.bootstrap, [topic], 1)
    records = [(0, b"k%03d" % (i % 150), None if i % 7 == 3 else b"v%d" % i)
               for i in range(3_000)]
    _produce(broker.bootstrap, topic, records)
    monkeypatch.setattr(restore_module, "CONSUME_MAX", 100)  # many write batches
    db = _open(tmp_path / "p0.db")
    first = restore(broker.bootstrap, {(topic, 0): Target(db, None, 2_999, _entry)},
                    stop=StopAfter(db, 2))
    assert not first.complete
    reached = first.reached[(topic, 0)]
    assert 0 < reached < 2_999
    state = _contents(db)
    # the database holds exactly the records up to the offset it records
    assert state.pop(OFFSET_KEY) == str(reached).encode()
    assert state == _replayed(records[:reached + 1])
    second = restore(broker.bootstrap, {(topic, 0): Target(db, reached + 1, 2_999, _entry)})
    assert second.complete and second.records == 2_999 - reached
    state = _contents(db)
    assert state.pop(OFFSET_KEY) == b"2999"
    assert state == _replayed(records)


def _replayed(records: Iterable[tuple[int, bytes, bytes | None]]) -> dict[bytes, bytes]:
    state: dict[bytes, bytes] = {}
    for _, key, value in records:
        if value is None:
            state.pop(key, None)
        else:
            state[key] = value
    return state


def _state_dbs(data_dir: Path) -> dict[str, Path]:
    return {p.name: p for p in sorted(data_dir.rglob(f"*{STATE_TABLE}-*.db"))}


def _snapshot(data_dir: Path) -> dict[str, dict[bytes, bytes]]:
    snapshot = {}
    for name, path in _state_dbs(data_dir).items():
        db = Rdict(str(path), options=Options(raw_mode=True),
                   access_type=AccessType.read_only())
        try:
            snapshot[name] = _contents(db)
        finally:
            db.close()
    return snapshot


def _wait_ready(pipeline: Pipeline, timeout_s: float = 120.0) -> str:
    assert pipeline.worker is not None
    return _ready(pipeline.worker, timeout_s)


def _ready(worker: WorkerProcess, timeout_s: float = 120.0) -> str:
    deadline = time.monotonic() + timeout_s
    while True:
        text = log_text(worker.log_path.read_text(errors="replace"))
        if READY in text:
            return text
        assert worker.alive, worker.log_tail()
        assert time.monotonic() < deadline, f"no {READY!r}:\n{worker.log_tail()}"
        time.sleep(0.3)


def test_a_worker_that_lost_its_data_dir_gets_the_same_state_back_from_cjo_s_reader(
        broker: Broker, unique_prefix: str, tmp_path: Path) -> None:
    log = simulated_log(tmp_path / "sim.jsonl", subscribers=60, days=2, seed=23)
    pipeline = Pipeline(broker.bootstrap, unique_prefix, tmp_path, partitions=4)
    data_dir = pipeline.settings.data_dir
    try:
        pipeline.start_worker("first")
        pipeline.replay(log)
        pipeline.wait(timeout_s=240)
        pipeline.stop()
        before = _snapshot(data_dir)
        assert len(before) == 4 and sum(len(s) for s in before.values()) > 60

        shutil.rmtree(data_dir)  # the disk is lost
        pipeline.start_worker("second")
        text = _wait_ready(pipeline)
        pipeline.stop()
    finally:
        pipeline.stop()
    assert "state_restored" in text, "cjo's reader did not restore the state"
    assert FAUST_RESTORE not in text, "faust found something left to restore"
    after = _snapshot(data_dir)
    changelog = f"{pipeline.settings.app_id}-{STATE_TABLE}-changelog"
    ends = end_offsets(broker.bootstrap, [changelog])
    for name in before:
        partition = int(name.rsplit("-", 1)[1].removesuffix(".db"))
        # the offset as faust records it: the changelog's last offset
        assert after[name].pop(OFFSET_KEY) == str(ends[(changelog, partition)] - 1).encode()
        before[name].pop(OFFSET_KEY, None)
        assert after[name] == before[name], f"{name} differs after the restore"


def test_after_a_sigkill_cjo_s_reader_gives_the_state_faust_s_own_restore_gives(
        broker: Broker, unique_prefix: str, tmp_path: Path) -> None:
    """The changelog of a worker killed mid-replay, restored into an empty data dir by faust's
    restore and then by cjo's reader: the same RocksDB contents and recorded offsets."""
    log = simulated_log(tmp_path / "sim.jsonl", subscribers=60, days=3, seed=11)
    total = sum(1 for _ in log.open("rb"))
    pipeline = Pipeline(broker.bootstrap, unique_prefix, tmp_path, partitions=4)
    data_dir = pipeline.settings.data_dir
    restored: dict[str, dict[str, dict[bytes, bytes]]] = {}
    try:
        first = pipeline.start_worker("first")
        replaying = pipeline.replay_in_background(log, speed=3 * 86_400 / 40)
        deadline = time.monotonic() + 120
        while pipeline.consumed() < total // 4:
            assert time.monotonic() < deadline, "the worker did not get going"
            time.sleep(0.2)
        first.kill()
        replaying.join(120)
        time.sleep(pipeline.settings.session_timeout_s + 1)  # the group forgets it
        for fast in ("false", "true"):
            shutil.rmtree(data_dir, ignore_errors=True)
            # the same group and changelog, inputs of its own (empty): it restores, then
            # writes nothing more to the changelog
            env = {**worker_env(pipeline.settings, log_level="INFO"), "CJO_FAST_RESTORE": fast,
                   "CJO_TOPIC_PREFIX": f"{unique_prefix}r{fast}"}
            worker = WorkerProcess(env, tmp_path / f"restore-{fast}.log").start()
            try:
                text = _ready(worker)
            finally:
                worker.stop()
            assert ("state_restored" in text) == (fast == "true")
            assert (FAUST_RESTORE in text) == (fast == "false")
            restored[fast] = _snapshot(data_dir)
    finally:
        pipeline.stop()
    assert len(restored["true"]) == 4
    assert restored["true"] == restored["false"]
