"""Apache Kafka, one node in KRaft combined mode (broker and controller), from its Maven jars.

The distribution tarball is not needed: ``cjo/adapters/kafka/pom.xml`` pins one Kafka release,
Maven resolves its jars once into cjo's cache (``$CJO_KAFKA_CACHE``, else
``$XDG_CACHE_HOME/cjo`` or ``~/.cache/cjo``), and every later start reuses them offline. The
broker is the same ``kafka.Kafka`` main class the distribution's scripts run, with the settings a
single test or development node needs (docs/architecture.md, "Apache Kafka").

Java 17 or newer runs the broker; Maven is needed only the first time.
"""

from __future__ import annotations

import atexit
import base64
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import IO

from cjo.adapters.broker import (
    HOST,
    BrokerProcess,
    answers_metadata,
    free_port,
    read_tail,
)
from cjo.adapters.processes import stop_process
from cjo.errors import BrokerError

READY_TIMEOUT_S = 120.0
STOP_GRACE_S = 30.0  # a controlled shutdown moves no leadership on one node: seconds
RESOLVE_TIMEOUT_S = 900.0
MAIN_CLASS = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"
JVM_FLAGS = ("-Xms512m", "-Xmx1g",  # the log cleaner's dedupe buffer needs a heap of 512 MB
             "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:InitiatingHeapOccupancyPercent=35",
             "-XX:+ExplicitGCInvokesConcurrent", "-Djava.awt.headless=true")

# What one node needs beyond Kafka's defaults, and what tests and replays of old logs need.
NODE_CONFIG: Mapping[str, str] = {
    "process.roles": "broker,controller",
    "node.id": "1",
    "controller.listener.names": "CONTROLLER",
    "inter.broker.listener.name": "PLAINTEXT",
    "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
    "num.partitions": "1",
    # one node: the internal topics cannot have the default three replicas
    "offsets.topic.replication.factor": "1",
    "offsets.topic.num.partitions": "4",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "transaction.state.log.num.partitions": "4",
    "share.coordinator.state.topic.replication.factor": "1",
    "share.coordinator.state.topic.min.isr": "1",
    # a group forms at once instead of waiting 3 s for more members
    "group.initial.rebalance.delay.ms": "0",
    # the cleaner looks for dirty compacted logs every second, not every 15 s
    "log.cleaner.backoff.ms": "1000",
    # a replayed log's records carry event times months old: time-based retention would delete
    # them at the next check (compacted topics are not affected)
    "log.retention.ms": "-1",
    "num.network.threads": "2",
    "num.io.threads": "4",
}


