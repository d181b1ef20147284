"""The ``Offer`` record as a channel sees it: where to, what to say, in which language, until
when."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True, slots=True)
class OfferMessage:
    """One offer to hand to one endpoint. ``channel`` is lower case (``push``, ``sms``, ...);
    times are epoch milliseconds."""

    offer_id: str
    imsi: str
    channel: str
    destination: str  # msisdn, e-mail address or app user id
    text: str  # rendered in ``language``
    language: str
    offer_code: str
    trigger_id: str
    valid_until: int
    published_at: int
    reason: str = ""

    @classmethod
    def from_offer(cls, record: Mapping[str, Any]) -> OfferMessage:
        """From a decoded ``Offer`` record (``cjo.codec.decode``)."""
        return cls(
            offer_id=str(record["offer_id"]), imsi=str(record["imsi"]),
            channel=str(record["channel"]).lower(), destination=str(record["destination"]),
            text=str(record["message"]), language=str(record.get("language") or DEFAULT_LANGUAGE),
            offer_code=str(record["offer_code"]), trigger_id=str(record["trigger_id"]),
            valid_until=int(record["valid_until"]), published_at=int(record["published_at"]),
            reason=str(record.get("reason") or ""))

    def expired(self, now_ms: int) -> bool:
        """Past its validity: never sent, reported FAILED ``expired``."""
        return now_ms >= self.valid_until
