"""``OfferResponse`` records from a gateway: the outcome of a send, or an inbound event (a
delivery receipt, a bounce, an opt-out)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from cjo.delivery.message import OfferMessage
from cjo.delivery.outcome import Outcome

_NAMESPACE = uuid.UUID("0b7f4d2e-8a61-4c3b-9e55-3f2a1d6c7b90")


def response_id(offer_id: str, status: str, detail: str = "") -> str:
    """Deterministic event id: the same response published twice (after a crash, or a receipt
    the SMSC sends again) has the same id, and readers count it once."""
    return str(uuid.uuid5(_NAMESPACE, f"response|{offer_id}|{status}|{detail}"))


@dataclass(frozen=True, slots=True)
class Response:
    """One ``OfferResponse``; ``channel`` lower case, ``at_ms`` its event time."""

    offer_id: str
    imsi: str
    channel: str
    status: str
    at_ms: int
    reason: str | None = None
    provider_message_id: str | None = None
    event_id: str = ""

    @classmethod
    def of(cls, message: OfferMessage, outcome: Outcome, at_ms: int) -> Response:
        """The response publishing a send's outcome."""
        return cls(message.offer_id, message.imsi, message.channel, outcome.status.value, at_ms,
                   outcome.reason or None, outcome.provider_message_id)

    def record(self) -> dict[str, Any]:
        """The ``OfferResponse`` record (``cjo.codec.encode("OfferResponse", ...)``)."""
        return {
            "event_id": self.event_id or response_id(self.offer_id, self.status,
                                                      self.reason or ""),
            "event_time": self.at_ms, "offer_id": self.offer_id, "imsi": self.imsi,
            "channel": self.channel.upper(), "status": self.status,
            "provider_message_id": self.provider_message_id, "reason": self.reason}
