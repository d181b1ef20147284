"""What each trigger offers (code, value, validity). The trigger catalogue will own these."""

from __future__ import annotations

from dataclasses import dataclass

from cjo.clock import DAY_MS
from cjo.offers.channels import DEFAULT_PREFERENCE


@dataclass(frozen=True, slots=True)
class OfferSpec:
    offer_code: str
    validity_ms: int
    reason: str  # short human-readable why, recorded on the offer
    channels: tuple[str, ...] = DEFAULT_PREFERENCE
    value: float = 1.0


DEFAULT_OFFERS: dict[str, OfferSpec] = {
    "roaming_welcome": OfferSpec(
        offer_code="TRAVEL_PASS_1GB_7D",
        validity_ms=7 * DAY_MS,
        reason="landed abroad: first foreign network of the trip",
        value=5.0,
    ),
}
