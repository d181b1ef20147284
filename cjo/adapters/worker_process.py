"""A `cjo worker` in a child process: started, watched, stopped or killed (for demo and tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import SecretStr

from cjo.adapters.kafka_admin import committed_offsets
from cjo.adapters.processes import stop_process
from cjo.errors import CjoError
from cjo.settings import Settings


def worker_env(settings: Settings, log_level: str = "WARNING") -> dict[str, str]:
    """The environment that gives a child `cjo worker` these settings."""
    return {"CJO_BROKER": settings.broker, "CJO_PARTITIONS": str(settings.partitions),
            "CJO_APP_ID": settings.app_id, "CJO_DATA_DIR": str(settings.data_dir),
            "CJO_TOPIC_PREFIX": settings.topic_prefix, "CJO_LOG_LEVEL": log_level,
            "CJO_SESSION_TIMEOUT_S": str(settings.session_timeout_s),
            "CJO_GROUP_INSTANCE_ID": settings.group_instance_id,
            "CJO_TIME_MODE": settings.time_mode,
            "CJO_ALLOWED_LATENESS_MS": str(settings.allowed_lateness_ms),
            "CJO_IDLE_GRACE_MS": str(settings.idle_grace_ms),
            "CJO_MAX_IDLE_MS": str(settings.max_idle_ms),
            "CJO_MERGE_SETTLE_MS": str(settings.merge_settle_ms),
            "CJO_CATALOGUE": settings.catalogue, "CJO_WRITER_SCHEMAS": settings.writer_schemas,
            "CJO_EMBEDDED_BROKER_WORKAROUNDS": str(settings.embedded_broker_workarounds).lower(),
            "CJO_REPLICATION_FACTOR": str(settings.replication_factor),
            "CJO_MIN_INSYNC_REPLICAS": str(settings.min_insync_replicas),
            "CJO_PROCESSING_GUARANTEE": settings.processing_guarantee,
            "CJO_WEB_PORT": str(settings.web_port), "CJO_WEB_BIND": settings.web_bind,
            "CJO_WEB_URL": settings.web_url,
            "CJO_DEVELOPMENT": str(settings.development).lower(),
            "CJO_DRAIN_DELAY_S": str(settings.drain_delay_s),
            **security_env(settings)}


def security_env(settings: Settings) -> dict[str, str]:
    """The CJO_* variables of the SASL/TLS settings and the models key (a child worker needs
    them too)."""
    names = ("security_protocol", "sasl_mechanism", "sasl_username", "sasl_password",
             "ssl_cafile", "ssl_certfile", "ssl_keyfile", "ssl_password", "models_key",
             "log_salt", "api_token")
    values = {name: getattr(settings, name) for name in names}
    return {f"CJO_{name.upper()}": value.get_secret_value() if isinstance(value, SecretStr)
            else str(value) for name, value in values.items()}


WORKER_COMMAND = ("-m", "cjo", "worker")


class WorkerProcess:
    """``command``: the Python arguments that run the worker (tests run it through an entry
    script of their own that injects a fault)."""

    def __init__(self, env: Mapping[str, str], log_path: Path,
                 command: Sequence[str] = WORKER_COMMAND) -> None:
        self._env = {**os.environ, **env}
        self.log_path = log_path
        self._command = list(command)
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                [sys.executable, *self._command], env=self._env,
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        return self

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self, grace_s: float = 20.0) -> None:
        """SIGTERM (faust commits and closes its tables), then SIGKILL after the grace period."""
        stop_process(self._proc, grace_s)

    def terminate(self) -> None:
        """SIGTERM, without waiting: see ``wait_exit``."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)

    def wait_exit(self, timeout_s: float) -> int | None:
        """The exit status once the process has ended, None if it still runs after the wait."""
        if self._proc is None:
            return None
        try:
            return self._proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            return None

    def pause(self) -> None:
        """SIGSTOP: the process freezes (no heartbeat, no fetch) until ``resume``."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after ``pause``."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def wait_consumed(
    bootstrap: str, group: str, end_offsets: Mapping[tuple[str, int], int],
    worker: WorkerProcess, timeout_s: float,
) -> None:
    """Wait until the group committed every partition up to its end offset.

    Faust commits an offset only after the agent has handled the record, and the agent awaits
    every publication it makes: so committed == end means every decision is on its topic.
    """
    topics = sorted({topic for topic, _ in end_offsets})
    deadline = time.monotonic() + timeout_s
    while True:
        committed = committed_offsets(bootstrap, group, topics)
        behind = {tp: end for tp, end in end_offsets.items() if committed.get(tp, -1) < end}
        if not behind:
            return
        if not worker.alive:
            raise CjoError(f"the worker stopped early; its log ({worker.log_path}) ends with:\n"
                           f"{worker.log_tail()}")
        if time.monotonic() > deadline:
            left = sum(end - max(committed.get(tp, 0), 0) for tp, end in behind.items())
            raise CjoError(f"timed out after {timeout_s:.0f}s with {left} records not yet "
                           f"processed; worker log: {worker.log_path}")
        time.sleep(0.5)