def cache_dir() -> Path:
    """Where resolved Kafka jars live, outside any work tree."""
    explicit = os.environ.get("CJO_KAFKA_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cjo"


def _resource(name: str) -> Path:
    return Path(str(resources.files("cjo.adapters").joinpath("kafka", name)))


def kafka_version() -> str:
    """The Kafka release pinned in the pom."""
    text = _resource("pom.xml").read_text()
    start = text.index("<kafka.version>") + len("<kafka.version>")
    return text[start:text.index("</kafka.version>")].strip()


def java_binary() -> str:
    """``$JAVA_HOME/bin/java``, else ``java`` on the PATH; one line naming what to install."""
    home = os.environ.get("JAVA_HOME")
    candidate = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not candidate or not os.access(candidate, os.X_OK):
        raise BrokerError("Apache Kafka needs Java 17 or newer: install a JDK (for example "
                          "`apt install openjdk-17-jre-headless`) or set JAVA_HOME")
    return candidate


def libs_dir(version: str | None = None) -> Path:
    """The jars of the pinned Kafka, resolved by Maven the first time (then offline)."""
    version = version or kafka_version()
    libs = cache_dir() / f"kafka-{version}" / "libs"
    done = libs / ".resolved"
    if done.exists():
        return libs
    mvn = shutil.which("mvn")
    if mvn is None:
        raise BrokerError(f"the Apache Kafka {version} jars are not in {libs.parent} yet and "
                          "Maven is not installed to fetch them: install Maven (for example "
                          "`apt install maven`) and run again")
    staging = Path(tempfile.mkdtemp(prefix=".libs-", dir=_ensure(libs.parent)))
    argv = [mvn, "-B", "-q", "-f", str(_resource("pom.xml")), f"-Dkafka.version={version}",
            "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies",
            "-DincludeScope=runtime", f"-DoutputDirectory={staging}"]
    try:
        done_proc = subprocess.run(argv, capture_output=True, text=True,
                                   timeout=RESOLVE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as err:
        shutil.rmtree(staging, ignore_errors=True)
        raise BrokerError(f"Maven did not resolve Apache Kafka {version} within "
                          f"{RESOLVE_TIMEOUT_S:.0f} s") from err
    if done_proc.returncode != 0 or not any(staging.glob("kafka_2.13-*.jar")):
        shutil.rmtree(staging, ignore_errors=True)
        raise BrokerError(f"Maven could not resolve Apache Kafka {version} (is Maven Central "
                          f"reachable?): {_first_error(done_proc.stdout + done_proc.stderr)}")
    (staging / ".resolved").write_text(version + "\n")
    shutil.rmtree(libs, ignore_errors=True)
    staging.rename(libs)
    return libs


def _first_error(output: str) -> str:
    """Maven's first ``[ERROR]`` line, without its colour codes (its help links say nothing)."""
    lines = [line.replace("\x1b[0m", "").strip() for line in output.splitlines()]
    errors = [line for line in lines if line.startswith("[ERROR]") and "[Help" not in line]
    return (errors or [line for line in lines if line] or ["no output"])[0]


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def available() -> str | None:
    """None when ``cjo broker --kafka`` can run here, else the one line saying what is missing."""
    try:
        java_binary()
        if not (cache_dir() / f"kafka-{kafka_version()}" / "libs" / ".resolved").exists() \
                and shutil.which("mvn") is None:
            raise BrokerError("Apache Kafka's jars are not cached and Maven is not installed "
                              "to fetch them (install Maven)")
    except BrokerError as err:
        return str(err)
    return None


def new_cluster_id() -> str:
    """22 characters of URL-safe base64, as ``kafka-storage.sh random-uuid`` prints; never one
    that starts with "-" (Kafka's ``Uuid.randomUuid`` draws again too: the storage tool would
    read it as an option, and formatting fails)."""
    while (cluster_id := base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
           ).startswith("-"):
        pass
    return cluster_id


class KafkaBroker(BrokerProcess):
    """A single-node Apache Kafka; a context manager, or call start() and stop().

    ``data_dir``: where the broker keeps its logs and metadata (kept after stop; a directory
    formatted before is reused with its cluster id); default: a temporary one, removed on stop.
    ``config``: broker settings over :data:`NODE_CONFIG` (say ``message.max.bytes``).
    """

    workarounds = False  # its ListOffsets answers are true (CJO_EMBEDDED_BROKER_WORKAROUNDS)
    kind = "Apache Kafka"

    def __init__(self, port: int | None = None, data_dir: Path | None = None,
                 config: Mapping[str, str] | None = None) -> None:
        super().__init__(port)
        self._data_dir = data_dir
        self._config = dict(config or {})
        self._work: Path | None = None
        self._owns_work = False
        self._out: IO[bytes] | None = None

    @property
    def log_dir(self) -> Path:
        if self._work is None:
            raise BrokerError("the Kafka broker has no directory until it is started")
        return self._work / "logs"

    def _launch(self) -> None:
        """Format the storage when new, then spawn the broker."""
        java = java_binary()
        libs = libs_dir()
        self._take_port()
        self._prepare_dir()
        properties = self._write_properties()
        if not (self._work_dir() / "data" / "meta.properties").exists():
            self._format(java, libs, properties)
        self._spawn(java, libs, properties)

    def stop(self) -> None:
        """SIGTERM (a controlled shutdown), SIGKILL after a grace period; safe to call twice."""
        proc, self._proc = self._proc, None
        atexit.unregister(self.stop)
        stop_process(proc, STOP_GRACE_S, signal.SIGTERM)
        if self._out is not None:
            self._out.close()
            self._out = None
        if self._owns_work and self._work is not None:
            shutil.rmtree(self._work, ignore_errors=True)
            self._work = None

    def log_tail(self) -> str:
        """The last lines of the broker's log (or its console when the log is empty)."""
        if self._work is None:
            return ""
        for name in ("server.log", "console.log"):
            text = read_tail(self._work / "logs" / name)
            if text:
                return text
        return ""

    def _work_dir(self) -> Path:
        assert self._work is not None
        return self._work

    def _prepare_dir(self) -> None:
        if self._data_dir is not None:
            self._work = _ensure(self._data_dir.resolve())
        else:
            self._work = Path(tempfile.mkdtemp(prefix="cjo-kafka-"))
            self._owns_work = True
        _ensure(self._work / "logs")

    def _write_properties(self) -> Path:
        controller = free_port()
        work = self._work_dir()
        values = {**NODE_CONFIG,
                  "controller.quorum.voters": f"1@{HOST}:{controller}",
                  "listeners": f"PLAINTEXT://{HOST}:{self.port},CONTROLLER://{HOST}:{controller}",
                  "advertised.listeners": f"PLAINTEXT://{HOST}:{self.port}",
                  "log.dirs": str(work / "data"),
                  **self._config}
        path = work / "server.properties"
        path.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
        return path

    def _java(self, java: str, libs: Path, *args: str) -> list[str]:
        logs = self._work_dir() / "logs"
        return [java, *JVM_FLAGS, f"-Dkafka.logs.dir={logs}",
                f"-Dlog4j2.configurationFile={_resource('log4j2.properties')}",
                "-cp", f"{libs}/*", *args]

    def _format(self, java: str, libs: Path, properties: Path) -> None:
        argv = self._java(java, libs, STORAGE_TOOL, "format", "-t", new_cluster_id(),
                          "-c", str(properties))
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            last = (done.stdout + done.stderr).strip().splitlines()[-2:]
            raise BrokerError(f"formatting the Kafka storage in {self._work_dir()} failed: "
                              f"{' | '.join(last)}")

    def _spawn(self, java: str, libs: Path, properties: Path) -> None:
        self._out = (self._work_dir() / "logs" / "console.log").open("ab")
        try:
            self._proc = subprocess.Popen(
                self._java(java, libs, MAIN_CLASS, str(properties)), stdin=subprocess.DEVNULL,
                stdout=self._out, stderr=self._out, start_new_session=True)
        except OSError as err:
            self._out.close()
            self._out = None
            raise BrokerError(f"java ({java}) cannot run: {err}") from err

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            self._check_alive()
            if answers_metadata(self.bootstrap, deadline):
                return
            time.sleep(0.25)
        self._check_alive()
        raise BrokerError(f"Apache Kafka on {self.bootstrap} did not answer a metadata request "
                          f"within {READY_TIMEOUT_S:.0f} s; its log: {self.log_tail() or '(none)'}")

    def _check_alive(self) -> None:
        if self._proc is not None and self._proc.poll() is not None:
            raise BrokerError(f"Apache Kafka on {self.bootstrap} exited at start-up (status "
                              f"{self._proc.returncode}): {self.log_tail() or '(no output)'}")
