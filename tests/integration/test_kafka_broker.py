"""`cjo broker --kafka`: a single-node Apache Kafka from its Maven jars, started and stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient

from cjo.adapters.broker import free_port
from cjo.adapters.kafka_admin import create_topics, end_offsets
from cjo.adapters.kafka_broker import KafkaBroker, available, java_binary
from cjo.errors import BrokerError

pytestmark = [pytest.mark.integration, pytest.mark.kafka]


def _cjo_broker(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "cjo", "broker", "--kafka", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _serve_once(port: int, data_dir: Path, topic: str | None) -> dict[tuple[str, int], int]:
    """Start `cjo broker --kafka`, create ``topic`` if given, read the end offsets of every topic
    it holds, stop it with SIGTERM; check the printed lines and the clean exit on the way."""
    proc = _cjo_broker("--port", str(port), "--data-dir", str(data_dir))
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line == f"Apache Kafka broker listening on 127.0.0.1:{port} (Ctrl-C to stop)\n", (
            line, proc.stderr.read() if proc.stderr else "")
        assert proc.stdout.readline() == f"export CJO_BROKER=127.0.0.1:{port}\n"
        assert proc.stdout.readline() == "export CJO_EMBEDDED_BROKER_WORKAROUNDS=false\n"
        bootstrap = f"127.0.0.1:{port}"
        if topic:
            create_topics(bootstrap, [topic], partitions=2)
        names = [t for t in AdminClient({"bootstrap.servers": bootstrap}).list_topics(
            timeout=10).topics if not t.startswith("__")]
        ends = end_offsets(bootstrap, names)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
        with pytest.raises(OSError):  # the JVM went with it
            socket.create_connection(("127.0.0.1", port), 1).close()
        return ends
    finally:
        proc.kill()
        proc.wait()


def test_cjo_broker_kafka_serves_until_sigterm_and_keeps_its_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "kafka"
    first = _serve_once(free_port(), data, "kept")
    assert first == {("kept", 0): 0, ("kept", 1): 0}
    assert (data / "data" / "meta.properties").exists()
    assert "Kafka Server started" in (data / "logs" / "server.log").read_text()  # SLF4J bound
    # a second start on the same directory (another port) finds the topic: formatted once
    assert _serve_once(free_port(), data, None) == first


def test_missing_java_is_one_line_naming_what_to_install(tmp_path: Path) -> None:
    env = {**os.environ, "JAVA_HOME": str(tmp_path / "no-jdk")}
    proc = subprocess.run([sys.executable, "-m", "cjo", "broker", "--kafka"], env=env,
                          capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("cjo: Apache Kafka needs Java 17 or newer: install a JDK")
    assert "JAVA_HOME" in proc.stderr


def test_missing_jars_without_maven_says_install_maven(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CJO_KAFKA_CACHE", str(tmp_path / "empty-cache"))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "java").symlink_to(java_binary())
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(bin_dir))  # java, but no mvn
    message = available()
    assert message is not None and "Maven" in message
    with pytest.raises(BrokerError, match=r"not in .*empty-cache.* install Maven"):
        KafkaBroker().start()


def test_embedded_broker_keeps_nothing_so_data_dir_needs_kafka() -> None:
    proc = subprocess.run([sys.executable, "-m", "cjo", "broker", "--data-dir", "x"],
                          capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 2
    assert proc.stderr == "cjo: --data-dir needs --kafka: the embedded broker keeps nothing\n"
