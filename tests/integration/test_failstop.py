"""A worker that cannot go on stops at once, non-zero, with one line saying why, having committed
nothing it did not store: a healthy worker started afterwards sends every offer, once."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from cjo.adapters.broker import Broker
from cjo.adapters.worker_process import WorkerProcess, worker_env
from streams.failstop import EXIT_CODE
from tests.integration.pipeline import READY, Pipeline, reference_decisions, simulated_log

pytestmark = pytest.mark.integration

STOP_WAIT_S = 60.0  # a bound on the wait, not a measure: the stop itself is immediate
STATE_FILE_LIMIT = 64 * 1024  # RLIMIT_FSIZE of the disk-full worker: RocksDB's log outgrows it


@pytest.fixture(scope="module")
def sim_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return simulated_log(tmp_path_factory.mktemp("sim") / "failstop.jsonl",
                         subscribers=60, days=3, seed=11)


def stopped_lines(worker: WorkerProcess) -> list[str]:
    text = worker.log_path.read_text(errors="replace")
    return [line for line in text.splitlines() if line.startswith("cjo worker: stopped: ")]


def wait_ready(worker: WorkerProcess, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while READY not in worker.log_path.read_text(errors="replace"):
        assert worker.alive, worker.log_tail()
        assert time.monotonic() < deadline, "the worker did not get ready"
        time.sleep(0.2)


def assert_stopped(worker: WorkerProcess, reason: str) -> None:
    code = worker.wait_exit(STOP_WAIT_S)
    if code is None:
        worker.kill()
    assert code == EXIT_CODE, f"exit {code}:\n{worker.log_tail()}"
    assert [line for line in stopped_lines(worker) if reason in line], worker.log_tail()
    assert len(stopped_lines(worker)) == 1


def faulty(pipeline: Pipeline, fault: str) -> WorkerProcess:
    return WorkerProcess(worker_env(pipeline.settings, log_level="INFO"),
                         pipeline.workdir / f"{fault}.log",
                         command=("-m", "tests.integration.faulty_worker", fault)).start()


def restart_and_check(pipeline: Pipeline, sim_log: Path, before: list[str]) -> None:
    """A healthy worker finishes the log: every offer of the reference is on its channel, and
    an offer is on it twice only if the stopped worker published it before it could store it
    (a re-send with the same id)."""
    expected = reference_decisions(sim_log)
    expected_offers = {d["offer_id"] for d in expected if d["outcome"] == "SENT"}
    pipeline.start_worker("healthy")
    pipeline.wait(timeout_s=240)
    on_channels = Counter(pipeline.offer_ids_on_channels())
    assert set(on_channels) == expected_offers
    assert {oid for oid, n in on_channels.items() if n > 1} <= set(before)
    assert max(on_channels.values()) <= 2
    decisions = {(d["offer_id"], d["outcome"], d.get("channel"))
                 for d in pipeline.collect().decisions}
    assert decisions == {(d["offer_id"], d["outcome"], d.get("channel")) for d in expected}


def test_a_failing_step_stops_the_worker_and_loses_nothing(
        broker: Broker, unique_prefix: str, tmp_path: Path, sim_log: Path) -> None:
    pipeline = Pipeline(broker.bootstrap, unique_prefix, tmp_path, partitions=4)
    try:
        pipeline.replay(sim_log)
        worker = faulty(pipeline, "publish")
        assert_stopped(worker, "RuntimeError: injected: publish failed")
        assert pipeline.consumed() < sum(pipeline.end_offsets.values())
        before = pipeline.offer_ids_on_channels()
        assert len(before) == len(set(before))
        restart_and_check(pipeline, sim_log, [])  # nothing of the failed step was out
    finally:
        pipeline.stop()


@pytest.mark.parametrize("fault", ["learner", "follower"])
def test_a_failing_agent_or_task_stops_the_worker(broker: Broker, unique_prefix: str,
                                                  tmp_path: Path, fault: str) -> None:
    pipeline = Pipeline(broker.bootstrap, unique_prefix, tmp_path, partitions=4)
    worker = faulty(pipeline, fault)
    try:
        wait_ready(worker)
        topic = pipeline.topics["learning" if fault == "learner" else "dnc"]
        produce(pipeline, topic, b"001010000000001", b"x")
        assert_stopped(worker, f"RuntimeError: injected: {fault} failed")
    finally:
        worker.kill()


def produce(pipeline: Pipeline, topic: str, key: bytes, value: bytes) -> None:
    from confluent_kafka import Producer

    from cjo.adapters.kafka_admin import producer_config

    producer = Producer(producer_config(pipeline.settings.broker))
    producer.produce(topic, key=key, value=value, partition=0)
    assert producer.flush(10) == 0


def test_a_full_disk_stops_the_worker_and_loses_nothing(
        broker: Broker, unique_prefix: str, tmp_path: Path, sim_log: Path) -> None:
    pipeline = Pipeline(broker.bootstrap, unique_prefix, tmp_path, partitions=4)
    try:
        pipeline.replay(sim_log)
        # a write past the limit fails as on a full disk; WARNING keeps the worker's own log
        # (under the limit too) small
        worker = WorkerProcess(worker_env(pipeline.settings, log_level="WARNING"),
                               tmp_path / "full.log",
                               command=("-m", "tests.integration.faulty_worker",
                                        f"file-size={STATE_FILE_LIMIT}")).start()
        assert_stopped(worker, "IO error")
        assert "File too large" in stopped_lines(worker)[0]
        assert pipeline.consumed() < sum(pipeline.end_offsets.values())
        restart_and_check(pipeline, sim_log, pipeline.offer_ids_on_channels())
    finally:
        pipeline.stop()


@pytest.mark.parametrize("fault", ["pause-profiles", "drop-usage"])
def test_records_the_processor_did_not_get_are_read_again(
        broker: Broker, unique_prefix: str, tmp_path: Path, sim_log: Path,
        fault: str) -> None:
    """Records fetched for a partition paused meanwhile, or lost on their way to the processor
    (the next fetch of the partition then begins past the offset expected: ``streams.gaps``),
    are read again: every record is decided, every offer sent once."""
    pipeline = Pipeline(broker.bootstrap, unique_prefix, tmp_path, partitions=4)
    worker = pipeline.worker = faulty(pipeline, fault)
    try:
        # three days of events over about 20 s: each partition comes in many fetches
        pipeline.replay_in_background(sim_log, speed=3 * 86_400 / 20).join(120)
        pipeline.wait(timeout_s=120)
    finally:
        pipeline.stop()
    text = worker.log_path.read_text(errors="replace")
    if fault == "drop-usage":
        assert '"offset_gap"' in text
    # every input record decided, and once: none skipped, none taken twice
    assert f"cjo-test decided={sum(pipeline.end_offsets.values())}" in text, text[-3000:]
    expected = reference_decisions(sim_log)
    on_channels = Counter(pipeline.offer_ids_on_channels())
    assert set(on_channels) == {d["offer_id"] for d in expected if d["outcome"] == "SENT"}
    assert max(on_channels.values()) == 1
    decisions = {(d["offer_id"], d["outcome"], d.get("channel"))
                 for d in pipeline.collect().decisions}
    assert decisions == {(d["offer_id"], d["outcome"], d.get("channel")) for d in expected}
