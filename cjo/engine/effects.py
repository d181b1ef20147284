"""What a step of the engine produces: the messages it publishes and the keys it writes.

``cjo.engine.decide`` puts what one record or one due timer produced into an ``Effects`` (the
offers, decisions, outcomes and learning examples, in the order they are made, and the timers it
schedules); ``cjo.engine.runner`` adds the subscriber's new state and the keys it keeps itself
(fired timers, budgets, the watermark). The caller publishes the messages, and only then stores
the writes (``cjo.engine.runner``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cjo.state.model import SubscriberState
from cjo.timers import Timer

SCHEDULED = b"1"  # the value of a timer's key while it waits


@dataclass(slots=True)
class Effects:
    offers: list[dict[str, Any]] = field(default_factory=list)  # each has "channel" (SMS/...)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    outcomes: list[dict[str, Any]] = field(default_factory=list)  # closed response windows
    examples: list[dict[str, Any]] = field(default_factory=list)  # for the learner
    writes: dict[bytes, bytes | None] = field(default_factory=dict)  # key -> bytes, None: delete

    def schedule(self, timer: Timer) -> None:
        self.writes[timer.key()] = SCHEDULED

    def write_state(self, state: SubscriberState) -> None:
        self.writes[state.imsi.encode()] = state.to_bytes()

    def absorb(self, other: Effects) -> None:
        """``other`` happened after these: its messages come after these, its writes win."""
        self.offers.extend(other.offers)
        self.decisions.extend(other.decisions)
        self.outcomes.extend(other.outcomes)
        self.examples.extend(other.examples)
        self.writes.update(other.writes)
