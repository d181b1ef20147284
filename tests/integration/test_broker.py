"""The embedded broker launcher and the admin helpers, against a real Tansu process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from cjo.adapters.broker import (
    DEFAULT_PORT,
    Broker,
    EmbeddedBroker,
    choose_port,
    free_port,
    run_broker,
)
from cjo.adapters.kafka_admin import (
    committed_offsets,
    create_topics,
    end_offsets,
    producer_config,
    read_all,
)
from cjo.adapters.kafka_broker import KafkaBroker
from cjo.errors import BrokerError
from cjo.settings import load

pytestmark = pytest.mark.integration


def _pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _produce_batches(bootstrap: str, topic: str, sizes: list[int], **overrides: object) -> None:
    """One flush per batch: each flush sends the records produced since as one batch."""
    producer = Producer(producer_config(bootstrap, **overrides))
    for size in sizes:
        for i in range(size):
            producer.produce(topic, f"v{i}".encode(), b"same-key")
        assert producer.flush(10) == 0


def test_starts_and_answers_metadata(broker: Broker) -> None:
    metadata = AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(timeout=10)
    assert [b.port for b in metadata.brokers.values()] == [broker.port]
    assert broker.bootstrap == f"127.0.0.1:{broker.port}"
    assert broker.running()


@pytest.mark.parametrize("kind", [
    EmbeddedBroker, pytest.param(KafkaBroker, marks=pytest.mark.kafka)])
def test_busy_port_is_refused_naming_the_port(kind: type[EmbeddedBroker | KafkaBroker]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(BrokerError, match=f"port {port} .*already in use"):
            kind(port=port).start()


def test_missing_binary_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(BrokerError, match=r"not found: /no/such/tansu .*CJO_BROKER_BIN"):
        EmbeddedBroker(binary="/no/such/tansu").start()
    monkeypatch.setenv("CJO_BROKER_BIN", "/no/such/either")
    with pytest.raises(BrokerError, match=r"not found: /no/such/either .*CJO_BROKER_BIN"):
        EmbeddedBroker().start()


def test_early_exit_reports_the_broker_output(tmp_path: Path) -> None:
    fake = tmp_path / "tansu"
    fake.write_text("#!/bin/sh\necho 'panicked: storage engine unavailable' >&2\nexit 0\n")
    fake.chmod(0o755)
    with pytest.raises(BrokerError, match=r"exited at start-up .*storage engine unavailable"):
        EmbeddedBroker(binary=str(fake)).start()


def test_stop_ends_the_process_although_it_ignores_sigterm(tmp_path: Path) -> None:
    broker = EmbeddedBroker(log_path=tmp_path / "broker.log").start()
    pid = broker.pid
    assert pid is not None
    try:
        _produce_batches(broker.bootstrap, "held-open", [1])  # a client connection is open
        os.kill(pid, signal.SIGTERM)
        time.sleep(0.3)
        assert not _pid_gone(pid), "this Tansu build was expected to ignore SIGTERM"
    finally:
        broker.stop()
    assert _pid_gone(pid)
    broker.stop()  # idempotent
    assert f"listening on: tcp://{broker.bootstrap}" in (tmp_path / "broker.log").read_text()


def test_end_offsets_are_exact_after_batches_of_1_2_5(
    broker: Broker, unique_prefix: str
) -> None:
    topic = f"{unique_prefix}.batches"
    create_topics(broker.bootstrap, [topic], partitions=2)
    _produce_batches(broker.bootstrap, topic, [1, 2, 5], linger_ms=50)
    ends = end_offsets(broker.bootstrap, [topic])
    used = next(p for (_, p), end in ends.items() if end)
    assert ends == {(topic, used): 8, (topic, 1 - used): 0}


def test_end_offsets_match_what_is_read_with_linger(
    broker: Broker, unique_prefix: str
) -> None:
    topic = f"{unique_prefix}.linger"
    create_topics(broker.bootstrap, [topic], partitions=3)
    producer = Producer(producer_config(broker.bootstrap, linger_ms=20))
    for i in range(300):
        producer.produce(topic, b"x", f"k{i % 37}".encode())
        if i % 40 == 0:
            producer.poll(0.01)
    assert producer.flush(10) == 0
    records = read_all(broker.bootstrap, [topic])
    read_ends = {(r.topic, r.partition): r.offset + 1 for r in records}
    assert len(records) == 300
    assert end_offsets(broker.bootstrap, [topic]) == read_ends


def test_create_topics_is_idempotent(broker: Broker, unique_prefix: str) -> None:
    names = [f"{unique_prefix}.a", f"{unique_prefix}.b"]
    create_topics(broker.bootstrap, names, partitions=3)
    create_topics(broker.bootstrap, names, partitions=3)
    assert sorted(end_offsets(broker.bootstrap, names)) == [(n, p) for n in names for p in range(3)]
    with pytest.raises(BrokerError, match=f"{names[0]} exists with 3 partitions, not 8"):
        create_topics(broker.bootstrap, names, partitions=8)


def test_unknown_topic_is_an_error(broker: Broker, unique_prefix: str) -> None:
    with pytest.raises(BrokerError, match="no such topic"):
        end_offsets(broker.bootstrap, [f"{unique_prefix}.never-created"])


def test_committed_offsets(broker: Broker, unique_prefix: str) -> None:
    topic, group = f"{unique_prefix}.commits", f"{unique_prefix}-group"
    create_topics(broker.bootstrap, [topic], partitions=2)
    assert committed_offsets(broker.bootstrap, group, [topic]) == {(topic, 0): -1, (topic, 1): -1}
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group})
    consumer.commit(offsets=[TopicPartition(topic, 1, 5)], asynchronous=False)
    consumer.close()
    assert committed_offsets(broker.bootstrap, group, [topic]) == {(topic, 0): -1, (topic, 1): 5}


def test_read_all_returns_keys_values_timestamps_headers(
    broker: Broker, unique_prefix: str
) -> None:
    topic = f"{unique_prefix}.read"
    create_topics(broker.bootstrap, [topic], partitions=1)
    producer = Producer(producer_config(broker.bootstrap))
    producer.produce(topic, b"v", b"k", timestamp=1767261600000, headers=[("h", b"1")])
    producer.produce(topic, None, b"k2", timestamp=1767261600001)
    assert producer.flush(10) == 0
    first, second = read_all(broker.bootstrap, [topic])
    assert (first.key, first.value, first.timestamp_ms, first.headers) == (
        b"k", b"v", 1767261600000, (("h", b"1"),))
    assert (second.offset, second.value) == (1, None)


def test_run_broker_serves_until_sigterm() -> None:
    code = "from cjo.adapters.broker import run_broker; raise SystemExit(run_broker(None))"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("broker listening on 127.0.0.1:")
        assert line.rstrip().endswith("(Ctrl-C to stop)")
        bootstrap = line.split()[3]
        # the line to paste in other shells, so every other command finds this broker
        assert proc.stdout.readline() == f"export CJO_BROKER={bootstrap}\n"
        assert AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10).brokers
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        with pytest.raises(OSError):  # the broker went with it
            socket.create_connection(("127.0.0.1", int(bootstrap.split(":")[1])), 1).close()
    finally:
        proc.kill()
        proc.wait()


def test_run_broker_reports_a_busy_port(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        port = free_port()
        taken.bind(("127.0.0.1", port))
        taken.listen()
        assert run_broker(port) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"cjo: port {port} ")
    assert err.count("\n") == 1


def test_cjo_broker_prefers_the_port_other_commands_default_to() -> None:
    assert load().broker == f"127.0.0.1:{DEFAULT_PORT}"  # where every other command looks
    free = free_port()
    assert choose_port(None, preferred=free) == (free, "")  # free: taken
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", free))
        taken.listen()
        other, warning = choose_port(None, preferred=free)  # busy: another free port instead,
        assert other != free and other > 0  # said with the line that reaches it
        assert f"port {free} on 127.0.0.1 is taken" in warning
        assert f"export CJO_BROKER=127.0.0.1:{other}" in warning
    assert choose_port(4321, preferred=free) == (4321, "")  # --port wins


def test_producer_config_defaults_and_overrides() -> None:
    config = producer_config("h:1", linger_ms=50, error_cb=print, **{"batch.size": 1000})
    assert config["partitioner"] == "murmur2_random"  # Java / aiokafka key -> partition
    assert (config["compression.type"], config["acks"], config["enable.idempotence"]) == (
        "lz4", "all", True)
    assert (config["linger.ms"], config["batch.size"], config["error_cb"]) == (50, 1000, print)
