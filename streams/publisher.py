"""Publishes the messages of a step's effects (offers, decisions, outcomes, learning examples)
and dead letters, and waits until the broker has them.

Every send is awaited to its acknowledgement before the state that records it is written: a crash
in between re-sends the same deterministic offer id, never loses an offer. The records of one
step go out together, as whole record batches per topic-partition, and are awaited together.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cjo import codec
from cjo.clock import Clock, WallClock
from cjo.engine.effects import Effects
from cjo.settings import Topics

# topic, key, value, partition (None: where the key hashes)
Record = tuple[str, bytes | None, bytes | None, int | None]
Send = Callable[[Sequence[Record]], Awaitable[list[Any]]]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An input record refused, with the reason and its original bytes."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    payload: bytes
    error: str


class Publisher:
    def __init__(self, topics: Topics, send: Send, clock: Clock | None = None) -> None:
        """``send``: puts records on the broker; returns futures of their delivery."""
        self._offers: Mapping[str, str] = topics.offers()
        self._decisions = topics["decisions"]
        self._dlq = topics["dlq"]
        self._outcomes = topics["outcomes"]
        self._learning = topics["learning"]
        self._send = send
        self._clock = clock or WallClock()

    async def publish(self, steps: Sequence[Effects]) -> None:
        """The messages of ``steps``: every offer, then every decision, outcome and example,
        each kind in the order of the steps; stamped with the publication time."""
        await self._deliver(self.records(steps))

    async def dead_letters(self, letters: Sequence[DeadLetter]) -> None:
        await self._deliver(self.dead_letter_records(letters))

    def records(self, steps: Sequence[Effects]) -> list[Record]:
        """What ``publish`` sends (exactly-once: sent inside a transaction instead)."""
        now = self._clock.now_ms()
        records: list[Record] = []
        for offer in (offer for effects in steps for offer in effects.offers):
            offer["published_at"] = now
            records.append((self._offers[offer["channel"].lower()], offer["imsi"].encode(),
                            codec.encode("Offer", offer), None))
        for decision in (decision for effects in steps for decision in effects.decisions):
            decision["published_at"] = now
            records.append((self._decisions, decision["imsi"].encode(),
                            codec.encode("Decision", decision), None))
        records.extend((self._outcomes, outcome["imsi"].encode(),
                        codec.encode("Outcome", outcome), None)
                       for effects in steps for outcome in effects.outcomes)
        # the learner's topic has one partition: one model owner
        records.extend((self._learning, example["model_id"].encode(),
                        codec.encode("LearningExample", example), 0)
                       for effects in steps for example in effects.examples)
        return records

    def dead_letter_records(self, letters: Sequence[DeadLetter]) -> list[Record]:
        now = self._clock.now_ms()
        # the envelope is bounded (``codec.dead_letter``), and so is its key here
        return [(self._dlq, d.key and d.key[:codec.MAX_DEAD_LETTER_KEY],
                 codec.dead_letter(d.topic, d.partition, d.offset, d.key, d.payload, d.error,
                                   now), None)
                for d in letters]

    async def _deliver(self, records: list[Record]) -> None:
        if records:
            await asyncio.gather(*await self._send(records))
