"""Collects one subscriber's lines for a day, each with the instant it reaches the log."""

from __future__ import annotations

from typing import Any

from sim.population import Subscriber

MAX_DELAY_MS = 45_000  # collection delay: the log is in event-time order within this much
MEAN_DELAY_MS = 4_000


class Sink:
    def __init__(self, sub: Subscriber) -> None:
        self.sub = sub
        self.items: list[tuple[int, dict[str, Any]]] = []

    def add(self, topic: str, when: int, value: dict[str, Any]) -> None:
        delay = min(MAX_DELAY_MS, int(self.sub.rng.expovariate(1.0 / MEAN_DELAY_MS)))
        self.items.append((when + delay, {"topic": topic, "key": self.sub.imsi, "value": value}))
