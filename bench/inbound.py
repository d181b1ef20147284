"""Inbound next-best-offer latency, measured in the latency stage (row 5): requests to the
worker's ``GET /v1/subscribers/{imsi}/next-best-offer`` at a fixed rate, over one keep-alive
connection, for subscribers of the event set, once with the worker idle (the baseline of the same
run: the profiles caught up, nothing else arriving) and once while the paced load runs. The
latency is the client's: request written to answer read. The target is p99 under 50 ms under
load (``bench.targets``); the idle figure shows what the load adds."""

from __future__ import annotations

import http.client
import itertools
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from cjo.summary import percentile

RATE = 50.0  # requests a second
IDLE_SECONDS = 5.0


@dataclass
class Inbound:
    measured: list[float] = field(default_factory=list)  # ms, in order
    degraded: int = 0
    failed: int = 0

    def p(self, q: float) -> float | None:
        return float(percentile(sorted(self.measured), q)) if self.measured else None


def ask(port: int, imsis: Sequence[str], stop: threading.Event, rate: float = RATE,
        seconds: float | None = None) -> Inbound:
    """Requests at ``rate`` until ``stop`` is set (or ``seconds`` have passed)."""
    result = Inbound()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    began = time.monotonic()
    try:
        for n, imsi in enumerate(itertools.cycle(imsis)):
            due = began + n / rate
            if stop.is_set() or (seconds is not None and due - began >= seconds):
                break
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            start = time.perf_counter()
            try:
                conn.request("GET", f"/v1/subscribers/{imsi}/next-best-offer")
                response = conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException):
                result.failed += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                continue
            result.measured.append((time.perf_counter() - start) * 1000)
            if response.status != 200:
                result.failed += 1
            elif response.getheader("X-Cjo-Degraded") or b'"degraded":true' in body:
                result.degraded += 1
    finally:
        conn.close()
    return result


class Asker(threading.Thread):
    """``ask`` in a thread, until ``finish``."""

    def __init__(self, port: int, imsis: Sequence[str]) -> None:
        super().__init__(daemon=True)
        self._port, self._imsis = port, imsis
        self._stop_asking = threading.Event()
        self.result = Inbound()

    def run(self) -> None:
        self.result = ask(self._port, self._imsis, self._stop_asking)

    def finish(self) -> Inbound:
        self._stop_asking.set()
        self.join(30)
        return self.result
