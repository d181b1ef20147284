"""The scripted SMSC (``sim/smsc_server.py``, smpp34's Server) as a child process, its events
collected: for the SMS gateway's tests and bench."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class SmscProcess:
    def __init__(self, *args: str, port: int | None = None) -> None:
        self.port = port or free_port()
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._pings = 0
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sim.smsc_server", str(self.port), *args],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.wait_for(lambda e: e["event"] == "listening", 1, timeout_s=30)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                event = {"event": "output", "line": line.rstrip()}
            with self._lock:
                self.events.append(event)

    def where(self, kind: str, **match: Any) -> list[dict[str, Any]]:
        with self._lock:
            return [e for e in self.events if e["event"] == kind
                    and all(e.get(k) == v for k, v in match.items())]

    def wait_for(self, test: Any, count: int, timeout_s: float = 60) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                found = [e for e in self.events if test(e)]
            if len(found) >= count:
                return found
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"{count} SMSC events expected, events so far: {self.events}")

    def sync(self, timeout_s: float = 30) -> None:
        """Until every event the SMSC printed so far is read (a ping answered after them)."""
        assert self.proc.stdin is not None
        self._pings += 1
        n = str(self._pings)
        self.proc.stdin.write(n + "\n")
        self.proc.stdin.flush()
        self.wait_for(lambda e: e["event"] == "pong" and e["n"] == n, 1, timeout_s)

    @property
    def accepted(self) -> Counter[str]:
        """Submits accepted, by destination."""
        return Counter(e["destination"] for e in self.where("submit_sm", answer="accepted"))

    def start(self) -> SmscProcess:
        return self

    def __enter__(self) -> SmscProcess:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
