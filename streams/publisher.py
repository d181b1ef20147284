"""Publishes decisions, offers, outcomes, learning examples and dead letters, and waits until
the broker has them.

Every send is awaited to its acknowledgement before the state that records it is written: a crash
in between re-sends the same deterministic offer id, never loses an offer. The sends of one batch
go out together and are awaited together.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cjo import codec
from cjo.clock import Clock, WallClock


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
    def __init__(self, offers: Mapping[str, Any], decisions: Any, dlq: Any,
                 outcomes: Any = None, learning: Any = None, clock: Clock | None = None) -> None:
        self._offers = offers
        self._decisions = decisions
        self._dlq = dlq
        self._outcomes = outcomes
        self._learning = learning
        self._clock = clock or WallClock()

    async def publish(self, offers: list[dict[str, Any]], decisions: list[dict[str, Any]],
                      outcomes: Sequence[dict[str, Any]] = (),
                      examples: Sequence[dict[str, Any]] = ()) -> None:
        now = self._clock.now_ms()
        pending: list[Awaitable[Any]] = []
        for offer in offers:
            offer["published_at"] = now
            topic = self._offers[offer["channel"].lower()]
            pending.append(await topic.send(key=offer["imsi"].encode(),
                                            value=codec.encode("Offer", offer)))
        for decision in decisions:
            decision["published_at"] = now
            pending.append(await self._decisions.send(
                key=decision["imsi"].encode(), value=codec.encode("Decision", decision)))
        for outcome in outcomes:
            pending.append(await self._outcomes.send(
                key=outcome["imsi"].encode(), value=codec.encode("Outcome", outcome)))
        for example in examples:  # the learner's topic has one partition: one model owner
            pending.append(await self._learning.send(
                key=example["model_id"].encode(), value=codec.encode("LearningExample", example),
                partition=0))
        if pending:
            await asyncio.gather(*pending)

    async def dead_letters(self, letters: Sequence[DeadLetter]) -> None:
        now = self._clock.now_ms()
        pending = [await self._dlq.send(key=d.key, value=codec.dead_letter(
            d.topic, d.partition, d.offset, d.key, d.payload, d.error, now)) for d in letters]
        await asyncio.gather(*pending)
