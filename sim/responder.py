"""A simulated population that answers offers according to hidden propensities.

The learning loop's ground truth: ``HiddenPropensities`` says, per offer code and marketing
segment, how likely a subscriber is to accept; ``respond`` draws the answer with a seeded
``random.Random``. Independent of Kafka: a broker-side adapter turns answers into OfferResponse
records, a test closes the loop in process.

The default table (``DEFAULT_HIDDEN``), for the ``roaming_welcome`` trigger's two offers:

=====================  =========  ================
offer                  ``youth``  everyone else
=====================  =========  ================
TRAVEL_PASS_1GB_7D     0.10       0.30
TRAVEL_PASS_5GB_7D     0.60       0.10
=====================  =========  ================

so the better offer depends on the segment: a model that ignores the context picks the 1GB pass
for everyone and loses most youth acceptances. Any other offer is accepted with ``base``
(0.05). A subscriber who does not accept declines explicitly with probability ``decline_share``
(0.4) and otherwise never answers (``None``: an implicit negative once the response window closes).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from cjo.state.model import SubscriberState

Response = Literal["ACCEPTED", "DECLINED"]
ANY_SEGMENT = "*"


def _default_table() -> dict[str, dict[str, float]]:
    return {
        "TRAVEL_PASS_1GB_7D": {"youth": 0.10, ANY_SEGMENT: 0.30},
        "TRAVEL_PASS_5GB_7D": {"youth": 0.60, ANY_SEGMENT: 0.10},
    }


def segment_of(subject: SubscriberState | Mapping[str, float]) -> str | None:
    """The segment of a state, or of a feature dict (the key ``seg=<S>`` whose value is 1)."""
    if isinstance(subject, SubscriberState):
        return subject.segment
    for key, value in subject.items():
        if key.startswith("seg=") and value >= 0.5:
            return key[4:]
    return None


@dataclass(frozen=True, slots=True)
class HiddenPropensities:
    """Acceptance probability per offer code and segment (``"*"``: any other segment)."""

    table: Mapping[str, Mapping[str, float]] = field(default_factory=_default_table)
    base: float = 0.05  # acceptance probability of an offer the table does not list
    decline_share: float = 0.4  # of those who do not accept, the share who say so

    def __post_init__(self) -> None:
        for offer, by_segment in self.table.items():
            for segment, p in by_segment.items():
                if not 0.0 <= p <= 1.0:
                    raise ValueError(f"{offer}/{segment}: probability {p} is not in [0, 1]")
        for name in ("base", "decline_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1]")

    def p_accept(self, offer_code: str, segment: str | None) -> float:
        by_segment = self.table.get(offer_code)
        if by_segment is None:
            return self.base
        if segment is not None and segment in by_segment:
            return by_segment[segment]
        return by_segment.get(ANY_SEGMENT, self.base)

    def best_offer(self, offer_codes: list[str], segment: str | None) -> str:
        """The offer with the highest hidden acceptance probability (first one on a tie)."""
        return max(offer_codes, key=lambda code: self.p_accept(code, segment))

    def respond(self, offer_code: str, subject: SubscriberState | Mapping[str, float],
                rng: random.Random) -> Response | None:
        """ACCEPTED, DECLINED or None (no answer); two draws from ``rng`` per call, always."""
        accept_draw, decline_draw = rng.random(), rng.random()
        if accept_draw < self.p_accept(offer_code, segment_of(subject)):
            return "ACCEPTED"
        return "DECLINED" if decline_draw < self.decline_share else None


DEFAULT_HIDDEN = HiddenPropensities()


def respond(offer_code: str, subject: SubscriberState | Mapping[str, float], rng: random.Random,
            hidden: HiddenPropensities = DEFAULT_HIDDEN) -> Response | None:
    """How a simulated subscriber (a state or its features) answers ``offer_code``."""
    return hidden.respond(offer_code, subject, rng)
